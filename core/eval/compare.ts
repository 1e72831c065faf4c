/**
 * Field comparators for labelled evaluation: how an output field is scored against its label.
 * Data, not code, so a pipeline declares them next to its definition and a report can name them.
 */
import { wordsOf } from '../text.js';

export type Comparator =
  | { kind: 'exact' }
  /** case, spacing and punctuation aside */
  | { kind: 'text' }
  /** the output contains the label as whole words, or the label the output */
  | { kind: 'contains' }
  | { kind: 'number'; tolerance?: number }
  /** the same calendar date, from YYYY-MM-DD */
  | { kind: 'date' }
  /**
   * a list scored by precision and recall (score: their F1); items match by `item`, or field by
   * field of `fields`; passes at F1 `pass` (default 1: every item and no other)
   */
  | { kind: 'set'; item?: Comparator; fields?: Record<string, Comparator>; pass?: number }
  /** share of the label's words the output has; passes at `threshold` (default 0.5) */
  | { kind: 'overlap'; threshold?: number };

export interface FieldScore {
  /** JSON pointer of the labelled field */
  path: string;
  comparator: Comparator['kind'];
  /** 0..1 */
  score: number;
  pass: boolean;
  expected: unknown;
  actual: unknown;
  /** for a set: precision and recall */
  precision?: number;
  recall?: number;
}

const joined = (v: unknown) => wordsOf(String(v)).join(' ');

/** Whether one value matches its label under a comparator, and how well. */
export function compareValue(expected: unknown, actual: unknown, c: Comparator): { score: number; pass: boolean; precision?: number; recall?: number } {
  const yes = { score: 1, pass: true };
  const no = { score: 0, pass: false };
  if (expected === null || expected === undefined) return actual === null || actual === undefined ? yes : no;
  if (actual === null || actual === undefined) return no;
  switch (c.kind) {
    case 'exact':
      return JSON.stringify(expected) === JSON.stringify(actual) ? yes : no;
    case 'text':
      return joined(expected) === joined(actual) ? yes : no;
    case 'contains': {
      const e = ` ${joined(expected)} `;
      const a = ` ${joined(actual)} `;
      return e.trim() !== '' && a.trim() !== '' && (a.includes(e) || e.includes(a)) ? yes : no;
    }
    case 'number': {
      const a = typeof actual === 'number' ? actual : Number(actual);
      return Number.isFinite(a) && Math.abs(a - Number(expected)) <= (c.tolerance ?? 0.005) ? yes : no;
    }
    case 'date':
      return /^\d{4}-\d{2}-\d{2}$/.test(String(actual)) && String(actual) === String(expected) ? yes : no;
    case 'overlap': {
      const want = new Set(wordsOf(String(expected)));
      const have = new Set(wordsOf(String(actual)));
      let shared = 0;
      for (const w of want) if (have.has(w)) shared++;
      const score = want.size === 0 ? 1 : shared / want.size;
      return { score, pass: score >= (c.threshold ?? 0.5) };
    }
    case 'set': {
      if (!Array.isArray(expected) || !Array.isArray(actual)) return no;
      const matches = (e: unknown, a: unknown) =>
        c.fields
          ? Object.entries(c.fields).every(([k, fc]) => compareValue((e as Record<string, unknown>)?.[k], (a as Record<string, unknown>)?.[k], fc).pass)
          : compareValue(e, a, c.item ?? { kind: 'text' }).pass;
      // each label item matches at most one output item, greedily in order
      const used = new Set<number>();
      let hit = 0;
      for (const e of expected) {
        const j = actual.findIndex((a, k) => !used.has(k) && matches(e, a));
        if (j >= 0) {
          used.add(j);
          hit++;
        }
      }
      const precision = actual.length === 0 ? (expected.length === 0 ? 1 : 0) : hit / actual.length;
      const recall = expected.length === 0 ? 1 : hit / expected.length;
      const score = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
      return { score, pass: c.pass === undefined ? precision === 1 && recall === 1 : score >= c.pass, precision, recall };
    }
  }
}

/**
 * Scores an output against a label, field by field. Only labelled fields are scored, and only
 * those a comparator is declared for; a label field with no comparator is scored `exact`.
 */
export function scoreOutput(expected: Record<string, unknown>, actual: unknown, comparators: Readonly<Record<string, Comparator>>): FieldScore[] {
  const out: FieldScore[] = [];
  const got = (actual ?? {}) as Record<string, unknown>;
  for (const [key, want] of Object.entries(expected)) {
    const c = comparators[key] ?? { kind: 'exact' };
    const r = compareValue(want, got[key], c);
    out.push({ path: `/${key}`, comparator: c.kind, expected: want, actual: got[key], ...r });
  }
  return out;
}
