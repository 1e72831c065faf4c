import { patched } from '@temporalio/workflow';

/**
 * Every patch of the workflow code up to this release, recorded as one marker. Each `patched()`
 * call of a new run writes a marker and a search-attribute upsert to its history: with a dozen
 * patches that was more than half of a one-task run's events and a share of the server's work for
 * every run. A run started on this code records this marker alone and takes every patch as on. A
 * run started before it has no such marker: its patches are read one by one, as they were recorded.
 *
 * A patch added after this release is called with `patched()` directly; the next release folds it
 * into a new marker of its own, read before this one.
 */
export const RELEASE_PATCH = 'release-2026-12';

/** Whether a patch is on in this run. */
export type PatchCheck = (patchId: string) => boolean;

/** The run's patch check; called once, at the run's start, before anything else is decided. */
export function patchesOfRun(): PatchCheck {
  const release = patched(RELEASE_PATCH);
  return (patchId) => release || patched(patchId);
}
