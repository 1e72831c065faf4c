/**
 * Workers for a user's own pipelines, in the user's process: `createWorkers({ pipelinesModule })`
 * starts an orchestration worker whose workflow bundle holds the module's pipelines, and a worker
 * per pool of the registry that can serve their micro-tasks. With a task-queue prefix they never
 * take tasks from, or give tasks to, workers of another deployment on the same Temporal.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { recordPrices } from '../activities/records.js';
import { apiKeyOf, readEnv, withoutPassword } from '../config/env.js';
import { loadConfig, ORCHESTRATION_QUEUE, type AppConfig } from '../config/load.js';
import type { RegistrySnapshot } from '../core/registry.js';
import { createDb, createPool } from '../db/client.js';
import { assertMigrated } from '../db/migrate.js';
import { bundleWorkflows, createOrchestrationWorker, createPoolWorker } from './factory.js';
import { loadPipelinesModule } from './user-pipelines.js';

export interface CreateWorkersOptions {
  /** a module that exports `pipelines`: an array of definePipeline(...) results */
  pipelinesModule: string | URL;
  /** the model registry file; default MODEL_REGISTRY, else the shipped config/models.json */
  registry?: string;
  /** prefixes every task queue: the orchestration queue becomes `<prefix>pipelines` */
  taskQueuePrefix?: string;
  /** pools to serve; default every pool of the registry */
  pools?: readonly string[];
  log?: (line: string) => void;
}

export interface Workers {
  /** the queue to start pipelines on */
  taskQueue: string;
  /** the pipelines the module added */
  pipelines: string[];
  config: AppConfig;
  /** runs until shutdown */
  run: () => Promise<void>;
  shutdown: () => Promise<void>;
}

function withQueuePrefix(snapshot: RegistrySnapshot, prefix: string): RegistrySnapshot {
  if (!prefix) return snapshot;
  return { ...snapshot, pools: Object.fromEntries(Object.entries(snapshot.pools).map(([n, p]) => [n, { ...p, taskQueue: `${prefix}${p.taskQueue}` }])) };
}

export async function createWorkers(o: CreateWorkersOptions): Promise<Workers> {
  const modulePath = o.pipelinesModule instanceof URL ? fileURLToPath(o.pipelinesModule) : path.resolve(o.pipelinesModule);
  const env = readEnv();
  const config = loadConfig({ ...env, registryPath: o.registry ? path.resolve(o.registry) : env.registryPath, pipelinesModule: modulePath });
  const list = await loadPipelinesModule(modulePath);
  const prefix = o.taskQueuePrefix ?? '';
  const snapshot = withQueuePrefix(config.snapshot, prefix);
  const unknownPools = (o.pools ?? []).filter((p) => !Object.hasOwn(config.registry.pools, p));
  if (unknownPools.length > 0) throw new Error(`unknown pool(s) ${unknownPools.join(', ')}; the registry has ${Object.keys(config.registry.pools).join(', ')}`);
  const pg = createPool(config.databaseUrl);
  // migrated by the deploy's migrate step (migrateDatabase), or by startServices in development
  await assertMigrated(pg, withoutPassword(config.databaseUrl)).catch(async (err: unknown) => {
    await pg.end();
    throw err;
  });
  const db = createDb(pg);
  await recordPrices(db, snapshot);
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const taskQueue = `${prefix}${ORCHESTRATION_QUEUE}`;
  const workers: Worker[] = [
    await createOrchestrationWorker({ connection, namespace: config.temporalNamespace, db, registry: () => snapshot, bundle: await bundleWorkflows({ pipelinesModule: modulePath }), taskQueue }),
  ];
  for (const poolName of o.pools ?? Object.keys(config.registry.pools)) {
    const pool = config.registry.pools[poolName]!;
    workers.push(
      await createPoolWorker({ connection, namespace: config.temporalNamespace, db, poolName, pool, registry: snapshot, apiKey: apiKeyOf(pool), ...(o.log ? { log: o.log } : {}) }),
    );
  }
  let running: Promise<unknown> | undefined;
  return {
    taskQueue,
    pipelines: list.map((p) => p.name),
    config,
    run: () => (running ??= Promise.all(workers.map((w) => w.run()))).then(() => undefined),
    shutdown: async () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running?.catch(() => undefined);
      await connection.close();
      await pg.end();
    },
  };
}
