import { z } from 'zod';
import { subSchemaAt, unwrapOptional, type AnySchema } from './schema-walk.js';

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
