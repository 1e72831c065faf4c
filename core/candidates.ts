/**
 * Candidate spans for a value that is not in the input: the input's own words that come closest
 * to it, for a repair prompt to offer in place of the rejected value, which small models
 * otherwise copy straight back.
 */
import { WORD_SEGMENTER as WORDS } from './text.js';

/** Character pairs of a lowercased text, spaces and punctuation collapsed; a single character is its own pair. */
function pairs(text: string): Map<string, number> {
  const t = text.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
  const out = new Map<string, number>();
  const chars = [...t];
  if (chars.length === 1) out.set(chars[0]!, 1);
  for (let i = 0; i + 1 < chars.length; i++) {
    const p = chars[i]! + chars[i + 1]!;
    out.set(p, (out.get(p) ?? 0) + 1);
  }
  return out;
}

/** Dice similarity of two texts' character pairs, 0 to 1. */
function similarity(a: Map<string, number>, b: Map<string, number>): number {
  let shared = 0;
  let total = 0;
  for (const [p, n] of a) {
    shared += Math.min(n, b.get(p) ?? 0);
    total += n;
  }
  for (const n of b.values()) total += n;
  return total === 0 ? 0 : (2 * shared) / total;
}

/**
 * The spans of `text` (runs of up to a few more words than `wrong` has, within one line) most
 * like `wrong`, best first, each once (case aside), as written. Spans alike in fewer than `minSimilarity` of
 * their character pairs are no candidates: an invented value may have none.
 */
export function candidateSpans(text: string, wrong: string, max = 5, minSimilarity = 0.4, ruledOut: readonly unknown[] = []): string[] {
  const excluded = new Set([wrong, ...ruledOut].filter((v): v is string => typeof v === 'string').map((v) => v.trim().toLowerCase()));
  const target = pairs(wrong);
  if (target.size === 0) return [];
  const wrongWords = [...WORDS.segment(wrong)].filter((w) => w.isWordLike).length;
  const longest = Math.min(12, Math.max(1, wrongWords) + 2);
  const scored = new Map<string, { span: string; score: number }>();
  for (const line of text.split('\n')) {
    const words = [...WORDS.segment(line)].filter((w) => w.isWordLike);
    for (let i = 0; i < words.length; i++) {
      for (let n = 1; n <= longest && i + n <= words.length; n++) {
        const last = words[i + n - 1]!;
        const span = line.slice(words[i]!.index, last.index + last.segment.length);
        const key = span.toLowerCase();
        // the rejected value itself is no candidate, wherever the text holds it
        if (scored.has(key) || excluded.has(key.trim())) continue;
        const score = similarity(target, pairs(span));
        if (score >= minSimilarity) scored.set(key, { span, score });
      }
    }
  }
  return [...scored.values()]
    .sort((a, b) => b.score - a.score || a.span.length - b.span.length)
    .slice(0, max)
    .map((s) => s.span);
}

/** The options most like `wrong`, best first: for a path whose guided schema lists what it may be. */
export function closestOptions(options: readonly string[], wrong: string, max = 5, ruledOut: readonly unknown[] = []): string[] {
  const target = pairs(wrong);
  const excluded = new Set([wrong, ...ruledOut].filter((v): v is string => typeof v === 'string').map((v) => v.trim().toLowerCase()));
  return options
    .filter((o) => !excluded.has(o.trim().toLowerCase()))
    .map((o) => ({ o, score: similarity(target, pairs(o)) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, max)
    .map((x) => x.o);
}
