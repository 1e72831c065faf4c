import { z } from 'zod';

/** How a pool's endpoint takes a JSON schema for guided decoding. */
export const SchemaMode = z.enum(['json_schema', 'json_object', 'prompt']);
export type SchemaMode = z.infer<typeof SchemaMode>;

/** The server behind a pool's OpenAI-compatible URL; it picks the request field that carries the JSON schema (core/chat-request.ts). */
export const EndpointKind = z.enum(['openai', 'vllm', 'ollama', 'llamacpp']);
export type EndpointKind = z.infer<typeof EndpointKind>;

/** Price of a pool: list price per 1M tokens, or an hourly cost and a measured throughput from which one is derived. */
export const PriceConfig = z.union([
  z.strictObject({
    version: z.string().min(1),
    inputPerMTok: z.number().nonnegative(),
    outputPerMTok: z.number().nonnegative(),
  }),
  z.strictObject({
    version: z.string().min(1),
    hourlyUsd: z.number().nonnegative(),
    tokensPerSecond: z.number().positive(),
  }),
]);
export type PriceConfig = z.infer<typeof PriceConfig>;

export const PoolConfig = z.strictObject({
  baseUrl: z.url(),
  /** the name of the environment variable that holds the API key; the key itself never enters config or history */
  apiKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).optional(),
  model: z.string().min(1),
  /** `openai` (the default) sends the schema as OpenAI's `response_format`, which most OpenAI-compatible servers read */
  kind: EndpointKind.default('openai'),
  schemaMode: SchemaMode.default('json_schema'),
  taskQueue: z.string().min(1).optional(),
  contextWindow: z.number().int().positive(),
  concurrency: z.number().int().positive().default(2),
  /** seconds a model call may run */
  timeoutSeconds: z.number().positive().default(120),
  /**
   * seconds without a heartbeat after which a call's worker counts as lost and the call is retried
   * on another; a call heartbeats on a timer while it waits, so slow tokens do not count
   */
  heartbeatSeconds: z.number().positive().default(30),
  /** stream completions: measures time to first token and heartbeats while tokens arrive */
  stream: z.boolean().default(false),
  escalateTo: z.string().optional(),
  price: PriceConfig,
});
export type PoolConfig = z.infer<typeof PoolConfig>;

export const RegistryConfig = z
  .strictObject({
    version: z.string().min(1),
    defaultPool: z.string(),
    /** seconds an attempt waits for a pool's worker before the route falls back */
    poolWaitSeconds: z.number().positive().default(60),
    /**
     * seconds an attempt keeps waiting, `poolWaitSeconds` at a time, on a pool whose workers are
     * alive but whose slots are all taken, before it falls back as from a pool with no worker
     */
    poolBusyWaitSeconds: z.number().nonnegative().default(1800),
    pools: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), PoolConfig),
    /** a micro-task's first attempt goes to this pool instead of the one its definition names: routing measured on this deployment's models */
    routes: z.record(z.string().min(1), z.string()).default({}),
    reference: z.strictObject({ model: z.string(), price: PriceConfig }),
    /**
     * Shadow sampling, by micro-task ("*": every one): this share of its live runs is run again on
     * `pool`, after the run's result is settled and off its critical path; the agreement per field
     * lands in shadow_results (view shadow_agreement)
     */
    shadow: z.record(z.string().min(1), z.strictObject({ pool: z.string(), share: z.number().min(0).max(1) })).default({}),
  })
  .superRefine((r, ctx) => {
    if (!(r.defaultPool in r.pools)) ctx.addIssue({ code: 'custom', path: ['defaultPool'], message: `no pool named "${r.defaultPool}"` });
    const queues = new Map<string, string>();
    for (const [name, p] of Object.entries(r.pools)) {
      if (p.escalateTo !== undefined && !(p.escalateTo in r.pools)) {
        ctx.addIssue({ code: 'custom', path: ['pools', name, 'escalateTo'], message: `no pool named "${p.escalateTo}"` });
      }
      // a call routed to one pool must reach that pool's workers only
      const queue = taskQueueOf(name, p);
      const other = queues.get(queue);
      if (other !== undefined) ctx.addIssue({ code: 'custom', path: ['pools', name, 'taskQueue'], message: `task queue "${queue}" is pool "${other}"'s already` });
      queues.set(queue, name);
    }
    for (const [task, pool] of Object.entries(r.routes)) {
      if (!Object.hasOwn(r.pools, pool)) ctx.addIssue({ code: 'custom', path: ['routes', task], message: `no pool named "${pool}"` });
    }
    for (const [task, s] of Object.entries(r.shadow)) {
      if (!Object.hasOwn(r.pools, s.pool)) ctx.addIssue({ code: 'custom', path: ['shadow', task, 'pool'], message: `no pool named "${s.pool}"` });
    }
  });
export type RegistryConfig = z.infer<typeof RegistryConfig>;

export interface Price {
  version: string;
  inputPerMTok: number;
  outputPerMTok: number;
  basis: 'list' | 'derived-hourly';
}

/** What a running workflow knows of a pool: no URLs' secrets, no keys. */
export interface PoolInfo {
  name: string;
  taskQueue: string;
  model: string;
  endpoint: string;
  kind: EndpointKind;
  contextWindow: number;
  timeoutSeconds: number;
  /** absent in snapshots taken before it was configurable: 30 */
  heartbeatSeconds?: number;
  /** calls one worker of the pool runs at once */
  concurrency: number;
  stream: boolean;
  escalateTo: string | undefined;
  price: Price;
}

export interface RegistrySnapshot {
  version: string;
  defaultPool: string;
  poolWaitSeconds: number;
  /** absent in snapshots taken before a busy pool was told from a missing one: 1800 */
  poolBusyWaitSeconds?: number;
  pools: Record<string, PoolInfo>;
  /** task name -> pool; absent in snapshots taken before routes existed */
  routes?: Record<string, string>;
  /** task name ("*": any) -> shadow pool and share; absent in snapshots taken before shadow sampling */
  shadow?: Record<string, { pool: string; share: number }>;
  reference: { model: string; price: Price };
}

export function toPrice(p: PriceConfig): Price {
  if ('hourlyUsd' in p) {
    const perToken = p.hourlyUsd / 3600 / p.tokensPerSecond;
    return { version: p.version, inputPerMTok: perToken * 1e6, outputPerMTok: perToken * 1e6, basis: 'derived-hourly' };
  }
  return { version: p.version, inputPerMTok: p.inputPerMTok, outputPerMTok: p.outputPerMTok, basis: 'list' };
}

export function taskQueueOf(name: string, pool: Pick<PoolConfig, 'taskQueue'>): string {
  return pool.taskQueue ?? `model-${name}`;
}

/** Strips a URL of credentials and query, so what is recorded can never carry a secret. */
export function publicEndpoint(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`.replace(/\/$/, '');
}

export function snapshotOf(config: RegistryConfig): RegistrySnapshot {
  const pools: Record<string, PoolInfo> = {};
  for (const [name, p] of Object.entries(config.pools)) {
    pools[name] = {
      name,
      taskQueue: taskQueueOf(name, p),
      model: p.model,
      endpoint: publicEndpoint(p.baseUrl),
      kind: p.kind,
      contextWindow: p.contextWindow,
      timeoutSeconds: p.timeoutSeconds,
      heartbeatSeconds: p.heartbeatSeconds,
      concurrency: p.concurrency,
      stream: p.stream,
      escalateTo: p.escalateTo,
      price: toPrice(p.price),
    };
  }
  return {
    version: config.version,
    defaultPool: config.defaultPool,
    poolWaitSeconds: config.poolWaitSeconds,
    poolBusyWaitSeconds: config.poolBusyWaitSeconds,
    pools,
    routes: { ...config.routes },
    shadow: { ...config.shadow },
    reference: { model: config.reference.model, price: toPrice(config.reference.price) },
  };
}
