import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createModelActivities, createOpenAIClient, type ChatClient, type ModelActivityDeps } from '../activities/model.js';
import { probeOnce } from '../activities/probe.js';
import { createRecordActivities } from '../activities/records.js';
import type { PoolConfig, RegistrySnapshot } from '../core/registry.js';
import type { Db } from '../db/client.js';
import type { WorkerTuning } from '../config/env.js';
import { getMicroTask } from '../pipelines/index.js';
import { ORCHESTRATION_QUEUE } from '../config/load.js';
import { workflowEntryWith } from './user-pipelines.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * Bundles the workflow code once; workers started from the same bundle skip the webpack step. With
 * a pipelines module, the bundle holds the user's pipelines too.
 */
export async function bundleWorkflows(o: { pipelinesModule?: string } = {}): Promise<WorkflowBundle> {
  const workflowsPath = o.pipelinesModule ? workflowEntryWith(WORKFLOWS_PATH, o.pipelinesModule) : WORKFLOWS_PATH;
  return bundleWorkflowCode({ workflowsPath, logger: quietLogger });
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

/** The orchestration worker's Temporal options where the deployment sets none. */
export const ORCHESTRATION_DEFAULTS: WorkerTuning = {};

/** Workflows and persistence: the orchestration queue. */
export async function createOrchestrationWorker(o: OrchestrationWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.taskQueue ?? ORCHESTRATION_QUEUE,
    ...(o.identity ? { identity: o.identity } : {}),
    ...(o.bundle ? { workflowBundle: o.bundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createRecordActivities({ db: o.db, registry: o.registry }),
    ...ORCHESTRATION_DEFAULTS,
    ...o.tuning,
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
    maxConcurrentActivityTaskExecutions: o.pool.concurrency,
    // each heartbeat reaches the server, so a cancelled run's call is aborted within seconds
    maxHeartbeatThrottleInterval: '2 seconds',
  });
}
