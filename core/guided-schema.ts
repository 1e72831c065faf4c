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

/**
 * The JSON schema of a repair answer: exactly the failing paths as keys, each with its own
 * sub-schema, less the values `ruledOut` names for it where the sub-schema lists its options.
 */
export function repairSchema(schema: AnySchema, paths: readonly string[], ruledOut: Record<string, readonly unknown[]> = {}): Record<string, unknown> {
  const shape: Record<string, AnySchema> = {};
  for (const p of paths) {
    const sub = subSchemaAt(schema, p);
    if (!sub) throw new Error(`path ${p} is not in the output schema`);
    shape[p] = unwrapOptional(sub);
  }
  const out = jsonSchemaOf(z.strictObject(shape));
  const properties = out.properties as Record<string, unknown> | undefined;
  for (const [p, values] of Object.entries(ruledOut)) if (properties?.[p] !== undefined && values.length > 0) withoutOptions(properties[p], values);
  return out;
}

/**
 * Removes values from the `enum` lists of a schema node and its `anyOf` branches, keeping at
 * least one option in each list; a ruled-out null also drops a `{type: "null"}` branch, or
 * "null" from a list of types, while another is left.
 */
function withoutOptions(node: unknown, values: readonly unknown[]): void {
  if (node === null || typeof node !== 'object') return;
  const o = node as { enum?: unknown[]; anyOf?: unknown[]; type?: unknown };
  if (Array.isArray(o.enum)) {
    const kept = o.enum.filter((v) => !values.some((x) => JSON.stringify(x) === JSON.stringify(v)));
    if (kept.length > 0) o.enum = kept;
  }
  if (values.includes(null) && Array.isArray(o.type) && o.type.includes('null') && o.type.length > 1) {
    const kept = o.type.filter((t) => t !== 'null');
    o.type = kept.length === 1 ? kept[0] : kept;
  }
  if (Array.isArray(o.anyOf)) {
    if (values.includes(null)) {
      const kept = o.anyOf.filter((b) => !(b !== null && typeof b === 'object' && (b as { type?: unknown }).type === 'null'));
      if (kept.length > 0) o.anyOf = kept;
    }
    o.anyOf.forEach((b) => withoutOptions(b, values));
  }
}

/** The string options a schema node lists (its `enum`, or its `anyOf` branches' ones). */
export function optionsOf(node: unknown): string[] {
  if (node === null || typeof node !== 'object') return [];
  const o = node as { enum?: unknown[]; anyOf?: unknown[] };
  return [...(Array.isArray(o.enum) ? o.enum.filter((v): v is string => typeof v === 'string') : []), ...(Array.isArray(o.anyOf) ? o.anyOf.flatMap(optionsOf) : [])];
}
