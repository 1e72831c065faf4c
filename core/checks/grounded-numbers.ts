import { renderContext, type Check, type ContextBlock } from '../contract.js';
import type { Issue } from '../issues.js';
import { readings, sameAmount } from '../numbers.js';
import { quote, WORD_SEGMENTER } from '../text.js';
import { NUMBER_WORDS, SCALES, unitOf } from '../units.js';
import { selectStrings, stringLeaves } from './select.js';

export interface NumberMention {
  /** as written, with its unit: "254 mm" */
  written: string;
  /** every value the digits can stand for ("1,250" is 1250 or 1.25) */
  values: number[];
  /** the known unit right after it, canonical ("hrs" -> "hour"); undefined when none */
  unit: string | undefined;
  /** the digits alone, for a token no reading parses ("15.08.2024") */
  digits: string;
  /** a whole number with no separators and no scale */
  whole: boolean;
}


/** Numbers a source spells out ("seventeen minutes after"), so a summary may write them as digits. */
function spelledNumbers(text: string): NumberMention[] {
  const out: NumberMention[] = [];
  const segments = [...WORD_SEGMENTER.segment(text.toLowerCase())].filter((s) => s.isWordLike);
  segments.forEach((s, i) => {
    const value = NUMBER_WORDS.get(s.segment);
    if (value === undefined) return;
    const next = segments[i + 1];
    const ones = next && text.slice(s.index + s.segment.length, next.index) === '-' ? NUMBER_WORDS.get(next.segment) : undefined;
    const total = ones !== undefined && value >= 20 && value % 10 === 0 && ones < 10 ? value + ones : value;
    const after = ones !== undefined && total !== value ? segments[i + 2] : next;
    out.push({ written: s.segment, digits: String(total), values: [total], unit: after ? unitOf(after.segment) : undefined, whole: true });
  });
  return out;
}
const NUMBER = /\d+(?:[.,'’]\d+)*/g;

/**
 * The numbers a text writes in digits, each with the unit of measure that follows it ("30-hour",
 * "254 g", "50%", "30小时"); with `spelled`, also the ones it spells out ("seventeen minutes").
 */
export function numberMentions(text: string, spelled = false): NumberMention[] {
  const norm = text.normalize('NFKC');
  const out: NumberMention[] = [];
  for (const m of norm.matchAll(NUMBER)) {
    const end = m.index + m[0].length;
    let rest = norm.slice(end, end + 32);
    let values = readings(m[0]);
    let written = m[0];
    // a scale word after it ("1,25 juta", "3.6 lakh", "1.2万", "25k") multiplies it
    const gap0 = /^[ \u00a0]?/.exec(rest)![0];
    const word0 = firstWord(rest.slice(gap0.length));
    const scale = word0 ? (SCALES.get(word0.toLowerCase()) ?? (/^\p{Script=Han}/u.test(word0) ? SCALES.get(word0[0]!) : undefined)) : undefined;
    if (word0 && scale !== undefined) {
      values = [...values, ...values.map((v) => v * scale)];
      const taken = /^\p{Script=Han}/u.test(word0) && !SCALES.has(word0) ? 1 : word0.length;
      written += gap0 + word0.slice(0, taken);
      rest = rest.slice(gap0.length + taken);
    }
    let unit: string | undefined;
    let suffix = '';
    const pct = /^\s?%/.exec(rest);
    if (pct) {
      unit = 'percent';
      suffix = pct[0];
    } else {
      const gap = /^[ \u00a0-]?/.exec(rest)![0];
      const word = firstWord(rest.slice(gap.length));
      if (word) {
        unit = unitOf(word) ?? unitOf(word.replace(/\.$/, ''));
        if (unit) suffix = gap + word;
      }
    }
    const sign = /\p{Sc}\s?$/u.exec(norm.slice(Math.max(0, m.index - 2), m.index))?.[0] ?? '';
    out.push({ written: (sign + written + suffix).trim(), digits: m[0].replace(/\D/g, ''), values, unit, whole: /^\d+$/.test(m[0]) && scale === undefined });
  }
  if (spelled) out.push(...spelledNumbers(norm));
  return out;
}

/** The word a text starts with, if it starts with one (no space before it). */
function firstWord(text: string): string | undefined {
  const first = WORD_SEGMENTER.segment(text)[Symbol.iterator]().next().value;
  return first && first.index === 0 && first.isWordLike ? first.segment : undefined;
}

/** The text with the invented figure blanked out, for the model to fill from the facts or drop: it keeps the rest of the text. */
function blanked(text: string, written: string): string {
  const norm = text.normalize('NFKC');
  const at = norm.indexOf(written);
  const gap = at >= 0 ? `${norm.slice(0, at)}___${norm.slice(at + written.length)}` : text;
  return `this text with the blank filled by a figure the facts state, with its unit, or with the blank left out: ${quote(gap, 400)}`;
}

export interface GroundedNumbersOptions<I> {
  /** patterns of the generated text to read (`*` for any index); default every string of the output */
  paths?: readonly string[];
  /** the texts numbers may come from; default the context blocks and every string and number of the input */
  sources?: (input: I, context: readonly ContextBlock[]) => readonly string[];
  /** whole numbers without a unit up to this value are counts in prose ("2 devices") and are not checked; default 9 */
  freeUpTo?: number;
}

function inputTexts(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number') return [String(value)];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(inputTexts);
}

/**
 * Numbers and units in generated text come from the facts. Small models write plausible figures
 * ("254 mm drivers" for a spec sheet of 40 mm drivers and 254 g): each number must be one the
 * facts hold, and a number with a unit must be held with that unit (or with none).
 */
export function groundedNumbers<I, O>(o: GroundedNumbersOptions<I> = {}): Check<I, O> {
  const freeUpTo = o.freeUpTo ?? 9;
  return (output, { input, context }) => {
    const sources = o.sources ? o.sources(input, context) : [renderContext(context), ...inputTexts(input)];
    // a source may spell a figure out; generated prose that does so tells a story ("a ten-hour flight"), not a spec
    const known = sources.flatMap((t) => t.split('\n').flatMap((line) => numberMentions(line, true).map((m) => ({ ...m, line: line.trim().replace(/^[-*]\s+/, '') }))));
    const texts = o.paths ? o.paths.flatMap((p) => selectStrings(output, p)) : stringLeaves(output);
    const issues: Issue[] = [];
    for (const { path, text } of texts) {
      for (const n of numberMentions(text)) {
        const same = known.filter((k) => k.values.some((v) => n.values.some((w) => sameAmount(v, w))) || (n.values.length === 0 && k.digits === n.digits));
        if (same.length === 0) {
          // a count in prose ("2 devices"), or a unit the facts give no figure in ("a 45-minute ride" in a story), is not a spec claim
          if (n.unit === undefined ? n.whole && Number(n.values[0]) <= freeUpTo : !known.some((k) => k.unit === n.unit)) continue;
          // the figure is wrong, not the item it sits in: only this text is rewritten
          issues.push({ kind: 'grounding', check: 'grounded-numbers', path, repairAt: [path], message: `${quote(n.written)} is in none of the facts given; remove it, or use a figure the facts state`, rewrite: blanked(text, n.written) });
          continue;
        }
        if (n.unit === undefined || same.some((k) => k.unit === undefined || k.unit === n.unit)) continue;
        const where = [...new Set(same.map((k) => quote(k.line, 70)))].slice(0, 2).join(' and ');
        issues.push({
          kind: 'grounding',
          check: 'grounded-numbers',
          path,
          repairAt: [path],
          message: `${quote(n.written)} is not a figure the facts state: they give that number only in ${where}; remove it, or write the figure as the facts give it`,
          rewrite: `${blanked(text, n.written)} (${n.digits} appears only in ${where})`,
        });
      }
    }
    return issues;
  };
}
