/**
 * Repair ladder vs. re-ask baseline on the failure corpus, on a real Temporal dev server and Postgres
 * with the scripted endpoint. Not a test: it prints a markdown report from the recorded rows;
 * `runRepairLadder` returns the figures with the report (the benchmark suite, test/bench/suite.ts).
 *
 *   node_modules/.bin/tsx test/bench/repair-ladder.ts
 *
 * Every strategy sees the same bad first output. `ladder`: the default budget, lenient parsing, and
 * the simulated model's per-rung answers. `reask-fair`, the fair baseline: the same parser, fixes,
 * continuation, escalation and budget, with the whole object re-asked (answered as the ladder's
 * regeneration, on the large pool as its escalation). `reask`, the strict one (maxAttempts 3, as
 * instructor's max_retries=3): strict parsing and the whole object re-asked on the first pool,
 * answered with what the same simulated model answers the ladder's regeneration. Cost is counted
 * after the first call, which all share. The pools stream, as the shipped local pools do.
 *
 * BENCH_DUMP=dir writes every request each case sent, one JSON file per case and strategy.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import type { LadderBudget } from '../../core/ladder/budget.js';
import { modelAttempts, taskResults } from '../../db/schema.js';
import { ensureTemporalCli } from '../../infra/temporal.js';
import { ORCHESTRATION_QUEUE } from '../../config/load.js';
import { bundleWorkflows } from '../../workers/factory.js';
import type { runTask } from '../../workflows/pipeline.js';
import { corpus, FAILURE_FORMS, fixedByOf, scriptCase, type CorpusCase, type FixedBy, type Outcome } from '../corpus/cases.js';
import { freshDatabase } from '../support/database.js';
import { startHarness, type Harness } from '../support/harness.js';
import { int, pct, ratio, table } from './format.js';

const STRATEGIES = ['ladder', 'reask-fair', 'reask'] as const;
type Strategy = (typeof STRATEGIES)[number];
const BUDGETS: Record<Strategy, Partial<LadderBudget>> = {
  ladder: { strategy: 'ladder' },
  'reask-fair': { strategy: 'reask-fair' },
  reask: { strategy: 'reask', maxAttempts: 3 },
};
const NAMES: Record<Strategy, string> = { ladder: 'ladder', 'reask-fair': 'fair re-ask (same parser, fixes, escalation, 6 attempts)', reask: 'strict re-ask (JSON.parse, 3 attempts, one pool)' };
const BENCH_DB = 'microtasks_bench';

interface Measured {
  id: string;
  strategy: Strategy;
  outcome: Outcome;
  fixedBy: FixedBy;
  /** valid and equal to the case's correct output */
  correct: boolean;
  callsAfterFirst: number;
  promptAfterFirst: number;
  completionAfterFirst: number;
  firstCallTokens: number;
  /** from the start of the workflow to its result */
  wallMs: number;
}

const print = (line: string) => process.stdout.write(`${line}\n`);

export interface RepairLadderOptions {
  temporalCli?: string;
  /** the workflow bundle's code, when the caller has built it */
  workflowBundle?: string;
  /** the fresh database it runs on (dropped and created) */
  database?: string;
  log?: (line: string) => void;
}

/** The test harness, given here what vitest's global setup would provide. */
async function startBench(o: RepairLadderOptions, log: (line: string) => void): Promise<Harness> {
  const temporalCli = o.temporalCli ?? ensureTemporalCli((l) => log(l));
  log(`temporal cli: ${temporalCli}`);
  const database = o.database ?? BENCH_DB;
  const databaseUrl = await freshDatabase(database);
  log(`postgres: fresh database ${database}, migrated`);
  const workflowBundle = o.workflowBundle ?? (await bundleWorkflows()).code;
  log('workflow bundle ready');
  // the pools stream, as the shipped local pools do: a generation that loops is stopped early
  return startHarness({ temporalCli, databaseUrl, workflowBundle, adjust: (r) => Object.values(r.pools).forEach((p) => (p.stream = true)) });
}

async function measure(bench: Harness, c: CorpusCase, strategy: Strategy): Promise<Measured> {
  const { env, model, db } = bench;
  model.reset();
  scriptCase(model, c, strategy);
  const workflowId = `bench-${strategy}-${c.id}-${randomUUID().slice(0, 8)}`;
  const started = Date.now();
  const handle = await env.client.workflow.start<typeof runTask>('runTask', {
    taskQueue: ORCHESTRATION_QUEUE,
    workflowId,
    args: [{ task: c.task, input: c.input, context: c.context, budget: BUDGETS[strategy] }],
  });
  await handle.result().catch(() => undefined); // a failed micro-task is an outcome, read from its rows
  const wallMs = Date.now() - started;
  const attempts = await db.select().from(modelAttempts).where(eq(modelAttempts.workflowId, workflowId)).orderBy(modelAttempts.id);
  const [task] = await db.select().from(taskResults).where(eq(taskResults.workflowId, workflowId));
  if (!task) throw new Error(`${workflowId}: no task_results row`);
  if (attempts.length !== model.received.length) throw new Error(`${workflowId}: ${model.received.length} calls but ${attempts.length} rows`);
  if (process.env.BENCH_DUMP) {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(process.env.BENCH_DUMP, { recursive: true });
    writeFileSync(`${process.env.BENCH_DUMP}/${strategy}-${c.id}.json`, JSON.stringify(model.received, null, 1));
  }
  const [first, ...later] = attempts;
  const outcome = task.status;
  return {
    id: c.id,
    strategy,
    outcome,
    fixedBy: fixedByOf(outcome, attempts),
    correct: outcome === 'valid' && isDeepStrictEqual(task.output, c.good),
    callsAfterFirst: later.length,
    promptAfterFirst: later.reduce((t, a) => t + a.promptTokens, 0),
    completionAfterFirst: later.reduce((t, a) => t + a.completionTokens, 0),
    firstCallTokens: first ? first.promptTokens + first.completionTokens : 0,
    wallMs,
  };
}

// ---------------------------------------------------------------------------------------------
// Report


function sum(ms: readonly Measured[]) {
  const s = { cases: ms.length, fixed: 0, correct: 0, partial: 0, failed: 0, calls: 0, prompt: 0, completion: 0, first: 0, wallMs: 0 };
  for (const m of ms) {
    if (m.outcome === 'valid') s.fixed++;
    if (m.outcome === 'partial') s.partial++;
    if (m.outcome === 'failed') s.failed++;
    if (m.correct) s.correct++;
    s.calls += m.callsAfterFirst;
    s.prompt += m.promptAfterFirst;
    s.completion += m.completionAfterFirst;
    s.first += m.firstCallTokens;
    s.wallMs += m.wallMs;
  }
  return { ...s, total: s.prompt + s.completion };
}

function report(results: Record<Strategy, Measured[]>): string {
  const S = Object.fromEntries(STRATEGIES.map((k) => [k, sum(results[k])])) as Record<Strategy, ReturnType<typeof sum>>;
  const L = S.ladder;
  const out: string[] = [];
  out.push(`## Repair ladder vs. re-ask on the failure corpus (${corpus.length} cases)`);
  out.push('');
  out.push(
    table(
      ['strategy', 'fixed (valid)', 'correct (= good output)', 'partial', 'failed', 'calls after the first', 'prompt tokens after the first', 'completion tokens after the first', 'total tokens after the first', 'total tokens incl. first call', 'wall time s'],
      STRATEGIES.map((k) => {
        const x = S[k];
        return [
          NAMES[k],
          `${x.fixed}/${x.cases} (${pct(x.fixed, x.cases)})`,
          `${x.correct}/${x.cases} (${pct(x.correct, x.cases)})`,
          x.partial,
          x.failed,
          x.calls,
          int(x.prompt),
          int(x.completion),
          int(x.total),
          int(x.total + x.first),
          (x.wallMs / 1000).toFixed(1),
        ];
      }),
    ),
  );
  out.push('');
  for (const k of ['reask-fair', 'reask'] as const) {
    const R = S[k];
    out.push(`ladder / ${k} tokens after the first call: **${ratio(L.total, R.total)}** (prompt ${ratio(L.prompt, R.prompt)}, completion ${ratio(L.completion, R.completion)}); incl. the first call: ${ratio(L.total + L.first, R.total + R.first)}`);
    out.push('');
  }
  const R = S['reask-fair'];
  const met = L.fixed >= R.fixed && L.total * 3 <= R.total;
  out.push(
    `Goal against the fair re-ask (at least as many fixed with at most a third of the tokens after the first call): **${met ? 'met' : 'not met'}**: fixed ${L.fixed} vs ${R.fixed}, tokens ${int(L.total)} vs ${int(R.total)} (a third of the re-ask tokens is ${int(Math.floor(R.total / 3))}).`,
  );
  out.push('');

  out.push('### By failure form');
  out.push('');
  const byId = (ms: Measured[]) => new Map(ms.map((m) => [m.id, m]));
  const ladderById = byId(results.ladder);
  const reaskById = byId(results['reask-fair']);
  const strictById = byId(results.reask);
  out.push(
    table(
      ['form', 'cases', 'ladder fixed', 'fair re-ask fixed', 'strict re-ask fixed', 'ladder tokens after the first', 'fair re-ask tokens', 'strict re-ask tokens', 'ladder / fair re-ask tokens'],
      FAILURE_FORMS.map((form) => {
        const ids = corpus.filter((c) => c.forms.includes(form)).map((c) => c.id);
        const l = sum(ids.map((id) => ladderById.get(id)!));
        const r = sum(ids.map((id) => reaskById.get(id)!));
        const t = sum(ids.map((id) => strictById.get(id)!));
        return [form, ids.length, `${l.fixed} (${pct(l.fixed, l.cases)})`, `${r.fixed} (${pct(r.fixed, r.cases)})`, `${t.fixed} (${pct(t.fixed, t.cases)})`, int(l.total), int(r.total), int(t.total), ratio(l.total, r.total)];
      }),
    ),
  );
  out.push('');

  out.push('### Ladder: the rung that fixed each case');
  out.push('');
  const rungs: (FixedBy | 'partial' | 'failed')[] = ['deterministic', 'continue', 'repair', 'regenerate', 'escalate', 'partial', 'failed'];
  out.push(
    table(
      ['fixed by', 'cases', 'ladder tokens after the first', 'fair re-ask tokens after the first (same cases)', 'strict re-ask tokens (same cases)'],
      rungs.map((rung) => {
        const ms = results.ladder.filter((m) => (m.outcome === 'valid' ? m.fixedBy === rung : m.outcome === rung));
        return [String(rung), ms.length, int(sum(ms).total), int(sum(ms.map((m) => reaskById.get(m.id)!)).total), int(sum(ms.map((m) => strictById.get(m.id)!)).total)];
      }),
    ),
  );
  out.push('');

  const deviations = corpus.filter((c) => {
    const m = ladderById.get(c.id)!;
    return m.outcome !== c.expected.outcome || m.fixedBy !== c.expected.fixedBy || (c.expected.outcome === 'valid' && !m.correct);
  });
  if (deviations.length > 0) {
    out.push('### Ladder cases that differ from the expected behaviour');
    out.push('');
    out.push(
      table(
        ['case', 'expected', 'actual', 'note'],
        deviations.map((c) => {
          const m = ladderById.get(c.id)!;
          const show = (o: Outcome, f: FixedBy) => (o === 'valid' ? `valid by ${f}` : o);
          return [c.id, show(c.expected.outcome, c.expected.fixedBy), `${show(m.outcome, m.fixedBy)}${m.outcome === 'valid' && !m.correct ? ', wrong output' : ''}`, c.knownIssue?.note ?? '(no known issue recorded)'];
        }),
      ),
    );
    out.push('');
  }
  return out.join('\n');
}

/** What each strategy came to on the corpus, summed over its cases. */
export type StrategyFigures = ReturnType<typeof sum>;

export interface RepairLadderFigures {
  cases: number;
  strategies: Record<Strategy, StrategyFigures>;
  /** ladder tokens after the first call over each re-ask's */
  ratios: { reaskFair: number; reask: number };
  /** at least as many fixed as the fair re-ask with at most a third of its tokens after the first call */
  goalMet: boolean;
  /** the markdown report the CLI prints */
  report: string;
  wallS: number;
}

/** Runs the corpus under every strategy on a harness of its own and returns the figures and the report. */
export async function runRepairLadder(o: RepairLadderOptions = {}): Promise<RepairLadderFigures> {
  const log = o.log ?? print;
  const started = Date.now();
  const bench = await startBench(o, log);
  const results: Record<Strategy, Measured[]> = { ladder: [], 'reask-fair': [], reask: [] };
  try {
    for (const strategy of STRATEGIES) {
      log(`\n--- ${strategy}: ${corpus.length} cases, budget ${JSON.stringify(BUDGETS[strategy])}`);
      for (const [i, c] of corpus.entries()) {
        const m = await measure(bench, c, strategy);
        results[strategy].push(m);
        const what = m.outcome === 'valid' ? `valid by ${m.fixedBy}${m.correct ? '' : ' (wrong output)'}` : m.outcome;
        log(`[${strategy} ${String(i + 1).padStart(2)}/${corpus.length}] ${c.id.padEnd(46)} ${what.padEnd(28)} +${m.callsAfterFirst} call(s), ${int(m.promptAfterFirst + m.completionAfterFirst)} tokens after the first`);
      }
    }
  } finally {
    await bench.stop();
  }
  const strategies = Object.fromEntries(STRATEGIES.map((k) => [k, sum(results[k])])) as Record<Strategy, StrategyFigures>;
  const L = strategies.ladder;
  const R = strategies['reask-fair'];
  return {
    cases: corpus.length,
    strategies,
    ratios: { reaskFair: L.total / R.total, reask: L.total / strategies.reask.total },
    goalMet: L.fixed >= R.fixed && L.total * 3 <= R.total,
    report: report(results),
    wallS: (Date.now() - started) / 1000,
  };
}

async function main(): Promise<void> {
  // the workflow's "ladder decision" logs and the failed-workflow warnings would drown the progress lines
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const figures = await runRepairLadder();
  print('');
  print(figures.report);
  print(`(${Math.round(figures.wallS)} s)`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
