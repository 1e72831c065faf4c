/** What a validation failure is about; the repair ladder chooses its rung by kind. */
export const ISSUE_KINDS = [
  'syntax', // no JSON could be read, even leniently
  'truncated', // output cut at max_tokens
  'runaway', // runaway whitespace or repetition until the token limit
  'missing', // a required field is absent
  'type', // a value of the wrong type
  'enum', // a value outside a fixed set
  'constraint', // a value of the right type that breaks a bound (length, range, format)
  'semantic', // a cross-field rule (totals add up, dates ordered)
  'grounding', // a value that appears nowhere in the source text or the injected context
  'injection', // the output obeys instructions found in user text
] as const;
export type IssueKind = (typeof ISSUE_KINDS)[number];

export interface Issue {
  kind: IssueKind;
  /** JSON pointer into the output; '' is the whole output. */
  path: string;
  message: string;
  /** a replacement the check is certain of (a keyword lowercased, say): applied without a model call */
  fix?: { value: unknown };
  /**
   * Where a repair rewrites to resolve it, when that is not the path alone: a cross-field rule
   * that cannot tell which of its fields is wrong opens all of them (a line whose amount is not
   * qty × unit price opens the whole line). Default: the path itself.
   */
  repairAt?: string[];
  /**
   * For a value that must be written anew rather than corrected (a label instead of a
   * description, an invented figure): what the path must say instead. A repair prompt gives this
   * in place of the rejected value, which small models otherwise copy straight back.
   */
  rewrite?: string;
  /**
   * The check that raised it. Messages quote the rejected text, so after a repair the same
   * failure reads differently; the ladder tells a stall (the same check failing the same path
   * again) from progress by this name.
   */
  check?: string;
  /**
   * The check accepts null at this path as a right answer: the value cannot be found in the input,
   * and the field may be absent. With the `ungroundedToNull` rule it is set to null without a call
   * and flagged for review.
   */
  orNull?: true;
}

/** A change the deterministic rung made without a model call. */
export interface Fix {
  kind: 'strip-fences' | 'strip-prose' | 'drop-extra-json' | 'jsonrepair' | 'coerce' | 'trim-whitespace' | 'check-fix' | 'null-for-review';
  path: string;
  detail: string;
}

export const STRUCTURAL_KINDS: readonly IssueKind[] = ['syntax', 'truncated', 'runaway'];

export function isStructural(issue: Issue): boolean {
  return STRUCTURAL_KINDS.includes(issue.kind);
}

export function formatIssue(issue: Issue): string {
  return `${issue.path || '(root)'} [${issue.kind}] ${issue.message}`;
}

/** Distinct paths of the issues, in first-seen order. */
export function issuePaths(issues: readonly Issue[]): string[] {
  return [...new Set(issues.map((i) => i.path))];
}
