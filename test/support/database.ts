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

export interface RollupsAndRebuild {
  /** attempt_rollups as the triggers kept them */
  kept: Record<string, unknown>[];
  /** what rebuild_attempt_rollups() makes of the database's model_attempts rows */
  rebuilt: Record<string, unknown>[];
}

/**
 * attempt_rollups as they are and as rebuild_attempt_rollups() makes them from the rows, read in
 * one transaction that is rolled back, so the rebuild changes nothing. Costs are compared to 12
 * significant digits: a rebuild adds a day's costs in another order than the triggers did.
 */
export async function rollupsAndRebuild(pool: pg.Pool): Promise<RollupsAndRebuild> {
  const client = await pool.connect();
  const digits = (v: unknown) => Number((v as number).toPrecision(12));
  const read = async () =>
    (
      await client.query<Record<string, unknown>>(
        `select day::text, pipeline, task, pool, model, kind, calls, failed_calls, prompt_tokens, completion_tokens, estimated_token_calls,
           cost_usd, reference_cost_usd, latency_hist::text, ttft_hist::text
         from attempt_rollups order by day, pipeline, task, pool, model, kind`,
      )
    ).rows.map((r) => ({ ...r, cost_usd: digits(r.cost_usd), reference_cost_usd: digits(r.reference_cost_usd) }));
  try {
    await client.query('begin');
    const kept = await read();
    await client.query('select rebuild_attempt_rollups()');
    return { kept, rebuilt: await read() };
  } finally {
    await client.query('rollback');
    client.release();
  }
}
