/**
 * Repair strategies on the corpus of real failures (test/corpus/real/cases.jsonl), against the
 * real local models. Not a test: it prints a markdown report from the recorded rows.
 *
 *   node_modules/.bin/tsx test/bench/real-corpus.ts [--strategies ladder,reask-fair,reask]
 *     [--cases N] [--tasks a,b] [--include-passing] [--out results.json]
 *
 * Each case runs the `runTask` workflow once per strategy, back to back, on a Temporal dev server
 * and a fresh database of its own, with the shipped registry's pools (streaming, their timeouts
 * and escalation) behind a replay proxy: the first chat completion is answered with the case's
 * recorded output, on the pool that gave it, and every later call goes to the real model server.
 * So every strategy starts from the same real failure and pays real calls for what follows.
 * Figures are "after the first call": calls, and prompt and completion tokens as the server
 * reports them. Correct: the outcome is valid and every labelled field passes the comparator its
 * pipeline's evaluation declares (cases with a label only).
 *
 * Cases whose first output today's contracts accept are skipped unless --include-passing.
 * --cases N takes the first N cases after interleaving the tasks, so a small run sees several.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { DEFAULT_REGISTRY } from '../../config/env.js';
import { ORCHESTRATION_QUEUE } from '../../config/load.js';
import type { LadderBudget } from '../../core/ladder/budget.js';
import { RegistryConfig } from '../../core/registry.js';
import { modelAttempts, taskResults, type ModelAttemptRow } from '../../db/schema.js';
import { ROOT } from '../../infra/paths.js';
import { ensureTemporalCli } from '../../infra/temporal.js';
import { bundleWorkflows } from '../../workers/factory.js';
import type { runTask } from '../../workflows/pipeline.js';
import { freshDatabase } from '../support/database.js';
import { startHarness, type Harness } from '../support/harness.js';
import { ReplayFirstProxy } from '../support/replay-first-proxy.js';
import { CASES_FILE, judgeToday, loadCases, scoreAgainstLabel, type RealCase } from './real-cases.js';
import { int, pct, ratio, table } from './format.js';

const BENCH_DB = 'microtasks_bench_real';
const POOLS = ['small', 'large'] as const;
/**
 * What this benchmark can run, each a ladder budget: the ladder; the ladder without the repair
 * rules of real failures (ungrounded to null, stalls, candidate spans, non-critical to null) as it
 * was before them, and without the first of them alone; the
 * fair (`reask-fair`) and the strict (`reask`, instructor's three attempts) re-ask.
 */
const NEW_RULES = ['ungroundedToNull', 'stalls', 'candidateSpans', 'nonCriticalToNull'] as const;
const BUDGETS = {
  ladder: { strategy: 'ladder' },
  'ladder-before': { strategy: 'ladder', ablate: NEW_RULES },
  'ladder-no-null': { strategy: 'ladder', ablate: ['ungroundedToNull'] },
  'reask-fair': { strategy: 'reask-fair' },
  reask: { strategy: 'reask', maxAttempts: 3 },
} satisfies Record<string, Partial<LadderBudget>>;
const STRATEGIES = Object.keys(BUDGETS) as (keyof typeof BUDGETS)[];
type Strategy = keyof typeof BUDGETS;
type Outcome = 'valid' | 'partial' | 'failed';
/** the rung whose output was valid; `deterministic`: the first output, fixed without a call; `as-is`: the first output passes today */
type Rung = 'as-is' | 'deterministic' | ModelAttemptRow['kind'];

const log = (line: string) => process.stdout.write(`${line}\n`);

interface Options {
  strategies: Strategy[];
  cases: number | undefined;
  tasks: string[] | undefined;
  includePassing: boolean;
  out: string | undefined;
  file: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      strategies: { type: 'string' },
      cases: { type: 'string' },
      tasks: { type: 'string' },
      'include-passing': { type: 'boolean', default: false },
      out: { type: 'string' },
      file: { type: 'string', default: CASES_FILE },
    },
  });
  const strategies = (values.strategies?.split(',').map((s) => s.trim()).filter(Boolean) ?? ['ladder', 'reask-fair', 'reask']) as Strategy[];
  const unknown = strategies.filter((s) => !STRATEGIES.includes(s));
  if (unknown.length > 0) throw new Error(`--strategies: ${unknown.join(', ')} unknown; use some of ${STRATEGIES.join(', ')}`);
  if (new Set(strategies).size !== strategies.length || strategies.length === 0) throw new Error('--strategies: name each strategy once');
  const cases = values.cases === undefined ? undefined : Number(values.cases);
  if (cases !== undefined && !(Number.isInteger(cases) && cases > 0)) throw new Error(`--cases: a positive whole number, not ${values.cases}`);
  return {
    strategies,
    cases,
    tasks: values.tasks?.split(',').map((s) => s.trim()).filter(Boolean),
    includePassing: values['include-passing'],
    out: values.out,
    file: values.file,
  };
}

/** The cases to run, and why the others are not run. */
function selectCases(all: readonly RealCase[], o: Options): { run: RealCase[]; skipped: { id: string; why: string }[] } {
  const skipped: { id: string; why: string }[] = [];
  let pool = [...all];
  if (o.tasks) {
    const unknown = o.tasks.filter((t) => !all.some((c) => c.task === t));
    if (unknown.length > 0) throw new Error(`--tasks: no cases of ${unknown.join(', ')}; tasks in the corpus: ${[...new Set(all.map((c) => c.task))].join(', ')}`);
    pool = pool.filter((c) => o.tasks!.includes(c.task));
  }
  pool = pool.filter((c) => {
    // judged again: the contracts may have changed since the corpus was collected
    const today = judgeToday(c, c.firstAttempt.rawOutput, c.firstAttempt.finishReason);
    if (!today.inputValid) skipped.push({ id: c.id, why: "its input no longer satisfies the task's input schema" });
    else if (!today.fails && !o.includePassing) skipped.push({ id: c.id, why: "today's contracts accept its first output" });
    else return true;
    return false;
  });
  // interleaved by task, so the first N of a small run are of different tasks
  const byTask = new Map<string, RealCase[]>();
  for (const c of pool) byTask.set(c.task, [...(byTask.get(c.task) ?? []), c]);
  const interleaved: RealCase[] = [];
  for (let i = 0; interleaved.length < pool.length; i++) for (const list of byTask.values()) if (list[i]) interleaved.push(list[i]!);
  return { run: o.cases === undefined ? interleaved : interleaved.slice(0, o.cases), skipped };
}

/** The shipped registry, its pools behind the proxy; routes are set per case. */
function benchRegistry(proxy: ReplayFirstProxy, into: RegistryConfig): void {
  const shipped = RegistryConfig.parse(JSON.parse(fs.readFileSync(DEFAULT_REGISTRY, 'utf8')));
  for (const p of POOLS) if (!shipped.pools[p]) throw new Error(`${DEFAULT_REGISTRY} has no pool ${p}`);
  into.version = `bench-real-${shipped.version}`;
  into.defaultPool = shipped.defaultPool;
  into.poolWaitSeconds = shipped.poolWaitSeconds;
  // kind openai: the proxy tells the probe from the calls by response_format's schema name, which llama.cpp's server reads as it does its own json_schema
  into.pools = Object.fromEntries(POOLS.map((p) => [p, { ...shipped.pools[p]!, kind: 'openai' as const, baseUrl: proxy.baseUrlOf(p), stream: true }]));
  into.routes = {};
  into.shadow = {};
  into.reference = shipped.reference;
}

async function startBench(proxy: ReplayFirstProxy): Promise<Harness> {
  // the workflows' ladder-decision logs and failed-workflow warnings would drown the progress lines
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const temporalCli = ensureTemporalCli((l) => log(l));
  const databaseUrl = await freshDatabase(BENCH_DB);
  log(`postgres: fresh database ${BENCH_DB}, migrated`);
  const workflowBundle = (await bundleWorkflows()).code;
  log('workflow bundle built; starting workers (the pools are probed through the proxy)');
  return startHarness({ temporalCli, databaseUrl, workflowBundle, adjust: (r) => benchRegistry(proxy, r) });
}

interface Measured {
  id: string;
  task: string;
  strategy: Strategy;
  firstPool: string;
  /** false: the recorded output answered an earlier wording of today's prompt */
  promptMatchesToday: boolean;
  workflowId: string;
  outcome: Outcome;
  rung: Rung | null;
  reason: string | null;
  /** undefined: the case has no label */
  correct: boolean | undefined;
  fieldsCorrect: number;
  fieldsScored: number;
  callsAfterFirst: number;
  failedCallsAfterFirst: number;
  escalated: boolean;
  promptAfterFirst: number;
  completionAfterFirst: number;
  /** later calls whose usage the server did not report, so it was estimated */
  estimatedAfterFirst: number;
  /** model time of the later calls, from their rows */
  modelMsAfterFirst: number;
  wallMs: number;
  /** what went wrong with the replay itself, if anything: the figures are then not comparable */
  replayProblem: string | null;
}

function rungOf(outcome: Outcome, rows: readonly ModelAttemptRow[]): Rung | null {
  if (outcome !== 'valid') return null;
  const valid = rows.find((r) => r.valid === true);
  if (!valid) return null;
  if (valid.attemptNo !== 1) return valid.kind;
  return Array.isArray(valid.fixes) && valid.fixes.length > 0 ? 'deterministic' : 'as-is';
}

async function measure(bench: Harness, proxy: ReplayFirstProxy, c: RealCase, strategy: Strategy): Promise<Measured> {
  const pool = c.firstAttempt.pool;
  // the first call goes where the recorded one went
  bench.registry.routes = { [c.task]: pool };
  const from = proxy.requests.length;
  proxy.arm(pool, {
    content: c.firstAttempt.rawOutput,
    finishReason: c.firstAttempt.finishReason,
    usage: c.firstAttempt.tokensEstimated ? null : { prompt: c.firstAttempt.promptTokens, completion: c.firstAttempt.completionTokens },
    model: c.firstAttempt.model,
  });
  const workflowId = `bench-real-${strategy}-${c.id}-${randomUUID().slice(0, 8)}`;
  const started = Date.now();
  const handle = await bench.env.client.workflow.start<typeof runTask>('runTask', {
    taskQueue: ORCHESTRATION_QUEUE,
    workflowId,
    args: [{ task: c.task, input: c.input, context: c.context as NonNullable<Parameters<typeof runTask>[0]['context']>, budget: BUDGETS[strategy] as Partial<LadderBudget> }],
  });
  await handle.result().catch(() => undefined); // a failed micro-task is an outcome, read from its rows
  const wallMs = Date.now() - started;
  const unused = proxy.disarm();
  const rows = await bench.db.select().from(modelAttempts).where(eq(modelAttempts.workflowId, workflowId)).orderBy(modelAttempts.id);
  const [result] = await bench.db.select().from(taskResults).where(eq(taskResults.workflowId, workflowId));
  const proxied = proxy.requests.slice(from);
  const [first, ...later] = rows;
  const problems: string[] = [];
  if (unused) problems.push('the recorded output was never asked for');
  if (first && (first.rawOutput !== c.firstAttempt.rawOutput || first.pool !== pool)) problems.push(`the first call was not the replay (pool ${first.pool})`);
  if (proxied.length !== rows.length) problems.push(`${proxied.length} requests through the proxy but ${rows.length} attempt rows`);
  const outcome: Outcome = result?.status ?? 'failed';
  const score = scoreAgainstLabel(c, outcome, result?.output ?? null);
  return {
    id: c.id,
    task: c.task,
    strategy,
    firstPool: pool,
    promptMatchesToday: c.promptMatchesToday,
    workflowId,
    outcome,
    rung: rungOf(outcome, rows),
    reason: result?.reason ?? (result ? null : 'no task result recorded'),
    correct: score?.correct,
    fieldsCorrect: score?.fieldsCorrect ?? 0,
    fieldsScored: score?.fieldsScored ?? 0,
    callsAfterFirst: later.length,
    failedCallsAfterFirst: later.filter((r) => r.error !== null).length,
    escalated: later.some((r) => r.pool !== pool),
    promptAfterFirst: later.reduce((t, r) => t + r.promptTokens, 0),
    completionAfterFirst: later.reduce((t, r) => t + r.completionTokens, 0),
    estimatedAfterFirst: later.filter((r) => r.tokensEstimated).length,
    modelMsAfterFirst: later.reduce((t, r) => t + r.latencyMs, 0),
    wallMs,
    replayProblem: problems.length > 0 ? problems.join('; ') : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

const secs = (ms: number) => `${(ms / 1000).toFixed(0)} s`;

function sum(ms: readonly Measured[]) {
  const s = { cases: ms.length, fixed: 0, partial: 0, failed: 0, labelled: 0, correct: 0, fieldsCorrect: 0, fieldsScored: 0, calls: 0, prompt: 0, completion: 0, estimated: 0, wallMs: 0, escalated: 0 };
  for (const m of ms) {
    if (m.outcome === 'valid') s.fixed++;
    else if (m.outcome === 'partial') s.partial++;
    else s.failed++;
    if (m.correct !== undefined) s.labelled++;
    if (m.correct) s.correct++;
    s.fieldsCorrect += m.fieldsCorrect;
    s.fieldsScored += m.fieldsScored;
    s.calls += m.callsAfterFirst;
    s.prompt += m.promptAfterFirst;
    s.completion += m.completionAfterFirst;
    s.estimated += m.estimatedAfterFirst;
    s.wallMs += m.wallMs;
    if (m.escalated) s.escalated++;
  }
  return { ...s, tokens: s.prompt + s.completion };
}

function report(strategies: readonly Strategy[], results: readonly Measured[], skipped: number): string {
  const of = (s: Strategy, ms = results) => ms.filter((m) => m.strategy === s);
  const caseCount = new Set(results.map((m) => m.id)).size;
  const out: string[] = [];
  out.push(`## Repair strategies on real first-attempt failures (${caseCount} cases${skipped > 0 ? `, ${skipped} skipped` : ''})`);
  out.push('');
  out.push(
    table(
      ['strategy', 'fixed (valid)', 'correct / labelled', 'labelled fields right', 'partial', 'failed', 'escalated', 'calls after the first', 'prompt tokens after the first', 'completion tokens after the first', 'wall time (mean per case)'],
      strategies.map((s) => {
        const x = sum(of(s));
        return [
          s,
          `${x.fixed}/${x.cases} (${pct(x.fixed, x.cases)})`,
          `${x.correct}/${x.labelled}`,
          `${x.fieldsCorrect}/${x.fieldsScored} (${pct(x.fieldsCorrect, x.fieldsScored)})`,
          x.partial,
          x.failed,
          x.escalated,
          x.calls,
          int(x.prompt),
          int(x.completion),
          `${secs(x.wallMs)} (${secs(x.cases ? x.wallMs / x.cases : 0)})`,
        ];
      }),
    ),
  );
  out.push('');
  if (strategies.includes('ladder')) {
    const L = sum(of('ladder'));
    for (const other of strategies.filter((s) => s !== 'ladder')) {
      const R = sum(of(other));
      out.push(`ladder / ${other} tokens after the first call: **${ratio(L.tokens, R.tokens)}** (prompt ${ratio(L.prompt, R.prompt)}, completion ${ratio(L.completion, R.completion)}; calls ${ratio(L.calls, R.calls)})`);
    }
    out.push('');
    if (strategies.includes('reask-fair')) {
      const R = sum(of('reask-fair'));
      const met = L.fixed >= R.fixed && L.tokens * 3 <= R.tokens;
      out.push(`Goal against the fair re-ask (at least as many fixed, at most a third of its tokens after the first call): **${met ? 'met' : 'not met'}**: fixed ${L.fixed} vs ${R.fixed}, tokens ${int(L.tokens)} vs ${int(R.tokens)}.`);
      out.push('');
    }
  }
  const estimated = results.reduce((t, m) => t + m.estimatedAfterFirst, 0);
  if (estimated > 0) out.push(`(${estimated} later call(s) had no usage from the server; their tokens are estimated)\n`);

  out.push('### By task');
  out.push('');
  const tasks = [...new Set(results.map((m) => m.task))].sort();
  out.push(
    table(
      ['task', 'strategy', 'cases', 'fixed', 'correct / labelled', 'calls after the first', 'tokens after the first', 'wall time'],
      tasks.flatMap((t) =>
        strategies.map((s) => {
          const x = sum(of(s).filter((m) => m.task === t));
          return [t, s, x.cases, `${x.fixed} (${pct(x.fixed, x.cases)})`, `${x.correct}/${x.labelled}`, x.calls, int(x.tokens), secs(x.wallMs)];
        }),
      ),
    ),
  );
  out.push('');

  out.push('### The rung that made the output valid');
  out.push('');
  const rungs: (Rung | 'partial' | 'failed')[] = ['as-is', 'deterministic', 'continue', 'repair', 'regenerate', 'escalate', 'partial', 'failed'];
  out.push(
    table(
      ['fixed by', ...strategies],
      rungs.map((r) => [r, ...strategies.map((s) => of(s).filter((m) => (m.outcome === 'valid' ? m.rung === r : m.outcome === r)).length)]),
    ),
  );
  const problems = results.filter((m) => m.replayProblem);
  if (problems.length > 0) {
    out.push('');
    out.push('### Replay problems (these runs are not comparable)');
    out.push('');
    for (const m of problems) out.push(`- ${m.strategy} ${m.id}: ${m.replayProblem}`);
  }
  return out.join('\n');
}

function describe(m: Measured): string {
  const what = m.outcome === 'valid' ? `valid by ${m.rung}` : m.outcome;
  const right = m.correct === undefined ? '' : m.correct ? ', correct' : `, ${m.fieldsCorrect}/${m.fieldsScored} fields`;
  return `${m.strategy}: ${what}${right}, +${m.callsAfterFirst} call(s), ${int(m.promptAfterFirst + m.completionAfterFirst)} tok, ${secs(m.wallMs)}${m.replayProblem ? ' [REPLAY PROBLEM]' : ''}`;
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT }).toString().trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const o = options();
  const all = loadCases(o.file);
  const { run, skipped } = selectCases(all, o);
  log(`${all.length} cases in ${path.relative(process.cwd(), o.file)}; running ${run.length} x ${o.strategies.join(', ')}${skipped.length ? ` (${skipped.length} skipped: ${[...new Set(skipped.map((s) => s.why))].join('; ')})` : ''}`);
  const started = Date.now();
  const proxy = new ReplayFirstProxy({ small: 'http://127.0.0.1:8088/v1', large: 'http://127.0.0.1:8089/v1' });
  await proxy.start();
  const results: Measured[] = [];
  const write = () => {
    if (!o.out) return;
    const doc = { commit: gitCommit(), startedAt: new Date(started).toISOString(), strategies: o.strategies, cases: run.map((c) => c.id), skipped, results, seconds: Math.round((Date.now() - started) / 1000) };
    fs.writeFileSync(o.out, JSON.stringify(doc, null, 2));
  };
  let bench: Harness | undefined;
  try {
    bench = await startBench(proxy);
    // the proxy's upstreams are the shipped registry's servers
    for (const p of POOLS) log(`pool ${p}: ${bench.registry.pools[p]!.model} via ${proxy.baseUrlOf(p)}`);
    for (const [i, c] of run.entries()) {
      // the order alternates, so a server's prompt cache warmed by one strategy favours each in turn
      const order = i % 2 === 0 ? o.strategies : [...o.strategies].reverse();
      const ms: Measured[] = [];
      for (const s of order) ms.push(await measure(bench, proxy, c, s));
      results.push(...ms);
      write();
      const label = c.label ? ' (labelled)' : '';
      log(`[${i + 1}/${run.length}] ${c.id} @${c.firstAttempt.pool}${label} | ${o.strategies.map((s) => describe(ms.find((m) => m.strategy === s)!)).join(' | ')}`);
    }
  } finally {
    await bench?.stop();
    await proxy.stop();
  }
  log('');
  log(report(o.strategies, results, skipped.length));
  log(`\n(${Math.round((Date.now() - started) / 1000)} s in all)`);
  write();
  if (o.out) log(`results: ${o.out}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
