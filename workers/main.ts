/** The orchestration worker: runs pipeline workflows and their persistence. */
import { NativeConnection } from '@temporalio/worker';
import { recordPrices } from '../activities/records.js';
import { readEnv, withoutPassword } from '../config/env.js';
import { loadConfig, ORCHESTRATION_QUEUE } from '../config/load.js';
import { createDb, createPool } from '../db/client.js';
import { assertMigrated } from '../db/migrate.js';
import { microTasks } from '../pipelines/index.js';
import { bundleWorkflows, createOrchestrationWorker } from './factory.js';
import { loadPipelinesModule } from './user-pipelines.js';

/** A slot supplier as a log line shows it: its fixed number of slots, or its kind. */
const slots = (s: { type: string; numSlots?: number }) => (s.type === 'fixed-size' ? String(s.numSlots) : s.type);

async function main(): Promise<void> {
  const env = readEnv();
  const config = loadConfig(env);
  if (config.pipelinesModule) await loadPipelinesModule(config.pipelinesModule);
  // a route for a task no pipeline has is a typo that would silently route nothing
  for (const key of ['routes', 'shadow'] as const) {
    const unknown = Object.keys(config.registry[key]).filter((t) => t !== '*' && !Object.hasOwn(microTasks, t));
    if (unknown.length > 0) throw new Error(`${config.registryPath}: ${key} name no micro-task: ${unknown.join(', ')}; known: ${Object.keys(microTasks).join(', ')}`);
  }
  const pool = createPool(config.databaseUrl);
  // the migrate step (npm run db:migrate) runs once per deploy, before the workers start
  await assertMigrated(pool, withoutPassword(config.databaseUrl));
  await recordPrices(createDb(pool), config.snapshot);
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const worker = await createOrchestrationWorker({
    connection,
    namespace: config.temporalNamespace,
    db: createDb(pool),
    registry: () => config.snapshot,
    identity: env.workerIdentity,
    tuning: env.worker,
    ...(config.pipelinesModule ? { bundle: await bundleWorkflows({ pipelinesModule: config.pipelinesModule, ...(env.worker.preloadModules === false ? { preload: false } : {}) }) } : {}),
  });
  const options = worker.options;
  console.log(
    `orchestration worker on queue "${ORCHESTRATION_QUEUE}" (registry ${config.registry.version}); reuseV8Context ${options.reuseV8Context}, shared modules ${env.worker.preloadModules === false ? 'none' : 'preloaded'}, maxCachedWorkflows ${options.maxCachedWorkflows}, workflow threads ${options.workflowThreadPoolSize}, workflow task slots ${slots(options.tuner.workflowTaskSlotSupplier)}, local activity slots ${slots(options.tuner.localActivityTaskSlotSupplier)}`,
  );
  try {
    await worker.run();
  } finally {
    await connection.close();
    await pool.end();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
