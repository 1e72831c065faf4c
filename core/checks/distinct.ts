import type { Check, ContextBlock } from '../contract.js';
import type { Issue } from '../issues.js';
import { meaningWords, quote, wordsOf } from '../text.js';
import { select, selectStrings } from './select.js';

export interface DistinctOptions<I> {
  /** JSON pointer of the list; `*` may stand for the index of an outer list */
  list: string;
  /** within each item, the pointer of the text compared (e.g. "/description"); default the item itself */
  field?: string;
  noun: string;
  /** share of meaning words two items may share before they say the same thing (default 0.75) */
  similarity?: number;
  /** a run of this many consecutive words shared by two items is copied text (default 8) */
  copiedWords?: number;
  /** phrases every item may repeat (the product's name, say); removed before the comparison */
  ignore?: (input: I) => readonly string[];
  /** while this many distinct items remain, exact repeats are dropped without a model call */
  dropWhileAtLeast?: number;
}

/** Length of the longest run of words the two sequences share, and the run itself. */
function longestSharedRun(a: readonly string[], b: readonly string[]): string[] {
  let best = 0;
  let end = 0;
  let prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const row = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) {
      if (a[i - 1] === b[j - 1]) {
        row[j] = prev[j - 1]! + 1;
        if (row[j]! > best) {
          best = row[j]!;
          end = i;
        }
      }
    }
    prev = row;
  }
  return a.slice(end - best, end);
}

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  for (const w of a) if (b.has(w)) shared++;
  return shared / (a.size + b.size - shared);
}

function withoutPhrases(text: string, phrases: readonly string[]): string {
  let out = ` ${wordsOf(text).join(' ')} `;
  for (const p of phrases) {
    const w = wordsOf(p).join(' ');
    if (w !== '') out = out.split(` ${w} `).join(' ');
  }
  return out.trim();
}

/**
 * Items of a list say different things: no item repeats another word for word, says the same with
 * nearly the same words, or copies a run of words from another. Small models fill a list by
 * repeating themselves ("headphones" three times, two scenarios with one description); the schema's
 * length bounds cannot see it. Later items are sent back for repair; exact repeats are dropped
 * instead while enough distinct items remain.
 */
export function distinctItems<I, O>(o: DistinctOptions<I>): Check<I, O> {
  const similarity = o.similarity ?? 0.75;
  const copied = o.copiedWords ?? 8;
  return (output, { input }) => {
    const ignore = o.ignore?.(input) ?? [];
    const issues: Issue[] = [];
    for (const list of select(output, o.list)) {
      if (!Array.isArray(list.value)) continue;
      const items = list.value.map((item, i) => {
        const text = o.field ? select(item, o.field)[0]?.value : item;
        const plain = typeof text === 'string' ? withoutPhrases(text, ignore) : '';
        return { i, text: typeof text === 'string' ? text : '', words: plain.split(' ').filter(Boolean), meaning: new Set(meaningWords(plain)) };
      });
      const exact: number[] = [];
      for (const b of items) {
        if (b.text.trim() === '') continue;
        for (const a of items.slice(0, b.i)) {
          if (a.text.trim() === '') continue;
          const path = `${list.path}/${b.i}${o.field ?? ''}`;
          if (a.words.join(' ') === b.words.join(' ')) {
            exact.push(b.i);
            issues.push({ kind: 'semantic', path, message: `${o.noun} ${b.i + 1} ${quote(b.text)} repeats ${o.noun} ${a.i + 1}; write a different ${o.noun}`, rewrite: `a ${o.noun} about something the other items do not cover` });
            break;
          }
          if (jaccard(a.meaning, b.meaning) >= similarity) {
            issues.push({ kind: 'semantic', path, message: `${o.noun} ${b.i + 1} ${quote(b.text)} says the same as ${o.noun} ${a.i + 1} ${quote(a.text)}; write a different ${o.noun}`, rewrite: `a ${o.noun} about something the other items do not cover` });
            break;
          }
          const run = longestSharedRun(a.words, b.words);
          if (run.length >= copied) {
            issues.push({ kind: 'semantic', path, message: `${o.noun} ${b.i + 1} copies ${quote(run.join(' '), 80)} from ${o.noun} ${a.i + 1}; say something of its own` });
            break;
          }
        }
      }
      const distinct = list.value.filter((_, i) => !exact.includes(i));
      const onlyExact = issues.filter((x) => x.path.startsWith(`${list.path}/`)).length === exact.length;
      if (exact.length > 0 && onlyExact && o.dropWhileAtLeast !== undefined && distinct.length >= o.dropWhileAtLeast) {
        // every problem of this list is an exact repeat, and enough remain: drop them, no model call
        const mine = new Set(exact.map((i) => `${list.path}/${i}${o.field ?? ''}`));
        for (let k = issues.length - 1; k >= 0; k--) if (mine.has(issues[k]!.path)) issues.splice(k, 1);
        issues.push({ kind: 'semantic', path: list.path, message: `${exact.length} ${o.noun}(s) repeat others; drop the repeats`, fix: { value: distinct } });
      }
    }
    return issues;
  };
}

export interface NotCopiedOptions<I> {
  /** pattern of the items */
  items: string;
  /** the texts an item may not be lifted from */
  sources: (input: I, context: readonly ContextBlock[]) => readonly string[];
  noun: string;
  instead: string;
  /** a run of this many consecutive words taken from a source is copied (default 6) */
  words?: number;
}

/**
 * An item is written, not lifted from the input: a customer's note pasted in as a kind of buyer
 * ("Not for the gym: they slipped off when I tried running") is a quote, not advice.
 */
export function notCopied<I, O>(o: NotCopiedOptions<I>): Check<I, O> {
  const min = o.words ?? 6;
  return (output, { input, context }) => {
    const sources = o.sources(input, context).flatMap((s) => s.split('\n')).map(wordsOf);
    return selectStrings(output, o.items).flatMap(({ path, text }): Issue[] => {
      const words = wordsOf(text);
      const run = sources.map((s) => longestSharedRun(words, s)).reduce((a, b) => (b.length > a.length ? b : a), [] as string[]);
      return run.length >= Math.min(min, Math.max(3, words.length)) && run.length * 2 >= words.length
        ? [{ kind: 'semantic', path, message: `${o.noun} ${quote(text)} copies ${quote(run.join(' '), 80)} from the input; ${o.instead}`, rewrite: o.instead }]
        : [];
    });
  };
}

const SENTENCES = new Intl.Segmenter('und', { granularity: 'sentence' });

/** A text says each thing once: a sentence written twice is a loop that stayed under the token limit. */
export function distinctSentences<I, O>(o: { paths: readonly string[] }): Check<I, O> {
  return (output) =>
    o.paths.flatMap((p) => selectStrings(output, p)).flatMap(({ path, text }): Issue[] => {
      const seen = new Set<string>();
      for (const s of SENTENCES.segment(text)) {
        const key = wordsOf(s.segment).join(' ');
        if (key.split(' ').length < 3) continue;
        if (seen.has(key)) return [{ kind: 'semantic', path, message: `repeats the sentence ${quote(s.segment.trim(), 80)}; say each thing once`, rewrite: 'say each thing once, without repeating a sentence' }];
        seen.add(key);
      }
      return [];
    });
}

/**
 * A text ends where a sentence ends. Guided decoding stops a string at its length bound, so a
 * model that writes too long leaves "..., or for" behind, which every schema accepts.
 */
export function completeSentences<I, O>(o: { paths: readonly string[]; max?: number }): Check<I, O> {
  return (output) =>
    o.paths.flatMap((p) => selectStrings(output, p)).flatMap(({ path, text }): Issue[] =>
      /[.!?。！？…)"”’]\s*$/u.test(text) || text.trim() === ''
        ? []
        : [{ kind: 'constraint', path, message: `stops mid-sentence at ${quote(text.slice(-40))}; end with a complete sentence`, rewrite: `complete sentences${o.max ? `, under ${o.max} characters in all` : ''}` }],
    );
}
