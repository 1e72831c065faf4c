import { jsonrepair } from 'jsonrepair';
import type { Fix, Issue } from './issues.js';
import { closesJson, endOfValue, firstValueStart } from './json-scan.js';
import { loopAtEnd, RUNAWAY_REPEAT, RUNAWAY_WHITESPACE } from './loops.js';

/** `runaway`: the worker stopped a streamed generation that had started repeating itself. */
export type FinishReason = 'stop' | 'length' | 'runaway' | 'content_filter' | 'tool_calls' | 'function_call' | 'error' | 'unknown';

export type LenientParseResult =
  | { success: true; value: unknown; fixes: Fix[]; issues: Issue[] }
  | { success: false; fixes: Fix[]; issues: Issue[] };

const FENCE = /```[a-zA-Z0-9_-]*\s*\n?([\s\S]*?)(?:```|$)/;

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

export interface ParseOptions {
  /** read an output cut while it repeated one item as runaway (default), not as a truncation to continue */
  loopsAreRunaway?: boolean;
  /** word counts of what the model was given (`wordCounts` of the prompt): a repetition the source holds is no loop */
  source?: Map<string, number>;
}

/**
 * Reads the JSON a small model meant to write: strips fences and prose, drops a second
 * object, and repairs almost-valid syntax with jsonrepair. Every change is reported as a Fix.
 * A finish reason of `length` or runaway whitespace is reported as its own issue kind even
 * when the text still parses, since the value may be silently incomplete.
 */
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
