/** A model-pool worker: `tsx workers/pool.ts <pool>`; serves that pool's task queue only. */
import { NativeConnection } from '@temporalio/worker';
import { apiKeyOf, ConfigError, readEnv, withoutPassword } from '../config/env.js';
import { loadConfig } from '../config/load.js';
import { createDb, createPool } from '../db/client.js';
import { assertMigrated } from '../db/migrate.js';
import { createPoolWorker } from './factory.js';
import { loadPipelinesModule } from './user-pipelines.js';

async function main(): Promise<void> {
  const env = readEnv();
  const config = loadConfig(env);
  if (config.pipelinesModule) await loadPipelinesModule(config.pipelinesModule);
  const poolName = process.argv[2] ?? env.pool;
  if (!poolName) throw new ConfigError(`name the pool to serve: tsx workers/pool.ts <${Object.keys(config.registry.pools).join('|')}> (or POOL=...)`);
  const poolConfig = config.registry.pools[poolName];
  if (!poolConfig) throw new ConfigError(`unknown pool "${poolName}" in ${config.registryPath}; known pools: ${Object.keys(config.registry.pools).join(', ')}`);
  const pgPool = createPool(config.databaseUrl);
  await assertMigrated(pgPool, withoutPassword(config.databaseUrl));
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  const worker = await createPoolWorker({
    connection,
    namespace: config.temporalNamespace,
    db: createDb(pgPool),
    poolName,
    pool: poolConfig,
    registry: config.snapshot,
    apiKey: apiKeyOf(poolConfig),
    log: (line) => console.log(line),
    identity: env.workerIdentity,
  });
  console.log(`pool worker "${poolName}" on queue "${config.snapshot.pools[poolName]!.taskQueue}" -> ${config.snapshot.pools[poolName]!.endpoint} (${poolConfig.model}), concurrency ${poolConfig.concurrency}`);
  try {
    await worker.run();
  } finally {
    await connection.close();
    await pgPool.end();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
