/**
 * Text matching for grounding checks: tolerant of case, punctuation, spacing and word endings,
 * never of words that are not there.
 */

import { LANGUAGES, type Lang } from './languages.js';
import { STEMMERS } from './stemmers.js';

export type { Lang } from './languages.js';

/** Stop words of the languages that share a text (English, Bahasa, Hinglish, Vietnamese, Chinese): dropped from every text. */
const STOPWORDS = new Set(Object.values(LANGUAGES).flatMap((l) => ('everywhere' in l ? l.stopWords : [])));
/** Each language's own stop words: a European language's are dropped only from text in it. */
const STOPWORDS_OF = new Map(Object.entries(LANGUAGES).map(([k, l]) => [k as Lang, new Set(l.stopWords)]));
/**
 * For each word that tells a language (a stop word or a marker, of two letters or more), the
 * languages it tells; a word English has too ("no", "is", "do") tells English only.
 */
const EVIDENCE = new Map<string, readonly Lang[]>();
for (const [lang, l] of Object.entries(LANGUAGES) as [Lang, (typeof LANGUAGES)[Lang]][]) {
  for (const w of new Set([...l.stopWords, ...('markers' in l ? l.markers : [])])) {
    if (w.length >= 2 && (lang === 'en' || !LANGUAGES.en.stopWords.includes(w))) EVIDENCE.set(w, [...(EVIDENCE.get(w) ?? []), lang]);
  }
}

const isStopWord = (w: string, lang: Lang) => STOPWORDS.has(w) || STOPWORDS_OF.get(lang)!.has(w);

/** Scripts written without spaces between words: their runs are split at Unicode word boundaries. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;

/**
 * Lowercase words and numbers separated by single spaces: "ORD-48,213 (Blue)" -> "ord 48 213 blue";
 * text without spaces between words splits at word boundaries: "被扣了68元" -> "被 扣了 68 元".
 */
export function normalizeText(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .split(' ')
    .map((t) => (UNSPACED.test(t) ? [...WORD_SEGMENTER.segment(t)].filter((x) => x.isWordLike).map((x) => x.segment).join(' ') : t))
    .join(' ');
}

/** True when `value` occurs in `text` as whole words, ignoring case, punctuation and spacing. */
export function appearsIn(value: string, text: string): boolean {
  const v = normalizeText(value);
  if (v === '') return false;
  return ` ${normalizeText(text)} `.includes(` ${v} `);
}

const HAN = /\p{Script=Han}/u;
const THAI = /\p{Script=Thai}/u;
/** A letter of a script other than Latin */
const NOT_LATIN = /(?!\p{Script=Latin})\p{L}/u;
/** Letters only Vietnamese writes (ă đ ơ ư, and the vowels with a tone mark and a hat or horn). */
const VIETNAMESE = /[ăđơư\u1ea0-\u1ef9]/u;

/**
 * A word's stem by the stemmer of `lang` (core/languages.ts), English by default: "cancelling" and
 * "cancellation" give "cancel"; in Indonesian "mengirim", "dikirim" and "pengiriman" give "irim".
 * Numbers, words of scripts other than Latin (Chinese, Thai: no inflection) and Vietnamese syllables
 * (no inflection either) are left as they are. Both sides of a comparison take the same `lang`.
 */
export function stem(word: string, lang: Lang = 'en'): string {
  if (/\d/.test(word) || NOT_LATIN.test(word) || VIETNAMESE.test(word)) return word;
  return STEMMERS[LANGUAGES[lang].stemmer](word);
}

/**
 * The language whose words the texts use most, by stop words and markers, for `contentWords` and
 * `meaningWords` to stem every side of one comparison alike: pass the input and the output
 * together. English unless another language has at least two such words and more than English.
 */
export function languageOf(...texts: readonly string[]): Lang {
  const counts = new Map<Lang, number>();
  const add = (lang: Lang, n: number) => counts.set(lang, (counts.get(lang) ?? 0) + n);
  for (const text of texts) {
    for (const w of text.normalize('NFKC').toLowerCase().split(/[^\p{L}\p{M}]+/u)) {
      const langs = EVIDENCE.get(w);
      if (langs) for (const lang of langs) add(lang, 1);
      // Chinese and Thai are told by their script: a run of it, unsplit here, counts by its characters
      else if (HAN.test(w)) add('zh', w.length);
      else if (THAI.test(w)) add('th', w.length);
    }
  }
  let best: Lang = 'en';
  for (const [lang, n] of counts) if (n >= 2 && n > (counts.get(best) ?? 0)) best = lang;
  return best;
}

/** Distinct stemmed content words (stopwords dropped; numbers kept), stemmed as `lang` stems (see `languageOf`). */
export function contentWords(text: string, lang: Lang = 'en'): string[] {
  const words = normalizeText(text)
    .split(' ')
    // short Latin words are mostly function words; a word of one or two characters in another script is not ("容量")
    .filter((w) => w !== '' && !isStopWord(w, lang) && (w.length >= 3 || /\d/.test(w) || /[^\p{Script=Latin}]/u.test(w)));
  return [...new Set(words.map((w) => stem(w, lang)))];
}

/** Same stem, or stems that differ only in a short ending past a shared five-letter start ("charg"/"charger"), never compounds ("water"/"waterproof"). */
export function wordsMatch(a: string, b: string): boolean {
  if (a === b) return true;
  if (/\d/.test(a) || /\d/.test(b)) return false;
  let k = 0;
  while (k < a.length && k < b.length && a[k] === b[k]) k++;
  return k >= 5 && a.length - k <= 3 && b.length - k <= 3;
}

/** The words of `words` that match some word of `pool`. */
export function sharedWords(words: readonly string[], pool: readonly string[]): string[] {
  return words.filter((w) => pool.some((p) => wordsMatch(w, p)));
}

/** A string as a regular expression that matches it literally. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export function quote(s: string, max = 60): string {
  return JSON.stringify(s.length > max ? `${s.slice(0, max - 1)}…` : s);
}

/** Unicode word boundaries in any script; shared, since building one is not free. */
export const WORD_SEGMENTER = new Intl.Segmenter('und', { granularity: 'word' });

/**
 * The words of a text in any script, by Unicode word boundaries (Intl.Segmenter), so Chinese or
 * Thai without spaces splits too: NFKC, lowercase, punctuation dropped, "1,250.00" kept whole.
 */
export function wordsOf(text: string): string[] {
  const out: string[] = [];
  for (const s of WORD_SEGMENTER.segment(text.normalize('NFKC').toLowerCase())) if (s.isWordLike) out.push(s.segment);
  return out;
}

/** The stemmed words of a text that carry meaning, in any script: `wordsOf` less stop words, stemmed as `lang` stems. */
export function meaningWords(text: string, lang: Lang = 'en'): string[] {
  return wordsOf(text)
    .filter((w) => !isStopWord(w, lang))
    .map((w) => stem(w, lang));
}

/** The lowercase words of a text: letters and digits, numbers without thousands separators, no edge dots. */
export function splitWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/(\d),(?=\d{3})/g, '$1')
    .split(/[^\p{L}\p{N}.]+/u)
    .map((w) => w.replace(/^\.+|\.+$/g, ''))
    .filter((w) => w.length > 0);
}
