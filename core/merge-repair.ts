import { getAt, setAt } from './json-pointer.js';
import { closesJson } from './json-scan.js';
import { parseLenient, type FinishReason } from './lenient-parse.js';

/** A plain JSON scalar answer ("120", "\"Acme\"", "null"), or undefined. */
function parseBare(raw: string): unknown {
  try {
    return JSON.parse(raw.trim());
  } catch {
    return undefined;
  }
}

export interface MergeOptions {
  /**
   * Default on. Off, as runs started before it read answers: any cut answer answers nothing, and
   * an object answer replaces the object at its path whole.
   */
  closedCutsAndPartialObjects?: boolean;
}

/** Merges a repair answer into the current value by path; valid fields stay as they were. */
export function mergeRepair(
  current: unknown,
  raw: string,
  paths: readonly string[],
  finishReason: FinishReason = 'stop',
  options: MergeOptions = {},
): { value: unknown; answered: string[]; unanswered: string[] } {
  const newer = options.closedCutsAndPartialObjects ?? true;
  // an answer cut at max_tokens, or stopped as it ran away, before its JSON closed may be closed by
  // the parser yet incomplete: it answers nothing. One that closed is complete, whatever followed.
  if ((finishReason === 'length' || finishReason === 'runaway') && !(newer && closesJson(raw))) return { value: current, answered: [], unanswered: [...paths] };
  const bare = parseBare(raw);
  if (bare !== undefined && paths.length === 1 && (bare === null || typeof bare !== 'object')) {
    return { value: setAt(current, paths[0]!, bare), answered: [...paths], unanswered: [] };
  }
  const parsed = parseLenient(raw);
  const answered: string[] = [];
  const unanswered: string[] = [];
  let value = current;
  let answer = parsed.success && parsed.value !== null && typeof parsed.value === 'object' ? (parsed.value as Record<string, unknown>) : {};
  // {"total": 5} for "/total": the field named by its last segment instead of the pointer
  if (paths.length === 1 && !(paths[0]! in answer)) {
    const last = paths[0]!.slice(paths[0]!.lastIndexOf('/') + 1);
    const keys = Object.keys(answer);
    if (keys.length === 1 && keys[0] === last) answer = { [paths[0]!]: answer[last] };
  }
  for (const p of paths) {
    if (Object.prototype.hasOwnProperty.call(answer, p)) {
      value = setAt(value, p, newer ? mergeObject(getAt(value, p), answer[p]) : answer[p]);
      answered.push(p);
    } else if (paths.length === 1 && parsed.success && !(p in answer)) {
      // a one-path repair answered with the bare value instead of the keyed object
      const keys = Object.keys(answer);
      if (keys.length !== 1 || !keys[0]!.startsWith('/')) {
        value = setAt(value, p, parsed.value);
        answered.push(p);
      } else unanswered.push(p);
    } else unanswered.push(p);
  }
  return { value, answered, unanswered };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A repaired object (a whole line, say) keeps the fields its answer left out; anything else is replaced. */
function mergeObject(before: unknown, answer: unknown): unknown {
  return isPlainObject(before) && isPlainObject(answer) ? { ...before, ...answer } : answer;
}
