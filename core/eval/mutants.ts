/**
 * Typical small-model mistakes, made on purpose to a correct output: the contracts should catch
 * each. Operators are generic over the output's shape and the input's text, so any labelled
 * micro-task gets them.
 */
import { getAt, setAt } from '../json-pointer.js';
import { stringLeaves } from '../checks/select.js';
import { wordsOf } from '../text.js';

export type Mistake =
  /** 2024-04-03 read as 2024-03-04 */
  | 'day-month-swapped'
  /** another span of the input in its place: the buyer for the vendor, a street number for the invoice number */
  | 'other-span-of-input'
  /** a number taken from another item of the list */
  | 'number-from-other-item'
  /** a list item replaced by a copy of another */
  | 'item-copied'
  /** a plausible value the input does not hold */
  | 'value-not-in-input';

export interface Mutant {
  mistake: Mistake;
  path: string;
  output: unknown;
  /** what was put there */
  value: unknown;
}

function numberLeaves(value: unknown, at = ''): { path: string; value: number }[] {
  if (typeof value === 'number') return [{ path: at, value }];
  if (value === null || typeof value !== 'object') return [];
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return entries.flatMap(([k, v]) => numberLeaves(v, `${at}/${k}`));
}

function arrays(value: unknown, at = ''): { path: string; items: unknown[] }[] {
  if (value === null || typeof value !== 'object') return [];
  const here = Array.isArray(value) ? [{ path: at, items: value }] : [];
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return [...here, ...entries.flatMap(([k, v]) => arrays(v, `${at}/${k}`))];
}

/** Spans of the input of about this value's shape: lines and label-value parts, that neither contain it nor are contained in it. */
function otherSpans(text: string, value: string): string[] {
  const v = wordsOf(value).join(' ');
  const digits = /\d/.test(value);
  const spans = text
    .split(/\n|:\s+|\s{3,}/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0 && s.length <= Math.max(8, value.length * 2) && s.length >= Math.min(3, value.length));
  const size = wordsOf(value).length;
  return spans
    .filter((s) => {
      const w = wordsOf(s).join(' ');
      const n = wordsOf(s).length;
      // a value of the same kind: digits for digits, a name of a few words for a name, no table header
      return w !== '' && !w.includes(v) && !v.includes(w) && /\d/.test(s) === digits && (size < 2 || n >= 2) && n <= size * 2 + 1 && !/[|]/.test(s);
    })
    .sort((a, b) => Math.abs(a.length - value.length) - Math.abs(b.length - value.length));
}

/** Every mutant of a correct output this module knows how to make, one per field and mistake. */
export function mutantsOf(output: unknown, inputText: string): Mutant[] {
  const out: Mutant[] = [];
  const put = (mistake: Mistake, path: string, value: unknown) => out.push({ mistake, path, value, output: setAt(output, path, value) });
  for (const { path, text } of stringLeaves(output)) {
    const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    if (iso) {
      const [, y, m, d] = iso;
      if (Number(d) <= 12 && d !== m) put('day-month-swapped', path, `${y}-${d}-${m}`);
      continue;
    }
    const other = otherSpans(inputText, text)[0];
    if (other !== undefined) put('other-span-of-input', path, other);
    put('value-not-in-input', path, /\d/.test(text) ? text.replace(/\d/g, (c) => String((Number(c) + 3) % 10)) : `${text.split(' ')[0]} Prima Sejahtera`);
  }
  for (const { path, items } of arrays(output)) {
    if (items.length < 2) continue;
    put('item-copied', `${path}/1`, items[0]);
    const first = items[0];
    const second = items[1];
    if (first && second && typeof first === 'object' && typeof second === 'object') {
      for (const { path: sub, value } of numberLeaves(second)) {
        const theirs = getAt(first, sub);
        if (typeof theirs === 'number' && theirs !== value) put('number-from-other-item', `${path}/1${sub}`, theirs);
      }
    }
  }
  for (const { path, value } of numberLeaves(output)) {
    if (value !== 0 && !/\/\d+\//.test(path)) put('value-not-in-input', path, Math.round(value * 10.7 * 100) / 100);
  }
  return out;
}
