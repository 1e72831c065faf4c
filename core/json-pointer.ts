/** RFC 6901 JSON pointers: the path format of every issue, repair and record. */
export type PathSegment = string | number;

export function toPointer(segments: readonly PathSegment[]): string {
  if (segments.length === 0) return '';
  return '/' + segments.map((s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

export function fromPointer(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`JSON pointer must start with "/": ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9]\d*)$/.test(s) ? Number(s) : s));
}

export function getAt(value: unknown, pointer: string): unknown {
  let cur: unknown = value;
  for (const seg of fromPointer(pointer)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[String(seg)];
  }
  return cur;
}

/** Returns a copy of `value` with `replacement` at `pointer`; containers on the way are created. */
export function setAt(value: unknown, pointer: string, replacement: unknown): unknown {
  const segments = fromPointer(pointer);
  if (segments.length === 0) return replacement;
  const [head, ...rest] = segments as [PathSegment, ...PathSegment[]];
  const restPointer = toPointer(rest);
  if (Array.isArray(value)) {
    const copy = value.slice();
    copy[Number(head)] = setAt(copy[Number(head)], restPointer, replacement);
    return copy;
  }
  const base: Record<string, unknown> =
    value !== null && typeof value === 'object' ? { ...(value as Record<string, unknown>) } : typeof head === 'number' ? ([] as unknown as Record<string, unknown>) : {};
  base[String(head)] = setAt(base[String(head)], restPointer, replacement);
  return base;
}

/** True when `pointer` equals `ancestor` or lies below it. */
export function isWithin(pointer: string, ancestor: string): boolean {
  return pointer === ancestor || ancestor === '' || pointer.startsWith(ancestor + '/');
}
