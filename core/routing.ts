import type { ContextBlock, MicroTask } from './contract.js';
import { estimateTokens } from './cost.js';
import type { RegistrySnapshot } from './registry.js';

export interface Route {
  pool: string;
  reason: string;
  /** tokens the call needs: its prompt, estimated, and its max_tokens */
  needed: number;
  /** false when even the pool routed to has too small a window for the call */
  fits: boolean;
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
  return { pool, reason, needed, fits: registry.pools[pool]!.contextWindow >= needed };
}

/** The characters of a micro-task's prompt as built for this input, which decide the tokens it needs. */
export function promptChars(task: MicroTask<any, any>, input: unknown, context: readonly ContextBlock[]): number {
  const p = task.prompt(input, context);
  return p.system.length + p.user.length;
}

/** Why a call cannot fit any pool it may be routed to, naming the sizes; undefined when it fits. */
export function sizeProblem(task: MicroTask<any, any>, input: unknown, context: readonly ContextBlock[], registry: RegistrySnapshot): string | undefined {
  const route = choosePool(task, promptChars(task, input, context), registry);
  if (route.fits) return undefined;
  const window = registry.pools[route.pool]!.contextWindow;
  return `${task.name} needs about ${route.needed} tokens (its prompt and max_tokens ${task.maxTokens}), over the ${window}-token window of pool ${route.pool}, the largest it can be routed to; shorten the input or add a pool with a larger window`;
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
