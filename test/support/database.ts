import pg from 'pg';
import { migrateDatabase } from '../../db/migrate.js';
import { startPostgres } from '../../infra/postgres.js';

/** A new, migrated database on the project's Postgres (DATABASE_URL's server, or the embedded one); returns its URL. */
export async function freshDatabase(name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a database name: ${name}`);
  const server = await startPostgres();
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  await migrateDatabase(url.toString());
  return url.toString();
}
