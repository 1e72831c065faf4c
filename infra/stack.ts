/**
 * Brings the whole stack up, checks it and stops it, from any directory:
 *   tsx infra/stack.ts up|down|status
 * Postgres (DATABASE_URL or embedded), the Temporal dev server, the local model servers for
 * pools whose base URL is the local default, the orchestration worker and one worker per pool.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { migrateDatabase } from '../db/migrate.js';
import { readEnv } from '../config/env.js';
import { loadConfig, ORCHESTRATION_QUEUE, type AppConfig } from '../config/load.js';
import { DATA_DIR, ROOT } from './paths.js';
import { startPostgres, stopPostgres } from './postgres.js';
import { ensureSearchAttributes, startTemporal, stopTemporal, TEMPORAL_UI_PORT } from './temporal.js';

const RUN_DIR = path.join(DATA_DIR, 'run');
const LOG_DIR = path.join(DATA_DIR, 'logs');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const MODEL_SERVER = path.join(ROOT, 'infra', 'model-server.sh');

/** Local model servers the project starts itself: which pool, on which port, with which model. */
export const LOCAL_MODEL_SERVERS: Record<string, { port: number; model: string }> = {
  small: { port: 8088, model: 'small' },
  large: { port: 8089, model: 'large' },
};

const log = (line: string) => console.error(line);

/**
 * The pid in a pid file, if that process is alive and is still one of ours: after a reboot the
 * number may belong to another program, which must be neither trusted as a worker nor killed.
 */
function pidAlive(file: string): number | undefined {
  if (!fs.existsSync(file)) return undefined;
  const [pidLine, , command] = fs.readFileSync(file, 'utf8').split('\n');
  const pid = Number(pidLine);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  // where /proc tells, the process must run this checkout's tsx on the worker script it was started with
  const cmdline = `/proc/${pid}/cmdline`;
  if (fs.existsSync(cmdline)) {
    const running = fs.readFileSync(cmdline, 'utf8').replace(/\0/g, ' ');
    if (!running.includes(ROOT) || !running.includes(command || 'workers/')) return undefined;
  }
  return pid;
}

/** Pools served by a local model server that the project starts (their base URL is the local default). */
function localPools(config: AppConfig): string[] {
  return Object.entries(config.registry.pools)
    .filter(([name, p]) => LOCAL_MODEL_SERVERS[name] && p.baseUrl === `http://127.0.0.1:${LOCAL_MODEL_SERVERS[name]!.port}/v1`)
    .map(([name]) => name);
}

function modelServer(cmd: 'start' | 'stop' | 'status', pool: string): boolean {
  const spec = LOCAL_MODEL_SERVERS[pool]!;
  const res = spawnSync('bash', [MODEL_SERVER, cmd], {
    stdio: ['ignore', cmd === 'status' ? 'pipe' : 'inherit', 'inherit'],
    env: { ...process.env, MODEL_PORT: String(spec.port), MODEL_NAME: spec.model },
  });
  return res.status === 0;
}

const CODE_DIRS = ['core', 'config', 'pipelines', 'workflows', 'activities', 'workers', 'db', 'api'];

/**
 * What a worker runs: the project's source, the registry and the lockfile. A worker started on
 * other code (before a pull, an edit, a registry change) is restarted by `up`, so a run never
 * goes to stale code.
 */
function codeFingerprint(config: AppConfig): string {
  const h = createHash('sha256');
  // the registry as parsed, with its environment overrides
  h.update(JSON.stringify(config.registry));
  // a user's pipelines module, by path and content
  if (config.pipelinesModule && fs.existsSync(config.pipelinesModule)) h.update(config.pipelinesModule).update(fs.readFileSync(config.pipelinesModule));
  const files = (dir: string): string[] =>
    fs.existsSync(dir)
      ? fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') || e.name.endsWith('.sql') || e.name.endsWith('.json') ? [path.join(dir, e.name)] : []))
      : [];
  for (const f of [...CODE_DIRS.flatMap((d) => files(path.join(ROOT, d))).sort(), path.join(ROOT, 'package-lock.json')]) {
    if (!fs.existsSync(f)) continue;
    h.update(path.relative(ROOT, f));
    h.update(fs.readFileSync(f));
  }
  return h.digest('hex').slice(0, 16);
}

async function startProcess(name: string, args: string[], fingerprint: string, config: AppConfig): Promise<void> {
  fs.mkdirSync(RUN_DIR, { recursive: true });
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const pidFile = path.join(RUN_DIR, `${name}.pid`);
  if (pidAlive(pidFile)) {
    const running = fs.readFileSync(pidFile, 'utf8').split('\n')[3];
    if (running === fingerprint) return;
    log(`${name}: the code or registry changed since it started; restarting it`);
    await stopProcess(name);
  }
  const out = fs.openSync(path.join(LOG_DIR, `${name}.log`), 'a');
  const identity = `${name}-${process.pid}-${Date.now()}@${os.hostname()}`;
  const child = spawn(TSX, args, { cwd: ROOT, detached: true, stdio: ['ignore', out, out], env: { ...process.env, DATABASE_URL: config.databaseUrl, WORKER_IDENTITY: identity } });
  child.unref();
  fs.writeFileSync(pidFile, `${child.pid}\n${identity}\n${args.join(' ')}\n${fingerprint}\n`);
}

/** The identity the worker of this pid file polls with. */
function identityOf(name: string): string | undefined {
  const file = path.join(RUN_DIR, `${name}.pid`);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n')[1] || undefined : undefined;
}

async function stopProcess(name: string): Promise<void> {
  const pidFile = path.join(RUN_DIR, `${name}.pid`);
  const pid = pidAlive(pidFile);
  if (pid) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && pidAlive(pidFile)) await new Promise((r) => setTimeout(r, 200));
    if (pidAlive(pidFile)) process.kill(pid, 'SIGKILL');
  }
  fs.rmSync(pidFile, { force: true });
}

/** Pollers Temporal lists for a queue; with `identity`, only that worker's. A stopped worker stays listed for a while. */
async function pollerCount(config: AppConfig, queue: string, type: 1 | 2, identity?: string): Promise<number> {
  const connection = await Connection.connect({ address: config.temporalAddress });
  try {
    const res = await connection.workflowService.describeTaskQueue({ namespace: config.temporalNamespace, taskQueue: { name: queue }, taskQueueType: type });
    return (res.pollers ?? []).filter((p) => identity === undefined || p.identity === identity).length;
  } finally {
    await connection.close();
  }
}

async function waitForPollers(config: AppConfig, name: string, queue: string, type: 1 | 2, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    // the poller of this very process: one left listed by a worker stopped a minute ago does not count
    if ((await pollerCount(config, queue, type, identityOf(name))) > 0) return;
    if (!pidAlive(path.join(RUN_DIR, `${name}.pid`))) {
      const tail = fs.readFileSync(path.join(LOG_DIR, `${name}.log`), 'utf8').split('\n').slice(-20).join('\n');
      throw new Error(`worker ${name} exited during start-up:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`worker ${name} is not polling queue ${queue} after ${seconds} s (log: ${path.join(LOG_DIR, `${name}.log`)})`);
}

/**
 * Brings the stack up: Postgres, Temporal, the local model servers and (unless `workers: false`,
 * for a user's own workers) the orchestration and pool workers.
 */
export async function up(o: { workers?: boolean } = {}): Promise<AppConfig> {
  const t0 = Date.now();
  const env = readEnv();
  const databaseUrl = await startPostgres(log);
  const config = loadConfig({ ...env, database: { ...env.database, url: databaseUrl } });
  await migrateDatabase(config.databaseUrl);
  log(`postgres: up, migrations applied`);
  await startTemporal();
  await ensureSearchAttributes(config.temporalAddress, config.temporalNamespace);
  log(`temporal: up at ${config.temporalAddress}, UI http://localhost:${TEMPORAL_UI_PORT}`);
  for (const pool of localPools(config)) {
    if (!modelServer('start', pool)) throw new Error(`the local model server for pool ${pool} did not start (log: .cache/model/)`);
  }
  if (o.workers === false) {
    log(`services up in ${((Date.now() - t0) / 1000).toFixed(1)} s (no workers started)`);
    return config;
  }
  const fingerprint = codeFingerprint(config);
  await startProcess('worker-main', ['workers/main.ts'], fingerprint, config);
  for (const pool of Object.keys(config.registry.pools)) await startProcess(`worker-${pool}`, ['workers/pool.ts', pool], fingerprint, config);
  await waitForPollers(config, 'worker-main', ORCHESTRATION_QUEUE, 1, 120);
  for (const pool of Object.keys(config.registry.pools)) {
    await waitForPollers(config, `worker-${pool}`, config.snapshot.pools[pool]!.taskQueue, 2, 60);
  }
  log(`workers: orchestration + ${Object.keys(config.registry.pools).join(', ')} polling`);
  await startProcess('api', ['api/main.ts'], fingerprint, config);
  await waitForApi(env.api, 60);
  const api = apiUrl(env.api);
  log(`api: ${api}, docs ${api}/docs (stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return config;
}

function apiUrl(a: { host: string; port: number }): string {
  const host = a.host === '0.0.0.0' || a.host === '::' ? '127.0.0.1' : a.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${a.port}`;
}

/** Whether the API answers its liveness probe. */
async function apiAnswers(a: { host: string; port: number }): Promise<boolean> {
  try {
    const res = await fetch(`${apiUrl(a)}/healthz`, { signal: AbortSignal.timeout(2000) });
    return res.ok && ((await res.json()) as { ok?: unknown }).ok === true;
  } catch {
    return false;
  }
}

async function waitForApi(a: { host: string; port: number }, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    // this very process must be up: another program answering on the port does not count
    if (!pidAlive(path.join(RUN_DIR, 'api.pid'))) {
      const tail = fs.readFileSync(path.join(LOG_DIR, 'api.log'), 'utf8').split('\n').slice(-20).join('\n');
      throw new Error(`the API exited during start-up:\n${tail}`);
    }
    if (await apiAnswers(a)) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`the API does not answer on ${apiUrl(a)} after ${seconds} s (log: ${path.join(LOG_DIR, 'api.log')})`);
}

export async function down(): Promise<void> {
  const config = loadConfig();
  await stopProcess('api');
  for (const pool of Object.keys(config.registry.pools)) await stopProcess(`worker-${pool}`);
  await stopProcess('worker-main');
  for (const pool of localPools(config)) modelServer('stop', pool);
  await stopTemporal();
  await stopPostgres();
  log('stack down');
}

export async function status(): Promise<boolean> {
  const config = loadConfig();
  let ok = true;
  const line = (name: string, good: boolean, detail: string) => {
    ok &&= good;
    console.log(`${good ? 'up  ' : 'DOWN'} ${name.padEnd(14)} ${detail}`);
  };
  const pg = spawnSync(TSX, [path.join(ROOT, 'infra', 'postgres.ts'), 'status'], { encoding: 'utf8' });
  line('postgres', pg.status === 0, pg.stdout.trim());
  let temporalUp = false;
  try {
    await pollerCount(config, ORCHESTRATION_QUEUE, 1);
    temporalUp = true;
  } catch {
    // reported below
  }
  line('temporal', temporalUp, `${config.temporalAddress}, UI ${config.temporalUiUrl}`);
  for (const pool of localPools(config)) line(`model ${pool}`, modelServer('status', pool), config.registry.pools[pool]!.baseUrl);
  if (temporalUp) {
    line('worker main', (await pollerCount(config, ORCHESTRATION_QUEUE, 1)) > 0, `queue ${ORCHESTRATION_QUEUE}`);
    for (const [pool, info] of Object.entries(config.snapshot.pools)) {
      line(`worker ${pool}`, (await pollerCount(config, info.taskQueue, 2)) > 0, `queue ${info.taskQueue} -> ${info.endpoint}`);
    }
  }
  const { api } = readEnv();
  line('api', await apiAnswers(api), `${apiUrl(api)}, docs ${apiUrl(api)}/docs`);
  return ok;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cmd = process.argv[2] ?? 'status';
  const main = async () => {
    if (cmd === 'up') await up();
    else if (cmd === 'down') await down();
    else if (cmd === 'status') process.exit((await status()) ? 0 : 1); // explicit: tsx does not pass process.exitCode on
    else throw new Error(`unknown command "${cmd}": use up, down or status`);
  };
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
