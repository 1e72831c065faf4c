import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type pg from 'pg';
import { createDb, createPool } from './client.js';

export const MIGRATIONS_FOLDER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/**
 * Applies every committed migration not yet applied; safe to run concurrently. The one migrate step:
 * `npm run db:migrate`, the dev stack's `up` and the tests' fresh databases call it; workers never do.
 */
export async function migrateDatabase(databaseUrl: string): Promise<void> {
  const pool = createPool(databaseUrl);
  const client = await pool.connect();
  try {
    // one migrator at a time when several deploy steps run together
    await client.query('select pg_advisory_lock(727001)');
    await migrate(createDb(pool), { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await client.query('select pg_advisory_unlock(727001)').catch(() => undefined);
    client.release();
    await pool.end();
  }
}

export interface JournalEntry {
  tag: string;
  /** drizzle's folderMillis: a migration is applied when the last one recorded was created before it */
  when: number;
}

/** The committed migrations, in order. */
export function committedMigrations(folder: string = MIGRATIONS_FOLDER): JournalEntry[] {
  const journal = JSON.parse(fs.readFileSync(path.join(folder, 'meta', '_journal.json'), 'utf8')) as { entries: JournalEntry[] };
  return journal.entries.map(({ tag, when }) => ({ tag, when }));
}

/** The migrations drizzle's migrator would still apply to a database whose last recorded one was created at `lastApplied` (undefined: none). */
export function pendingAfter(entries: readonly JournalEntry[], lastApplied: number | undefined): string[] {
  return entries.filter((e) => lastApplied === undefined || lastApplied < e.when).map((e) => e.tag);
}

export class MigrationsPendingError extends Error {
  override name = 'MigrationsPendingError';
}

/** Postgres error codes of a missing table or schema: a database never migrated. */
const NOT_MIGRATED = new Set(['42P01', '3F000']);

/**
 * Refuses a database that lacks committed migrations, naming them and the migrate step, instead of
 * failing later on a missing table or column. `where` names the database in the message (no password).
 */
export async function assertMigrated(pool: pg.Pool, where: string): Promise<void> {
  let lastApplied: number | undefined;
  try {
    const res = await pool.query<{ created_at: string | null }>('select max(created_at) as created_at from drizzle.__drizzle_migrations');
    lastApplied = res.rows[0]?.created_at == null ? undefined : Number(res.rows[0].created_at);
  } catch (err) {
    if (!NOT_MIGRATED.has((err as { code?: string }).code ?? '')) {
      throw new Error(`cannot read the schema version of ${where} (DATABASE_URL): ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const pending = pendingAfter(committedMigrations(), lastApplied);
  if (pending.length > 0) {
    throw new MigrationsPendingError(`${where} (DATABASE_URL) lacks ${pending.length} migration(s): ${pending.join(', ')}; run the migrate step first: npm run db:migrate`);
  }
}
