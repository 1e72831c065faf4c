/**
 * The one reader of process.env: every variable the project takes, parsed and checked with zod at
 * start. A bad value is an error naming the variable; everything else gets the parsed values.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { EndpointKind, SchemaMode } from '../core/registry.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The shipped model registry: the local llama.cpp pools of the dev stack. */
export const DEFAULT_REGISTRY = fileURLToPath(new URL('./models.json', import.meta.url));

/** The dev stack's own Postgres (started by infra/postgres.ts), the database when DATABASE_URL is not set. */
export const LOCAL_POSTGRES = { user: 'postgres', password: 'postgres', database: 'microtasks' } as const;

export function localDatabaseUrl(port: number, database: string = LOCAL_POSTGRES.database): string {
  return `postgres://${LOCAL_POSTGRES.user}:${LOCAL_POSTGRES.password}@127.0.0.1:${port}/${database}`;
}

/** A connection URL fit for a log line: its password replaced by ***. */
export function withoutPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
}

/** What POOL_<NAME>_<FIELD> variables change in one pool of the registry. */
export interface PoolOverride {
  baseUrl?: string;
  model?: string;
  kind?: EndpointKind;
  schemaMode?: SchemaMode;
  apiKeyEnv?: string;
}

export interface Env {
  temporal: {
    address: string;
    namespace: string;
    uiUrl: string;
    /** TEMPORAL_ADDRESS was set: a server the dev stack does not start */
    external: boolean;
  };
  database: {
    url: string;
    /** DATABASE_URL was set: a server the dev stack does not start */
    external: boolean;
  };
  /** MODEL_REGISTRY, absolute; default the shipped config/models.json */
  registryPath: string;
  /** by the pool's name as the variables spell it: SMALL for `small`, BIG_GPU for `big-gpu` */
  poolOverrides: Record<string, PoolOverride>;
  /** PIPELINES_MODULE, absolute: a module of the user's that exports `pipelines`, served beside the shipped ones */
  pipelinesModule: string | undefined;
  /** POOL: the pool `workers/pool.ts` serves when no argument names one */
  pool: string | undefined;
  /** WORKER_IDENTITY, set by the dev stack: names the worker process in the Temporal UI */
  workerIdentity: string | undefined;
  /** the orchestration worker's Temporal options (WORKER_*); unset ones take workers/factory.ts's defaults */
  worker: WorkerTuning;
  /** the HTTP API (api/main.ts): API_HOST, API_PORT, API_BODY_LIMIT */
  api: { host: string; port: number; bodyLimit: number };
  /** the dev stack's own servers (infra/) */
  dev: {
    temporalPort: number;
    temporalUiPort: number;
    postgresPort: number;
    /** TEMPORAL_CLI: a Temporal CLI to use instead of one on PATH or built into .cache/ */
    temporalCli: string | undefined;
  };
}

/** What WORKER_* variables set on the orchestration worker (Temporal's WorkerOptions of the same names). */
export interface WorkerTuning {
  /** WORKER_MAX_CACHED_WORKFLOWS: workflows kept in memory between their tasks; 0 replays every task */
  maxCachedWorkflows?: number;
  /** WORKER_MAX_CONCURRENT_WORKFLOW_TASKS */
  maxConcurrentWorkflowTaskExecutions?: number;
  /** WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: the persistence activities run at once */
  maxConcurrentLocalActivityExecutions?: number;
  /** WORKER_REUSE_V8_CONTEXT: `true` or `false` */
  reuseV8Context?: boolean;
  /** WORKER_WORKFLOW_THREADS: the worker threads that run workflow code */
  workflowThreadPoolSize?: number;
  /** WORKER_PRELOAD_MODULES: `false` gives every workflow its own copy of the shared modules (workers/factory.ts SHARED_WORKFLOW_MODULES) */
  preloadModules?: boolean;
}

const port = z
  .string()
  .regex(/^\d+$/, 'must be a port number')
  .transform(Number)
  .refine((n) => n >= 1 && n <= 65535, 'must be a port number between 1 and 65535');
const name = z.string().regex(/^[A-Za-z0-9._:@-]+$/, 'must be a name without spaces');
const count = (min: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .refine((n) => n >= min, `must be at least ${min}`);

const Variables = z.object({
  TEMPORAL_ADDRESS: z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[^\s/:[\]]+):\d+$/, 'must be host:port, e.g. temporal.internal:7233').optional(),
  TEMPORAL_NAMESPACE: name.optional(),
  TEMPORAL_UI_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  TEMPORAL_PORT: port.optional(),
  TEMPORAL_UI_PORT: port.optional(),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// URL').optional(),
  PGPORT_EMBEDDED: port.optional(),
  MODEL_REGISTRY: z.string().min(1).optional(),
  PIPELINES_MODULE: z.string().min(1).optional(),
  POOL: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a pool name of the registry (lower case, digits, hyphens)').optional(),
  WORKER_IDENTITY: z.string().min(1).optional(),
  TEMPORAL_CLI: z.string().min(1).optional(),
  API_HOST: z.string().min(1).optional(),
  API_PORT: port.optional(),
  API_BODY_LIMIT: z.string().regex(/^\d+$/, 'must be a number of bytes').transform(Number).optional(),
  WORKER_MAX_CACHED_WORKFLOWS: count(0).optional(),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: count(2).optional(),
  WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: count(1).optional(),
  WORKER_REUSE_V8_CONTEXT: z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true').optional(),
  WORKER_WORKFLOW_THREADS: count(1).optional(),
  WORKER_PRELOAD_MODULES: z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true').optional(),
});

const OVERRIDE = /^POOL_([A-Z][A-Z0-9_]*?)_(BASE_URL|MODEL|KIND|SCHEMA_MODE|API_KEY_ENV)$/;
const OverrideValue = {
  BASE_URL: ['baseUrl', z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })],
  MODEL: ['model', z.string().min(1)],
  KIND: ['kind', EndpointKind],
  SCHEMA_MODE: ['schemaMode', SchemaMode],
  API_KEY_ENV: ['apiKeyEnv', z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must name an environment variable')],
} as const satisfies Record<string, readonly [keyof PoolOverride, z.ZodType]>;

/** The pool's name as POOL_<NAME>_* variables spell it. */
export function envNameOf(pool: string): string {
  return pool.toUpperCase().replace(/-/g, '_');
}

/** Reads and checks the environment once; throws a ConfigError naming every bad variable (never its value, which may hold a secret). */
export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  // an empty variable (`DATABASE_URL=` in a shell or CI file) is an unset one
  const given = Object.fromEntries(Object.entries(source).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
  const problems: string[] = [];
  const parsed = Variables.safeParse(given);
  if (!parsed.success) for (const i of parsed.error.issues) problems.push(`${i.path.join('.')}: ${i.message}`);

  const poolOverrides: Record<string, PoolOverride> = {};
  for (const [variable, value] of Object.entries(given)) {
    const m = OVERRIDE.exec(variable);
    if (!m) continue;
    const [, pool, field] = m as unknown as [string, string, keyof typeof OverrideValue];
    const [key, schema] = OverrideValue[field];
    const v = schema.safeParse(value);
    if (!v.success) problems.push(`${variable}: ${v.error.issues.map((i) => i.message).join('; ')}`);
    else Object.assign((poolOverrides[pool] ??= {}), { [key]: v.data });
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(`invalid environment:\n${problems.map((p) => `  ${p}`).join('\n')}`);

  const v = parsed.data;
  const temporalPort = v.TEMPORAL_PORT ?? 7233;
  const temporalUiPort = v.TEMPORAL_UI_PORT ?? 8233;
  const postgresPort = v.PGPORT_EMBEDDED ?? 54329;
  return {
    temporal: {
      address: v.TEMPORAL_ADDRESS ?? `127.0.0.1:${temporalPort}`,
      namespace: v.TEMPORAL_NAMESPACE ?? 'default',
      uiUrl: (v.TEMPORAL_UI_URL ?? `http://localhost:${temporalUiPort}`).replace(/\/$/, ''),
      external: v.TEMPORAL_ADDRESS !== undefined,
    },
    database: { url: v.DATABASE_URL ?? localDatabaseUrl(postgresPort), external: v.DATABASE_URL !== undefined },
    registryPath: path.resolve(v.MODEL_REGISTRY ?? DEFAULT_REGISTRY),
    poolOverrides,
    pipelinesModule: v.PIPELINES_MODULE ? path.resolve(v.PIPELINES_MODULE) : undefined,
    pool: v.POOL,
    workerIdentity: v.WORKER_IDENTITY,
    worker: {
      ...(v.WORKER_MAX_CACHED_WORKFLOWS !== undefined ? { maxCachedWorkflows: v.WORKER_MAX_CACHED_WORKFLOWS } : {}),
      ...(v.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS !== undefined ? { maxConcurrentWorkflowTaskExecutions: v.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS } : {}),
      ...(v.WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES !== undefined ? { maxConcurrentLocalActivityExecutions: v.WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES } : {}),
      ...(v.WORKER_REUSE_V8_CONTEXT !== undefined ? { reuseV8Context: v.WORKER_REUSE_V8_CONTEXT } : {}),
      ...(v.WORKER_WORKFLOW_THREADS !== undefined ? { workflowThreadPoolSize: v.WORKER_WORKFLOW_THREADS } : {}),
      ...(v.WORKER_PRELOAD_MODULES !== undefined ? { preloadModules: v.WORKER_PRELOAD_MODULES } : {}),
    },
    api: { host: v.API_HOST ?? '127.0.0.1', port: v.API_PORT ?? 8080, bodyLimit: v.API_BODY_LIMIT ?? 1024 * 1024 },
    dev: { temporalPort, temporalUiPort, postgresPort, temporalCli: v.TEMPORAL_CLI },
  };
}

/** A pool's API key, read from the variable its `apiKeyEnv` names; never stored or logged. */
export function apiKeyOf(pool: { apiKeyEnv?: string | undefined }, source: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!pool.apiKeyEnv) return undefined;
  const key = source[pool.apiKeyEnv];
  if (!key) throw new ConfigError(`the pool's apiKeyEnv names ${pool.apiKeyEnv}, but that variable is not set`);
  return key;
}
