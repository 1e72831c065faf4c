import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema.js';

export type Db = NodePgDatabase<typeof schema>;

/**
 * A pool that outlives a database restart or failover. The server ends every open connection
 * then: a connection in use fails its query (the caller retries), and an idle one reports an
 * error event, which the pool answers by dropping it; without a listener for it that event would
 * end the process. New connections are made as they are needed once the server is back. A
 * connection attempt that gets no answer gives up after 10 s instead of the OS's minutes, so a
 * caller's retries keep their pace.
 */
export function createPool(databaseUrl: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 5, connectionTimeoutMillis: 10_000 });
  pool.on('error', (err) => console.warn(`a database connection was closed: ${err.message}`));
  return pool;
}

export function createDb(pool: pg.Pool): Db {
  return drizzle(pool, { schema });
}

export { schema };
