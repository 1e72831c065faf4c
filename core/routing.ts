import type { MicroTask } from './contract.js';
import { estimateTokens } from './cost.js';
import type { RegistrySnapshot } from './registry.js';

export interface Route {
  pool: string;
  reason: string;
}

/** The pool a micro-task's first attempt goes to, and why. */
export function choosePool(task: MicroTask<any, any>, promptChars: number, registry: RegistrySnapshot): Route {
  let pool = task.pool;
  let reason = `default pool of ${task.name}`;
  const routed = registry.routes?.[task.name] ?? registry.routes?.['*'];
  if (routed !== undefined && Object.hasOwn(registry.pools, routed)) {
    pool = routed;
    reason = `the registry routes ${task.name} to ${pool}`;
  } else if (!(pool in registry.pools)) {
    pool = registry.defaultPool;
    reason = `pool "${task.pool}" of ${task.name} is not configured; using the default pool`;
  } else if (task.difficulty === 'hard' && registry.pools[pool]!.escalateTo) {
    pool = registry.pools[pool]!.escalateTo!;
    reason = `${task.name} is declared hard; routed to ${pool}`;
  }
  const needed = estimateTokens(promptChars) + task.maxTokens;
  const seen = new Set<string>();
  while (registry.pools[pool]!.contextWindow < needed && registry.pools[pool]!.escalateTo && !seen.has(pool)) {
    seen.add(pool);
    const next = registry.pools[pool]!.escalateTo!;
    reason = `needs ~${needed} tokens, over the ${registry.pools[pool]!.contextWindow}-token window of ${pool}; routed to ${next}`;
    pool = next;
  }
  return { pool, reason };
}

/** How one run is routed, when it is not as the registry says: an evaluation configuration, say. */
export interface RunRouting {
  /** replaces the registry's routes; "*" routes every task */
  routes?: Record<string, string>;
  /** false: no pool escalates to another */
  escalate?: boolean;
  /** false: no shadow sampling (an evaluation's runs are not live traffic) */
  shadow?: boolean;
}

/** The registry as one run sees it under its routing. */
export function routedRegistry(registry: RegistrySnapshot, routing: RunRouting | undefined): RegistrySnapshot {
  if (!routing) return registry;
  const pools = Object.fromEntries(
    Object.entries(registry.pools).map(([name, p]) => [name, routing.escalate === false ? { ...p, escalateTo: undefined } : p]),
  );
  return { ...registry, pools, ...(routing.routes ? { routes: { ...routing.routes } } : {}) };
}

/** The larger pool an escalation goes to, unless it was already tried. */
export function escalationTarget(registry: RegistrySnapshot, pool: string, tried: readonly string[]): string | undefined {
  const next = registry.pools[pool]?.escalateTo;
  return next && !tried.includes(next) ? next : undefined;
}
