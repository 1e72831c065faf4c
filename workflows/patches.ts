import { patched } from '@temporalio/workflow';

/**
 * Every patch of the workflow code up to this release, recorded as one marker. Each `patched()`
 * call of a new run writes a marker and a search-attribute upsert to its history: with a dozen
 * patches that was more than half of a one-task run's events and a share of the server's work for
 * every run. A run started on this code records this marker alone and takes every patch as on. A
 * run started before it has no such marker: its patches are read one by one, as they were recorded.
 *
 * A patch added after this release is read the same way but is not in RELEASE_PATCHES, so it
 * records its own marker; the next release folds it into a new marker of its own, read before
 * this one. A worker of an earlier release cannot replay a run started on this one (it knows no
 * release marker and would take its patches as off): roll back only after such runs have ended,
 * or deploy with Temporal's worker versioning.
 */
export const RELEASE_PATCH = 'release-2026-12';

/**
 * The patches the release marker stands for, by id: every one the workflow code read before it
 * (LADDER_PATCHES, CANCEL_PATCH, SHADOW_PATCH, SIZE_PATCH, FAN_OUT_POOL_PATCH) and those that came
 * with it (BUSY_POOL_PATCH, SIZE_AT_CALL_PATCH); test/unit/patches.test.ts holds it to them. A
 * patch not listed is never taken as on from the release marker alone.
 */
export const RELEASE_PATCHES: ReadonlySet<string> = new Set([
  'ladder-failed-repair-goes-up',
  'ladder-repair-again-on-new-issue',
  'parse-loops-are-runaway',
  'repair-at-cross-field',
  'repair-answers-closed-cuts-partial-objects',
  'validate-enum-spelling',
  'ladder-ungrounded-to-null',
  'ladder-stalls',
  'repair-candidate-spans',
  'ladder-non-critical-to-null',
  'cancel-ends-run',
  'shadow-sampling',
  'refuse-inputs-too-large',
  'fan-out-pool',
  'busy-pool-waits',
  'refuse-calls-too-large',
]);

/** Whether a patch is on in this run. */
export type PatchCheck = (patchId: string) => boolean;

/** The run's patch check; called once, at the run's start, before anything else is decided. */
export function patchesOfRun(): PatchCheck {
  const release = patched(RELEASE_PATCH);
  return (patchId) => (release && RELEASE_PATCHES.has(patchId)) || patched(patchId);
}
