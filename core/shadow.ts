/**
 * Shadow sampling: a share of a micro-task's live runs is run again on a larger or reference pool,
 * off the critical path, and the two answers are compared field by field, so a routing policy can
 * be checked on live traffic instead of only on labelled sets.
 */
import { compareValue, type Comparator } from './eval/compare.js';
import type { RegistrySnapshot } from './registry.js';

/** The shadow rule for a task: its own, else the registry's "*". */
export function shadowRule(registry: RegistrySnapshot, task: string): { pool: string; share: number } | undefined {
  const rule = registry.shadow?.[task] ?? registry.shadow?.['*'];
  return rule && rule.share > 0 && Object.hasOwn(registry.pools, rule.pool) ? rule : undefined;
}

/** How a field is judged when no evaluation declares it: by the kind of its value. */
function comparatorFor(value: unknown): Comparator {
  if (typeof value === 'string') return { kind: 'text' };
  if (typeof value === 'number') return { kind: 'number', tolerance: 1e-6 };
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) return { kind: 'set', item: { kind: 'text' } };
  return { kind: 'exact' };
}

/**
 * Whether the shadow answer agrees with the live one, per top-level field of either. A field the
 * pipeline's evaluation declares a comparator for is judged by it, as a labelled example would be.
 */
export function fieldAgreement(live: unknown, shadow: unknown, comparators: Readonly<Record<string, Comparator>> = {}): Record<string, boolean> {
  const a = (live ?? {}) as Record<string, unknown>;
  const b = (shadow ?? {}) as Record<string, unknown>;
  const out: Record<string, boolean> = {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const c = comparators[key] ?? comparatorFor(a[key] ?? b[key]);
    out[key] = compareValue(a[key], b[key], c).pass;
  }
  return out;
}
