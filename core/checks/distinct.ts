import { renderContext, type Check, type ContextBlock } from '../contract.js';
import type { Issue } from '../issues.js';
import { languageOf, meaningWords, quote, wordsOf } from '../text.js';
import { select, selectStrings, stringLeaves } from './select.js';

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
  /**
   * Texts two items may both quote: a run of words shared by two items that a source holds is
   * grounding, not copying. Default: the context blocks and every string of the input.
   */
  sources?: (input: I, context: readonly ContextBlock[]) => readonly string[];
  /** while this many distinct items remain, exact repeats are dropped without a model call */
  dropWhileAtLeast?: number;
  /** a repeat opens its whole item for repair, not only the field (a scenario on a repeated feature needs a new title and description too) */
  repairItem?: boolean;
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

/** What a repeat must be rewritten as: unlike the items before it, which the repair prompt names. */
function unlike(noun: string, earlier: readonly { text: string }[]): string {
  return `a ${noun} about something none of these covers: ${earlier.slice(0, 4).map((a) => quote(a.text, 60)).join(', ')}`;
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
  return (output, { input, context }) => {
    const ignore = o.ignore?.(input) ?? [];
    // the sources' words, read only once some item shares a long run with another
    let quotedText: string | undefined;
    const quoted = () =>
      (quotedText ??= ` ${(o.sources ? o.sources(input, context) : [renderContext(context), ...stringLeaves(input).map((l) => l.text)]).map((t) => withoutPhrases(t, ignore)).join(' | ')} `);
    const issues: Issue[] = [];
    for (const list of select(output, o.list)) {
      if (!Array.isArray(list.value)) continue;
      const texts = list.value.map((item) => {
        const text = o.field ? select(item, o.field)[0]?.value : item;
        return typeof text === 'string' ? text : '';
      });
      // one language for the whole list, so two items in it are stemmed alike
      const lang = languageOf(...texts);
      const items = texts.map((text, i) => {
        const plain = withoutPhrases(text, ignore);
        return { i, text, words: plain.split(' ').filter(Boolean), meaning: new Set(meaningWords(plain, lang)) };
      });
      const exact: number[] = [];
      for (const b of items) {
        if (b.text.trim() === '') continue;
        const path = `${list.path}/${b.i}${o.field ?? ''}`;
        const earlier = items.slice(0, b.i).filter((a) => a.text.trim() !== '');
        // an exact repeat first, whichever earlier item it repeats: it is the one a fix may drop
        const same = earlier.find((a) => a.words.join(' ') === b.words.join(' '));
        if (same) {
          exact.push(b.i);
          issues.push({ kind: 'semantic', check: 'distinct-items', path, ...(o.repairItem ? { repairAt: [`${list.path}/${b.i}`] } : {}), message: `${o.noun} ${b.i + 1} ${quote(b.text)} repeats ${o.noun} ${same.i + 1}; write a different ${o.noun}`, rewrite: unlike(o.noun, earlier) });
          continue;
        }
        const near = earlier.find((a) => jaccard(a.meaning, b.meaning) >= similarity);
        if (near) {
          issues.push({ kind: 'semantic', check: 'distinct-items', path, ...(o.repairItem ? { repairAt: [`${list.path}/${b.i}`] } : {}), message: `${o.noun} ${b.i + 1} ${quote(b.text)} says the same as ${o.noun} ${near.i + 1} ${quote(near.text)}; write a different ${o.noun}`, rewrite: unlike(o.noun, earlier) });
          continue;
        }
        for (const a of earlier) {
          const run = longestSharedRun(a.words, b.words);
          if (run.length >= copied && !quoted().includes(` ${run.join(' ')} `)) {
            issues.push({ kind: 'semantic', check: 'distinct-items', path, message: `${o.noun} ${b.i + 1} copies ${quote(run.join(' '), 80)} from ${o.noun} ${a.i + 1}; say something of its own` });
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
        issues.push({ kind: 'semantic', check: 'distinct-items', path: list.path, message: `${exact.length} ${o.noun}(s) repeat others; drop the repeats`, fix: { value: distinct } });
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
    // phrases, not lines: a run of words may not cross from one listed feature into the next
    const sources = o.sources(input, context).flatMap((s) => s.split(/[\n;:,.!?。；：，]+/u)).map(wordsOf);
    return selectStrings(output, o.items).flatMap(({ path, text }): Issue[] => {
      const words = wordsOf(text);
      const run = sources.map((s) => longestSharedRun(words, s)).reduce((a, b) => (b.length > a.length ? b : a), [] as string[]);
      return run.length >= Math.min(min, Math.max(3, words.length)) && run.length * 2 >= words.length
        ? [{ kind: 'semantic', check: 'not-copied', path, message: `${o.noun} ${quote(text)} copies ${quote(run.join(' '), 80)} from the input; ${o.instead}`, rewrite: o.instead }]
        : [];
    });
  };
}

const SENTENCES = new Intl.Segmenter('und', { granularity: 'sentence' });
/** Terminal punctuation of any script with any closing quotes or brackets after it, a closing bracket or quote, or an emoji at the end. */
const ENDS_SENTENCE = /(?:[.!?。！？…।॥؟]["'\p{Pe}\p{Pf}*]*|[\p{Pe}\p{Pf}]|\p{Extended_Pictographic}\uFE0F?)\s*$/u;

/** A text says each thing once: a sentence written twice is a loop that stayed under the token limit. */
export function distinctSentences<I, O>(o: { paths: readonly string[] }): Check<I, O> {
  return (output) =>
    o.paths.flatMap((p) => selectStrings(output, p)).flatMap(({ path, text }): Issue[] => {
      const seen = new Set<string>();
      for (const s of SENTENCES.segment(text)) {
        const key = wordsOf(s.segment).join(' ');
        if (key.split(' ').length < 3) continue;
        if (seen.has(key)) return [{ kind: 'semantic', check: 'distinct-sentences', path, message: `repeats the sentence ${quote(s.segment.trim(), 80)}; say each thing once`, rewrite: 'say each thing once, without repeating a sentence' }];
        seen.add(key);
      }
      return [];
    });
}

/**
 * A text ends where a sentence ends. Guided decoding stops a string at its length bound, so a
 * model that writes too long leaves "..., or for" behind, which every schema accepts. When the
 * text holds complete sentences before the cut, they are kept and the cut one dropped, without a
 * model call (the fix stands only if the result still meets the schema); otherwise the path is
 * repaired.
 */
export function completeSentences<I, O>(o: { paths: readonly string[] }): Check<I, O> {
  return (output) =>
    o.paths.flatMap((p) => selectStrings(output, p)).flatMap(({ path, text }): Issue[] => {
      if (ENDS_SENTENCE.test(text.normalize('NFKC')) || text.trim() === '') return [];
      const kept = completePart(text);
      return [
        {
          kind: 'constraint',
          check: 'complete-sentences',
          path,
          message: `stops mid-sentence at ${quote(text.slice(-40))}; end with a complete sentence`,
          ...(kept !== undefined ? { fix: { value: kept } } : {}),
        },
      ];
    });
}

/** The text up to the end of its last complete sentence, if it has one. */
function completePart(text: string): string | undefined {
  let end = -1;
  for (const s of SENTENCES.segment(text)) {
    const upto = s.index + s.segment.length;
    if (ENDS_SENTENCE.test(text.slice(0, upto).normalize('NFKC'))) end = upto;
  }
  return end > 0 ? text.slice(0, end).trim() : undefined;
}
