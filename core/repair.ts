import { z } from 'zod';
import { renderContext, type ContextBlock, type MicroTask } from './contract.js';
import { formatIssue, type Issue } from './issues.js';
import { fromPointer, getAt, setAt } from './json-pointer.js';
import { parseLenient } from './parse.js';

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

/** Paths a targeted repair can address: below the root and present in the schema. */
export function targetablePaths(task: MicroTask<any, any>, issues: readonly Issue[]): string[] | undefined {
  const paths = [...new Set(issues.map((i) => i.path))];
  if (paths.some((p) => p === '' || subSchemaAt(task.output, p) === undefined)) return undefined;
  return paths;
}

export function jsonSchemaOf(schema: AnySchema): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { unrepresentable: 'any', target: 'draft-7' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

/** The JSON schema of a repair answer: exactly the failing paths as keys, each with its own sub-schema. */
export function repairSchema(task: MicroTask<any, any>, paths: readonly string[]): Record<string, unknown> {
  const shape: Record<string, AnySchema> = {};
  for (const p of paths) {
    const sub = subSchemaAt(task.output, p);
    if (!sub) throw new Error(`path ${p} is not in the output schema of ${task.name}`);
    shape[p] = unwrap(sub);
  }
  return jsonSchemaOf(z.strictObject(shape));
}

export type CallKind = 'generate' | 'continue' | 'repair' | 'regenerate' | 'escalate';

export interface RepairSpec {
  paths: string[];
  /** the current value at each path (undefined where missing) */
  current: Record<string, unknown>;
  issues: Issue[];
}

export interface CallSpec {
  kind: CallKind;
  repair?: RepairSpec;
  /** for regeneration: what was wrong with the previous output */
  feedback?: Issue[];
  /** for a re-ask: the previous output, sent back as the assistant's turn */
  previous?: string;
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

const JSON_ONLY = 'Answer with a single JSON object and nothing else: no prose, no markdown fences.';

/** The messages and response schema of one attempt, for any rung of the ladder. */
export function buildModelRequest<I>(task: MicroTask<I, any>, input: I, context: readonly ContextBlock[], spec: CallSpec): ModelRequest {
  const prompt = task.prompt(input, context);
  const schema = jsonSchemaOf(task.output);
  const system = `${prompt.system}\n${JSON_ONLY}`;
  if (spec.kind === 'repair') {
    const repair = spec.repair;
    if (!repair || repair.paths.length === 0) throw new Error('a repair call needs the paths to repair');
    const lines = repair.paths.map((p) => {
      const problems = repair.issues.filter((i) => i.path === p).map(formatIssue).join('; ');
      const cur = repair.current[p];
      return `- "${p}": current value ${cur === undefined ? '(missing)' : JSON.stringify(cur)}; problem: ${problems}`;
    });
    const example = `{${repair.paths.map((p) => `"${p}": ...`).join(', ')}}`;
    return {
      schemaName: `${task.formatName}_repair`,
      jsonSchema: repairSchema(task, repair.paths),
      messages: [
        {
          role: 'system',
          content: `You correct specific fields of a JSON answer. Every other field is already correct and stays as it is. ${JSON_ONLY}`,
        },
        {
          role: 'user',
          content: `The original task:\n${prompt.user}\n\nThese fields of the answer are wrong:\n${lines.join('\n')}\n\nReturn an object whose keys are exactly these JSON pointers, each with its corrected value: ${example}`,
        },
      ],
    };
  }
  const messages: ChatMessage[] = [
    { role: 'system', content: system },
    { role: 'user', content: prompt.user },
  ];
  if (spec.kind === 'regenerate' && spec.previous !== undefined) {
    messages.push({ role: 'assistant', content: spec.previous });
    messages.push({
      role: 'user',
      content: `Your answer failed validation:\n${(spec.feedback ?? []).map((i) => `- ${formatIssue(i)}`).join('\n')}\nFix the errors and return the whole JSON object again.`,
    });
  } else if (spec.kind === 'regenerate' && spec.feedback && spec.feedback.length > 0) {
    messages.push({
      role: 'user',
      content: `A previous answer was rejected for these reasons:\n${spec.feedback.map((i) => `- ${formatIssue(i)}`).join('\n')}\nWrite the whole answer again, avoiding them.`,
    });
  }
  return { schemaName: task.formatName, jsonSchema: schema, messages };
}

/** Merges a repair answer into the current value by path; valid fields stay as they were. */
export function mergeRepair(current: unknown, raw: string, paths: readonly string[]): { value: unknown; answered: string[]; unanswered: string[] } {
  const parsed = parseLenient(raw);
  const answered: string[] = [];
  const unanswered: string[] = [];
  let value = current;
  const answer = parsed.success && parsed.value !== null && typeof parsed.value === 'object' ? (parsed.value as Record<string, unknown>) : {};
  for (const p of paths) {
    if (Object.prototype.hasOwnProperty.call(answer, p)) {
      value = setAt(value, p, answer[p]);
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

export function currentValues(value: unknown, paths: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(paths.map((p) => [p, getAt(value, p)]));
}

export { renderContext };
