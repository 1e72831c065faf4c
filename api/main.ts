/** The HTTP API process: `npm run api`. Reads the environment once; see README, "The HTTP API". */
import { Client, Connection } from '@temporalio/client';
import { readEnv, withoutPassword } from '../config/env.js';
import { loadConfig } from '../config/load.js';
import { createDb, createPool } from '../db/client.js';
import { assertMigrated } from '../db/migrate.js';
import { loadPipelinesModule } from '../workers/user-pipelines.js';
import { createApi } from './server.js';

async function main(): Promise<void> {
  const env = readEnv();
  const config = loadConfig(env);
  if (config.pipelinesModule) await loadPipelinesModule(config.pipelinesModule);
  const pool = createPool(config.databaseUrl);
  await assertMigrated(pool, withoutPassword(config.databaseUrl));
  const connection = await Connection.connect({ address: config.temporalAddress });
  const client = new Client({ connection, namespace: config.temporalNamespace });
  const app = await createApi({
    client,
    db: createDb(pool),
    registry: config.snapshot,
    temporalUiUrl: config.temporalUiUrl,
    namespace: config.temporalNamespace,
    bodyLimit: env.api.bodyLimit,
  });
  const close = async () => {
    await app.close();
    await connection.close();
    await pool.end();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void close().then(() => process.exit(0)));
  await app.listen({ host: env.api.host, port: env.api.port });
  const base = `http://${env.api.host.includes(':') ? `[${env.api.host}]` : env.api.host}:${env.api.port}`;
  console.log(`API on ${base}, docs ${base}/docs, OpenAPI ${base}/openapi.json`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
