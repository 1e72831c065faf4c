import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkerOptions, type WorkflowBundle } from '@temporalio/worker';
import { createModelActivities, createOpenAIClient, type ChatClient, type ModelActivityDeps } from '../activities/model.js';
import { probeOnce } from '../activities/probe.js';
import { createRecordActivities } from '../activities/records.js';
import type { PoolConfig, RegistrySnapshot } from '../core/registry.js';
import type { Db } from '../db/client.js';
import type { WorkerTuning as EnvWorkerTuning } from '../config/env.js';
import { getMicroTask } from '../pipelines/index.js';
import { ORCHESTRATION_QUEUE } from '../config/load.js';
import { workflowEntryWith } from './user-pipelines.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * Worker options a deployment (WORKER_* in the environment) or a benchmark may tune: concurrency,
 * pollers, cache, threads; not what the worker serves.
 */
export type WorkerTuning = EnvWorkerTuning &
  Partial<
  Pick<
    WorkerOptions,
    | 'maxConcurrentWorkflowTaskExecutions'
    | 'maxConcurrentLocalActivityExecutions'
    | 'maxConcurrentActivityTaskExecutions'
    | 'maxConcurrentWorkflowTaskPolls'
    | 'maxConcurrentActivityTaskPolls'
    | 'maxCachedWorkflows'
    | 'workflowThreadPoolSize'
    | 'stickyQueueScheduleToStartTimeout'
  >
>;

/**
 * Modules of the workflow code that a worker thread loads once and every workflow on it shares
 * (Temporal's `preloadModules`, with `reuseV8Context`), instead of each workflow loading its own
 * copy: zod, and the pure modules whose data is built once on first use from the runtime's CLDR
 * data (currency signs and names, country names, month names) and then only read. Shared, the
 * data is the same for every workflow, as it is when each builds its own, so replays decide alike.
 * Temporal freezes what they export; nothing writes to it (the pipelines' own modules export zod
 * schemas, which do not run frozen, so they stay per workflow).
 *
 * Measured (test/bench/load.ts, 50 pipelines at once, on a 2-core machine shared with other
 * work): without it every workflow's first task built the currency table again (7,000
 * Intl.NumberFormat) and the month names, 60% of the workflow thread's time in a CPU profile; the
 * orchestration worker spent 1.18 CPU s per run (0.14 s with it), its first workflow tasks took
 * 9.9 s at the median (3.9 s) and 104 workflow tasks timed out (4). With the month names and the
 * currency-code check built on first use, a workflow that reads money (tickets) still builds the
 * table: 0.32 CPU s per run without the shared modules and 40 slots, 0.17 s with them and 10.
 */
export const SHARED_WORKFLOW_MODULES: readonly string[] = ['zod', ...['../core/text.ts', '../core/money.ts', '../core/locale.ts'].map((p) => fileURLToPath(new URL(p, import.meta.url)))];

/**
 * Bundles the workflow code once; workers started from the same bundle skip the webpack step. With
 * a pipelines module, the bundle holds the user's pipelines too. `preload: false` leaves
 * SHARED_WORKFLOW_MODULES to each workflow.
 */
export async function bundleWorkflows(o: { pipelinesModule?: string; preload?: boolean; preloadModules?: string[] } = {}): Promise<WorkflowBundle> {
  const workflowsPath = o.pipelinesModule ? workflowEntryWith(WORKFLOWS_PATH, o.pipelinesModule) : WORKFLOWS_PATH;
  // `preloadModules` (benchmarks): more modules shared the same way, on top of the shipped ones
  const preloadModules = [...(o.preload !== false ? SHARED_WORKFLOW_MODULES : []), ...(o.preloadModules ?? [])];
  return bundleWorkflowCode({ workflowsPath, logger: quietLogger, ...(preloadModules.length ? { preloadModules } : {}) });
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (m: string) => console.warn(m),
  error: (m: string) => console.error(m),
};

export interface OrchestrationWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  db: Db;
  registry: () => RegistrySnapshot;
  bundle?: WorkflowBundle;
  taskQueue?: string;
  /**
   * names this worker process in the Temporal UI (WORKER_IDENTITY, set by the dev stack, which
   * tells its new pollers from those a stopped worker left behind); otherwise Temporal's default
   */
  identity?: string | undefined;
  /** Temporal worker options (WORKER_* in the environment); what is left out takes ORCHESTRATION_DEFAULTS */
  tuning?: WorkerTuning;
}

/**
 * The orchestration worker's Temporal options where the deployment sets none (WORKER_*).
 *
 * maxConcurrentWorkflowTaskExecutions 10 (Temporal's default 40): workflow code runs on one
 * thread, so the tasks a worker has taken wait there for each other, and a task that has not
 * finished 10 s after it was taken times out and is run again from its history. Measured with 150
 * pipelines at once (test/bench/load.ts, on a 2-core machine shared with other work): 10, 20 and
 * 40 slots completed 1.07, 1.20 and 1.05 pipelines a second (the CPU set the pace, not the
 * slots), with 10, 41 and 45 workflow tasks timed out, at most 42, 60 and 81 runs open in the
 * worker (1.8 MB each), and a run's first task to its close 19, 25 and 45 s at the median. Runs
 * not yet taken wait on the server, where no such clock runs.
 */
export const ORCHESTRATION_DEFAULTS: WorkerTuning = { maxConcurrentWorkflowTaskExecutions: 10 };

/**
 * How many workflows the orchestration worker keeps in memory, where the deployment sets none: what
 * its heap holds at the measured size of an open run, with room to spare. An open run of the
 * shipped pipelines holds about 2 MB of its workflow thread's heap after a full collection (1.7 to
 * 2.1 MB in test/bench/load.ts with 20 to 81 runs open; 5.6 MB each without reuseV8Context, every
 * workflow in a context of its own), above the 1.7 MB (4 MB) that Temporal's default assumes: on a 4 GB heap its 2,310
 * cached workflows would need 4.6 GB, so a worker with that many runs open would run out of
 * memory. Budgeted here at 3 MB (8 MB), for inputs larger than the benchmark's; a run the cache
 * has no room for is evicted and replayed from its history at its next task.
 */
export function defaultMaxCachedWorkflows(reuseV8Context: boolean, heapLimitBytes = v8.getHeapStatistics().heap_size_limit): number {
  const mib = heapLimitBytes / 1024 / 1024;
  return Math.max(10, Math.floor(reuseV8Context ? (mib - 256) / 3 : (mib - 512) / 8));
}

/** Workflows and persistence: the orchestration queue. */
export async function createOrchestrationWorker(o: OrchestrationWorkerOptions): Promise<Worker> {
  const { preloadModules, ...tuning } = { ...ORCHESTRATION_DEFAULTS, ...o.tuning };
  tuning.maxCachedWorkflows ??= defaultMaxCachedWorkflows(tuning.reuseV8Context ?? true);
  return Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.taskQueue ?? ORCHESTRATION_QUEUE,
    ...(o.identity ? { identity: o.identity } : {}),
    // a bundle given was bundled with or without the shared modules already (bundleWorkflows)
    ...(o.bundle ? { workflowBundle: o.bundle } : { workflowsPath: WORKFLOWS_PATH, ...(preloadModules !== false ? { bundlerOptions: { preloadModules: [...SHARED_WORKFLOW_MODULES] } } : {}) }),
    activities: createRecordActivities({ db: o.db, registry: o.registry }),
    ...tuning,
  });
}

export interface PoolWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  db: Db;
  poolName: string;
  pool: PoolConfig;
  registry: RegistrySnapshot;
  apiKey: string | undefined;
  client?: ChatClient;
  afterRecorded?: ModelActivityDeps['afterRecorded'];
  /** probe the endpoint's guided decoding at start (default true) */
  probe?: boolean;
  log?: (line: string) => void;
  /** as for the orchestration worker */
  identity?: string | undefined;
  /** as for the orchestration worker; `maxConcurrentActivityTaskExecutions` is the pool's concurrency unless set here */
  tuning?: WorkerTuning;
}

/** Model calls for one pool: activities only, on the pool's task queue, as many at once as its endpoint batches. */
export async function createPoolWorker(o: PoolWorkerOptions): Promise<Worker> {
  const info = o.registry.pools[o.poolName];
  if (!info) throw new Error(`pool "${o.poolName}" is not in the registry; known pools: ${Object.keys(o.registry.pools).join(', ')}`);
  const client = o.client ?? createOpenAIClient(o.pool, o.apiKey);
  // a constraint the endpoint silently ignores is found out once, not trusted
  const probe =
    o.probe === false
      ? undefined
      : await probeOnce(o.db, client, o.pool, o.log).catch((err: unknown) => {
          // an endpoint that is not up yet must not keep the worker down; the declared mode stands until a later start
          o.log?.(`could not probe ${info.endpoint}: ${err instanceof Error ? err.message : String(err)}; using the declared schema mode`);
          return undefined;
        });
  const pool = probe ? { ...o.pool, schemaMode: probe.effectiveMode } : o.pool;
  const activities = createModelActivities({
    db: o.db,
    poolName: o.poolName,
    pool,
    client,
    registry: o.registry,
    getTask: getMicroTask,
    ...(o.afterRecorded ? { afterRecorded: o.afterRecorded } : {}),
  });
  return Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: info.taskQueue,
    ...(o.identity ? { identity: o.identity } : {}),
    activities,
    // the registry's concurrency: the endpoint's slots. Measured with 100 pipelines at once
    // (test/bench/load.ts), 64 small and 32 large slots served them as fast as 256 and 128: the
    // orchestration worker, not the pools, set the pace, so this need not exceed what the endpoint batches
    maxConcurrentActivityTaskExecutions: o.pool.concurrency,
    // each heartbeat reaches the server, so a cancelled run's call is aborted within seconds
    maxHeartbeatThrottleInterval: '2 seconds',
    ...o.tuning,
  });
}
