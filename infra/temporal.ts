/**
 * The Temporal dev server: TEMPORAL_CLI, or `temporal` on PATH, or a CLI built once with
 * `go install` into .cache/temporal-cli. SQLite persistence in .data/temporal; Web UI on 8233.
 *   tsx infra/temporal.ts cli|start|stop|status
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { readEnv } from '../config/env.js';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes.js';
import { CACHE_DIR, DATA_DIR } from './paths.js';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const CLI_CACHE = path.join(CACHE_DIR, 'temporal-cli');
const CACHED_CLI = path.join(CLI_CACHE, 'bin', 'temporal');
const DATA = path.join(DATA_DIR, 'temporal');
const PID_FILE = path.join(DATA, 'server.pid');
const LOG_FILE = path.join(DATA, 'server.log');

const env = readEnv();
export const TEMPORAL_PORT = env.dev.temporalPort;
export const TEMPORAL_UI_PORT = env.dev.temporalUiPort;

const TYPE_NAMES: Record<string, string> = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
};

export function searchAttributeArgs(): string[] {
  return SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=${TYPE_NAMES[k.type]}`]);
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, name);
    if (dir && fs.existsSync(p)) return p;
  }
  return undefined;
}

/** Finds the Temporal CLI, building it once if none is available. */
export function ensureTemporalCli(log: (line: string) => void = (l) => console.error(l)): string {
  if (env.dev.temporalCli) {
    if (!fs.existsSync(env.dev.temporalCli)) throw new Error(`TEMPORAL_CLI=${env.dev.temporalCli} does not exist`);
    return env.dev.temporalCli;
  }
  const found = onPath('temporal');
  if (found) return found;
  if (fs.existsSync(CACHED_CLI)) return CACHED_CLI;
  log(`building the Temporal CLI ${TEMPORAL_CLI_VERSION} with go install (once; about 5 minutes on 2 cores)...`);
  const started = Date.now();
  // only the binary goes to the ignored folder; Go's own module and build caches stay where Go keeps them, so a warm machine rebuilds in seconds
  const res = spawnSync('go', ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOBIN: path.join(CLI_CACHE, 'bin') },
  });
  if (res.error) throw new Error(`cannot run go to build the Temporal CLI: ${res.error.message}`);
  if (res.status !== 0 || !fs.existsSync(CACHED_CLI)) throw new Error(`go install of the Temporal CLI failed (exit ${res.status})`);
  log(`built the Temporal CLI in ${Math.round((Date.now() - started) / 1000)} s: ${CACHED_CLI}`);
  return CACHED_CLI;
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    sock.setTimeout(1000);
    sock.once('connect', () => (sock.destroy(), resolve(true)));
    sock.once('error', () => resolve(false));
    sock.once('timeout', () => (sock.destroy(), resolve(false)));
  });
}

async function waitFor(check: () => Promise<boolean>, seconds: number, what: string): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not come up within ${seconds} s`);
}

export async function startTemporal(): Promise<string> {
  const address = `127.0.0.1:${TEMPORAL_PORT}`;
  if (env.temporal.external) return env.temporal.address;
  if (await portOpen(TEMPORAL_PORT)) return address;
  const cli = ensureTemporalCli();
  fs.mkdirSync(DATA, { recursive: true });
  const out = fs.openSync(LOG_FILE, 'a');
  const child = spawn(
    cli,
    [
      'server', 'start-dev',
      '--ip', '127.0.0.1',
      '--port', String(TEMPORAL_PORT),
      '--ui-port', String(TEMPORAL_UI_PORT),
      '--db-filename', path.join(DATA, 'temporal.sqlite'),
      '--log-level', 'warn',
      ...searchAttributeArgs(),
    ],
    { detached: true, stdio: ['ignore', out, out] },
  );
  child.unref();
  fs.writeFileSync(PID_FILE, String(child.pid));
  await waitFor(() => portOpen(TEMPORAL_PORT), 60, `Temporal dev server (log: ${LOG_FILE})`);
  await waitFor(() => portOpen(TEMPORAL_UI_PORT), 30, 'Temporal Web UI');
  return address;
}

const API_TYPES: Record<string, number> = {
  [SearchAttributeType.TEXT]: 1,
  [SearchAttributeType.KEYWORD]: 2,
  [SearchAttributeType.INT]: 3,
  [SearchAttributeType.DOUBLE]: 4,
  [SearchAttributeType.BOOL]: 5,
  [SearchAttributeType.DATETIME]: 6,
  [SearchAttributeType.KEYWORD_LIST]: 7,
};

/**
 * Registers the project's search attributes on any Temporal server (an external one included);
 * an unregistered attribute would fail every pipeline's first workflow task.
 */
export async function ensureSearchAttributes(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const known = new Set(Object.keys(existing.customAttributes ?? {}));
    const missing = SEARCH_ATTRIBUTES.filter((k) => !known.has(k.name));
    if (missing.length === 0) return;
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((k) => [k.name, API_TYPES[k.type]!])),
    });
  } finally {
    await connection.close();
  }
}

export async function stopTemporal(): Promise<void> {
  if (!fs.existsSync(PID_FILE)) return;
  const pid = Number(fs.readFileSync(PID_FILE, 'utf8'));
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && (await portOpen(TEMPORAL_PORT))) await new Promise((r) => setTimeout(r, 200));
  fs.rmSync(PID_FILE, { force: true });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cmd = process.argv[2] ?? 'status';
  const main = async () => {
    if (cmd === 'cli') console.log(ensureTemporalCli());
    else if (cmd === 'start') console.log(await startTemporal());
    else if (cmd === 'stop') await stopTemporal();
    else if (cmd === 'status') {
      const ok = await portOpen(TEMPORAL_PORT);
      console.log(ok ? `up 127.0.0.1:${TEMPORAL_PORT}, UI http://localhost:${TEMPORAL_UI_PORT}` : 'down');
      process.exit(ok ? 0 : 1); // explicit: tsx does not pass process.exitCode on
    } else throw new Error(`unknown command "${cmd}": use cli, start, stop or status`);
  };
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
