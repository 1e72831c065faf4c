/**
 * Text matching for grounding checks: tolerant of case, punctuation, spacing and word endings,
 * never of words that are not there.
 */

const STOPWORDS = new Set(
  `a an and are as at be been but by can could did do does for from had has have he her his how i if in into is it its
  itself just may me more most my no not of on or our out over own she should so some such than that the their them then
  there these they this those through to too under up very was we were what when where which while who whom why will with
  would you your yours also about after again all any because before being between both during each few further here
  other same only once until off s t don now per via etc
  section text document article part describes discusses explains covers outlines notes mentions says
  yang dan di ke dari untuk dengan ini itu atau pada adalah juga tidak akan sudah bisa saya kami kita anda ada
  và của là có cho với những các một được không này khi ở thì đã sẽ rất cũng
  的 了 和 是 在 也 就 都 而 及 与 着 或 一个 没有 我 你 他 她 它 我们 这 那
  hai hain ka ki ke ko se mein aur bhi nahi`
    .split(/\s+/)
    .filter(Boolean),
);

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

const SUFFIXES = ['ations', 'ation', 'ments', 'ment', 'ness', 'ings', 'ing', 'ers', 'er', 'ed', 'es', 's', 'ly'];

/** A light stemmer: enough to match "cancelling" with "cancellation" and "batteries" with "battery". */
export function stem(word: string): string {
  if (/\d/.test(word) || word.length <= 4) return word;
  let w = word.endsWith('ies') ? `${word.slice(0, -3)}y` : word;
  // a stem keeps at least four letters, so "water" stays "water"
  const suffix = SUFFIXES.find((x) => w.endsWith(x) && w.length - x.length >= 4);
  if (suffix) w = w.slice(0, -suffix.length);
  return w.replace(/(.)\1$/, '$1');
}

/** Distinct stemmed content words (stopwords dropped; numbers kept). */
export function contentWords(text: string): string[] {
  const words = normalizeText(text)
    .split(' ')
    // short Latin words are mostly function words; a word of one or two characters in another script is not ("容量")
    .filter((w) => w !== '' && !STOPWORDS.has(w) && (w.length >= 3 || /\d/.test(w) || /[^\p{Script=Latin}]/u.test(w)));
  return [...new Set(words.map(stem))];
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

/** The stemmed words of a text that carry meaning, in any script: `wordsOf` less stop words. */
export function meaningWords(text: string): string[] {
  return wordsOf(text)
    .filter((w) => !STOPWORDS.has(w))
    .map(stem);
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
