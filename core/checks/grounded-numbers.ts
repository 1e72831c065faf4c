import { renderContext, type Check, type ContextBlock } from '../contract.js';
import type { Issue } from '../issues.js';
import { numbersIn, sameAmount } from '../numbers.js';
import { quote } from '../text.js';
import { NUMBER_WORDS, unitOf } from '../units.js';
import { selectStrings, stringLeaves } from './select.js';

export interface NumberMention {
  /** as written, with its unit: "254 mm" */
  written: string;
  /** every value the digits can stand for ("1,250" is 1250 or 1.25) */
  values: number[];
  /** the known unit right after it, canonical ("hrs" -> "hour"); undefined when none */
  unit: string | undefined;
  /** a whole number with no separators */
  whole: boolean;
}

const SEGMENTS = new Intl.Segmenter('und', { granularity: 'word' });

/** Numbers a source spells out ("seventeen minutes after"), so a summary may write them as digits. */
function spelledNumbers(text: string): NumberMention[] {
  const out: NumberMention[] = [];
  const segments = [...SEGMENTS.segment(text.toLowerCase())].filter((s) => s.isWordLike);
  segments.forEach((s, i) => {
    const value = NUMBER_WORDS.get(s.segment);
    if (value === undefined) return;
    const next = segments[i + 1];
    const ones = next && text.slice(s.index + s.segment.length, next.index) === '-' ? NUMBER_WORDS.get(next.segment) : undefined;
    const total = ones !== undefined && value >= 20 && value % 10 === 0 && ones < 10 ? value + ones : value;
    const after = ones !== undefined && total !== value ? segments[i + 2] : next;
    out.push({ written: s.segment, values: [total], unit: after ? unitOf(after.segment) : undefined, whole: true });
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
    const rest = norm.slice(end, end + 24);
    let unit: string | undefined;
    let spelled = '';
    const pct = /^\s?%/.exec(rest);
    if (pct) {
      unit = 'percent';
      spelled = pct[0];
    } else {
      const gap = /^[ \u00a0-]?/.exec(rest)![0];
      const first = SEGMENTS.segment(rest.slice(gap.length))[Symbol.iterator]().next().value;
      if (first && first.index === 0 && first.isWordLike) {
        unit = unitOf(first.segment) ?? unitOf(first.segment.replace(/\.$/, ''));
        if (unit) spelled = gap + first.segment;
      }
    }
    const sign = /\p{Sc}\s?$/u.exec(norm.slice(Math.max(0, m.index - 2), m.index))?.[0] ?? '';
    out.push({ written: (sign + m[0] + spelled).trim(), values: numbersIn(m[0]), unit, whole: /^\d+$/.test(m[0]) });
  }
  if (spelled) out.push(...spelledNumbers(norm));
  return out;
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
        const same = known.filter((k) => k.values.some((v) => n.values.some((w) => sameAmount(v, w))));
        if (same.length === 0) {
          if (n.unit === undefined && n.whole && Number(n.values[0]) <= freeUpTo) continue;
          // the figure is wrong, not the item it sits in: only this text is rewritten
          issues.push({ kind: 'grounding', path, repairAt: [path], message: `${quote(n.written)} is in none of the facts given; remove it, or use a figure the facts state`, rewrite: 'write it again using only figures the facts state, with their units' });
          continue;
        }
        if (n.unit === undefined || same.some((k) => k.unit === undefined || k.unit === n.unit)) continue;
        const where = [...new Set(same.map((k) => quote(k.line, 70)))].slice(0, 2).join(' and ');
        issues.push({
          kind: 'grounding',
          path,
          repairAt: [path],
          message: `${quote(n.written)} is not a figure the facts state: they give that number only in ${where}; remove it, or write the figure as the facts give it`,
          rewrite: `write it again using only figures the facts state, with their units (${n.values[0]} appears only in ${where})`,
        });
      }
    }
    return issues;
  };
}
