/**
 * How outputs are read and repaired, as one object fixed at a run's start. Each rule came with a
 * change of the ladder's decisions and is on only for runs started after it: the workflow reads
 * each one from `patched(LADDER_PATCHES[rule])`, so a run replays the decisions it made then.
 */
export interface LadderRules {
  /** a path a pool failed to repair goes to the larger pool, not into a whole regeneration on the same one */
  failedRepairGoesUp: boolean;
  /** an output cut while it repeated one item is runaway (regenerate), not a truncation (continue) */
  loopsAreRunaway: boolean;
  /** a cross-field issue opens every path in its `repairAt`, not only its own */
  repairAt: boolean;
  /** a repair answer cut after its JSON closed still answers; an object answer keeps the fields it left out */
  closedCutsAndPartialObjects: boolean;
  /** "Billing" is billing: an enum value spelled with another case or separators is fixed without a call */
  enumSpelling: boolean;
  /** a repaired path that now fails a different way gets another repair on the same pool; only the same failure is a stall */
  repairAgainOnNewIssue: boolean;
  /** a value the check cannot find in the input, at a path where it accepts null (`orNull`), is set to null without a call and flagged */
  ungroundedToNull: boolean;
  /**
   * A repair answer that repeats the value it was asked to fix is a stall: the path is not asked
   * again with the same prompt. The next pool is told the stalled answers and offered the input's
   * candidate spans; the guided schema rules the stalled answers out where it lists the options
   * (null too). A stall on the last pool gets one whole regeneration there with the issues as feedback.
   */
  stalls: boolean;
  /** a repair prompt offers the input's candidate spans for an ungrounded path instead of restating the wrong value */
  candidateSpans: boolean;
  /** a field outside the task's `critical` ones that no rung fixed ends as null and flagged, not as a failed micro-task */
  nonCriticalToNull: boolean;
}

export type Rule = keyof LadderRules;

/**
 * The patch id of each rule, as recorded in workflow histories. The workflow calls `patched()`
 * in this order and Temporal checks recorded patch markers in order: never rename or reorder
 * one, add new ones at the end.
 */
export const LADDER_PATCHES: Record<Rule, string> = {
  failedRepairGoesUp: 'ladder-failed-repair-goes-up',
  repairAgainOnNewIssue: 'ladder-repair-again-on-new-issue',
  loopsAreRunaway: 'parse-loops-are-runaway',
  repairAt: 'repair-at-cross-field',
  closedCutsAndPartialObjects: 'repair-answers-closed-cuts-partial-objects',
  enumSpelling: 'validate-enum-spelling',
  ungroundedToNull: 'ladder-ungrounded-to-null',
  stalls: 'ladder-stalls',
  candidateSpans: 'repair-candidate-spans',
  nonCriticalToNull: 'ladder-non-critical-to-null',
};

/** The rules of a run started on today's code. */
export const CURRENT_RULES: LadderRules = Object.fromEntries(Object.keys(LADDER_PATCHES).map((k) => [k, true])) as unknown as LadderRules;

/** The rules as a run's history says: `isOn` is the workflow's `patched`. */
export function rulesFrom(isOn: (patchId: string) => boolean): LadderRules {
  return Object.fromEntries(Object.entries(LADDER_PATCHES).map(([rule, id]) => [rule, isOn(id)])) as unknown as LadderRules;
}
