import { fromPointer, toPointer, type PathSegment } from '../json-pointer.js';

export interface Selected {
  path: string;
  value: unknown;
}

/**
 * The values a path pattern names: a JSON pointer in which `*` stands for every index of an array
 * or every key of an object ("/scenarios/*\/description"). Missing parts select nothing.
 */
export function select(value: unknown, pattern: string): Selected[] {
  const out: Selected[] = [];
  const walk = (node: unknown, rest: readonly PathSegment[], at: PathSegment[]) => {
    if (rest.length === 0) {
      out.push({ path: toPointer(at), value: node });
      return;
    }
    const [head, ...tail] = rest;
    if (node === null || typeof node !== 'object') return;
    if (head === '*') {
      const entries: [PathSegment, unknown][] = Array.isArray(node) ? node.map((v, i) => [i, v]) : Object.entries(node);
      for (const [k, v] of entries) walk(v, tail, [...at, k]);
      return;
    }
    const child = Array.isArray(node) ? node[Number(head)] : (node as Record<string, unknown>)[String(head)];
    if (child !== undefined) walk(child, tail, [...at, Array.isArray(node) ? Number(head) : head!]);
  };
  walk(value, fromPointer(pattern), []);
  return out;
}

/** The strings a pattern names, with their paths. */
export function selectStrings(value: unknown, pattern: string): { path: string; text: string }[] {
  return select(value, pattern).flatMap((s) => (typeof s.value === 'string' ? [{ path: s.path, text: s.value }] : []));
}

/** Every string leaf under a value, with its path: what a check over "all generated text" reads. */
export function stringLeaves(value: unknown, at: PathSegment[] = []): { path: string; text: string }[] {
  if (typeof value === 'string') return [{ path: toPointer(at), text: value }];
  if (value === null || typeof value !== 'object') return [];
  const entries: [PathSegment, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return entries.flatMap(([k, v]) => stringLeaves(v, [...at, k]));
}
