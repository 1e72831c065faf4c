/**
 * `npm run db:migrate`: the one migrate step. Applies the committed migrations to DATABASE_URL
 * (default: the dev stack's Postgres, which `npm run infra -- up` also migrates before it starts
 * workers). Workers never migrate: they refuse a database that is behind. It starts no Postgres:
 * that is dev tooling (infra/postgres.ts).
 */
import { readEnv, withoutPassword } from '../config/env.js';
import { migrateDatabase } from './migrate.js';

const { database } = readEnv();
try {
  await migrateDatabase(database.url);
  console.log(`migrations applied to ${withoutPassword(database.url)}`);
} catch (err) {
  console.error(`cannot migrate ${withoutPassword(database.url)} (DATABASE_URL): ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
