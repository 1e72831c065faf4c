import type { Issue } from './issues.js';
import { getAt, isWithin } from './json-pointer.js';
import { subSchemaAt, type AnySchema } from './schema-walk.js';

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
