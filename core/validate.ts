import { z } from 'zod';
import type { CheckContext, MicroTask } from './contract.js';
import type { Fix, Issue, IssueKind } from './issues.js';
import { getAt, setAt, toPointer } from './json-pointer.js';
import { subSchemaAt } from './schema-walk.js';
import { parseLenient, parseStrict, type FinishReason } from './lenient-parse.js';

/**
 * `flagged`: the issues resolved by setting their path to null (`orNull`), for a person to review.
 * `value` of an invalid result is the best parse of the output, if any, for targeted repair to start from.
 */
export type ValidationResult<O = unknown> =
  | { valid: true; value: O; fixes: Fix[]; issues: []; flagged: Issue[] }
  | { valid: false; value: unknown; parsed: boolean; fixes: Fix[]; issues: Issue[]; flagged: Issue[] };

/** How an output is read: the parts of a run's rules that validation needs. */
export interface Reading {
  /** the lenient parser, safe coercions and the checks' certain fixes; off: strict JSON.parse and the contract as it is */
  lenient: boolean;
  /** an output cut while it repeated one item is runaway, not a truncation */
  loopsAreRunaway: boolean;
  /** a string outside a fixed set that equals exactly one option but for case, spaces, underscores or hyphens is that option */
  enumSpelling: boolean;
  /** an issue whose check accepts null there (`orNull`) is fixed by null, and flagged */
  ungroundedToNull: boolean;
  /** word counts of what the model was given (`wordCounts` of the prompt): a repetition the source holds is no loop */
  source?: Map<string, number>;
}

/** How today's code reads an output. */
export const LENIENT: Reading = { lenient: true, loopsAreRunaway: true, enumSpelling: true, ungroundedToNull: true };
/** As validators without a repair step read it. */
export const STRICT: Reading = { lenient: false, loopsAreRunaway: true, enumSpelling: false, ungroundedToNull: false };

function kindOf(issue: z.core.$ZodIssue, value: unknown): IssueKind {
  switch (issue.code) {
    case 'invalid_type':
      return getAt(value, toPointer(issue.path as (string | number)[])) === undefined ? 'missing' : 'type';
    case 'invalid_value':
      return 'enum';
    case 'invalid_union':
      return 'type';
    case 'custom':
      return 'semantic';
    default:
      return 'constraint';
  }
}

export function zodIssues(error: z.ZodError, value: unknown): Issue[] {
  return error.issues.map((i) => ({
    kind: kindOf(i, value),
    path: toPointer(i.path as (string | number)[]),
    message: i.message,
  }));
}

/** A number written with thousands separators and at most a currency sign or code: "$1,500.00", "1500 EUR". */
const MONEY = /^\s*(?:[$€£¥]|USD|EUR|GBP|CHF|JPY)?\s*(-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s*(?:USD|EUR|GBP|CHF|JPY|%)?\s*$/;

const spelling = (s: string) => s.trim().toLowerCase().replace(/[\s_-]+/g, '-');

/** Coercions a schema allows without guessing: "12" for a number, "true" for a boolean, 12 for a string, "Billing" for billing. */
function coerce(value: unknown, issues: z.core.$ZodIssue[], reading: Reading): { value: unknown; fixes: Fix[] } {
  let out = value;
  const fixes: Fix[] = [];
  for (const issue of issues) {
    const path = toPointer(issue.path as (string | number)[]);
    const current = getAt(out, path);
    let next: unknown = undefined;
    if (issue.code === 'invalid_value') {
      if (!reading.enumSpelling || typeof current !== 'string') continue;
      const same = issue.values.filter((v): v is string => typeof v === 'string' && spelling(v) === spelling(current));
      if (same.length === 1) next = same[0];
    } else if (issue.code !== 'invalid_type') {
      continue;
    } else if (issue.expected === 'number' && typeof current === 'string' && MONEY.test(current)) {
      next = Number(MONEY.exec(current)![1]!.replace(/,/g, ''));
    } else if (issue.expected === 'int' && typeof current === 'string' && /^\s*-?\d+\s*$/.test(current)) {
      next = Number(current);
    } else if (issue.expected === 'boolean' && (current === 'true' || current === 'false')) {
      next = current === 'true';
    } else if (issue.expected === 'string' && (typeof current === 'number' || typeof current === 'boolean')) {
      next = String(current);
    }
    if (next !== undefined) {
      out = setAt(out, path, next);
      fixes.push({ kind: 'coerce', path, detail: `${JSON.stringify(current)} -> ${JSON.stringify(next)}` });
    }
  }
  return { value: out, fixes };
}

/** Validates an already parsed value against the task's contract: zod (after safe coercions), then its checks. */
export function validateValue<I, O>(task: MicroTask<I, O>, value: unknown, ctx: CheckContext<I>, reading: Reading = LENIENT): ValidationResult<O> {
  const fixes: Fix[] = [];
  const flagged: Issue[] = [];
  const lenient = reading.lenient;
  let candidate = value;
  let parsed = task.output.safeParse(candidate);
  if (!parsed.success && lenient) {
    const coerced = coerce(candidate, parsed.error.issues, reading);
    if (coerced.fixes.length > 0) {
      candidate = coerced.value;
      fixes.push(...coerced.fixes);
      parsed = task.output.safeParse(candidate);
    }
  }
  if (!parsed.success) {
    return { valid: false, value: candidate, parsed: true, fixes, issues: zodIssues(parsed.error, candidate), flagged };
  }
  const runChecks = (value: O): Issue[] => (task.checks ?? []).flatMap((check) => check(value, ctx));
  let out = parsed.data;
  let issues = runChecks(out);
  // fixes the checks are sure of; one fix may reveal another (a keyword stripped of its list
  // number now repeats another), so a few rounds, each result passing the contract again
  for (let round = 0; lenient && round < 3; round++) {
    // only where the contract accepts null: a check's `orNull` on a required field is ignored
    const toNull = (i: Issue) => i.fix === undefined && reading.ungroundedToNull && i.orNull === true && subSchemaAt(task.output, i.path)?.safeParse(null).success === true;
    const certain = issues.filter((i) => i.fix !== undefined || toNull(i));
    if (certain.length === 0) break;
    let fixed: unknown = out;
    for (const i of certain) fixed = setAt(fixed, i.path, toNull(i) ? null : i.fix!.value);
    const again = task.output.safeParse(fixed);
    if (!again.success) break;
    fixes.push(
      ...certain.map((i) =>
        toNull(i)
          ? { kind: 'null-for-review' as const, path: i.path, detail: `${JSON.stringify(getAt(out, i.path))} -> null: ${i.message}` }
          : { kind: 'check-fix' as const, path: i.path, detail: `${JSON.stringify(getAt(out, i.path))} -> ${JSON.stringify(i.fix!.value)}` },
      ),
    );
    flagged.push(...certain.filter(toNull).map(({ fix: _fix, ...rest }) => rest));
    out = again.data;
    issues = runChecks(out);
  }
  // the fix suggestions are applied or dropped here; what remains goes to the model without them
  issues = issues.map(({ fix: _fix, ...rest }) => rest);
  if (issues.length > 0) return { valid: false, value: out, parsed: true, fixes, issues, flagged };
  return { valid: true, value: out, fixes, issues: [], flagged };
}

/**
 * The whole validation of one model output: lenient parse, zod, the task's checks.
 * Never throws; structural issues (truncated, runaway) make the result invalid even if it parses.
 */
export function validateOutput<I, O>(
  task: MicroTask<I, O>,
  raw: string,
  finishReason: FinishReason,
  ctx: CheckContext<I>,
  reading: Reading = LENIENT,
): ValidationResult<O> {
  const parsed = reading.lenient
    ? parseLenient(raw, finishReason, { loopsAreRunaway: reading.loopsAreRunaway, ...(reading.source ? { source: reading.source } : {}) })
    : parseStrict(raw, finishReason);
  if (!parsed.success) return { valid: false, value: undefined, parsed: false, fixes: parsed.fixes, issues: parsed.issues, flagged: [] };
  const result = validateValue(task, parsed.value, ctx, reading);
  const fixes = [...parsed.fixes, ...result.fixes];
  if (parsed.issues.length > 0) {
    return { valid: false, value: result.value, parsed: true, fixes, issues: [...parsed.issues, ...result.issues], flagged: result.flagged };
  }
  return { ...result, fixes };
}
