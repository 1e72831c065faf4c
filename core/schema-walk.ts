import { z } from 'zod';
import { fromPointer } from './json-pointer.js';

export type AnySchema = z.ZodType;

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
export function unwrapOptional(schema: AnySchema): AnySchema {
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
