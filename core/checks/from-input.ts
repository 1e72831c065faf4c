import type { Check, ContextBlock } from '../contract.js';
import type { Issue } from '../issues.js';
import { languageOf, meaningWords, quote, stem, wordsOf, wordsMatch } from '../text.js';
import { selectStrings } from './select.js';

export type SourceMatch =
  /** the item is one of the sources, case, spacing and punctuation aside */
  | 'exact'
  /** the item occurs in a source as whole words */
  | 'contained'
  /** more than half of the item's meaning words occur in the sources */
  | 'words';

export interface FromInputOptions<I> {
  /** pattern of the items that must come from the input: "/features/*\/name" */
  items: string;
  /** the texts an item must come from */
  sources: (input: I, context: readonly ContextBlock[]) => readonly string[];
  match: SourceMatch;
  noun: string;
  /** what the model is told to use instead; default "one of the input's" */
  instead?: string;
}

const joined = (s: string) => ` ${wordsOf(s).join(' ')} `;

/**
 * Every item a list must take from the input does: a feature from the spec sheet, a scenario's
 * feature from the extracted list, a line description from the invoice. An item made up from
 * nothing passes a schema; this catches it and sends its path back for repair.
 */
export function fromInput<I, O>(o: FromInputOptions<I>): Check<I, O> {
  return (output, { input, context }) => {
    const sources = o.sources(input, context);
    const exact = new Set(sources.map((s) => joined(s)));
    const whole = sources.map(joined);
    const items = selectStrings(output, o.items);
    // the items and the sources are stemmed alike: "pengiriman" in an item is "kirim" in its source
    const lang = languageOf(...sources, ...items.map((x) => x.text));
    const pool = [...new Set(sources.flatMap((s) => meaningWords(s, lang)))];
    const issues: Issue[] = [];
    for (const { path, text } of items) {
      const w = joined(text);
      let ok: boolean;
      let why = '';
      if (o.match === 'exact') ok = exact.has(w);
      else if (o.match === 'contained') ok = w.trim() !== '' && whole.some((s) => s.includes(w));
      else {
        const words = [...new Set(meaningWords(text, lang))];
        const missing = words.filter((x) => !pool.some((p) => wordsMatch(x, p)));
        ok = words.length > 0 && missing.length * 2 < words.length;
        // named as the item writes them: a stem ("irim" for "pengiriman") means nothing to the model
        const named = [...new Set(wordsOf(text).filter((x) => missing.includes(stem(x, lang))))];
        if (missing.length > 0) why = ` (no mention of ${(named.length > 0 ? named : missing).join(', ')})`;
      }
      if (!ok) {
        const options = o.match === 'exact' && sources.length <= 12 ? `: ${sources.map((s) => quote(s)).join(', ')}` : '';
        issues.push({ kind: 'grounding', check: 'from-input', path, message: `${o.noun} ${quote(text)} is not in the input${why}; use ${o.instead ?? 'one the input gives'}${options}` });
      }
    }
    return issues;
  };
}

export interface InformativeOptions<I> {
  /** pattern of the items */
  items: string;
  /** what an item may not merely repeat: the product's name and category, say */
  subject: (input: I, context: readonly ContextBlock[]) => readonly string[];
  noun: string;
  /** what the item should say instead */
  instead: string;
  /** meaning words an item needs beyond the subject's (default 1) */
  minWords?: number;
}

/**
 * An item says something beyond its subject: "headphones" as a kind of buyer of headphones passes
 * every length bound and tells the reader nothing. `minWords` asks for a description, not a label.
 */
export function informative<I, O>(o: InformativeOptions<I>): Check<I, O> {
  return (output, { input, context }) => {
    const items = selectStrings(output, o.items);
    const subjects = o.subject(input, context);
    const lang = languageOf(...subjects, ...items.map((x) => x.text));
    const subject = [...new Set(subjects.flatMap((s) => meaningWords(s, lang)))];
    return items.flatMap(({ path, text }): Issue[] => {
      const words = [...new Set(meaningWords(text, lang).filter((w) => !subject.some((s) => wordsMatch(w, s))))];
      if (words.length === 0) return [{ kind: 'semantic', check: 'informative', path, message: `${o.noun} ${quote(text)} only repeats the subject; ${o.instead}`, rewrite: o.instead }];
      if (words.length < (o.minWords ?? 1)) return [{ kind: 'semantic', check: 'informative', path, message: `${o.noun} ${quote(text)} is a label, not a description; ${o.instead}`, rewrite: `${o.instead}, in a full phrase` }];
      return [];
    });
  };
}
