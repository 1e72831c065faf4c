/**
 * Many pipelines at once on this machine, against the scripted endpoint streaming at a real
 * server's pace. Not a test: it prints its figures as markdown and writes them as JSON.
 *
 *   npm run bench:load -- [--pipelines 500] [--mix ticket-triage=4,invoice-extraction=3,product-review=2,document-summary=1]
 *     [--pace 300,30,0.3] [--concurrency small=256,large=128] [--pool-wait 60] [--timeout 1800]
 *     [--setting before] [--setting default] [--setting reuseV8Context=false,...] ... [--node-arg=--max-old-space-size=1024]
 *     [--out .cache/bench/load.json]
 *
 * A setting is the orchestration worker's Temporal options: `default` (the factory's defaults),
 * `before` (Temporal's own defaults and no shared modules, as the worker ran before they were
 * measured here), or `key=value,...` of reuseV8Context, maxCachedWorkflows,
 * maxConcurrentWorkflowTaskExecutions, maxConcurrentLocalActivityExecutions, preloadModules,
 * workflowThreadPoolSize (each set as its WORKER_* variable) and `small`/`large` (a pool's slots).
 * For each `--setting` (default: one, `default`), one after another, each on its own:
 *   - a Temporal dev server started here from the project's CLI (ensureTemporalCli), headless,
 *     on free ports, with its SQLite file in a temporary directory (its size is recorded);
 *   - a fresh database, `microtasks_bench_load`, on the project's Postgres (freshDatabase);
 *   - a registry JSON written here: pools `small` and `large` on the scripted endpoint, `stream:
 *     true`, the `--concurrency` given (a batching server's slots, and each pool worker's
 *     maxConcurrentActivityTaskExecutions), the shipped routes (config/models.json: `write-scenarios`,
 *     `write-advice` and `classify-ticket` on `large`) and `--pool-wait` as poolWaitSeconds (shipped: 60);
 *   - the shipped workers as child processes, `node --import tsx workers/main.ts` and
 *     `workers/pool.ts small|large` (what `tsx workers/...` runs, without tsx's extra parent
 *     process, so that each worker's PID is its node), configured by the environment alone:
 *     DATABASE_URL, TEMPORAL_ADDRESS, MODEL_REGISTRY, and the setting's WORKER_* variables on
 *     the orchestration worker. A few lines loaded before each worker (and so in its worker
 *     threads too, where Temporal runs workflow code) sample process.memoryUsage() and each
 *     thread's heap every 250 ms and answer the benchmark over IPC; peak RSS is also read from
 *     /proc/<pid>/status (VmHWM), CPU time from /proc/<pid>/stat. The orchestration worker runs
 *     with --expose-gc: from 5 s into the load, every 10 s, its threads collect fully and report
 *     the heap left, beside the runs open in it (pipeline_runs still `running`), which gives what
 *     one open (cached) run holds.
 * The scripted endpoint runs in this process: each micro-task's first call is answered with a
 * valid output for exactly its input (test/bench/load-corpus.ts), streamed a token (4
 * characters) at a time at `--pace` (ms to the first token, tokens per second, jitter). Then
 * `--pipelines` runPipeline workflows of the `--mix` are started at once (64 start requests in
 * flight), and the benchmark waits until all have closed (`--timeout` seconds at most).
 *
 * Figures, per setting: runs completed; throughput over the window from the first start to the
 * last close (pipelines/s, micro-tasks/s, model calls/s); p50/p95 of a pipeline from its start
 * to its close, of the wait to start (workflow start to its first workflow task started) and of
 * the rest (that task to the close), of a run's first and later workflow tasks, of a
 * micro-task from its first call's scheduling to its recorded result (task_results, histories),
 * and of each model call's wait for a pool slot, time to first token and duration
 * (model_attempts); each process's peak RSS, heaps and CPU seconds (the orchestration worker's
 * per completed run); history events and bytes per pipeline
 * (visibility's historyLength and historySizeBytes); and every workflow task that timed out or
 * failed, activity that timed out or was retried, read from every run's history.
 *
 * Children are stopped when the benchmark ends, fails, or is interrupted (Ctrl-C, SIGTERM);
 * a worker whose IPC channel closes (the benchmark was killed) exits by itself.
 */
import { freePort } from '../support/processes.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { sql } from 'drizzle-orm';
import type { RegistryConfig } from '../../core/registry.js';
import { createDb, createPool } from '../../db/client.js';
import { ORCHESTRATION_QUEUE } from '../../config/load.js';
import { ensureTemporalCli, portOpen, searchAttributeArgs } from '../../infra/temporal.js';
import { ROOT } from '../../infra/paths.js';
import { freshDatabase } from '../support/database.js';
import { ScriptedModelServer, type Pace } from '../support/scripted-model.js';
import { answerKey, LOAD_PIPELINES, loadCorpus, loadPlan, parseMix, type LoadInput, type LoadPipeline } from './load-corpus.js';
import { int, table } from './format.js';

const BENCH_DB = 'microtasks_bench_load';
const SAMPLE_EVERY_MS = 250;
const STARTS_IN_FLIGHT = 64;
const say = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MB = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
const shown = (file: string) => (file.startsWith(ROOT + path.sep) ? path.relative(ROOT, file) : file);

// ---------------------------------------------------------------------------------------------
// Settings: the orchestration worker's Temporal options, by the WORKER_* variable each sets, and the pools' slots

const SETTING_KEYS: Record<string, string> = {
  reuseV8Context: 'WORKER_REUSE_V8_CONTEXT',
  maxCachedWorkflows: 'WORKER_MAX_CACHED_WORKFLOWS',
  maxConcurrentWorkflowTaskExecutions: 'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS',
  maxConcurrentLocalActivityExecutions: 'WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES',
  preloadModules: 'WORKER_PRELOAD_MODULES',
  workflowThreadPoolSize: 'WORKER_WORKFLOW_THREADS',
};

interface Setting {
  name: string;
  /** WORKER_* variables of the orchestration worker */
  env: Record<string, string>;
  /** pool -> slots (registry concurrency, the pool worker's maxConcurrentActivityTaskExecutions) */
  concurrency: Record<string, number>;
}

function parseConcurrency(spec: string, into: Record<string, number> = {}): Record<string, number> {
  for (const part of spec.split(',').filter(Boolean)) {
    const [pool, n] = part.split('=');
    if (pool !== 'small' && pool !== 'large') throw new Error(`--concurrency: unknown pool "${pool}" (small, large)`);
    const v = Number(n);
    if (!Number.isInteger(v) || v < 1) throw new Error(`--concurrency: ${part}: a whole number of slots, at least 1`);
    into[pool] = v;
  }
  return into;
}

/**
 * `before`: the orchestration worker as it was before its defaults were measured here: Temporal's
 * own (40 workflow task slots, its cache size for this heap) and no shared modules.
 */
function beforeSetting(heapLimitBytes: number): Record<string, string> {
  const mib = heapLimitBytes / 1024 / 1024;
  // Temporal's default cache for reuseV8Context (worker-options.js)
  const cache = Math.max(Math.floor((Math.max(mib - 200, 0) * 600) / 1024), 10);
  return { WORKER_PRELOAD_MODULES: 'false', WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '40', WORKER_MAX_CACHED_WORKFLOWS: String(cache) };
}

/** `default`, `before`, or `key=value,...` with keys of SETTING_KEYS and `small`/`large` for a pool's slots. */
function parseSetting(spec: string, concurrency: Record<string, number>, heapLimitBytes: number): Setting {
  const setting: Setting = { name: spec, env: {}, concurrency: { ...concurrency } };
  if (spec === 'default') return setting;
  if (spec === 'before') return { ...setting, env: beforeSetting(heapLimitBytes) };
  for (const part of spec.split(',')) {
    const [key, value] = part.split('=') as [string, string | undefined];
    if (value === undefined) throw new Error(`--setting ${spec}: "${part}" is not key=value`);
    if (key === 'small' || key === 'large') parseConcurrency(part, setting.concurrency);
    else if (SETTING_KEYS[key]) setting.env[SETTING_KEYS[key]!] = value;
    else throw new Error(`--setting ${spec}: unknown key "${key}"; known: ${[...Object.keys(SETTING_KEYS), 'small', 'large'].join(', ')}`);
  }
  return setting;
}

function parsePace(spec: string): Pace {
  const [firstTokenMs, tokensPerSecond, jitter] = spec.split(',').map(Number);
  if (!(firstTokenMs! >= 0) || !(tokensPerSecond! > 0) || !(jitter === undefined || (jitter >= 0 && jitter <= 0.9))) {
    throw new Error('--pace: ms to the first token, tokens per second, jitter (0 to 0.9), e.g. 300,30,0.3');
  }
  return { firstTokenMs: firstTokenMs!, tokensPerSecond: tokensPerSecond!, jitter: jitter ?? 0, charsPerToken: 4 };
}

// ---------------------------------------------------------------------------------------------
// Child processes: every one is stopped on the way out

const children = new Set<ChildProcess>();
/** temporary directories (the Temporal server's SQLite file), removed on the way out too */
const tmpDirs = new Set<string>();

function killAll(signal: NodeJS.Signals): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
}

process.on('exit', () => {
  killAll('SIGKILL');
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`\n${signal}: stopping the benchmark's processes`);
    killAll('SIGTERM');
    setTimeout(() => process.exit(signal === 'SIGINT' ? 130 : 143), 3000).unref();
    void Promise.all([...children].map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(undefined) : c.once('exit', r))))).then(() =>
      process.exit(signal === 'SIGINT' ? 130 : 143),
    );
  });
}

async function stopChild(c: ChildProcess, graceMs = 15_000): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const exited = new Promise((r) => c.once('exit', r));
  c.kill('SIGTERM');
  const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

interface ProcStat {
  /** VmHWM: peak resident set */
  peakRss: number;
  rss: number;
  /** user + system CPU seconds */
  cpuS: number;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    // the fields after the command name, which is in parentheses and may hold spaces
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { peakRss: kb('VmHWM'), rss: kb('VmRSS'), cpuS: (Number(rest[11]) + Number(rest[12])) / CLK_TCK };
  } catch {
    return undefined;
  }
}

// The worker's sampler, loaded before its entry point (node --import data:...) and so in its
// worker threads too, where Temporal runs the workflows: each thread posts its heap to the main
// thread, which keeps the peaks of process.memoryUsage() and of the threads' heaps since the
// previous mark and overall, and answers the benchmark's marks over IPC.
const SAMPLER = `
import v8 from 'node:v8';
import { isMainThread, threadId } from 'node:worker_threads';
const channel = new BroadcastChannel('bench-load-memory');
channel.unref?.();
// with --expose-gc: the heap left after a full collection, what the live objects hold
const retained = () => { if (typeof gc === 'function') gc(); return v8.getHeapStatistics().used_heap_size; };
if (!isMainThread) {
  setInterval(() => { const h = v8.getHeapStatistics(); channel.postMessage({ type: 'heap', threadId, used: h.used_heap_size, total: h.total_heap_size, limit: h.heap_size_limit }); }, ${SAMPLE_EVERY_MS}).unref();
  channel.onmessage = (e) => { if (e.data.type === 'gc') channel.postMessage({ type: 'retained', id: e.data.id, threadId, used: retained() }); };
} else {
  const threads = new Map();
  const answers = new Map();
  channel.onmessage = (e) => {
    if (e.data.type === 'heap') threads.set(e.data.threadId, e.data);
    else if (e.data.type === 'retained') answers.get(e.data.id)?.push(e.data.used);
  };
  const m = () => {
    const u = process.memoryUsage();
    let threadsHeapUsed = 0, threadsHeapTotal = 0, threadHeapLimit = 0;
    for (const t of threads.values()) { threadsHeapUsed += t.used; threadsHeapTotal += t.total; threadHeapLimit = Math.max(threadHeapLimit, t.limit); }
    return { rss: u.rss, heapUsed: u.heapUsed, heapTotal: u.heapTotal, external: u.external, arrayBuffers: u.arrayBuffers, threadsHeapUsed, threadsHeapTotal, threads: threads.size, threadHeapLimit };
  };
  const max = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, Math.max(a[k], b[k])]));
  let since = m();
  let overall = since;
  setInterval(() => { const now = m(); since = max(since, now); overall = max(overall, now); }, ${SAMPLE_EVERY_MS}).unref();
  process.on('message', async (msg) => {
    if (!msg || msg.type !== 'mark') return;
    let kept;
    if (msg.gc) {
      // every thread collects and reports what is left; a thread busy with a workflow task answers after it
      answers.set(msg.id, []);
      channel.postMessage({ type: 'gc', id: msg.id });
      const main = retained();
      const deadline = Date.now() + 5000;
      while (answers.get(msg.id).length < threads.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const list = answers.get(msg.id);
      answers.delete(msg.id);
      kept = { main, threads: list.reduce((a, b) => a + b, 0), threadsAnswered: list.length, gcExposed: typeof gc === 'function' };
    }
    const now = m();
    const mark = { now, peak: max(since, now), overall: max(overall, now), heapLimit: v8.getHeapStatistics().heap_size_limit, retained: kept };
    since = now;
    process.send({ type: 'mark', id: msg.id, ...mark });
  });
  process.channel?.unref();
  // the benchmark has gone: do not outlive it
  process.on('disconnect', () => process.exit(0));
}
`;

interface Mem {
  rss: number;
  /** the main thread's heap */
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** the worker threads' heaps, summed (the orchestration worker's workflows run in one) */
  threadsHeapUsed: number;
  threadsHeapTotal: number;
  threads: number;
  /** the largest heap limit of a worker thread */
  threadHeapLimit: number;
}
/** heap bytes left after a full collection in the main thread and, summed, the worker threads */
interface Retained {
  main: number;
  threads: number;
  threadsAnswered: number;
  gcExposed: boolean;
}
interface MemMark {
  retained?: Retained;
  now: Mem;
  /** the largest of each since the previous mark */
  peak: Mem;
  /** the largest of each since the worker started */
  overall: Mem;
  heapLimit: number;
}

class WorkerChild {
  private nextId = 0;
  private readonly waiting = new Map<number, (m: MemMark) => void>();
  readonly exited: Promise<number | null>;
  private readonly lines: string[] = [];
  private readonly readyPromise: Promise<string>;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
    readonly logFile: string,
    readyLine: RegExp,
  ) {
    children.add(proc);
    this.exited = new Promise((resolve) => proc.once('exit', (code) => (children.delete(proc), resolve(code))));
    proc.on('message', (msg: { type?: string; id?: number } & MemMark) => {
      if (msg.type !== 'mark' || msg.id === undefined) return;
      this.waiting.get(msg.id)?.({ now: msg.now, peak: msg.peak, overall: msg.overall, heapLimit: msg.heapLimit, ...(msg.retained ? { retained: msg.retained } : {}) });
      this.waiting.delete(msg.id);
    });
    const log = fs.createWriteStream(logFile);
    this.readyPromise = new Promise((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        log.write(chunk);
        for (const line of chunk.toString('utf8').split('\n')) {
          if (!line) continue;
          this.lines.push(line);
          if (this.lines.length > 30) this.lines.shift();
          if (readyLine.test(line)) resolve(line);
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      void this.exited.then((code) => reject(new Error(`${name} exited (${code}) before it was ready:\n${this.lines.join('\n')}`)));
    });
    this.readyPromise.catch(() => undefined);
    void this.exited.then(() => log.end());
  }

  static start(name: string, script: string, args: string[], env: NodeJS.ProcessEnv, logFile: string, readyLine: RegExp, nodeArgs: readonly string[] = []): WorkerChild {
    const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', '--import', `data:text/javascript,${encodeURIComponent(SAMPLER)}`, path.join(ROOT, script), ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    return new WorkerChild(name, proc, logFile, readyLine);
  }

  get pid(): number {
    return this.proc.pid!;
  }

  ready(timeoutMs: number): Promise<string> {
    return Promise.race([this.readyPromise, sleep(timeoutMs).then(() => Promise.reject(new Error(`${this.name} was not ready within ${timeoutMs / 1000} s:\n${this.lines.join('\n')}`)))]);
  }

  /** memory now and the peaks; with `gc`, also what is left after a full collection (the process needs --expose-gc) */
  mark(gc = false): Promise<MemMark> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not report its memory`)), 20_000);
      this.waiting.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.proc.send({ type: 'mark', id, gc });
    });
  }

  /** log lines at WARN or ERROR (Temporal's worker logger, or an uncaught error) */
  problemLines(): { warn: number; error: number; kinds: Record<string, number> } {
    const text = fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8') : '';
    const out = { warn: 0, error: 0, kinds: {} as Record<string, number> };
    for (const line of text.split('\n')) {
      const level = /\[(WARN|ERROR)\]|\b(WARN|ERROR)\b/.exec(line)?.slice(1).find(Boolean);
      if (!level) continue;
      if (level === 'WARN') out.warn++;
      else out.error++;
      const kind = `${level} ${line
        .replace(/\u001b\[[0-9;]*m/g, '')
        .replace(/^.*?\b(WARN|ERROR)\b\]?\s*/, '')
        .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>')
        .replace(/load-\d+-\d+-[a-z-]+/g, '<wf>')
        .slice(0, 100)}`;
      out.kinds[kind] = (out.kinds[kind] ?? 0) + 1;
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Temporal: a dev server of the benchmark's own

interface TemporalServer {
  address: string;
  proc: ChildProcess;
  dbFile: string;
  stop: () => Promise<void>;
}

async function startTemporal(cli: string, dir: string, logFile: string): Promise<TemporalServer> {
  const port = await freePort();
  const httpPort = await freePort();
  const metricsPort = await freePort();
  const dbFile = path.join(dir, 'temporal.sqlite');
  const log = fs.openSync(logFile, 'w');
  const proc = spawn(
    cli,
    ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port), '--http-port', String(httpPort), '--metrics-port', String(metricsPort), '--db-filename', dbFile, '--log-level', 'warn', ...searchAttributeArgs()],
    { stdio: ['ignore', log, log] },
  );
  fs.closeSync(log);
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  const deadline = Date.now() + 60_000;
  while (!(await portOpen(port))) {
    if (proc.exitCode !== null) throw new Error(`the Temporal dev server exited (${proc.exitCode}); its log: ${logFile}`);
    if (Date.now() > deadline) throw new Error(`the Temporal dev server did not listen within 60 s; its log: ${logFile}`);
    await sleep(200);
  }
  return { address: `127.0.0.1:${port}`, proc, dbFile, stop: () => stopChild(proc) };
}

// ---------------------------------------------------------------------------------------------
// Figures

const pct = (sorted: readonly number[], p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!);
interface Dist {
  n: number;
  p50: number;
  p95: number;
  max: number;
  mean: number;
}
function dist(values: readonly number[]): Dist {
  const s = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return { n: s.length, p50: pct(s, 50), p95: pct(s, 95), max: s.length ? s[s.length - 1]! : NaN, mean: s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN };
}
const sec = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(ms < 10_000 ? 2 : 1) : '–');
const secs = (d: Dist) => `${sec(d.p50)} / ${sec(d.p95)}`;

function tsMs(ts: temporal.api.history.v1.IHistoryEvent['eventTime']): number {
  if (!ts) return NaN;
  const s = ts.seconds as unknown;
  const seconds = typeof s === 'object' && s !== null && 'toNumber' in s ? (s as { toNumber: () => number }).toNumber() : Number(s ?? 0);
  return seconds * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

const TIMEOUT_TYPES: Record<number, string> = { 1: 'start-to-close', 2: 'schedule-to-start', 3: 'schedule-to-close', 4: 'heartbeat' };

interface CallScheduled {
  step: string;
  itemIndex: number;
  attemptNo: number;
  task: string;
  scheduledMs: number;
}

interface HistoryFigures {
  events: number;
  /** workflow start to the first workflow task started */
  waitToStartMs: number;
  /** the first workflow task started to the run's close: the run once a worker has taken it up */
  afterStartMs: number;
  workflowTasks: number;
  /** started to completed: the first workflow task (which loads the workflow code), and each later one */
  firstTaskMs: number;
  laterTaskMs: number[];
  workflowTaskTimedOut: Record<string, number>;
  workflowTaskFailed: Record<string, number>;
  activityTimedOut: Record<string, number>;
  /** activity attempts after the first (retries of a model call or of nothing else: persistence is local) */
  activityRetries: number;
  /** local activities (persistence) the run recorded */
  localActivityMarkers: number;
  calls: CallScheduled[];
}

function readHistory(history: temporal.api.history.v1.IHistory): HistoryFigures {
  const events = history.events ?? [];
  const f: HistoryFigures = { events: events.length, waitToStartMs: NaN, afterStartMs: NaN, workflowTasks: 0, firstTaskMs: NaN, laterTaskMs: [], workflowTaskTimedOut: {}, workflowTaskFailed: {}, activityTimedOut: {}, activityRetries: 0, localActivityMarkers: 0, calls: [] };
  let startedAt = NaN;
  let taskStartedAt = NaN;
  let firstTaskAt = NaN;
  for (const e of events) {
    const at = tsMs(e.eventTime);
    if (e.workflowExecutionStartedEventAttributes) startedAt = at;
    else if (e.workflowExecutionCompletedEventAttributes || e.workflowExecutionFailedEventAttributes || e.workflowExecutionTimedOutEventAttributes || e.workflowExecutionCanceledEventAttributes || e.workflowExecutionTerminatedEventAttributes) {
      f.afterStartMs = at - firstTaskAt;
    }
    else if (e.workflowTaskStartedEventAttributes) {
      f.workflowTasks++;
      taskStartedAt = at;
      if (Number.isNaN(f.waitToStartMs)) {
        f.waitToStartMs = at - startedAt;
        firstTaskAt = at;
      }
    } else if (e.workflowTaskCompletedEventAttributes) {
      if (Number.isNaN(f.firstTaskMs)) f.firstTaskMs = at - taskStartedAt;
      else f.laterTaskMs.push(at - taskStartedAt);
    } else if (e.workflowTaskTimedOutEventAttributes) {
      const k = TIMEOUT_TYPES[e.workflowTaskTimedOutEventAttributes.timeoutType ?? 0] ?? String(e.workflowTaskTimedOutEventAttributes.timeoutType);
      f.workflowTaskTimedOut[k] = (f.workflowTaskTimedOut[k] ?? 0) + 1;
    } else if (e.workflowTaskFailedEventAttributes) {
      const a = e.workflowTaskFailedEventAttributes;
      const k = `cause ${a.cause ?? '?'}: ${(a.failure?.message ?? '').slice(0, 80)}`;
      f.workflowTaskFailed[k] = (f.workflowTaskFailed[k] ?? 0) + 1;
    } else if (e.activityTaskTimedOutEventAttributes) {
      const failure = e.activityTaskTimedOutEventAttributes.failure;
      const t = failure?.timeoutFailureInfo?.timeoutType ?? failure?.cause?.timeoutFailureInfo?.timeoutType ?? 0;
      const k = TIMEOUT_TYPES[t] ?? String(t);
      f.activityTimedOut[k] = (f.activityTimedOut[k] ?? 0) + 1;
    } else if (e.activityTaskStartedEventAttributes) {
      if ((e.activityTaskStartedEventAttributes.attempt ?? 1) > 1) f.activityRetries += (e.activityTaskStartedEventAttributes.attempt ?? 1) - 1;
    } else if (e.markerRecordedEventAttributes) {
      if (e.markerRecordedEventAttributes.markerName === 'core_local_activity') f.localActivityMarkers++;
    } else if (e.activityTaskScheduledEventAttributes) {
      const a = e.activityTaskScheduledEventAttributes;
      if (a.activityType?.name !== 'callModel') continue;
      const data = a.input?.payloads?.[0]?.data;
      if (!data) continue;
      const req = JSON.parse(Buffer.from(data).toString('utf8')) as { step: string; itemIndex: number; attemptNo: number; task: string };
      f.calls.push({ step: req.step, itemIndex: req.itemIndex, attemptNo: req.attemptNo, task: req.task, scheduledMs: at });
    }
  }
  return f;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

// ---------------------------------------------------------------------------------------------
// One setting: its own Temporal, database and workers; the load; the figures

interface WorkerFigures {
  name: string;
  pid: number;
  command: string;
  /** after start, before the load */
  idle: Mem;
  /** the largest during the load (sampled every 250 ms) */
  peakDuringLoad: Mem;
  /** the largest since the worker started (its start-up included: the orchestration worker bundles the workflow code) */
  peakOverall: Mem;
  afterDrain: Mem;
  heapLimit: number;
  /** /proc/<pid>/status VmHWM at the end */
  vmHwm: number;
  /** CPU seconds during the load */
  cpuDuringLoadS: number;
  startLine: string;
  logFile: string;
  log: { warn: number; error: number; kinds: Record<string, number> };
}

interface SettingResult {
  setting: Setting;
  registry: RegistryConfig;
  pipelines: number;
  plan: Record<string, number>;
  startPhaseS: number;
  windowS: number;
  timedOut: boolean;
  statuses: Record<string, number>;
  pipelineRuns: Record<string, number>;
  completed: number;
  throughput: { pipelinesPerS: number; microTasksPerS: number; modelCallsPerS: number; completionTokensPerS: number };
  microTasks: { total: number; byStatus: Record<string, number> };
  /** `unanswered`: calls the corpus had no answer for (a repair; none expected); `byRoute`: each call's route reason */
  modelCalls: { total: number; byKind: Record<string, number>; byPool: Record<string, number>; unanswered: number; byRoute: Record<string, number> };
  latency: {
    pipeline: Dist;
    pipelineByName: Record<string, Dist>;
    waitToStart: Dist;
    /** first workflow task started to close */
    afterStart: Dist;
    microTask: Dist;
    microTaskByTask: Record<string, { span: Dist; callWait: Dist; ttft: Dist; call: Dist }>;
    callWait: Dist;
    ttft: Dist;
    call: Dist;
  };
  history: {
    eventsPerPipeline: Record<string, Dist>;
    bytesPerPipeline: Record<string, Dist>;
    totalEvents: number;
    totalBytes: number;
    sqliteBytes: number;
    workflowTasksPerPipeline: Dist;
    /** started to completed: a run's first workflow task and every later one */
    firstWorkflowTask: Dist;
    laterWorkflowTasks: Dist;
    workflowTaskTimedOut: Record<string, number>;
    workflowTaskFailed: Record<string, number>;
    activityTimedOut: Record<string, number>;
    activityRetries: number;
    historiesRead: number;
  };
  workers: WorkerFigures[];
  /**
   * the orchestration worker's heaps after a full collection: idle; mid-load, the sample with the
   * most runs open in the worker (`runningWorkflows`: pipeline_runs rows still running, each cached);
   * after the drain. `perCachedWorkflow`: what one open run holds in the workflow threads, the
   * mid-load sample less the heap after the drain (no run open, the shared data built) per open run
   */
  orchestrationHeap: {
    idle: Retained;
    midLoad: (Retained & { t: number; runningWorkflows: number }) | undefined;
    /** from 5 s into the load, every 10 s */
    samples: (Retained & { t: number; runningWorkflows: number })[];
    afterDrain: Retained;
    perCachedWorkflow: number;
  };
  /** the orchestration worker's CPU seconds per completed run */
  orchestrationCpuPerRunS: number;
  temporal: { peakRss: number; cpuDuringLoadS: number };
  bench: { peakRss: number; cpuDuringLoadS: number };
  /** every 2 s: runs, calls, and the orchestration worker's peaks since the previous entry */
  timeline: { t: number; running: number; closed: number; modelCalls: number; mainRss: number; mainHeapUsed: number; workflowHeapUsed: number }[];
}

interface RunOptions {
  n: number;
  mix: Record<LoadPipeline, number>;
  pace: Pace;
  poolWait: number;
  timeoutS: number;
  outDir: string;
  cli: string;
  /** node flags of every worker process (--node-arg), e.g. a heap limit or --cpu-prof */
  nodeArgs: string[];
}

function registryFor(baseUrl: string, setting: Setting, poolWait: number): RegistryConfig {
  return {
    version: 'bench-load-1',
    defaultPool: 'small',
    poolWaitSeconds: poolWait,
    poolBusyWaitSeconds: 1800,
    pools: {
      small: {
        baseUrl,
        model: 'scripted-small',
        kind: 'openai',
        schemaMode: 'json_schema',
        contextWindow: 16384,
        concurrency: setting.concurrency.small!,
        timeoutSeconds: 180,
        heartbeatSeconds: 30,
        stream: true,
        escalateTo: 'large',
        price: { version: 'bench-small-1', hourlyUsd: 0.05, tokensPerSecond: 27 },
      },
      large: {
        baseUrl,
        model: 'scripted-large',
        kind: 'openai',
        schemaMode: 'json_schema',
        contextWindow: 16384,
        concurrency: setting.concurrency.large!,
        timeoutSeconds: 300,
        heartbeatSeconds: 30,
        stream: true,
        price: { version: 'bench-large-1', inputPerMTok: 0.2, outputPerMTok: 0.6 },
      },
    },
    routes: { 'write-scenarios': 'large', 'write-advice': 'large' },
    reference: { model: 'frontier-reference', price: { version: 'bench-reference-1', inputPerMTok: 2.5, outputPerMTok: 10 } },
    shadow: {},
  };
}

async function runSetting(index: number, setting: Setting, plan: LoadInput[], model: ScriptedModelServer, misses: { n: number }, o: RunOptions): Promise<SettingResult> {
  const slug = `${index + 1}-${setting.name.replace(/[^A-Za-z0-9=.-]+/g, '_')}`;
  const logDir = path.join(o.outDir, `load-${slug}`);
  fs.rmSync(logDir, { recursive: true, force: true });
  fs.mkdirSync(logDir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-load-'));
  tmpDirs.add(tmp);
  const workers: WorkerChild[] = [];
  let temporalServer: TemporalServer | undefined;
  let connection: Connection | undefined;
  let pgPool: ReturnType<typeof createPool> | undefined;
  try {
    temporalServer = await startTemporal(o.cli, tmp, path.join(logDir, 'temporal.log'));
    say(`[${setting.name}] Temporal dev server ${temporalServer.address} (pid ${temporalServer.proc.pid}), SQLite in ${temporalServer.dbFile}`);
    const databaseUrl = await freshDatabase(BENCH_DB);
    pgPool = createPool(databaseUrl);
    const db = createDb(pgPool);
    const registry = registryFor(model.baseUrl, setting, o.poolWait);
    const registryFile = path.join(logDir, 'models.json');
    fs.writeFileSync(registryFile, `${JSON.stringify(registry, null, 2)}\n`);
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporalServer.address, TEMPORAL_NAMESPACE: 'default', MODEL_REGISTRY: registryFile };
    for (const k of Object.keys(env)) if (/^(POOL_|WORKER_)/.test(k) || k === 'PIPELINES_MODULE') delete env[k];
    workers.push(
      WorkerChild.start('orchestration', 'workers/main.ts', [], { ...env, ...setting.env, WORKER_IDENTITY: 'bench-load-main' }, path.join(logDir, 'main.log'), /orchestration worker on queue/, ['--expose-gc', ...o.nodeArgs]),
      WorkerChild.start('pool small', 'workers/pool.ts', ['small'], { ...env, WORKER_IDENTITY: 'bench-load-small' }, path.join(logDir, 'pool-small.log'), /pool worker "small" on queue/, o.nodeArgs),
      WorkerChild.start('pool large', 'workers/pool.ts', ['large'], { ...env, WORKER_IDENTITY: 'bench-load-large' }, path.join(logDir, 'pool-large.log'), /pool worker "large" on queue/, o.nodeArgs),
    );
    const startLines = await Promise.all(workers.map((w) => w.ready(240_000)));
    connection = await Connection.connect({ address: temporalServer.address });
    const client = new Client({ connection, namespace: 'default' });
    // each queue has a poller before any run starts
    for (const [queue, type] of [
      [ORCHESTRATION_QUEUE, 1],
      ['model-small', 2],
      ['model-large', 2],
    ] as const) {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const d = await connection.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: queue }, taskQueueType: type });
        if ((d.pollers ?? []).length > 0) break;
        if (Date.now() > deadline) throw new Error(`no worker polls ${queue}`);
        await sleep(250);
      }
    }
    say(`[${setting.name}] workers ready: ${workers.map((w, i) => `${w.name} pid ${w.pid}: ${startLines[i]}`).join('; ')}`);
    const idle = await Promise.all(workers.map((w, i) => w.mark(i === 0)));
    const cpuBefore = workers.map((w) => procStat(w.pid)?.cpuS ?? 0);
    const temporalCpuBefore = procStat(temporalServer.proc.pid!)?.cpuS ?? 0;
    const benchCpuBefore = process.cpuUsage();
    misses.n = 0;

    // the load: every run started at once, at most STARTS_IN_FLIGHT start requests in flight
    const ids = plan.map((p, i) => `load-${index + 1}-${String(i).padStart(4, '0')}-${p.pipeline}`);
    const loadStarted = Date.now();
    await mapLimit(plan, STARTS_IN_FLIGHT, (p, i) => client.workflow.start('runPipeline', { taskQueue: ORCHESTRATION_QUEUE, workflowId: ids[i]!, args: [{ pipeline: p.pipeline, input: p.input }] }));
    const startPhaseS = (Date.now() - loadStarted) / 1000;
    say(`[${setting.name}] ${plan.length} runs started in ${startPhaseS.toFixed(1)} s`);

    const timeline: SettingResult['timeline'] = [];
    const query = `WorkflowType = "runPipeline" AND WorkflowId STARTS_WITH "load-${index + 1}-"`;
    let timedOut = false;
    let lastSay = 0;
    const heapSamples: NonNullable<SettingResult['orchestrationHeap']['midLoad']>[] = [];
    let lastGc = -Infinity;
    for (;;) {
      const [running, attempts, mark] = await Promise.all([
        client.workflow.count(`${query} AND ExecutionStatus = "Running"`),
        db.execute(sql`select count(*)::int as n, count(distinct workflow_id)::int as runs from model_attempts`),
        workers[0]!.mark().catch(() => undefined),
      ]);
      const t = (Date.now() - loadStarted) / 1000;
      const calls = (attempts.rows[0] as { n: number; runs: number }).n;
      // from 5 s on, every 10 s, what the worker's heaps hold after a full collection, beside the runs open in it:
      // a run is in its cache from its first workflow task (which writes its pipeline_runs row) to its end
      if (t >= 5 && t - lastGc >= 10) {
        lastGc = t;
        const open = ((await db.execute(sql`select count(*)::int as n from pipeline_runs where status = 'running'`)).rows[0] as { n: number }).n;
        const m = await workers[0]!.mark(true);
        heapSamples.push({ t, runningWorkflows: open, ...m.retained! });
        say(`[${setting.name}] ${t.toFixed(0)} s: with ${open} runs open in it the orchestration worker's heaps hold ${MB(m.retained!.main)} MB (main) + ${MB(m.retained!.threads)} MB (workflow threads) after a full collection`);
      }
      timeline.push({ t, running: running.count, closed: plan.length - running.count, modelCalls: calls, mainRss: mark?.peak.rss ?? NaN, mainHeapUsed: mark?.peak.heapUsed ?? NaN, workflowHeapUsed: mark?.peak.threadsHeapUsed ?? NaN });
      if (Date.now() - lastSay > 10_000) {
        lastSay = Date.now();
        say(`[${setting.name}] ${t.toFixed(0)} s: ${running.count} running, ${plan.length - running.count} closed, ${calls} model calls; orchestration worker RSS ${mark ? MB(mark.peak.rss) : '?'} MB, heap ${mark ? MB(mark.peak.heapUsed) : '?'} MB + workflow thread ${mark ? MB(mark.peak.threadsHeapUsed) : '?'} MB`);
      }
      if (running.count === 0) break;
      if (t > o.timeoutS) {
        timedOut = true;
        say(`[${setting.name}] --timeout ${o.timeoutS} s reached with ${running.count} runs still running`);
        break;
      }
      await sleep(2000);
    }
    const loadEnded = Date.now();
    // the sample with the most runs open
    const midLoad = heapSamples.reduce<(typeof heapSamples)[number] | undefined>((best, x) => (!best || x.runningWorkflows > best.runningWorkflows ? x : best), undefined);
    const duringLoad = await Promise.all(workers.map((w, i) => w.mark(i === 0)));
    const overallPeak = new Map(workers.map((w, i) => [w, duringLoad[i]!]));
    // the peaks since the idle mark are in the timeline's marks too (the orchestration worker's) and in this last mark
    const peakOf = (i: number): Mem => {
      const last = duringLoad[i]!.peak;
      if (i !== 0) return last;
      const rss = Math.max(last.rss, ...timeline.map((x) => (Number.isFinite(x.mainRss) ? x.mainRss : 0)));
      const heapUsed = Math.max(last.heapUsed, ...timeline.map((x) => (Number.isFinite(x.mainHeapUsed) ? x.mainHeapUsed : 0)));
      const threadsHeapUsed = Math.max(last.threadsHeapUsed, ...timeline.map((x) => (Number.isFinite(x.workflowHeapUsed) ? x.workflowHeapUsed : 0)));
      return { ...last, rss, heapUsed, threadsHeapUsed };
    };
    const cpuAfter = workers.map((w) => procStat(w.pid)?.cpuS ?? 0);
    const temporalCpu = (procStat(temporalServer.proc.pid!)?.cpuS ?? 0) - temporalCpuBefore;
    const benchCpu = process.cpuUsage(benchCpuBefore);
    const hwm = workers.map((w) => procStat(w.pid)?.peakRss ?? NaN);
    const temporalHwm = procStat(temporalServer.proc.pid!)?.peakRss ?? NaN;

    // what happened: visibility (status, times, history sizes), every history, the rows
    say(`[${setting.name}] reading visibility, histories and rows`);
    await sleep(1000);
    const infos = new Map<string, { status: string; start: number; close: number; events: number; bytes: number }>();
    for await (const w of client.workflow.list({ query: `WorkflowId STARTS_WITH "load-${index + 1}-"` })) {
      infos.set(w.workflowId, { status: w.status.name, start: w.startTime.getTime(), close: w.closeTime?.getTime() ?? NaN, events: w.historyLength, bytes: w.historySize ?? NaN });
    }
    const histories = await mapLimit(ids, 8, async (id) => readHistory(await client.workflow.getHandle(id).fetchHistory()));
    const taskRows = (
      await db.execute(sql`select workflow_id, step, item_index, task, status, attempts, extract(epoch from created_at) * 1000 as at from task_results where workflow_id like ${`load-${index + 1}-%`}`)
    ).rows as { workflow_id: string; step: string; item_index: number; task: string; status: string; attempts: number; at: number }[];
    const attemptRows = (
      await db.execute(
        sql`select workflow_id, step, item_index, attempt_no, task, kind, pool, route_reason, latency_ms, ttft_ms, completion_tokens, extract(epoch from created_at) * 1000 as at from model_attempts where workflow_id like ${`load-${index + 1}-%`}`,
      )
    ).rows as { workflow_id: string; step: string; item_index: number; attempt_no: number; task: string; kind: string; pool: string; route_reason: string; latency_ms: number; ttft_ms: number | null; completion_tokens: number; at: number }[];
    const runRows = (await db.execute(sql`select status, count(*)::int as n from pipeline_runs where workflow_id like ${`load-${index + 1}-%`} group by status`)).rows as { status: string; n: number }[];

    // times
    const starts = ids.map((id) => infos.get(id)?.start ?? NaN);
    const closes = ids.map((id) => infos.get(id)?.close ?? NaN);
    const firstStart = Math.min(...starts.filter(Number.isFinite));
    const lastClose = Math.max(...closes.filter(Number.isFinite));
    const windowS = (lastClose - firstStart) / 1000;
    const statuses: Record<string, number> = {};
    for (const id of ids) {
      const s = infos.get(id)?.status ?? 'MISSING';
      statuses[s] = (statuses[s] ?? 0) + 1;
    }
    const completed = statuses.COMPLETED ?? 0;
    const byName = (pick: (id: string, i: number) => number) => {
      const out: Record<string, number[]> = {};
      ids.forEach((id, i) => (out[plan[i]!.pipeline] ??= []).push(pick(id, i)));
      return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, dist(v)]));
    };
    const pipelineMs = ids.map((id) => (infos.get(id)?.close ?? NaN) - (infos.get(id)?.start ?? NaN));

    // micro-tasks: from the first call's scheduling (history) to the recorded result (task_results)
    const scheduled = new Map<string, number>();
    const callScheduled = new Map<string, number>();
    ids.forEach((id, i) => {
      for (const c of histories[i]!.calls) {
        const k = `${id}|${c.step}|${c.itemIndex}`;
        scheduled.set(k, Math.min(scheduled.get(k) ?? Infinity, c.scheduledMs));
        callScheduled.set(`${k}|${c.attemptNo}`, c.scheduledMs);
      }
    });
    const spanByTask: Record<string, number[]> = {};
    const spans: number[] = [];
    for (const r of taskRows) {
      const from = scheduled.get(`${r.workflow_id}|${r.step}|${r.item_index}`);
      if (from === undefined) continue;
      const ms = Number(r.at) - from;
      spans.push(ms);
      (spanByTask[r.task] ??= []).push(ms);
    }
    const waitByTask: Record<string, number[]> = {};
    const ttftByTask: Record<string, number[]> = {};
    const callByTask: Record<string, number[]> = {};
    const waits: number[] = [];
    for (const a of attemptRows) {
      const at = callScheduled.get(`${a.workflow_id}|${a.step}|${a.item_index}|${a.attempt_no}`);
      if (at !== undefined) {
        // the call began on the pool worker latency_ms before its row was written
        const w = Number(a.at) - a.latency_ms - at;
        waits.push(w);
        (waitByTask[a.task] ??= []).push(w);
      }
      if (a.ttft_ms !== null) (ttftByTask[a.task] ??= []).push(a.ttft_ms);
      (callByTask[a.task] ??= []).push(a.latency_ms);
    }
    const countBy = <T,>(rows: T[], key: (r: T) => string) => rows.reduce<Record<string, number>>((m, r) => ((m[key(r)] = (m[key(r)] ?? 0) + 1), m), {});
    const merge = (list: Record<string, number>[]) => list.reduce<Record<string, number>>((m, r) => (Object.entries(r).forEach(([k, v]) => (m[k] = (m[k] ?? 0) + v)), m), {});
    const tokens = attemptRows.reduce((t, a) => t + a.completion_tokens, 0);

    const workerFigures: WorkerFigures[] = workers.map((w, i) => ({
      name: w.name,
      pid: w.pid,
      command: w.proc.spawnargs.slice(1).filter((a) => !a.startsWith('data:')).map((a) => shown(a)).join(' '),
      idle: idle[i]!.now,
      peakDuringLoad: peakOf(i),
      peakOverall: overallPeak.get(w)!.overall,
      afterDrain: duringLoad[i]!.now,
      heapLimit: duringLoad[i]!.heapLimit,
      vmHwm: hwm[i]!,
      cpuDuringLoadS: cpuAfter[i]! - cpuBefore[i]!,
      startLine: startLines[i]!,
      logFile: shown(w.logFile),
      log: w.problemLines(),
    }));

    const result: SettingResult = {
      setting,
      registry,
      pipelines: plan.length,
      plan: countBy(plan, (p) => p.pipeline),
      startPhaseS,
      windowS,
      timedOut,
      statuses,
      pipelineRuns: Object.fromEntries(runRows.map((r) => [r.status, r.n])),
      completed,
      throughput: { pipelinesPerS: completed / windowS, microTasksPerS: taskRows.length / windowS, modelCallsPerS: attemptRows.length / windowS, completionTokensPerS: tokens / windowS },
      microTasks: { total: taskRows.length, byStatus: countBy(taskRows, (r) => r.status) },
      modelCalls: {
        total: attemptRows.length,
        byKind: countBy(attemptRows, (a) => a.kind),
        byPool: countBy(attemptRows, (a) => a.pool),
        unanswered: misses.n,
        byRoute: countBy(attemptRows, (a) => a.route_reason),
      },
      latency: {
        pipeline: dist(pipelineMs),
        pipelineByName: byName((id) => (infos.get(id)?.close ?? NaN) - (infos.get(id)?.start ?? NaN)),
        waitToStart: dist(histories.map((h) => h.waitToStartMs)),
        afterStart: dist(histories.map((h) => h.afterStartMs)),
        microTask: dist(spans),
        microTaskByTask: Object.fromEntries(
          Object.keys(callByTask)
            .sort()
            .map((t) => [t, { span: dist(spanByTask[t] ?? []), callWait: dist(waitByTask[t] ?? []), ttft: dist(ttftByTask[t] ?? []), call: dist(callByTask[t] ?? []) }]),
        ),
        callWait: dist(waits),
        ttft: dist(attemptRows.filter((a) => a.ttft_ms !== null).map((a) => a.ttft_ms!)),
        call: dist(attemptRows.map((a) => a.latency_ms)),
      },
      history: {
        eventsPerPipeline: byName((id) => infos.get(id)?.events ?? NaN),
        bytesPerPipeline: byName((id) => infos.get(id)?.bytes ?? NaN),
        totalEvents: [...infos.values()].reduce((t, x) => t + x.events, 0),
        totalBytes: [...infos.values()].reduce((t, x) => t + (Number.isFinite(x.bytes) ? x.bytes : 0), 0),
        sqliteBytes: ['', '-wal', '-shm'].reduce((t, s) => t + (fs.existsSync(temporalServer!.dbFile + s) ? fs.statSync(temporalServer!.dbFile + s).size : 0), 0),
        workflowTasksPerPipeline: dist(histories.map((h) => h.workflowTasks)),
        firstWorkflowTask: dist(histories.map((h) => h.firstTaskMs)),
        laterWorkflowTasks: dist(histories.flatMap((h) => h.laterTaskMs)),
        workflowTaskTimedOut: merge(histories.map((h) => h.workflowTaskTimedOut)),
        workflowTaskFailed: merge(histories.map((h) => h.workflowTaskFailed)),
        activityTimedOut: merge(histories.map((h) => h.activityTimedOut)),
        activityRetries: histories.reduce((t, h) => t + h.activityRetries, 0),
        historiesRead: histories.length,
      },
      workers: workerFigures,
      orchestrationHeap: {
        idle: idle[0]!.retained!,
        midLoad,
        samples: heapSamples,
        afterDrain: duringLoad[0]!.retained!,
        // against the heap after the drain, when no run is open and the shared modules have built their data
        perCachedWorkflow: midLoad && midLoad.runningWorkflows > 0 ? (midLoad.threads - duringLoad[0]!.retained!.threads) / midLoad.runningWorkflows : NaN,
      },
      orchestrationCpuPerRunS: workerFigures[0]!.cpuDuringLoadS / Math.max(1, completed),
      temporal: { peakRss: temporalHwm, cpuDuringLoadS: temporalCpu },
      bench: { peakRss: procStat(process.pid)?.peakRss ?? NaN, cpuDuringLoadS: (benchCpu.user + benchCpu.system) / 1e6 },
      timeline,
    };
    say(`[${setting.name}] ${completed}/${plan.length} completed in ${windowS.toFixed(1)} s (load ended ${((loadEnded - loadStarted) / 1000).toFixed(1)} s after the first start request)`);
    return result;
  } finally {
    await Promise.all(workers.map((w) => stopChild(w.proc)));
    await connection?.close().catch(() => undefined);
    await pgPool?.end().catch(() => undefined);
    await temporalServer?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
    tmpDirs.delete(tmp);
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function report(results: SettingResult[], o: RunOptions, corpus: ReturnType<typeof loadCorpus>): string {
  const lines: string[] = [];
  const r0 = results[0]!;
  lines.push(
    `## Load: ${o.n} pipelines at once, ${os.cpus().length} CPUs, pace ${o.pace.firstTokenMs} ms to the first token then ${o.pace.tokensPerSecond} tokens/s (jitter ±${Math.round((o.pace.jitter ?? 0) * 100)}%), pool wait ${o.poolWait} s`,
  );
  lines.push('');
  lines.push(
    `Mix: ${Object.entries(r0.plan)
      .map(([p, k]) => `${p} ${k}`)
      .join(', ')}; inputs: ${LOAD_PIPELINES.map((p) => `${p} ${corpus.inputs[p].length}`).join(', ')} (every answer held to its contract first; ${corpus.skipped.length} inputs left out).`,
  );
  lines.push('');
  lines.push(
    table(
      ['setting', 'slots small / large', 'completed', 'window s', 'pipelines/s', 'micro-tasks/s', 'model calls/s', 'pipeline p50 / p95 s', 'wait to start p50 / p95 s', 'first task → close p50 / p95 s', 'first workflow task p50 / p95 s', 'micro-task p50 / p95 s', 'call wait p50 / p95 s', 'orchestration peak RSS / heap / workflow-thread heap MB', 'orchestration CPU s per run', 'heap per open run MB', 'WFT timed out / failed'],
      results.map((r) => [
        r.setting.name,
        `${r.setting.concurrency.small} / ${r.setting.concurrency.large}`,
        `${r.completed}/${r.pipelines}${r.timedOut ? ' (timeout)' : ''}`,
        r.windowS.toFixed(1),
        r.throughput.pipelinesPerS.toFixed(2),
        r.throughput.microTasksPerS.toFixed(1),
        r.throughput.modelCallsPerS.toFixed(1),
        secs(r.latency.pipeline),
        secs(r.latency.waitToStart),
        secs(r.latency.afterStart),
        secs(r.history.firstWorkflowTask),
        secs(r.latency.microTask),
        secs(r.latency.callWait),
        `${MB(r.workers[0]!.vmHwm)} / ${MB(r.workers[0]!.peakDuringLoad.heapUsed)} / ${MB(r.workers[0]!.peakDuringLoad.threadsHeapUsed)}`,
        r.orchestrationCpuPerRunS.toFixed(3),
        Number.isFinite(r.orchestrationHeap.perCachedWorkflow) ? (r.orchestrationHeap.perCachedWorkflow / 1024 / 1024).toFixed(2) : '–',
        `${Object.values(r.history.workflowTaskTimedOut).reduce((a, b) => a + b, 0)} / ${Object.values(r.history.workflowTaskFailed).reduce((a, b) => a + b, 0)}`,
      ]),
    ),
  );
  for (const r of results) {
    lines.push('');
    lines.push(`### Setting \`${r.setting.name}\`${Object.keys(r.setting.env).length ? ` (${Object.entries(r.setting.env).map(([k, v]) => `${k}=${v}`).join(' ')})` : ''}`);
    lines.push('');
    lines.push(
      `${r.completed} of ${r.pipelines} completed (${Object.entries(r.statuses)
        .map(([s, k]) => `${s.toLowerCase()} ${k}`)
        .join(', ')}; pipeline_runs ${Object.entries(r.pipelineRuns)
        .map(([s, k]) => `${s} ${k}`)
        .join(', ')}); started in ${r.startPhaseS.toFixed(1)} s, last closed ${r.windowS.toFixed(1)} s after the first start. ${int(r.microTasks.total)} micro-tasks (${Object.entries(r.microTasks.byStatus)
        .map(([s, k]) => `${s} ${k}`)
        .join(', ')}), ${int(r.modelCalls.total)} model calls (${Object.entries(r.modelCalls.byKind)
        .map(([s, k]) => `${s} ${k}`)
        .join(', ')}; ${Object.entries(r.modelCalls.byPool)
        .map(([s, k]) => `${s} ${k}`)
        .join(', ')}), ${r.modelCalls.unanswered} calls the corpus had no answer for, ${r.throughput.completionTokensPerS.toFixed(0)} completion tokens/s streamed.`,
    );
    lines.push('');
    lines.push(
      table(
        ['pipeline', 'runs', 'start → close p50 / p95 s', 'history events p50 / max', 'history KB p50 / max'],
        Object.keys(r.latency.pipelineByName).map((p) => {
          const ev = r.history.eventsPerPipeline[p]!;
          const by = r.history.bytesPerPipeline[p]!;
          return [p, r.plan[p] ?? 0, secs(r.latency.pipelineByName[p]!), `${ev.p50} / ${ev.max}`, `${(by.p50 / 1024).toFixed(1)} / ${(by.max / 1024).toFixed(1)}`];
        }),
      ),
    );
    lines.push('');
    lines.push(
      table(
        ['micro-task', 'calls', 'scheduled → settled p50 / p95 s', 'wait for a pool slot p50 / p95 s', 'first token p50 / p95 s', 'call p50 / p95 s'],
        [
          ...Object.entries(r.latency.microTaskByTask).map(([t, d]) => [t, d.call.n, secs(d.span), secs(d.callWait), secs(d.ttft), secs(d.call)]),
          ['all', r.latency.call.n, secs(r.latency.microTask), secs(r.latency.callWait), secs(r.latency.ttft), secs(r.latency.call)],
        ],
      ),
    );
    lines.push('');
    lines.push(
      table(
        ['process', 'idle RSS / heap / threads heap MB', 'peak RSS during load MB (VmHWM)', 'peak heap used during load MB: main / worker threads', 'heap limit MB: main / a worker thread', 'CPU s during load'],
        [
          ...r.workers.map((w) => [
            `${w.name} (pid ${w.pid})`,
            `${MB(w.idle.rss)} / ${MB(w.idle.heapUsed)} / ${MB(w.idle.threadsHeapUsed)}`,
            `${MB(w.peakDuringLoad.rss)} (${MB(w.vmHwm)})`,
            `${MB(w.peakDuringLoad.heapUsed)} / ${MB(w.peakDuringLoad.threadsHeapUsed)}`,
            `${MB(w.heapLimit)} / ${w.afterDrain.threadHeapLimit ? MB(w.afterDrain.threadHeapLimit) : '–'}`,
            w.cpuDuringLoadS.toFixed(1),
          ]),
          ['Temporal dev server', '', `(${MB(r.temporal.peakRss)})`, '', '', r.temporal.cpuDuringLoadS.toFixed(1)],
          ['benchmark (scripted endpoint, starts, polling)', '', `(${MB(r.bench.peakRss)})`, '', '', r.bench.cpuDuringLoadS.toFixed(1)],
        ],
      ),
    );
    lines.push('');
    const wft = Object.entries(r.history.workflowTaskTimedOut);
    const wff = Object.entries(r.history.workflowTaskFailed);
    const act = Object.entries(r.history.activityTimedOut);
    lines.push(
      `Histories (all ${r.history.historiesRead} read): ${int(r.history.totalEvents)} events, ${(r.history.totalBytes / 1024 / 1024).toFixed(1)} MB; SQLite file ${(r.history.sqliteBytes / 1024 / 1024).toFixed(1)} MB; workflow tasks per run p50 ${r.history.workflowTasksPerPipeline.p50}, max ${r.history.workflowTasksPerPipeline.max}; a run's first workflow task took p50 / p95 ${secs(r.history.firstWorkflowTask)} s, later ones ${secs(r.history.laterWorkflowTasks)} s. Workflow tasks timed out: ${wft.length ? wft.map(([k, v]) => `${v} ${k}`).join(', ') : 'none'}; failed: ${wff.length ? wff.map(([k, v]) => `${v}× ${k}`).join('; ') : 'none'}. Activities timed out: ${act.length ? act.map(([k, v]) => `${v} ${k}`).join(', ') : 'none'}; retried attempts: ${r.history.activityRetries}.`,
    );
    const logs = r.workers.map((w) => `${w.name}: ${w.log.warn} WARN, ${w.log.error} ERROR${Object.keys(w.log.kinds).length ? ` (${Object.entries(w.log.kinds).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, n]) => `${n}× "${k}"`).join('; ')})` : ''}`);
    lines.push(`Worker logs: ${logs.join('; ')}.`);
    const h = r.orchestrationHeap;
    lines.push(
      `Orchestration worker heaps after a full collection, main + workflow threads: idle ${MB(h.idle.main)} + ${MB(h.idle.threads)} MB; ${h.midLoad ? `${h.midLoad.t.toFixed(0)} s into the load with ${h.midLoad.runningWorkflows} runs open ${MB(h.midLoad.main)} + ${MB(h.midLoad.threads)} MB, **${(h.perCachedWorkflow / 1024 / 1024).toFixed(2)} MB per open run**` : 'not measured mid-load'}; after the drain ${MB(h.afterDrain.main)} + ${MB(h.afterDrain.threads)} MB. CPU ${r.orchestrationCpuPerRunS.toFixed(3)} s per completed run.`,
    );
    lines.push(`Orchestration worker: ${r.workers[0]!.startLine}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pipelines: { type: 'string', default: '500' },
      mix: { type: 'string', default: 'ticket-triage=4,invoice-extraction=3,product-review=2,document-summary=1' },
      pace: { type: 'string', default: '300,30,0.3' },
      concurrency: { type: 'string', default: 'small=256,large=128' },
      'pool-wait': { type: 'string', default: '60' },
      timeout: { type: 'string', default: '1800' },
      setting: { type: 'string', multiple: true },
      'node-arg': { type: 'string', multiple: true },
      out: { type: 'string', default: path.join(ROOT, '.cache', 'bench', 'load.json') },
    },
  });
  const n = Number(values.pipelines);
  if (!Number.isInteger(n) || n < 1) throw new Error('--pipelines takes a whole number, at least 1');
  const poolWait = Number(values['pool-wait']);
  const timeoutS = Number(values.timeout);
  if (!(poolWait > 0) || !(timeoutS > 0)) throw new Error('--pool-wait and --timeout take positive seconds');
  const concurrency = parseConcurrency(values.concurrency, { small: 256, large: 128 });
  const nodeArgs = values['node-arg'] ?? [];
  // the workers' heap limit: this process's, or the one --node-arg gives them
  const maxOld = nodeArgs.map((a) => /^--max-old-space-size=(\d+)$/.exec(a)?.[1]).find(Boolean);
  const heapLimit = maxOld ? Number(maxOld) * 1024 * 1024 : v8.getHeapStatistics().heap_size_limit;
  const settings = (values.setting?.length ? values.setting : ['default']).map((s) => parseSetting(s, concurrency, heapLimit));
  const out = path.resolve(values.out);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const o: RunOptions = { n, mix: parseMix(values.mix), pace: parsePace(values.pace), poolWait, timeoutS, outDir: path.dirname(out), cli: ensureTemporalCli(say), nodeArgs };
  const startedAt = new Date();

  const corpus = loadCorpus();
  if (corpus.skipped.length > 0) say(`inputs left out (an answer did not pass its contract): ${corpus.skipped.map((s) => `${s.pipeline}/${s.name}: ${s.reason}`).join('; ')}`);
  const plan = loadPlan(corpus, o.mix, n);
  say(`corpus: ${corpus.answers.size} answers; plan: ${plan.length} runs, ${plan.reduce((t, p) => t + p.microTasks, 0)} micro-tasks`);

  const model = new ScriptedModelServer({ pace: o.pace });
  const misses = { n: 0 };
  model.otherwise('probe', { content: '{"word": "alpha"}', pace: null });
  model.otherwise('*', (body) => {
    const format = body.response_format?.json_schema?.name ?? '*';
    const user = body.messages.find((m) => m.role === 'user')?.content ?? '';
    const content = corpus.answers.get(answerKey(format, user));
    if (content === undefined) {
      misses.n++;
      return { status: 500, message: `the load corpus has no answer for this ${format} call` };
    }
    return { content };
  });
  await model.start();
  // the endpoint keeps every request it received; nothing here reads them
  const trim = setInterval(() => (model.received.length = 0), 1000);
  say(`scripted endpoint ${model.baseUrl}`);
  const results: SettingResult[] = [];
  try {
    for (const [i, setting] of settings.entries()) results.push(await runSetting(i, setting, plan, model, misses, o));
  } finally {
    clearInterval(trim);
    await model.stop();
  }

  const json = {
    benchmark: 'load',
    startedAt: startedAt.toISOString(),
    command: `npm run bench:load -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', totalMemMB: Math.round(os.totalmem() / 1024 / 1024), loadavgAtStart: os.loadavg(), node: process.version, platform: `${os.platform()} ${os.release()}` },
    options: { pipelines: n, mix: o.mix, pace: o.pace, poolWaitSeconds: poolWait, timeoutS, concurrency, settings: settings.map((s) => s.name), workerNodeArgs: o.nodeArgs },
    corpus: { inputs: Object.fromEntries(LOAD_PIPELINES.map((p) => [p, corpus.inputs[p].map((x) => ({ name: x.name, microTasks: x.microTasks, answerChars: x.answerChars }))])), answers: corpus.answers.size, skipped: corpus.skipped },
    results,
  };
  fs.writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`${report(results, o, corpus)}\n\nJSON: ${shown(out)}; worker logs beside it (${results.map((_, i) => `load-${i + 1}-*`).join(', ')})\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
