import { z } from 'zod';
import { guidedSchemaOf, type ContextBlock, type MicroTask } from './contract.js';
import { formatIssue, type Issue } from './issues.js';
import { fromPointer, getAt, isWithin, setAt } from './json-pointer.js';
import { closesJson, parseLenient, splitWords, type FinishReason } from './parse.js';

/** A plain JSON scalar answer ("120", "\"Acme\"", "null"), or undefined. */
function parseBare(raw: string): unknown {
  try {
    return JSON.parse(raw.trim());
  } catch {
    return undefined;
  }
}

type AnySchema = z.ZodType;

function unwrap(schema: AnySchema): AnySchema {
  let s: AnySchema = schema;
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as AnySchema;
    else if (s instanceof z.ZodDefault) s = s.removeDefault() as AnySchema;
    else if (s instanceof z.ZodPipe) s = s.in as AnySchema;
    else return s;
  }
}

/** Strips optional and default wrappers but keeps nullable, so a repair may answer null where the contract allows it. */
function unwrapOptional(schema: AnySchema): AnySchema {
  let s: AnySchema = schema;
  for (;;) {
    if (s instanceof z.ZodOptional) s = s.unwrap() as AnySchema;
    else if (s instanceof z.ZodDefault) s = s.removeDefault() as AnySchema;
    else if (s instanceof z.ZodPipe) s = s.in as AnySchema;
    else return s;
  }
}

/** The part of an output schema at a JSON pointer, or undefined when the path leads nowhere in it. */
export function subSchemaAt(schema: AnySchema, pointer: string): AnySchema | undefined {
  let cur: AnySchema | undefined = schema;
  for (const seg of fromPointer(pointer)) {
    if (!cur) return undefined;
    const s = unwrap(cur);
    if (s instanceof z.ZodObject) cur = (s.shape as Record<string, AnySchema>)[String(seg)];
    else if (s instanceof z.ZodArray) cur = typeof seg === 'number' ? (s.element as AnySchema) : undefined;
    else if (s instanceof z.ZodRecord) cur = s.valueType as AnySchema;
    else if (s instanceof z.ZodTuple) cur = typeof seg === 'number' ? (s.def.items[seg] as AnySchema | undefined) : undefined;
    else return undefined;
  }
  return cur;
}

/**
 * The paths a repair should rewrite for an issue: those the check names in `repairAt`, else the
 * field itself, except that an ungrounded field of an array item means the whole item was
 * invented, so the item is rewritten.
 */
export function repairTargets(issue: Issue): string[] {
  if (issue.repairAt && issue.repairAt.length > 0) return issue.repairAt;
  if (issue.kind !== 'grounding') return [issue.path];
  const m = /^(.*\/\d+)\/[^/]+$/.exec(issue.path);
  return [m ? m[1]! : issue.path];
}

/** Paths a targeted repair can address: below the root and present in the schema; none inside another. */
export function targetablePaths(schema: AnySchema, issues: readonly Issue[]): string[] | undefined {
  const targets = [...new Set(issues.flatMap(repairTargets))];
  if (targets.some((p) => p === '' || subSchemaAt(schema, p) === undefined)) return undefined;
  return targets.filter((p) => !targets.some((q) => q !== p && isWithin(p, q)));
}

/** The issues a repair of these paths addresses: those inside them, and those that open them for repair. */
export function issuesUnder(issues: readonly Issue[], paths: readonly string[]): Issue[] {
  return issues.filter((i) => paths.some((p) => isWithin(i.path, p) || repairTargets(i).some((t) => isWithin(t, p))));
}

const SHORTHAND: Record<string, [outside: string, inside: string]> = {
  d: ['[0-9]', '0-9'],
  w: ['[A-Za-z0-9_]', 'A-Za-z0-9_'],
  s: ['[ \\t\\n\\r]', ' \\t\\n\\r'],
};

/**
 * A regular expression with its `\d`, `\w` and `\s` spelled out as character classes. Grammar
 * builders for guided decoding do not all know the shorthands: llama.cpp's reads `\d` as a
 * literal, so a date pattern written with it lets anything through.
 */
export function portablePattern(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      const next = pattern[i + 1]!;
      const sub = SHORTHAND[next];
      out += sub ? sub[inClass ? 1 : 0] : c + next;
      i++;
      continue;
    }
    if (c === '[' && !inClass) inClass = true;
    else if (c === ']' && inClass) inClass = false;
    out += c;
  }
  return out;
}

function portablePatterns(node: unknown): void {
  if (Array.isArray(node)) node.forEach(portablePatterns);
  else if (node !== null && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    for (const [k, v] of Object.entries(o)) {
      if (k === 'pattern' && typeof v === 'string') o[k] = portablePattern(v);
      else portablePatterns(v);
    }
  }
}

/** The JSON schema sent for guided decoding (draft 7, patterns without regex shorthands). */
export function jsonSchemaOf(schema: AnySchema): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { unrepresentable: 'any', target: 'draft-7' }) as Record<string, unknown>;
  delete out.$schema;
  portablePatterns(out);
  return out;
}

/** The JSON schema of a repair answer: exactly the failing paths as keys, each with its own sub-schema. */
export function repairSchema(schema: AnySchema, paths: readonly string[]): Record<string, unknown> {
  const shape: Record<string, AnySchema> = {};
  for (const p of paths) {
    const sub = subSchemaAt(schema, p);
    if (!sub) throw new Error(`path ${p} is not in the output schema`);
    shape[p] = unwrapOptional(sub);
  }
  return jsonSchemaOf(z.strictObject(shape));
}

export type CallKind = 'generate' | 'continue' | 'repair' | 'regenerate' | 'escalate';

export interface RepairSpec {
  paths: string[];
  /** the current value at each path (undefined where missing) */
  current: Record<string, unknown>;
  issues: Issue[];
  /** the sibling values of each failing path, to find the input lines it comes from */
  siblings?: Record<string, unknown>;
}

export interface CallSpec {
  kind: CallKind;
  repair?: RepairSpec;
  /** for regeneration: what was wrong with the previous output */
  feedback?: Issue[];
  /**
   * for a re-ask: every earlier output with what was wrong with it, sent back as the conversation
   * so far (assistant turn, then the errors), the way instructor-style retries grow the messages
   */
  history?: { output: string; issues: Issue[] }[];
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ModelRequest {
  messages: ChatMessage[];
  schemaName: string;
  jsonSchema: Record<string, unknown>;
}

const JSON_ONLY = 'Answer with one JSON object only: no prose, no markdown fences.';

const STOPWORDS = new Set('the and for with not one this that from are was were you your its has have but all any per use only each into than then them they their what when which who will would should could must may can'.split(' '));

function words(text: string): string[] {
  return splitWords(text).filter((w) => /^\d/.test(w) || (w.length >= 3 && !STOPWORDS.has(w)));
}

function keyWords(pointer: string): string[] {
  return pointer
    .split('/')
    .filter((seg) => seg !== '' && !/^\d+$/.test(seg))
    .flatMap((seg) => seg.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' ').split(' '));
}

/** Words of validation messages that say nothing about where in the input a value comes from. */
const MESSAGE_NOISE = new Set('invalid input expected received undefined string number array object option options value values field fields null missing must should least most characters items item'.split(' '));

/** What to look for in the input when repairing these paths: their values, their siblings' values, their key names and the issues. */
function repairHints(repair: RepairSpec): Set<string> {
  const hints = new Set<string>();
  const add = (v: unknown, skip?: Set<string>) => {
    if (typeof v === 'string' || typeof v === 'number') for (const w of words(String(v))) if (!skip?.has(w)) hints.add(w);
  };
  for (const p of repair.paths) {
    const cur = repair.current[p];
    // a whole item under repair (an invoice line) is found by its own fields
    if (cur !== null && typeof cur === 'object' && !Array.isArray(cur)) Object.values(cur).forEach((v) => add(v));
    else add(cur);
    for (const w of keyWords(p)) for (const x of words(w)) hints.add(x);
  }
  Object.values(repair.siblings ?? {}).forEach((v) => add(v));
  for (const i of repair.issues) if (i.kind !== 'missing' && i.kind !== 'type') add(i.message, MESSAGE_NOISE);
  return hints;
}

/**
 * The lines of the original prompt that a repair of these paths needs, in their order: a repair
 * pays for the source lines it uses, not for the whole document again. Lines are taken greedily,
 * each for the hints it adds that the lines taken so far lack, until no line adds one or the
 * excerpt reaches `maxShare` of the text.
 */
export function relevantExcerpt(text: string, hints: Set<string>, maxShare = 0.35): string {
  if (text.length <= 600 || hints.size === 0) return text;
  const lines = text.split('\n');
  const found = lines.map((line) => new Set(words(line).filter((w) => hints.has(w))));
  const budget = Math.max(300, text.length * maxShare);
  const covered = new Set<string>();
  const keep = new Set<number>();
  let used = 0;
  for (;;) {
    let best = -1;
    let gain = 0;
    found.forEach((ws, i) => {
      if (keep.has(i)) return;
      let g = 0;
      for (const w of ws) if (!covered.has(w)) g++;
      if (g > gain) [best, gain] = [i, g];
    });
    if (best < 0) break;
    const len = lines[best]!.length + 1;
    if (used + len > budget) {
      found[best] = new Set(); // too long for what is left; a shorter line may still fit
      continue;
    }
    keep.add(best);
    used += len;
    for (const w of found[best]!) covered.add(w);
  }
  if (keep.size === 0) return text;
  const out: string[] = [];
  let last = -1;
  for (const i of [...keep].sort((a, b) => a - b)) {
    if (last >= 0 && i > last + 1) out.push('…');
    out.push(lines[i]!.trim());
    last = i;
  }
  return out.join('\n');
}

/** The messages and response schema of one attempt, for any rung of the ladder. */
export function buildModelRequest<I>(task: MicroTask<I, any>, input: I, context: readonly ContextBlock[], spec: CallSpec): ModelRequest {
  const prompt = task.prompt(input, context);
  const output = guidedSchemaOf(task, input, context);
  const schema = jsonSchemaOf(output);
  const system = `${prompt.system}\n${JSON_ONLY}`;
  // a targeted repair, on the pool's own model or as the escalation to a larger one
  if (spec.kind === 'repair' || (spec.kind === 'escalate' && spec.repair)) {
    const repair = spec.repair;
    if (!repair || repair.paths.length === 0) throw new Error('a repair call needs the paths to repair');
    const lines = repair.paths.map((p) => {
      const own = issuesUnder(repair.issues, [p]).filter((i) => !(i.path === p && i.kind === 'missing'));
      if (own.length > 0 && own.every((i) => i.path === p && i.rewrite !== undefined)) {
        return `- "${p}": write a new value: ${[...new Set(own.map((i) => i.rewrite))].join('; ')}`;
      }
      const problems = issuesUnder(repair.issues, [p])
        .filter((i) => !(i.path === p && i.kind === 'missing'))
        .map((i) => (i.path === p ? `[${i.kind}] ${i.message}` : formatIssue(i)));
      const cur = repair.current[p];
      return `- "${p}": ${cur === undefined ? 'missing' : `now ${JSON.stringify(cur)}`}${problems.length ? `; ${problems.join('; ')}` : ''}`;
    });
    return {
      schemaName: `${task.formatName}_repair`,
      jsonSchema: repairSchema(output, repair.paths),
      messages: [
        { role: 'system', content: 'Correct the listed fields of a JSON answer. Reply with one JSON object keyed by the listed JSON pointers, each with its corrected value; no prose, no fences.' },
        {
          role: 'user',
          content: `Task: ${task.description}\nFrom its input:\n${relevantExcerpt(prompt.user, repairHints(repair))}\n\nFix:\n${lines.join('\n')}`,
        },
      ],
    };
  }
  const messages: ChatMessage[] = [
    { role: 'system', content: system },
    { role: 'user', content: prompt.user },
  ];
  if (spec.kind === 'regenerate' && spec.history !== undefined) {
    for (const turn of spec.history) {
      messages.push({ role: 'assistant', content: turn.output });
      messages.push({
        role: 'user',
        content: `Your answer failed validation:\n${turn.issues.map((i) => `- ${formatIssue(i)}`).join('\n')}\nFix the errors and return the whole JSON object again.`,
      });
    }
  } else if ((spec.kind === 'regenerate' || spec.kind === 'escalate') && spec.feedback && spec.feedback.length > 0) {
    messages.push({
      role: 'user',
      content: `A previous answer was rejected for these reasons:\n${spec.feedback.map((i) => `- ${formatIssue(i)}`).join('\n')}\nWrite the whole answer again, avoiding them.`,
    });
  }
  return { schemaName: task.formatName, jsonSchema: schema, messages };
}

/** Merges a repair answer into the current value by path; valid fields stay as they were. */
export interface MergeOptions {
  /**
   * Default on. Off, as runs started before it read answers: any cut answer answers nothing, and
   * an object answer replaces the object at its path whole.
   */
  closedCutsAndPartialObjects?: boolean;
}

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

export function currentValues(value: unknown, paths: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(paths.map((p) => [p, getAt(value, p)]));
}

/** The primitive values beside each failing path (its parent object's fields), keyed by their own paths. */
export function siblingValues(value: unknown, paths: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of paths) {
    const parent = p.slice(0, p.lastIndexOf('/'));
    const obj = getAt(value, parent);
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) continue;
    for (const [k, v] of Object.entries(obj)) {
      const sp = `${parent}/${k}`;
      if (!paths.includes(sp) && (typeof v === 'string' || typeof v === 'number')) out[sp] = v;
    }
  }
  return out;
}

