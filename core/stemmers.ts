import { stemmer as dutch } from '@orama/stemmers/dutch';
import { stemmer as french } from '@orama/stemmers/french';
import { stemmer as german } from '@orama/stemmers/german';
import { stemmer as italian } from '@orama/stemmers/italian';
import { stemmer as portuguese } from '@orama/stemmers/portuguese';
import { stemmer as spanish } from '@orama/stemmers/spanish';
import { INDONESIAN, type AffixRule, type StemmerName } from './languages.js';

/**
 * The stemmers of core/languages.ts, each a pure function of one lowercase word. Both sides of a
 * comparison go through the same one, so a stem is a matching key, not a dictionary word.
 */

const SUFFIXES = ['ations', 'ation', 'ments', 'ment', 'ness', 'ings', 'ing', 'ers', 'er', 'ed', 'es', 's', 'ly'];

/**
 * A light English stemmer: enough to match "cancelling" with "cancellation" and "batteries" with
 * "battery". Kept over Porter (the `stemmer` package, @orama/stemmers/english): the checks'
 * thresholds are calibrated on it, Porter joins more that differ ("organization"/"organ"), and
 * `wordsMatch` covers the endings it leaves ("charg"/"charger").
 */
export function stemEnglish(word: string): string {
  if (word.length <= 4) return word;
  let w = word.endsWith('ies') ? `${word.slice(0, -3)}y` : word;
  // a stem keeps at least four letters, so "water" stays "water"
  const suffix = SUFFIXES.find((x) => w.endsWith(x) && w.length - x.length >= 4);
  if (suffix) w = w.slice(0, -suffix.length);
  return w.replace(/(.)\1$/, '$1');
}

function vowels(s: string): number {
  let n = 0;
  for (const c of s) if (c === 'a' || c === 'e' || c === 'i' || c === 'o' || c === 'u') n++;
  return n;
}

/** how an Indonesian syllable may start: a vowel, one consonant, or a cluster loanwords bring ("proses", "struk") */
const ONSET = /^(?:ng|ny|sy|kh|str|spr|skr|[bcdfgkptv][rl]|s[kptwmnl]|[kd]w|[b-df-hj-np-tv-z])?[aeiou]/;
const MONO = new Set(INDONESIAN.monosyllables);

const ROOTS = new Set(INDONESIAN.roots);

/** One of `monosyllables`, bare or with a suffix ("cek", "cekan") */
const isMono = (w: string) => MONO.has(w) || INDONESIAN.suffixes.some((s) => w.endsWith(s) && MONO.has(w.slice(0, -s.length)));
/** One of `roots`, bare or with a suffix ("pesanan", "berikan") */
const isRoot = (w: string) => ROOTS.has(w) || INDONESIAN.suffixes.some((s) => w.endsWith(s) && ROOTS.has(w.slice(0, -s.length)));

/** A prefix comes off when what remains can start a syllable and keeps two (one for a listed monosyllable). */
function prefixFits(rule: AffixRule, word: string, rest: string, n: number): boolean {
  if (rule.confix !== undefined && !word.endsWith(rule.confix)) return false;
  if (rule.first === true && n > 0) return false;
  if (!ONSET.test(rest)) return false;
  const root = rule.confix !== undefined ? rest.slice(0, -rule.confix.length) : rest;
  return vowels(root) >= 2 || (rule.mono === true && isMono(rest));
}

/**
 * Indonesian and Malay: particles and possessives off the end, then up to three prefixes (meN-,
 * peN-, ber-, per-, ter-, di-, ke-…-an), then -kan, -an and -i while two vowels remain, then the
 * root's first consonant as meN- sounds it. Tables in core/languages.ts (`INDONESIAN`).
 */
export function stemIndonesian(word: string): string {
  if (word.length <= 3) return word;
  let w = word;
  if (!INDONESIAN.roots.some((r) => w.endsWith(r))) {
    for (const list of [INDONESIAN.particles, INDONESIAN.possessives]) {
      const s = list.find((x) => w.endsWith(x) && vowels(w.slice(0, -x.length)) >= 2);
      if (s) w = w.slice(0, -s.length);
    }
  }
  let mono = false;
  for (let n = 0; n < 3 && INDONESIAN.prefixed.test(w) && !isRoot(w); n++) {
    const rule = INDONESIAN.prefixes.find((r) => r.re.test(w) && prefixFits(r, w, w.replace(r.re, r.to), n));
    if (!rule) break;
    w = w.replace(rule.re, rule.to);
    mono = isMono(w);
    if ('last' in rule) break;
  }
  for (let n = 0; n < 2; n++) {
    const s = INDONESIAN.suffixes.find((x) => {
      const rest = w.slice(0, -x.length);
      return w.endsWith(x) && rest.length >= 3 && (vowels(rest) >= 2 || (mono && MONO.has(rest)));
    });
    if (!s) break;
    w = w.slice(0, -s.length);
  }
  if (vowels(w) >= 2) {
    for (const [re, to] of INDONESIAN.initial) w = w.replace(re, to);
    if (vowels(w.replace(INDONESIAN.finalK, '')) >= 2) w = w.replace(INDONESIAN.finalK, '');
  }
  return w;
}

/**
 * An Indonesian or Malay text's Latin words: its own affixes first, then English endings, since such
 * a ticket mixes English in ("ordernya", "sudah cancelled"); one function of the word, so consistent.
 */
const indonesianThenEnglish = (w: string) => stemEnglish(stemIndonesian(w));

/**
 * European languages: the Snowball stemmers of @orama/stemmers, plain JavaScript with no imports.
 * Each keeps its cursor on an object of its module, set afresh by every call, which runs to its
 * end synchronously: deterministic in a workflow, and safe in a module the workflows share.
 */
export const STEMMERS: Readonly<Record<StemmerName, (word: string) => string>> = {
  english: stemEnglish,
  indonesian: indonesianThenEnglish,
  german,
  french,
  spanish,
  portuguese,
  italian,
  dutch,
};
