/**
 * How many calls and tokens one micro-task may spend, and which strategy spends them. A budget
 * is data a caller may override per run; how outputs are read and repaired is not (see rules.ts).
 */
import { LADDER_PATCHES, type Rule } from './rules.js';

export type Strategy =
  /** the cheapest rung that can fix each failure */
  | 'ladder'
  /**
   * the instructor-like baseline: the whole object re-asked with the errors appended, as a
   * conversation, parsed with JSON.parse alone and with no fixes, on the first pool (a call that
   * fails after its retries still goes to the larger pool)
   */
  | 'reask'
  /**
   * the fair baseline: the same re-asks, with everything that is not the targeted repair given
   * to it as to the ladder: the lenient parser and deterministic fixes, the continuation of a cut
   * output, escalation to the larger pool with the conversation so far, the same attempt and
   * token budget and the same end for non-critical fields
   */
  | 'reask-fair';

export const STRATEGIES: readonly Strategy[] = ['ladder', 'reask', 'reask-fair'];

export interface LadderBudget {
  strategy: Strategy;
  maxAttempts: number;
  /** prompt plus completion tokens across every attempt of the micro-task */
  maxTokens: number;
  /** per pool; for `reask`, a pool's re-asks are its repairs and regenerations together */
  maxRepairs: number;
  /** per pool, like maxRepairs; the call that escalates to a pool counts as its regeneration, or as its repair when targeted */
  maxRegenerations: number;
  maxContinuations: number;
  /** ceiling for a truncation retry's max_tokens */
  maxTokensCeiling: number;
  /** rules this run turns off, to measure what each is worth (benchmarks); a run cannot turn on a rule its history has off */
  ablate?: readonly Rule[];
}

export const DEFAULT_BUDGET: LadderBudget = {
  strategy: 'ladder',
  maxAttempts: 6,
  maxTokens: 40_000,
  maxRepairs: 2,
  maxRegenerations: 1,
  maxContinuations: 1,
  maxTokensCeiling: 4096,
};

/** The budget of a run: the defaults, then the caller's overrides. */
export function budgetOf(overrides: Partial<LadderBudget> | undefined): LadderBudget {
  const strategy = overrides?.strategy ?? DEFAULT_BUDGET.strategy;
  if (!STRATEGIES.includes(strategy)) throw new Error(`unknown ladder strategy ${JSON.stringify(strategy)}; use one of ${STRATEGIES.join(', ')}`);
  const unknown = (overrides?.ablate ?? []).filter((r) => !Object.hasOwn(LADDER_PATCHES, r));
  if (unknown.length > 0) throw new Error(`unknown ladder rule(s) to ablate: ${unknown.join(', ')}; rules are ${Object.keys(LADDER_PATCHES).join(', ')}`);
  return { ...DEFAULT_BUDGET, ...overrides, strategy };
}
