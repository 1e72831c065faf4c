/**
 * The HTTP API under load, on this machine, with the scripted model. Not a test: it prints one
 * markdown table and writes the measurements as JSON.
 *
 *   npm run bench:api -- [--duration 20] [--connections 10] [--drain 600] [--out .data/bench/api.json]
 *
 * The harness (its own Temporal dev server, the orchestration and pool workers, the scripted
 * endpoint) runs in this process, on a fresh database of its own. The API runs as a child
 * process, the shipped entry point `api/main.ts` (what `npm run api` runs, info logging included,
 * its log written to a file beside the JSON), so that its memory is the API's alone and not the
 * workers', the scripted endpoint's or autocannon's; a few lines loaded before it sample its
 * process.memoryUsage() every 100 ms and report it over IPC. The key is made by `api/keys-cli.ts`
 * (`npm run keys -- create`). Latency is measured by autocannon in this process, which shares its
 * event loop with the workers: the JSON records that loop's delay during each phase.
 *
 * Phases, each `--duration` seconds with `--connections` connections (autocannon, in this process):
 *   start: POST /v1/pipelines/product-review/runs, the wireless-headphones sample, a distinct
 *          Idempotency-Key per request; the scripted model answers every micro-task valid at once.
 *   drain: wait (at most `--drain` seconds) until every admitted run has ended, then count them.
 *   get:   GET /v1/runs/{id} round the runs the start phase admitted (all ended by then).
 */
import { freePort } from '../support/processes.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import autocannon from 'autocannon';
import { count, sql } from 'drizzle-orm';
import { apiRuns, pipelineRuns } from '../../db/schema.js';
import { ensureTemporalCli } from '../../infra/temporal.js';
import { ROOT } from '../../infra/paths.js';
import { bundleWorkflows } from '../../workers/factory.js';
import { freshDatabase } from '../support/database.js';
import { answerProductReview, sample } from '../support/fixtures.js';
import { startHarness, testRegistry, type Harness } from '../support/harness.js';

const BENCH_DB = 'microtasks_bench_api';
const PIPELINE = 'product-review';
const SAMPLE = 'wireless-headphones';
const SAMPLE_EVERY_MS = 100;

interface Mem {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}
interface MemMark {
  /** at the mark */
  now: Mem;
  /** the largest of each since the previous mark (sampled every 100 ms) */
  peak: Mem;
}

// ---------------------------------------------------------------------------------------------
// The child is api/main.ts itself, with this sampler loaded before it (node --import data:...):
// it keeps the peak of process.memoryUsage() and answers the parent's marks over IPC.

const SAMPLER = `
const m = () => { const u = process.memoryUsage(); return { rss: u.rss, heapUsed: u.heapUsed, heapTotal: u.heapTotal, external: u.external }; };
const max = (a, b) => ({ rss: Math.max(a.rss, b.rss), heapUsed: Math.max(a.heapUsed, b.heapUsed), heapTotal: Math.max(a.heapTotal, b.heapTotal), external: Math.max(a.external, b.external) });
let peak = m();
setInterval(() => { peak = max(peak, m()); }, ${SAMPLE_EVERY_MS}).unref();
process.on('message', (msg) => {
  if (!msg || msg.type !== 'mark') return;
  const now = m();
  const mark = { now, peak: max(peak, now) };
  peak = now;
  process.send({ type: 'mark', id: msg.id, ...mark });
});
// the benchmark has gone (crashed): do not outlive it
process.on('disconnect', () => process.exit(0));
`;

// ---------------------------------------------------------------------------------------------
// The parent

const say = (line: string) => process.stderr.write(`${line}\n`);
/** WARN lines of the harness's workers (Temporal core and SDK), by their first 120 characters, run ids left out */
const workerWarnings = { count: 0, kinds: {} as Record<string, number> };
const shown = (file: string) => (file.startsWith(ROOT + path.sep) ? path.relative(ROOT, file) : file);
const MB = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class ApiChild {
  private nextId = 0;
  private readonly waiting = new Map<number, (m: MemMark) => void>();
  private readonly stderrTail: string[] = [];
  readonly exited: Promise<number | null>;

  private constructor(
    readonly proc: ChildProcess,
    readonly base: string,
  ) {
    proc.on('message', (msg: { type?: string; id?: number } & MemMark) => {
      if (msg.type !== 'mark' || msg.id === undefined) return;
      this.waiting.get(msg.id)?.({ now: msg.now, peak: msg.peak });
      this.waiting.delete(msg.id);
    });
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        this.stderrTail.push(line);
        if (this.stderrTail.length > 40) this.stderrTail.shift();
        say(`[api] ${line}`);
      }
    });
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  }

  static async start(env: NodeJS.ProcessEnv, logFile: string): Promise<ApiChild> {
    const port = await freePort();
    const log = fs.openSync(logFile, 'w');
    const proc = spawn(process.execPath, ['--import', 'tsx', '--import', `data:text/javascript,${encodeURIComponent(SAMPLER)}`, path.join(ROOT, 'api', 'main.ts')], {
      cwd: ROOT,
      env: { ...env, API_HOST: '127.0.0.1', API_PORT: String(port) },
      stdio: ['ignore', log, 'pipe', 'ipc'],
    });
    fs.closeSync(log);
    const child = new ApiChild(proc, `http://127.0.0.1:${port}`);
    let exited: number | null | undefined;
    void child.exited.then((code) => (exited = code));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (exited !== undefined) throw new Error(`the API process exited (${exited}) before it answered:\n${child.stderrTail.join('\n')}`);
      const res = await fetch(`${child.base}/readyz`).catch(() => undefined);
      if (res?.status === 200) return child;
      if (Date.now() > deadline) {
        child.proc.kill('SIGKILL');
        throw new Error(`the API was not ready within 60 s: ${res ? `${res.status} ${await res.text()}` : 'no answer'}`);
      }
      await sleep(250);
    }
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** memory now, and the peak since the previous mark */
  mark(): Promise<MemMark> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the API process did not report its memory')), 10_000);
      this.waiting.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.proc.send({ type: 'mark', id });
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** `npm run keys -- create ...`: the CLI itself, on the bench database; prints the key once. */
function createKey(databaseUrl: string): string {
  const args = ['create', '--name', 'bench-api', '--pipelines', PIPELINE, '--daily-budget-usd', '1000000', '--rate-limit', '1000000000'];
  const res = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'api', 'keys-cli.ts'), ...args], { cwd: ROOT, env: { ...process.env, DATABASE_URL: databaseUrl }, encoding: 'utf8' });
  const key = res.stdout.trim();
  if (res.status !== 0 || !/^mtp_/.test(key)) throw new Error(`keys create failed (${res.status}): ${res.stderr}`);
  say(res.stderr.trim());
  return key;
}

interface PhaseResult {
  phase: 'start' | 'get';
  request: string;
  requests: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number; average: number; max: number };
  status: Record<string, number>;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationS: number;
  apiMemory: { start: Mem; peak: Mem; end: Mem };
  /** how late this process's event loop ran during the phase (autocannon shares it with the workers) */
  loadGeneratorEventLoopDelayMs: { p50: number; p99: number; max: number };
  autocannon: autocannon.Result;
}

async function phase(api: ApiChild, name: PhaseResult['phase'], request: string, opts: autocannon.Options): Promise<PhaseResult> {
  const before = await api.mark();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const result = await autocannon(opts);
  loop.disable();
  const during = await api.mark();
  const status: Record<string, number> = {};
  for (const [code, s] of Object.entries(result.statusCodeStats ?? {})) status[code] = (s as { count: number }).count;
  return {
    phase: name,
    request,
    requests: result.requests.total,
    requestsPerSecond: result.requests.average,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, average: result.latency.average, max: result.latency.max },
    status,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    durationS: result.duration,
    apiMemory: { start: before.now, peak: during.peak, end: during.now },
    loadGeneratorEventLoopDelayMs: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
    autocannon: result,
  };
}

interface Workflows {
  /** 201 answers of the start phase */
  created201: number;
  /** api_runs rows: every admission, including one whose answer arrived after autocannon stopped */
  admitted: number;
  /** runPipeline executions in the harness's Temporal */
  temporalWorkflows: number;
  temporalCompleted: number;
  temporalRunning: number;
  /** pipeline_runs rows by status */
  pipelineRuns: Record<string, number>;
  /** model calls and repairs over the completed runs (4 calls, 0 repairs each when valid at once) */
  attempts: number;
  repairs: number;
  drainedAfterS: number;
  allCompleted: boolean;
}

async function counts(h: Harness) {
  const wf = h.env.client.workflow;
  const [total, completed, running] = await Promise.all([
    wf.count('WorkflowType = "runPipeline"'),
    wf.count('WorkflowType = "runPipeline" AND ExecutionStatus = "Completed"'),
    wf.count('WorkflowType = "runPipeline" AND ExecutionStatus = "Running"'),
  ]);
  const admitted = (await h.db.select({ n: count() }).from(apiRuns))[0]!.n;
  const rows = await h.db
    .select({ status: pipelineRuns.status, n: count(), attempts: sql<string>`coalesce(sum(${pipelineRuns.attempts}), 0)`, repairs: sql<string>`coalesce(sum(${pipelineRuns.repairs}), 0)` })
    .from(pipelineRuns)
    .groupBy(pipelineRuns.status);
  const byStatus = Object.fromEntries(rows.map((r) => [r.status, r.n]));
  const ended = rows.filter((r) => r.status !== 'running').reduce((t, r) => t + r.n, 0);
  const done = rows.find((r) => r.status === 'completed');
  return { admitted, temporalWorkflows: total.count, temporalCompleted: completed.count, temporalRunning: running.count, pipelineRuns: byStatus, ended, attempts: Number(done?.attempts ?? 0), repairs: Number(done?.repairs ?? 0) };
}

async function drain(h: Harness, created201: number, maxS: number): Promise<Workflows> {
  const started = Date.now();
  let c = await counts(h);
  let lastLog = 0;
  for (;;) {
    const settled = c.temporalRunning === 0 && c.temporalWorkflows >= c.admitted && c.ended >= c.admitted;
    if (settled || Date.now() - started > maxS * 1000) break;
    if (Date.now() - lastLog > 5000) {
      lastLog = Date.now();
      say(`drain: ${c.admitted} admitted, ${c.temporalWorkflows} workflows, ${c.temporalRunning} running, pipeline_runs ${JSON.stringify(c.pipelineRuns)}`);
    }
    await sleep(1000);
    c = await counts(h);
  }
  const { ended: _ended, ...rest } = c;
  return {
    created201,
    ...rest,
    drainedAfterS: (Date.now() - started) / 1000,
    allCompleted: c.admitted > 0 && c.temporalRunning === 0 && c.temporalCompleted === c.admitted && (c.pipelineRuns.completed ?? 0) === c.admitted,
  };
}

function table(phases: PhaseResult[]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  const header = ['phase', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'status codes', 'non-2xx', 'errors (timeouts)', 'API RSS MB start → peak', 'API heap used MB start → peak'];
  return [
    line(header),
    line(header.map(() => '---')),
    ...phases.map((p) =>
      line([
        `${p.phase}: ${p.request}`,
        p.requests,
        p.requestsPerSecond.toFixed(1),
        p.latencyMs.p50,
        p.latencyMs.p99,
        Object.entries(p.status)
          .map(([code, n]) => `${code}×${n}`)
          .join(' ') || '–',
        p.non2xx,
        `${p.errors} (${p.timeouts})`,
        `${MB(p.apiMemory.start.rss)} → ${MB(p.apiMemory.peak.rss)}`,
        `${MB(p.apiMemory.start.heapUsed)} → ${MB(p.apiMemory.peak.heapUsed)}`,
      ]),
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { duration: { type: 'string', default: '20' }, connections: { type: 'string', default: '10' }, drain: { type: 'string', default: '600' }, out: { type: 'string', default: path.join(ROOT, '.data', 'bench', 'api.json') } } });
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const drainS = Number(values.drain);
  if (!(duration > 0) || !Number.isInteger(connections) || connections < 1 || !(drainS > 0)) throw new Error('--duration and --drain take positive seconds, --connections a positive integer');
  const out = path.resolve(values.out);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const apiLog = out.replace(/\.json$/, '') + '.api-log.ndjson';
  const startedAt = new Date();

  // the workers' warnings ("workflow task duration exceeded 5 seconds" on a busy machine) would drown
  // the progress lines: they are counted, errors printed
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => {
      if (entry.level === 'ERROR') return say(`[worker] ${entry.message}`);
      workerWarnings.count++;
      const kind = entry.message
        .replace(/\u001b\[[0-9;]*m/g, '')
        .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(:\d+)*/gi, '<run>')
        .replace(/\s+/g, ' ')
        .slice(0, 120);
      workerWarnings.kinds[kind] = (workerWarnings.kinds[kind] ?? 0) + 1;
    }),
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } },
  });
  const temporalCli = ensureTemporalCli(say);
  const databaseUrl = await freshDatabase(BENCH_DB);
  say(`postgres: fresh database ${BENCH_DB}, migrated`);
  const workflowBundle = (await bundleWorkflows()).code;
  // more activity slots than the tests' 4, so that the runs the start phase admits drain sooner
  const h = await startHarness({ temporalCli, databaseUrl, workflowBundle, adjust: (r) => Object.values(r.pools).forEach((p) => (p.concurrency = 16)) });
  say(`harness: Temporal dev server on ${h.env.address}, scripted model on ${h.model.baseUrl}`);
  answerProductReview(h.model);
  // the scripted endpoint keeps every request it received; nothing here reads them
  const trim = setInterval(() => (h.model.received.length = 0), 1000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-api-'));
  let api: ApiChild | undefined;
  try {
    const registryFile = path.join(tmp, 'models.json');
    fs.writeFileSync(registryFile, JSON.stringify(testRegistry(h.model.baseUrl)));
    const childEnv: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: h.env.address, TEMPORAL_NAMESPACE: h.env.namespace ?? 'default', MODEL_REGISTRY: registryFile };
    delete childEnv.PIPELINES_MODULE;
    for (const k of Object.keys(childEnv)) if (/^POOL_/.test(k)) delete childEnv[k];
    const key = createKey(databaseUrl);
    api = await ApiChild.start(childEnv, apiLog);
    say(`API: child process ${api.pid} on ${api.base} (api/main.ts), ready; its log: ${shown(apiLog)}`);
    const idle = await api.mark();

    const auth = { authorization: `Bearer ${key}` };
    const body = JSON.stringify({ input: sample(PIPELINE, SAMPLE) });
    const tag = startedAt.getTime().toString(36);
    let n = 0;
    say(`start phase: ${duration} s, ${connections} connections`);
    const start = await phase(api, 'start', `POST /v1/pipelines/${PIPELINE}/runs`, {
      url: api.base,
      connections,
      duration,
      requests: [
        {
          method: 'POST',
          path: `/v1/pipelines/${PIPELINE}/runs`,
          headers: { ...auth, 'content-type': 'application/json' },
          body,
          setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'idempotency-key': `bench-${tag}-${n++}` } }),
        },
      ],
    });
    // admissions whose answers arrived after autocannon stopped
    await sleep(1000);
    say(`start phase: ${start.requests} requests, ${start.status['201'] ?? 0} created; draining (at most ${drainS} s)`);
    const workflows = await drain(h, start.status['201'] ?? 0, drainS);
    say(`drain: ${JSON.stringify(workflows)}`);
    const afterDrain = await api.mark();

    const ids = (await h.db.select({ id: apiRuns.workflowId }).from(apiRuns)).map((r) => r.id);
    let get: PhaseResult | undefined;
    if (ids.length === 0) say('get phase skipped: the start phase admitted no run');
    else {
      let i = 0;
      say(`get phase: ${duration} s, ${connections} connections, round ${ids.length} runs`);
      get = await phase(api, 'get', 'GET /v1/runs/{id}', {
        url: api.base,
        connections,
        duration,
        requests: [{ method: 'GET', path: `/v1/runs/${encodeURIComponent(ids[0]!)}`, headers: auth, setupRequest: (req) => ({ ...req, path: `/v1/runs/${encodeURIComponent(ids[i++ % ids.length]!)}` }) }],
      });
    }
    const phases = get ? [start, get] : [start];
    const finalMem = await api.mark();
    await api.stop();
    const apiExit = await api.exited;
    const logLines = fs.readFileSync(apiLog, 'utf8').split('\n');
    const apiLogErrors = logLines.filter((l) => /"level":(50|60)/.test(l)).length;

    const report = {
      benchmark: 'api',
      startedAt: startedAt.toISOString(),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', totalMemMB: Math.round(os.totalmem() / 1024 / 1024), loadavgAtStart: os.loadavg(), node: process.version, platform: `${os.platform()} ${os.release()}` },
      options: { duration, connections, drainS },
      setup: {
        pipeline: PIPELINE,
        sample: `pipelines/${PIPELINE}/samples/${SAMPLE}.json`,
        requestBodyBytes: Buffer.byteLength(body),
        model: 'scripted endpoint, every micro-task answered valid at the first call',
        api: 'child process running api/main.ts (as `npm run api`), info logging to a file; memory sampled in that process every 100 ms',
        loadGenerator: `autocannon ${autocannonVersion()} in the benchmark process, which also runs the harness's workers and scripted endpoint`,
        database: BENCH_DB,
        temporal: `the harness's own dev server (${h.env.address})`,
        poolConcurrency: 16,
      },
      apiMemory: { idle, afterDrain, final: finalMem.now, exitCode: apiExit },
      apiLog: { file: apiLog, lines: logLines.filter(Boolean).length, errorLines: apiLogErrors },
      phases,
      workflows,
      harnessWorkerWarnings: workerWarnings,
    };
    fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);

    const lines: string[] = [];
    lines.push(`## HTTP API: ${duration} s per phase, ${connections} connections, ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(2)} at the end`);
    lines.push('');
    lines.push(table(phases));
    lines.push('');
    const statusLine = Object.entries(workflows.pipelineRuns)
      .map(([s, k]) => `${s} ${k}`)
      .join(', ');
    lines.push(
      `Start phase: ${workflows.created201} answered 201, ${workflows.admitted} admitted (api_runs), ${workflows.temporalWorkflows} runPipeline workflows in Temporal; after ${workflows.drainedAfterS.toFixed(1)} s of draining ${workflows.temporalCompleted} completed, ${workflows.temporalRunning} running; pipeline_runs: ${statusLine || 'none'}; ${workflows.attempts} model calls, ${workflows.repairs} repairs over the completed runs. All completed: **${workflows.allCompleted ? 'yes' : 'no'}**.`,
    );
    lines.push(
      `API memory (child process ${api.pid}, api/main.ts): idle ${MB(idle.now.rss)} MB RSS / ${MB(idle.now.heapUsed)} MB heap used; after the drain ${MB(afterDrain.now.rss)} / ${MB(afterDrain.now.heapUsed)}; at the end ${MB(finalMem.now.rss)} / ${MB(finalMem.now.heapUsed)}. API log: ${apiLogErrors} error lines. Load generator event-loop delay p99: ${phases.map((p) => `${p.phase} ${p.loadGeneratorEventLoopDelayMs.p99.toFixed(1)} ms`).join(', ')}.`,
    );
    lines.push(`Harness workers (in the benchmark process): ${workerWarnings.count} warnings${workerWarnings.count ? ` (${Object.entries(workerWarnings.kinds).sort((a, b) => b[1] - a[1]).slice(0, 2).map(([k, n]) => `${n}× "${k}"`).join('; ')})` : ''}. JSON: ${shown(out)}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    clearInterval(trim);
    await api?.stop();
    await h.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function autocannonVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'autocannon', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
