import { splitWords } from './text.js';

export const RUNAWAY_WHITESPACE = /\s{64,}$/;
export const RUNAWAY_REPEAT = /(.{1,20}?)\1{24,}$/s;
/** While a generation streams, the stricter forms: no pretty-printed JSON or separator line comes near these. */
const STREAM_WHITESPACE = /\s{256,}$/;
const STREAM_REPEAT = /(.{1,20}?)\1{19,}$/s;
const STREAM_REPEAT_MIN_CHARS = 400;

/** How often each word occurs in a text: lowercase letters and digits, numbers without thousands separators. */
export function wordCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const w of tokens(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}

/** Words of three characters or more, each number in one spelling ("950.00" is "950"). */
function tokens(text: string): string[] {
  return splitWords(text)
    .map((w) => (/^\d+(\.\d+)?$/.test(w) ? String(Number(w)) : w))
    .filter((w) => w.length >= 3);
}

export interface Loop {
  /** one copy of what repeats, in whatever phase the text ends */
  block: string;
  /** how many times in a row the text ends by writing it */
  copies: number;
}

/**
 * A loop at the end of a text: a block of at least 24 characters written `minCopies` times or more
 * in a row, more often than the source holds its content. A list whose items look alike is not a
 * loop, nor is an invoice whose seven identical lines the source shows seven times: the block's
 * words (JSON keys aside) must occur fewer times in the source, by their median count, than the
 * block is repeated. Without a source, repetition alone decides.
 *
 * The copy being written when the text was cut may be incomplete, so the text is also tried up
 * to each of its last few item boundaries. Linear in the text for each of the few candidates.
 */
export function loopAtEnd(text: string, minCopies: number, source?: Map<string, number>, maxPeriod = 2000): Loop | undefined {
  const ends = [text.length];
  for (let i = text.length - 1; i > 0 && i >= text.length - maxPeriod && ends.length < 6; i--) {
    if (text[i - 1] === '}' || text[i - 1] === ',' || text[i - 1] === '\n') ends.push(i);
  }
  for (const end of ends) {
    const period = periodAt(text, end, minCopies, maxPeriod);
    if (period === undefined) continue;
    const block = text.slice(end - period, end);
    let copies = minCopies;
    while (end - period * (copies + 1) >= 0 && text.slice(end - period * (copies + 1), end - period * copies) === block) copies++;
    if (!source) return { block, copies };
    const keys = new Set([...text.matchAll(/"([^"\\]{1,64})"\s*:/g)].flatMap((m) => tokens(m[1]!)));
    const content = tokens(block).filter((w) => !keys.has(w));
    // a block of punctuation and small numbers says nothing about the source: it takes twice the copies
    if (content.length === 0) {
      if (copies >= 2 * minCopies) return { block, copies };
      continue;
    }
    const counts = content.map((w) => source.get(w) ?? 0).sort((a, b) => a - b);
    const median = counts[Math.floor(counts.length / 2)]!;
    if (copies > median) return { block, copies };
  }
  return undefined;
}

/** The period with which text[0, n) ends by repeating a block of at least 24 characters `copies` times. */
function periodAt(text: string, n: number, copies: number, maxPeriod: number): number | undefined {
  const probe = 24;
  if (n < probe * copies) return undefined;
  const tail = text.slice(n - probe, n);
  let from = n - probe - 1;
  for (let tries = 0; tries < 8 && from >= 0; tries++) {
    const at = text.lastIndexOf(tail, from);
    if (at < 0) return undefined;
    const period = n - probe - at;
    if (period > maxPeriod || period * copies > n) return undefined;
    if (period >= probe) {
      let periodic = true;
      for (let i = n - period * copies; i < n - period && periodic; i++) periodic = text[i] === text[i + period];
      if (periodic) return period;
    }
    from = at - 1;
  }
  return undefined;
}

/**
 * Why a generation in progress should be stopped: it is running away, or undefined while it is
 * not. Stricter than reading a finished output, since stopping a good answer costs a whole call:
 * 256 characters of whitespace, a short unit over 400 characters, or a block written six times
 * more often than the source (the prompt's word counts) holds it. Checks only the end of the text,
 * so its cost does not grow with the output.
 */
export function runawayIn(text: string, source?: Map<string, number>): string | undefined {
  const end = text.slice(-2 * STREAM_REPEAT_MIN_CHARS);
  if (STREAM_WHITESPACE.test(end)) return 'runaway whitespace';
  const short = STREAM_REPEAT.exec(end);
  if (short && short[0].length >= STREAM_REPEAT_MIN_CHARS) return 'runaway repetition';
  if (loopAtEnd(text, 6, source) !== undefined) return 'the same block written over and over';
  return undefined;
}
