import type { Issue } from './issues.js';

export type CallKind = 'generate' | 'continue' | 'repair' | 'regenerate' | 'escalate';

export interface RepairSpec {
  paths: string[];
  /** the current value at each path (undefined where missing) */
  current: Record<string, unknown>;
  issues: Issue[];
  /** the sibling values of each failing path, to find the input lines it comes from */
  siblings?: Record<string, unknown>;
  /** answers of earlier repairs that repeated the value they were asked to fix: ruled out, not asked for again */
  stalled?: Record<string, unknown[]>;
  /** offer the input's candidate spans for an ungrounded path instead of restating the wrong value */
  candidates?: boolean;
}

export interface CallSpec {
  kind: CallKind;
  repair?: RepairSpec;
  /** for regeneration: what was wrong with the previous output */
  feedback?: Issue[];
  /**
   * for a re-ask: every earlier output with what was wrong with it, sent back as the conversation
   * so far (assistant turn, then the errors), the way instructor-style retries grow the messages
   */
  history?: { output: string; issues: Issue[] }[];
}
