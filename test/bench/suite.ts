/**
 * The benchmark suite: one run, one table, one JSON file (.cache/bench/suite.json) with the machine
 * it ran on. Not a test.
 *
 *   npm run bench -- [--only overhead,writes,throughput,ladder,routing,real-routing]
 *                    [--chains 24] [--warmup 4] [--latencies 0,300]
 *                    [--workflows 400] [--pool-concurrency 200] [--throughput-configs shipped,tuned]
 *                    [--with-real-routing file.json] [--out .cache/bench/suite.json]
 *
 * overhead    Temporal's share of a micro-task: the product-review pipeline (4 micro-tasks, each
 *             valid at once) run one at a time through Temporal (its own dev server, the real
 *             orchestration and pool workers, Postgres rows), and the same run in this process
 *             without Temporal (test/bench/inproc.ts: the same ladder `step`, the same model-call
 *             activity function and record functions, the same rows), alternating, at each endpoint
 *             latency (the scripted endpoint's delay before it answers). Share = (temporal − in
 *             process) / temporal, of the median ms per micro-task (a run's wall time / 4).
 * writes      The Postgres writes of one attempt, timed at the pg pool during the in-process runs:
 *             the attempt insert (model activity), the validation update and the task result row.
 * throughput  Micro-tasks a second on the dev server with an instant endpoint: `--workflows` runTask
 *             workflows (extract-features) started at once; CPU seconds of each process from /proc.
 * ladder      The scripted corpus under the ladder, the fair and the strict re-ask (repair-ladder.ts).
 * routing     Routed against all-large and all-small on the corpus workload (routing.ts).
 * real-routing  Headline figures of a real-model routing benchmark, from `--with-real-routing` or
 *             .cache/bench/routing-real.json when it exists, shown with its date and commit.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type pg from 'pg';
import { createModelActivities, createOpenAIClient, type ModelActivities } from '../../activities/model.js';
import { createRecordActivities } from '../../activities/records.js';
import { ORCHESTRATION_QUEUE } from '../../config/load.js';
import { ensureTemporalCli } from '../../infra/temporal.js';
import { ROOT } from '../../infra/paths.js';
import { getMicroTask, getPipeline } from '../../pipelines/index.js';
import { bundleWorkflows, type WorkerTuning } from '../../workers/factory.js';
import type { runTask } from '../../workflows/pipeline.js';
import { freshDatabase } from '../support/database.js';
import { productReviewOutputs, sample } from '../support/fixtures.js';
import { startHarness, type Harness } from '../support/harness.js';
import { addCpu, cpuBetween, cpuSnapshot, nameNewThreads, type CpuUse } from './cpu.js';
import { int, table } from './format.js';
import { runPipelineInProcess, type InProcessDeps } from './inproc.js';
import { runRepairLadder, type RepairLadderFigures } from './repair-ladder.js';
import { runRouting, type RoutingFigures } from './routing.js';

const PARTS = ['overhead', 'writes', 'throughput', 'ladder', 'routing', 'real-routing'] as const;
type Part = (typeof PARTS)[number];

const PIPELINE = 'product-review';
const SAMPLE = 'wireless-headphones';
const THROUGHPUT_TASK = 'extract-features';
const DB = 'microtasks_suite';
const REAL_ROUTING_DEFAULT = path.join(ROOT, '.cache/bench/routing-real.json');

/** Worker options of the throughput configurations; `defaults` is the factory's options with the test registry's pool concurrency. */
const THROUGHPUT_CONFIGS: Record<string, { poolConcurrency?: number; orchestration?: WorkerTuning; pool?: WorkerTuning; note: string }> = {
  defaults: { poolConcurrency: 4, note: "the factory's worker options, pool concurrency 4" },
  threads2: { orchestration: { workflowThreadPoolSize: 2 }, note: 'pool concurrency {pc}, 2 workflow threads' },
  wide: {
    orchestration: { workflowThreadPoolSize: 2, maxConcurrentWorkflowTaskExecutions: 100, maxConcurrentLocalActivityExecutions: 200 },
    note: 'pool concurrency {pc}, 2 workflow threads, 100 workflow tasks at once',
  },
  pollers: {
    orchestration: { workflowThreadPoolSize: 2, maxConcurrentWorkflowTaskPolls: 20 },
    pool: { maxConcurrentActivityTaskPolls: 10 },
    note: 'pool concurrency {pc}, 2 workflow threads, 20 workflow task pollers, 10 activity task pollers',
  },
};

const { values: argv } = parseArgs({
  options: {
    only: { type: 'string' },
    chains: { type: 'string', default: '24' },
    warmup: { type: 'string', default: '4' },
    latencies: { type: 'string', default: '0,300' },
    workflows: { type: 'string', default: '400' },
    'pool-concurrency': { type: 'string', default: '50' },
    'throughput-configs': { type: 'string', default: 'defaults,threads2' },
    'with-real-routing': { type: 'string' },
    preload: { type: 'string' },
    out: { type: 'string', default: path.join(ROOT, '.cache/bench/suite.json') },
  },
});

const count = (name: string, v: string | undefined, min = 0) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer of at least ${min}, not ${v}`);
  return n;
};
const parts = new Set<Part>(
  argv.only
    ? argv.only.split(',').map((p) => {
        if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only: unknown part "${p}"; parts are ${PARTS.join(', ')}`);
        return p as Part;
      })
    : PARTS,
);
const CHAINS = count('chains', argv.chains, 1);
const WARMUP = count('warmup', argv.warmup);
const LATENCIES = argv.latencies!.split(',').map((v) => count('latencies', v));
const WORKFLOWS = count('workflows', argv.workflows, 1);
const POOL_CONCURRENCY = count('pool-concurrency', argv['pool-concurrency'], 1);
const TP_CONFIGS = argv['throughput-configs']!.split(',').map((c) => {
  if (!Object.hasOwn(THROUGHPUT_CONFIGS, c)) throw new Error(`--throughput-configs: unknown "${c}"; known: ${Object.keys(THROUGHPUT_CONFIGS).join(', ')}`);
  return c;
});

/** modules the workflow bundle evaluates once per workflow thread instead of once per workflow (paths from the repository root) */
const PRELOAD = argv.preload ? argv.preload.split(',').map((m) => path.resolve(ROOT, m)) : [];

const log = (line: string) => process.stderr.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------
// Figures

function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return s[lo]! + (s[hi]! - s[lo]!) * (i - lo);
}
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const stats = (xs: readonly number[]) => ({ n: xs.length, p50: quantile(xs, 0.5), p95: quantile(xs, 0.95), mean: mean(xs), min: Math.min(...xs), max: Math.max(...xs) });
type Stats = ReturnType<typeof stats>;
const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const share = (n: number) => `${(100 * n).toFixed(1)}%`;

function machine() {
  const git = (...a: string[]) => {
    try {
      return execFileSync('git', a, { cwd: ROOT, encoding: 'utf8' }).trim();
    } catch {
      return null;
    }
  };
  const cpus = os.cpus();
  // /proc/cpuinfo says more than the model name where the name is only the brand ("AMD EPYC")
  let cpuinfo = '';
  try {
    cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux
  }
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(cpuinfo)?.[1]?.trim();
  const detail = [field('cpu family') && `family ${field('cpu family')} model ${field('model')}`, field('cpu MHz') && `${Math.round(Number(field('cpu MHz')))} MHz`, /\bhypervisor\b/.test(field('flags') ?? '') && 'virtual machine'].filter(Boolean);
  return {
    cpuModel: `${cpus[0]?.model ?? 'unknown'}${detail.length > 0 ? ` (${detail.join(', ')})` : ''}`,
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    commit: git('rev-parse', 'HEAD'),
    dirty: (git('status', '--porcelain', '--untracked-files=no') ?? '') !== '',
    loadAverageAtStart: os.loadavg(),
    date: new Date().toISOString(),
  };
}

// ---------------------------------------------------------------------------------------------
// Postgres statements, timed at the pool: the production functions' own queries

type Statement = 'attemptInsert' | 'validationUpdate' | 'taskResult' | 'runStarted' | 'runFinished' | 'other';
const STATEMENTS: [RegExp, Statement][] = [
  [/^insert into "model_attempts"/i, 'attemptInsert'],
  [/^update "model_attempts"/i, 'validationUpdate'],
  [/^insert into "task_results"/i, 'taskResult'],
  [/^insert into "pipeline_runs"/i, 'runStarted'],
  [/^update "pipeline_runs"/i, 'runFinished'],
];

interface StatementTimer {
  /** the label the next statements are filed under; undefined: not timed */
  label: string | undefined;
  times: Map<string, Record<Statement, number[]>>;
}

function timeStatements(pool: pg.Pool): StatementTimer {
  const timer: StatementTimer = { label: undefined, times: new Map() };
  const query = pool.query.bind(pool) as (...a: unknown[]) => Promise<unknown>;
  (pool as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
    const label = timer.label;
    if (label === undefined || typeof a[a.length - 1] === 'function') return query(...a);
    const text = typeof a[0] === 'string' ? a[0] : ((a[0] as { text?: string }).text ?? '');
    const kind = STATEMENTS.find(([re]) => re.test(text))?.[1] ?? 'other';
    const started = performance.now();
    return query(...a).then((r) => {
      const by = timer.times.get(label) ?? { attemptInsert: [], validationUpdate: [], taskResult: [], runStarted: [], runFinished: [], other: [] };
      timer.times.set(label, by);
      by[kind].push(performance.now() - started);
      return r;
    });
  };
  return timer;
}

// ---------------------------------------------------------------------------------------------
// Overhead: the same pipeline through Temporal and in process

interface LatencyFigures {
  latencyMs: number;
  microTasksPerRun: number;
  runs: number;
  /** ms per micro-task, per run */
  temporal: Stats | undefined;
  inproc: Stats;
  /** (temporal − in process) / temporal, of the medians; of the means */
  overheadShare: number | undefined;
  overheadShareOfMeans: number | undefined;
  /** temporal − in process, ms per micro-task, of the medians */
  overheadMs: number | undefined;
  /** CPU over the timed runs of each mode */
  cpu: { temporal: CpuUse | undefined; inproc: CpuUse };
  cpuMsPerMicroTask: { temporal: Record<string, number> | undefined; inproc: Record<string, number> };
}

interface OverheadFigures {
  pipeline: string;
  sample: string;
  latencies: LatencyFigures[];
  /** completed runs of each mode and the rows written per run: they must be the same */
  rowsPerRun: Record<'temporal' | 'inproc', { runs: number; attempts: number; validated: number; taskResults: number }>;
  writes: WritesFigures;
  /** the history of one Temporal run */
  history: HistorySize | undefined;
}

interface WritesFigures {
  /** ms per attempt: attempt insert + validation update + task result (one attempt per micro-task here) */
  perAttempt: Stats;
  /** the same statements as the workers made them in the Temporal runs (for comparison; concurrent with the workflow's own work) */
  perAttemptTemporal: Stats | undefined;
  byStatement: Record<Statement, Stats>;
  /** the per-run rows (pipeline_runs insert + update), per micro-task of the chain */
  runRowsPerMicroTask: number;
  /** per-attempt p50 over the ms per micro-task, by latency and mode */
  shareOfMicroTask: { latencyMs: number; temporal: number | undefined; inproc: number }[];
}

function scriptChain(model: Harness['model'], delayMs: number): void {
  model.reset();
  for (const [format, value] of Object.entries(productReviewOutputs)) model.otherwise(format, { content: JSON.stringify(value), ...(delayMs > 0 ? { delayMs } : {}) });
}

function inProcessDeps(h: Harness): InProcessDeps {
  const models: Record<string, ModelActivities> = {};
  for (const [poolName, pool] of Object.entries(h.config.pools)) {
    models[poolName] = createModelActivities({ db: h.db, poolName, pool, client: createOpenAIClient(pool, undefined), registry: h.registry, getTask: getMicroTask });
  }
  return { records: createRecordActivities({ db: h.db, registry: () => h.registry }), models, logger: Runtime.instance().logger };
}

/** The size of a workflow's history: its events, and of them workflow tasks, activities, markers (local activities, patches) and search-attribute upserts. */
interface HistorySize {
  events: number;
  workflowTasks: number;
  activities: number;
  markers: number;
  searchAttributeUpserts: number;
}

async function historyOf(h: Harness, workflowId: string): Promise<HistorySize> {
  const events = (await h.env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  // event type numbers of temporal.api.enums.v1.EventType
  const n = (type: number) => events.filter((e) => Number(e.eventType) === type).length;
  return { events: events.length, workflowTasks: n(7), activities: n(10), markers: n(25), searchAttributeUpserts: n(40) };
}

async function backendPids(pool: pg.Pool): Promise<number[]> {
  const r = await pool.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database()');
  return r.rows.map((x) => x.pid);
}

async function overheadPhase(h: Harness, timer: StatementTimer, withTemporal: boolean): Promise<OverheadFigures> {
  const pipeline = getPipeline(PIPELINE);
  const input = sample(PIPELINE, SAMPLE);
  const deps = inProcessDeps(h);
  const microTasks = pipeline.steps.length;
  let lastWorkflowId = '';
  const runTemporal = async () => {
    const { workflowId, result } = await h.run(PIPELINE, input);
    if (result.status !== 'completed') throw new Error(`temporal run ended ${result.status}`);
    lastWorkflowId = workflowId;
  };
  const runInproc = async () => {
    const r = await runPipelineInProcess(deps, pipeline, input);
    if (r.status !== 'completed') throw new Error(`in-process run ended ${r.status}`);
  };
  const latencies: LatencyFigures[] = [];
  for (const latencyMs of LATENCIES) {
    scriptChain(h.model, latencyMs);
    log(`overhead: ${PIPELINE}, endpoint ${latencyMs} ms: ${WARMUP} warm-up run(s) and ${CHAINS} timed run(s) ${withTemporal ? 'each way, alternating' : 'in process'}`);
    for (let i = 0; i < WARMUP; i++) {
      if (withTemporal) await runTemporal();
      await runInproc();
    }
    const t: number[] = [];
    const p: number[] = [];
    const cpuOf: { temporal?: CpuUse; inproc?: CpuUse } = {};
    const pg = await backendPids(h.pgPool);
    for (let i = 0; i < CHAINS; i++) {
      // ABBA: each mode goes first in half the pairs, so drift in the machine's load hits both alike
      const order = i % 2 === 0 ? (['temporal', 'inproc'] as const) : (['inproc', 'temporal'] as const);
      for (const mode of order) {
        if (mode === 'temporal' && !withTemporal) continue;
        timer.label = `${mode}-${latencyMs}`;
        const before = cpuSnapshot({ postgres: pg });
        const started = performance.now();
        await (mode === 'temporal' ? runTemporal() : runInproc());
        const perTask = (performance.now() - started) / microTasks;
        cpuOf[mode] = addCpu(cpuOf[mode], cpuBetween(before, cpuSnapshot({ postgres: pg }), os.cpus().length));
        timer.label = undefined;
        (mode === 'temporal' ? t : p).push(perTask);
      }
    }
    const temporal = withTemporal ? stats(t) : undefined;
    const inproc = stats(p);
    const fig: LatencyFigures = {
      latencyMs,
      microTasksPerRun: microTasks,
      runs: CHAINS,
      temporal,
      inproc,
      overheadShare: temporal ? (temporal.p50 - inproc.p50) / temporal.p50 : undefined,
      overheadShareOfMeans: temporal ? (temporal.mean - inproc.mean) / temporal.mean : undefined,
      overheadMs: temporal ? temporal.p50 - inproc.p50 : undefined,
      cpu: { temporal: cpuOf.temporal, inproc: cpuOf.inproc! },
      cpuMsPerMicroTask: { temporal: cpuOf.temporal ? cpuPerMicroTask(cpuOf.temporal, CHAINS * microTasks) : undefined, inproc: cpuPerMicroTask(cpuOf.inproc!, CHAINS * microTasks) },
    };
    latencies.push(fig);
    log(
      `  ms per micro-task: ${temporal ? `temporal p50 ${ms(temporal.p50)} (p95 ${ms(temporal.p95)}), ` : ''}in process p50 ${ms(inproc.p50)} (p95 ${ms(inproc.p95)})${fig.overheadShare !== undefined ? `: overhead ${share(fig.overheadShare)}` : ''}`,
    );
    log(`  CPU ms per micro-task: ${fig.cpuMsPerMicroTask.temporal ? `temporal: ${cpuList(fig.cpuMsPerMicroTask.temporal)}; ` : ''}in process: ${cpuList(fig.cpuMsPerMicroTask.inproc)}`);
  }
  // both modes must have written the same rows per run
  const countBy = async (sql: string) => {
    const r = await h.pgPool.query<{ inproc: boolean; n: string }>(sql);
    return (inproc: boolean) => Number(r.rows.find((x) => x.inproc === inproc)?.n ?? 0);
  };
  const runs = await countBy(`select workflow_id like 'inproc-%' as inproc, count(*) as n from pipeline_runs where status = 'completed' group by 1`);
  const attempts = await countBy(`select workflow_id like 'inproc-%' as inproc, count(*) as n from model_attempts group by 1`);
  const validated = await countBy(`select workflow_id like 'inproc-%' as inproc, count(*) as n from model_attempts where valid is not null group by 1`);
  const tasks = await countBy(`select workflow_id like 'inproc-%' as inproc, count(*) as n from task_results group by 1`);
  const per = (inproc: boolean) => ({ runs: runs(inproc), attempts: attempts(inproc) / runs(inproc), validated: validated(inproc) / runs(inproc), taskResults: tasks(inproc) / runs(inproc) });
  const rowsPerRun = { temporal: per(false), inproc: per(true) };
  const same = (a: typeof rowsPerRun.inproc, b: typeof rowsPerRun.inproc) => a.runs === b.runs && a.attempts === b.attempts && a.validated === b.validated && a.taskResults === b.taskResults;
  if (withTemporal && !same(rowsPerRun.temporal, rowsPerRun.inproc)) {
    throw new Error(`the two modes wrote different rows per run: ${JSON.stringify(rowsPerRun)}`);
  }
  return { pipeline: PIPELINE, sample: SAMPLE, latencies, rowsPerRun, writes: writesOf(timer, latencies, microTasks), history: lastWorkflowId ? await historyOf(h, lastWorkflowId) : undefined };
}

function writesOf(timer: StatementTimer, latencies: LatencyFigures[], microTasks: number): WritesFigures {
  const all: Record<Statement, number[]> = { attemptInsert: [], validationUpdate: [], taskResult: [], runStarted: [], runFinished: [], other: [] };
  const perAttempt: number[] = [];
  const perAttemptTemporal: number[] = [];
  for (const [label, by] of timer.times) {
    // one attempt per micro-task here: the i-th insert, update and task result belong together
    if (by.attemptInsert.length !== by.validationUpdate.length || by.attemptInsert.length !== by.taskResult.length) {
      throw new Error(`${label}: ${by.attemptInsert.length} attempt inserts, ${by.validationUpdate.length} validation updates, ${by.taskResult.length} task results`);
    }
    const into = label.startsWith('inproc-') ? perAttempt : perAttemptTemporal;
    by.attemptInsert.forEach((t, i) => into.push(t + by.validationUpdate[i]! + by.taskResult[i]!));
    if (label.startsWith('inproc-')) for (const k of Object.keys(all) as Statement[]) all[k].push(...by[k]);
  }
  const byStatement = Object.fromEntries(Object.entries(all).map(([k, v]) => [k, stats(v)])) as Record<Statement, Stats>;
  const pa = stats(perAttempt);
  return {
    perAttempt: pa,
    perAttemptTemporal: perAttemptTemporal.length > 0 ? stats(perAttemptTemporal) : undefined,
    byStatement,
    runRowsPerMicroTask: (byStatement.runStarted.p50 + byStatement.runFinished.p50) / microTasks,
    shareOfMicroTask: latencies.map((l) => ({ latencyMs: l.latencyMs, temporal: l.temporal ? pa.p50 / l.temporal.p50 : undefined, inproc: pa.p50 / l.inproc.p50 })),
  };
}

// ---------------------------------------------------------------------------------------------
// Throughput: many runTask workflows at once, instant endpoint

interface ThroughputFigures {
  config: string;
  note: string;
  workflows: number;
  wallS: number;
  microTasksPerS: number;
  /** start to result of each workflow, ms */
  latency: Stats;
  cpu: CpuUse;
  /** CPU ms per micro-task, by process */
  cpuMsPerMicroTask: Record<string, number>;
  /** micro-tasks a second if the benchmark's processes had every core to themselves at this CPU per micro-task */
  cpuCeilingPerS: number;
  /** the history of one runTask workflow */
  history: HistorySize;
}

/** CPU ms per micro-task by process: this one, its children (the Temporal server), Postgres, and the machine's other work. */
function cpuPerMicroTask(cpu: CpuUse, microTasks: number): Record<string, number> {
  const per = (s: number) => (1000 * s) / microTasks;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(cpu.selfThreads).sort((a, b) => b[1] - a[1])) if (v > 0) out[`bench ${k}`] = per(v);
  for (const [k, v] of Object.entries(cpu.children)) if (v > 0) out[k] = per(v);
  for (const [k, v] of Object.entries(cpu.others)) out[k] = per(v);
  out['other work'] = per(cpu.rest);
  return out;
}

async function throughputPhase(name: string, common: { temporalCli: string; workflowBundle: string }): Promise<ThroughputFigures> {
  const c = THROUGHPUT_CONFIGS[name]!;
  const poolConcurrency = c.poolConcurrency ?? POOL_CONCURRENCY;
  const databaseUrl = await freshDatabase(`${DB}_tp_${name}`);
  const h = await startHarness({
    ...common,
    databaseUrl,
    probe: false,
    poolWaitSeconds: 120,
    adjust: (r) => Object.values(r.pools).forEach((p) => Object.assign(p, { stream: true, concurrency: poolConcurrency })),
    ...(c.orchestration ? { orchestrationTuning: c.orchestration } : {}),
    ...(c.pool ? { poolTuning: c.pool } : {}),
  });
  nameNewThreads('workers');
  try {
    const task = getMicroTask(THROUGHPUT_TASK);
    const pipeline = getPipeline(PIPELINE);
    const first = pipeline.steps.find((s) => s.task.name === THROUGHPUT_TASK)!;
    const state = { input: pipeline.input.parse(sample(PIPELINE, SAMPLE)), results: {} };
    const req = { task: THROUGHPUT_TASK, input: first.input(state), context: first.context?.(state) ?? [] };
    h.model.otherwise(task.formatName, { content: JSON.stringify(productReviewOutputs.extract_features) });
    let lastWorkflowId = '';
    const one = async () => {
      const started = performance.now();
      const workflowId = `tp-${randomUUID()}`;
      lastWorkflowId = workflowId;
      const handle = await h.env.client.workflow.start<typeof runTask>('runTask', { taskQueue: ORCHESTRATION_QUEUE, workflowId, args: [req] });
      const r = await handle.result();
      if (r.status !== 'completed') throw new Error(`runTask ended ${r.status}`);
      return performance.now() - started;
    };
    const warm = Math.min(20, WORKFLOWS);
    log(`throughput (${name}): ${warm} warm-up workflows, then ${WORKFLOWS} ${THROUGHPUT_TASK} runTask workflows at once`);
    await Promise.all(Array.from({ length: warm }, one));
    const pgBefore = await backendPids(h.pgPool);
    const before = cpuSnapshot({ postgres: pgBefore });
    const started = performance.now();
    const latencies = await Promise.all(Array.from({ length: WORKFLOWS }, one));
    const wallS = (performance.now() - started) / 1000;
    const cpu = cpuBetween(before, cpuSnapshot({ postgres: [...new Set([...pgBefore, ...(await backendPids(h.pgPool))])] }), os.cpus().length);
    const done = await h.pgPool.query<{ n: string }>(`select count(*) as n from task_results where status = 'valid' and workflow_id like 'tp-%'`);
    if (Number(done.rows[0]!.n) !== WORKFLOWS + warm) throw new Error(`${done.rows[0]!.n} valid task results, expected ${WORKFLOWS + warm}`);
    const cpuMsPerMicroTask = cpuPerMicroTask(cpu, WORKFLOWS);
    const cpuMs = Object.entries(cpuMsPerMicroTask).reduce((t, [k, v]) => (k === 'other work' ? t : t + v), 0);
    const fig: ThroughputFigures = {
      config: name,
      note: c.note.replace('{pc}', String(poolConcurrency)),
      workflows: WORKFLOWS,
      wallS,
      microTasksPerS: WORKFLOWS / wallS,
      latency: stats(latencies),
      cpu,
      cpuMsPerMicroTask,
      cpuCeilingPerS: (1000 * cpu.cores) / cpuMs,
      history: await historyOf(h, lastWorkflowId),
    };
    log(`  ${fig.microTasksPerS.toFixed(1)} micro-tasks/s (${WORKFLOWS} in ${wallS.toFixed(2)} s); ${cpuLine(cpu)}`);
    return fig;
  } finally {
    await h.stop();
  }
}

const cpuList = (r: Record<string, number>) =>
  Object.entries(r)
    .filter(([k, v]) => v >= 0.05 || k === 'other work')
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(', ');

/** Cores each process kept busy on average over the phase. */
function cpuLine(cpu: CpuUse): string {
  const cores = (s: number) => (s / cpu.wallS).toFixed(2);
  const parts = [`bench process ${cores(cpu.selfS)}`, ...Object.entries(cpu.children).filter(([, v]) => v > 0.005).map(([k, v]) => `${k} ${cores(v)}`), ...Object.entries(cpu.others).map(([k, v]) => `${k} ${cores(v)}`), `other work ${cores(cpu.rest)}`];
  return `cores busy of ${cpu.cores}: machine ${cores(cpu.machineS)} = ${parts.join(', ')}`;
}

// ---------------------------------------------------------------------------------------------
// The real-model routing benchmark's figures, when there are some

interface RealRouting {
  file: string;
  /** the file's own date, else its modification time */
  date: string;
  commit: string | null;
  headline: [string, string][];
}

function readRealRouting(file: string): RealRouting {
  const j = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  const str = (...keys: string[]) => {
    for (const k of keys) {
      const v = j[k] ?? (j.machine as Record<string, unknown> | undefined)?.[k];
      if (typeof v === 'string' && v) return v;
    }
    return null;
  };
  const scalar = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? int(v) : String(Number(v.toPrecision(3)))) : typeof v === 'string' || typeof v === 'boolean' ? String(v) : undefined);
  let headline: [string, string][] = [];
  if (j.headline && typeof j.headline === 'object') {
    headline = Object.entries(j.headline as Record<string, unknown>).flatMap(([k, v]) => (scalar(v) !== undefined ? [[k, scalar(v)!] as [string, string]] : []));
  } else {
    // no headline: the top-level numbers and each configuration's, as far as they go
    headline = Object.entries(j).flatMap(([k, v]) => (typeof v === 'number' ? [[k, scalar(v)!] as [string, string]] : []));
    const configs = (j.configs ?? j.rows) as unknown;
    const list = Array.isArray(configs) ? configs : configs && typeof configs === 'object' ? Object.entries(configs).map(([k, v]) => ({ config: k, ...(v as object) })) : [];
    for (const c of list as Record<string, unknown>[]) {
      const name = String(c.config ?? c.name ?? '?');
      for (const [k, v] of Object.entries(c)) if (k !== 'config' && k !== 'name' && typeof v === 'number') headline.push([`${name} ${k}`, scalar(v)!]);
    }
  }
  const date = str('date', 'measuredAt', 'at') ?? `${fs.statSync(file).mtime.toISOString().slice(0, 16)}Z (file date)`;
  return { file: path.relative(ROOT, file) || file, date, commit: str('commit'), headline: headline.slice(0, 8) };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const wallStart = Date.now();
  nameNewThreads('process');
  // the core's warnings (a workflow task over 5 s on a busy machine, hundreds of them) are counted, a few shown
  const warnings = { count: 0, shown: new Set<string>() };
  const logger = new DefaultLogger('WARN', (e) => {
    if (e.level !== 'WARN') return log(`${e.level}: ${e.message}`);
    warnings.count++;
    const key = e.message.replace(/\S*\d\S*/g, '#').slice(0, 80);
    if (warnings.shown.has(key) || warnings.shown.size >= 5) return;
    warnings.shown.add(key);
    log(`warning (the first of its kind): ${e.message.slice(0, 300)}`);
  });
  Runtime.install({ logger, telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } } });
  const m = machine();
  log(`${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, node ${m.node}, commit ${m.commit?.slice(0, 7)}${m.dirty ? ' (with uncommitted changes)' : ''}, load ${m.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}`);
  const needsTemporal = [...parts].some((p) => p !== 'real-routing');
  const temporalCli = needsTemporal ? ensureTemporalCli(log) : '';
  const workflowBundle = needsTemporal ? (await bundleWorkflows({ preloadModules: PRELOAD })).code : '';
  if (PRELOAD.length > 0) log(`workflow bundle with preloaded modules: ${PRELOAD.map((m) => path.relative(ROOT, m)).join(', ')}`);
  const common = { temporalCli, workflowBundle };
  const figures: {
    overhead?: OverheadFigures;
    throughput?: ThroughputFigures[];
    ladder?: RepairLadderFigures;
    routing?: RoutingFigures;
    realRouting?: RealRouting | { file: string; error: string };
  } = {};

  if (parts.has('overhead') || parts.has('writes')) {
    const h = await startHarness({
      ...common,
      databaseUrl: await freshDatabase(DB),
      probe: false,
      // the pools stream, as the shipped local pools do
      adjust: (r) => Object.values(r.pools).forEach((p) => (p.stream = true)),
    });
    nameNewThreads('workers');
    try {
      const timer = timeStatements(h.pgPool);
      figures.overhead = await overheadPhase(h, timer, parts.has('overhead'));
    } finally {
      await h.stop();
    }
  }
  if (parts.has('throughput')) {
    figures.throughput = [];
    for (const c of TP_CONFIGS) figures.throughput.push(await throughputPhase(c, common));
  }
  if (parts.has('ladder')) {
    log('ladder: the scripted corpus under the ladder, the fair and the strict re-ask');
    figures.ladder = await runRepairLadder({ ...common, database: `${DB}_ladder`, log: () => undefined });
    log(`  ${Math.round(figures.ladder.wallS)} s`);
  }
  if (parts.has('routing')) {
    log('routing: routed, all-small, all-large');
    figures.routing = await runRouting({ ...common, databasePrefix: `${DB}_routing`, log: () => undefined });
    log(`  ${Math.round(figures.routing.wallS)} s`);
  }
  if (parts.has('real-routing')) {
    const file = argv['with-real-routing'] ?? (fs.existsSync(REAL_ROUTING_DEFAULT) ? REAL_ROUTING_DEFAULT : undefined);
    if (file) {
      try {
        figures.realRouting = readRealRouting(path.resolve(file));
      } catch (err) {
        figures.realRouting = { file, error: err instanceof Error ? err.message : String(err) };
      }
    }
  }

  const rows = tableRows(figures);
  // the machine's CPU not spent by this benchmark during its timed phases: how quiet the machine was
  const phases: CpuUse[] = [
    ...(figures.overhead?.latencies.flatMap((l) => [l.cpu.inproc, ...(l.cpu.temporal ? [l.cpu.temporal] : [])]) ?? []),
    ...(figures.throughput?.map((t) => t.cpu) ?? []),
  ];
  const otherCores = phases.length > 0 ? Math.max(...phases.map((c) => c.rest / c.wallS)) : undefined;
  const out = { machine: m, otherWorkCores: otherCores, warnings: warnings.count, args: { parts: [...parts], chains: CHAINS, warmup: WARMUP, latencies: LATENCIES, workflows: WORKFLOWS, poolConcurrency: POOL_CONCURRENCY, throughputConfigs: TP_CONFIGS, preload: PRELOAD.map((m) => path.relative(ROOT, m)) }, wallS: (Date.now() - wallStart) / 1000, figures, table: rows };
  const header = `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, node ${m.node}, commit ${m.commit?.slice(0, 7) ?? '?'}${m.dirty ? '+' : ''}, ${m.date.slice(0, 16)}Z, load at start ${m.loadAverageAtStart[0]!.toFixed(2)}${
    PRELOAD.length > 0 ? `; workflow bundle with preloaded ${PRELOAD.map((x) => path.relative(ROOT, x)).join(', ')} (not as shipped)` : ''
  }${otherCores !== undefined ? `; other work on the machine during the timed phases: up to ${otherCores.toFixed(2)} of ${m.cores} cores${otherCores > 0.2 ? ' (noisy: timings are not comparable with a quiet run)' : ''}` : ''}${
    warnings.count > 0 ? `; ${warnings.count} warning(s) from the Temporal SDK` : ''
  }`;
  fs.mkdirSync(path.dirname(argv.out!), { recursive: true });
  fs.writeFileSync(argv.out!, `${JSON.stringify({ ...out, header }, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
}

/**
 * The suite runs in a child process whose stdout goes to stderr with its progress lines: the
 * Temporal dev servers it starts write their banners to the stdout they inherit. This process
 * prints the one table, from the JSON the child wrote.
 */
function parent(): void {
  const started = Date.now();
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: ['inherit', 2, 'inherit'],
    env: { ...process.env, BENCH_SUITE_CHILD: '1' },
  });
  if (child.status !== 0) {
    console.error(`the benchmark suite failed (${child.signal ?? `exit code ${child.status}`})`);
    process.exit(child.status ?? 1);
  }
  const out = JSON.parse(fs.readFileSync(argv.out!, 'utf8')) as { header: string; table: string[][] };
  console.log(`${out.header}\n`);
  console.log(table(['#', 'measure', 'result', 'goal', 'detail'], out.table));
  console.log(`\n(${Math.round((Date.now() - started) / 1000)} s; figures in ${path.relative(process.cwd(), argv.out!) || argv.out})`);
}

function tableRows(f: {
  overhead?: OverheadFigures;
  throughput?: ThroughputFigures[];
  ladder?: RepairLadderFigures;
  routing?: RoutingFigures;
  realRouting?: RealRouting | { file: string; error: string };
}): string[][] {
  const rows: string[][] = [];
  const met = (ok: boolean) => (ok ? 'met' : 'not met');
  const hist = (x: HistorySize | undefined) => (x ? `${x.events} history events (${x.workflowTasks} workflow tasks, ${x.activities} activities, ${x.markers} markers, ${x.searchAttributeUpserts} search-attribute upserts)` : '');
  if (f.overhead) {
    const o = f.overhead;
    for (const l of o.latencies) {
      if (!l.temporal) continue;
      const goal = l.latencyMs === 300 ? `≤ 5%: ${met(l.overheadShare! <= 0.05)}` : '–';
      rows.push([
        '1',
        `Temporal's overhead per micro-task, endpoint ${l.latencyMs} ms`,
        `**${share(l.overheadShare!)}** (${ms(l.overheadMs!)} of ${ms(l.temporal.p50)} ms)`,
        goal,
        `(temporal − in process) / temporal of the median ms per micro-task, ${l.runs} ${o.pipeline} runs each way (${l.microTasksPerRun} micro-tasks, one run at a time, alternating): temporal ${ms(l.temporal.p50)} (p95 ${ms(l.temporal.p95)}), in process ${ms(l.inproc.p50)} (p95 ${ms(l.inproc.p95)}); of the means ${share(l.overheadShareOfMeans!)}. CPU ms per micro-task on Temporal: ${cpuList(l.cpuMsPerMicroTask.temporal!)}; in process: ${cpuList(l.cpuMsPerMicroTask.inproc)}${o.history ? `. A run: ${hist(o.history)}` : ''}`,
      ]);
    }
    const w = o.writes;
    const s = w.byStatement;
    rows.push([
      '3',
      'Postgres writes per attempt (attempt insert + validation update + task result)',
      `p50 ${ms(w.perAttempt.p50)} ms, p95 ${ms(w.perAttempt.p95)} ms`,
      '–',
      `timed at the pg pool in ${w.perAttempt.n} in-process attempts (one per micro-task): insert p50 ${ms(s.attemptInsert.p50)} / p95 ${ms(s.attemptInsert.p95)}, validation update ${ms(s.validationUpdate.p50)} / ${ms(s.validationUpdate.p95)}, task result ${ms(s.taskResult.p50)} / ${ms(s.taskResult.p95)} ms. Share of a micro-task (p50 over p50): ${w.shareOfMicroTask
        .map((x) => `endpoint ${x.latencyMs} ms: ${x.temporal !== undefined ? `${share(x.temporal)} on Temporal, ` : ''}${share(x.inproc)} in process`)
        .join('; ')}. The run's own rows (pipeline_runs insert and update) add ${ms(w.runRowsPerMicroTask)} ms per micro-task`,
    ]);
  }
  for (const t of f.throughput ?? []) {
    rows.push([
      '2',
      `Micro-tasks per second, instant endpoint (${t.config})`,
      `**${t.microTasksPerS.toFixed(1)}/s**`,
      `≥ 100/s: ${met(t.microTasksPerS >= 100)}`,
      `${t.workflows} ${THROUGHPUT_TASK} runTask workflows started at once, done in ${t.wallS.toFixed(2)} s (each p50 ${ms(t.latency.p50)} / p95 ${ms(t.latency.p95)} ms start to result); ${t.note}. ${cpuLine(t.cpu)}. CPU ms per micro-task: ${cpuList(t.cpuMsPerMicroTask)}: with both cores to themselves at most ${t.cpuCeilingPerS.toFixed(0)}/s. A workflow: ${hist(t.history)}`,
    ]);
  }
  if (f.ladder) {
    const L = f.ladder.strategies;
    const x = (k: keyof typeof L) => `${L[k].fixed}/${L[k].cases} fixed, ${int(L[k].total)} tokens after the first call`;
    rows.push([
      '4',
      `Repair ladder against re-asking, scripted corpus (${f.ladder.cases} cases)`,
      `ladder / fair re-ask tokens **${f.ladder.ratios.reaskFair.toFixed(2)}**, / strict ${f.ladder.ratios.reask.toFixed(2)}`,
      `as many fixed as the fair re-ask with ≤ ⅓ of its tokens: ${met(f.ladder.goalMet)}`,
      `ladder ${x('ladder')}; fair re-ask ${x('reask-fair')}; strict re-ask ${x('reask')}`,
    ]);
  }
  if (f.routing) {
    const C = f.routing.configs;
    const x = (k: keyof typeof C) => `${C[k].valid}/${C[k].executions} valid, ${C[k].largeCalls} calls on large, $${C[k].costUsd.toFixed(6)}`;
    rows.push([
      '5',
      `Routing against all-large and all-small, scripted workload (${f.routing.executions} executions)`,
      `routed **${share(f.routing.savingVsLarge)}** cheaper than all-large`,
      `≥ 80% cheaper at all-large's validity: ${met(f.routing.savingVsLarge >= 0.8 && C.routed.valid >= C['all-large'].valid)}`,
      `routed ${x('routed')}; all-large ${x('all-large')}; all-small ${x('all-small')}`,
    ]);
  }
  if (f.realRouting) {
    const r = f.realRouting;
    if ('error' in r) rows.push(['5', 'Routing on the real models', `unreadable: ${r.error}`, '–', r.file]);
    else rows.push(['5', `Routing on the real models (${r.date}, commit ${r.commit?.slice(0, 7) ?? 'unknown'})`, r.headline.slice(0, 3).map(([k, v]) => `${k} ${v}`).join(', ') || '–', '–', `${r.headline.map(([k, v]) => `${k} ${v}`).join('; ')} (from ${r.file}, not measured in this run)`]);
  }
  return rows.sort((a, b) => Number(a[0]) - Number(b[0]));
}

if (process.env.BENCH_SUITE_CHILD === '1') {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  parent();
}
