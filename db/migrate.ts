import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { createDb, createPool } from './client.js';

export const MIGRATIONS_FOLDER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Applies every committed migration not yet applied; safe to run at every start and concurrently. */
export async function migrateDatabase(databaseUrl: string): Promise<void> {
  const pool = createPool(databaseUrl);
  const client = await pool.connect();
  try {
    // one migrator at a time when several workers start together
    await client.query('select pg_advisory_lock(727001)');
    await migrate(createDb(pool), { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await client.query('select pg_advisory_unlock(727001)').catch(() => undefined);
    client.release();
    await pool.end();
  }
}
