import { jsonrepair } from 'jsonrepair';
import type { Fix, Issue } from './issues.js';

/** `runaway`: the worker stopped a streamed generation that had started repeating itself. */
export type FinishReason = 'stop' | 'length' | 'runaway' | 'content_filter' | 'tool_calls' | 'function_call' | 'error' | 'unknown';

export type LenientParseResult =
  | { success: true; value: unknown; fixes: Fix[]; issues: Issue[] }
  | { success: false; fixes: Fix[]; issues: Issue[] };

const FENCE = /```[a-zA-Z0-9_-]*\s*\n?([\s\S]*?)(?:```|$)/;
const RUNAWAY_WHITESPACE = /\s{64,}$/;
const RUNAWAY_REPEAT = /(.{1,20}?)\1{24,}$/s;
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

/** The lowercase words of a text: letters and digits, numbers without thousands separators, no edge dots. */
export function splitWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/(\d),(?=\d{3})/g, '$1')
    .split(/[^\p{L}\p{N}.]+/u)
    .map((w) => w.replace(/^\.+|\.+$/g, ''))
    .filter((w) => w.length > 0);
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

/** Whether the text holds a JSON value that closed: complete, whatever came after it. */
export function closesJson(text: string): boolean {
  return endOfValue(text, firstValueStart(text)) >= 0;
}

/**
 * Where the JSON starts: the first `{` that opens a readable object, else the first `{` or `[`.
 * Outputs are objects, and prose such as "ticket [ORD-1]:" must not be taken for an array.
 */
function firstValueStart(text: string): number {
  const brace = text.indexOf('{');
  const any = text.search(/[{[]/);
  if (brace < 0 || brace === any) return any;
  const end = endOfValue(text, any);
  // an array that closes before the object starts is prose, not the answer
  return end >= 0 && end <= brace ? brace : any;
}

const APOSTROPHE = '\uE000';
/** An apostrophe between letters ("we're") is not a quote; jsonrepair would end a single-quoted string there. */
function protectApostrophes(text: string): string {
  return /'/.test(text) ? text.replace(/(?<=\p{L})'(?=\p{L})/gu, APOSTROPHE) : text;
}

function restoreApostrophes(value: unknown): unknown {
  if (typeof value === 'string') return value.includes(APOSTROPHE) ? value.replaceAll(APOSTROPHE, "'") : value;
  if (Array.isArray(value)) return value.map(restoreApostrophes);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [restoreApostrophes(k) as string, restoreApostrophes(v)]));
  }
  return value;
}

/** Index just past the JSON value starting at `start`, or -1 if it never closes. */
function endOfValue(text: string, start: number): number {
  if (start < 0) return -1;
  const stack: string[] = [];
  let inString = false;
  let quote = '';
  for (let i = start; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === quote) inString = false;
      continue;
    }
    if (ch === '"' || ch === "'") {
      inString = true;
      quote = ch;
    } else if (ch === '{' || ch === '[') stack.push(ch === '{' ? '}' : ']');
    else if (ch === '}' || ch === ']') {
      if (stack.pop() !== ch) return -1;
      if (stack.length === 0) return i + 1;
    }
  }
  return -1;
}

/**
 * Reads the JSON a small model meant to write: strips fences and prose, drops a second
 * object, and repairs almost-valid syntax with jsonrepair. Every change is reported as a Fix.
 * A finish reason of `length` or runaway whitespace is reported as its own issue kind even
 * when the text still parses, since the value may be silently incomplete.
 */
export interface ParseOptions {
  /** read an output cut while it repeated one item as runaway (default), not as a truncation to continue */
  loopsAreRunaway?: boolean;
  /** word counts of what the model was given (`wordCounts` of the prompt): a repetition the source holds is no loop */
  source?: Map<string, number>;
}

export function parseLenient(raw: string, finishReason: FinishReason = 'stop', options: ParseOptions = {}): LenientParseResult {
  const fixes: Fix[] = [];
  const issues: Issue[] = [];
  let text = raw;

  // a top-level value that closed is complete, whatever came after it or why generation stopped
  const closed = () => closesJson(text);
  if (RUNAWAY_WHITESPACE.test(text)) {
    text = text.replace(RUNAWAY_WHITESPACE, '');
    fixes.push({ kind: 'trim-whitespace', path: '', detail: 'trimmed trailing runaway whitespace' });
    if (!closed()) issues.push({ kind: 'runaway', path: '', message: 'output ran into whitespace until the token limit before the JSON closed' });
  } else if (RUNAWAY_REPEAT.test(text) && !closed()) {
    issues.push({ kind: 'runaway', path: '', message: 'output ends in runaway repetition' });
  } else if ((options.loopsAreRunaway ?? true) && (finishReason === 'length' || finishReason === 'runaway') && !closed() && loopAtEnd(text, 3, options.source) !== undefined) {
    // more room would only make the loop longer: this wants a new answer, not a continuation
    issues.push({ kind: 'runaway', path: '', message: 'output repeats the same item over and over until it was cut; write each item once' });
  } else if (finishReason === 'runaway' && !closed()) {
    issues.push({ kind: 'runaway', path: '', message: 'generation was stopped because the output kept repeating itself' });
  }
  if (finishReason === 'length' && issues.length === 0 && !closed()) {
    issues.push({ kind: 'truncated', path: '', message: 'output was cut at max_tokens (finish_reason "length")' });
  }

  text = text.trim();
  if (text === '') {
    return { success: false, fixes, issues: [...issues, { kind: 'syntax', path: '', message: 'output is empty' }] };
  }

  const fence = FENCE.exec(text);
  if (fence && !text.startsWith('{') && !text.startsWith('[')) {
    text = fence[1]!.trim();
    fixes.push({ kind: 'strip-fences', path: '', detail: 'removed a markdown code fence' });
  }

  const start = firstValueStart(text);
  if (start < 0) {
    return { success: false, fixes, issues: [...issues, { kind: 'syntax', path: '', message: 'no JSON object or array in the output' }] };
  }
  const end = endOfValue(text, start);
  const before = text.slice(0, start).trim();
  const after = end < 0 ? '' : text.slice(end).trim();
  if (before !== '') fixes.push({ kind: 'strip-prose', path: '', detail: `removed ${before.length} characters of text before the JSON` });
  if (after !== '') {
    const extra = after.search(/[{[]/) === 0;
    fixes.push(
      extra
        ? { kind: 'drop-extra-json', path: '', detail: 'dropped a second JSON value after the first' }
        : { kind: 'strip-prose', path: '', detail: `removed ${after.length} characters of text after the JSON` },
    );
  }
  const candidate = end < 0 ? text.slice(start) : text.slice(start, end);

  try {
    return { success: true, value: JSON.parse(candidate), fixes, issues };
  } catch {
    // fall through to the repair library
  }
  try {
    const repaired = jsonrepair(protectApostrophes(candidate));
    fixes.push({ kind: 'jsonrepair', path: '', detail: 'repaired JSON syntax (quotes, commas, comments or brackets)' });
    return { success: true, value: restoreApostrophes(JSON.parse(repaired)), fixes, issues };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { success: false, fixes, issues: [...issues, { kind: 'syntax', path: '', message: `unreadable JSON: ${message}` }] };
  }
}

/** Plain JSON.parse, as validators without a repair step read output; for baselines and comparisons. */
export function parseStrict(raw: string, finishReason: FinishReason = 'stop'): LenientParseResult {
  // a generation that did not end by itself is incomplete to a strict reader, as instructor treats finish_reason "length"
  const issues: Issue[] =
    finishReason === 'length' || finishReason === 'runaway' ? [{ kind: 'truncated', path: '', message: `output was cut before it ended (finish_reason "${finishReason}")` }] : [];
  try {
    return { success: true, value: JSON.parse(raw), fixes: [], issues };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { success: false, fixes: [], issues: [...issues, { kind: 'syntax', path: '', message: `invalid JSON: ${message}` }] };
  }
}
