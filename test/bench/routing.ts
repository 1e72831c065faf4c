/**
 * Routing against all-large and all-small on a mixed workload of the shipped micro-tasks, through
 * the real workflows on Temporal and Postgres, costs and validity read from the recorded rows.
 *
 * The pools are simulated by the failure corpus (test/corpus/cases.ts): for every corpus case the
 * workload has one clean item, which the small model gets right at once, and the case itself,
 * whose first small-model output is broken. The large model answers what the corpus says a large
 * pool answers on escalation. Prices are the assumptions printed with the table.
 *   tsx test/bench/routing.ts
 * `runRouting` returns the figures with the report (the benchmark suite, test/bench/suite.ts).
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { getMicroTask } from '../../pipelines/index.js';
import { ensureTemporalCli } from '../../infra/temporal.js';
import { bundleWorkflows } from '../../workers/factory.js';
import { corpus, ok, rungOf, scriptCase, type CorpusCase, type Rung } from '../corpus/cases.js';
import { freshDatabase } from '../support/database.js';
import { startHarness, type Harness } from '../support/harness.js';
import type { ChatBody } from '../support/scripted-model.js';

/** Assumed prices: a self-hosted 7B on one GPU at $1.00/h serving 2,500 tokens/s; a 70B API at $0.90/1M tokens. */
const SMALL_PRICE = { version: 'bench-small-7b', hourlyUsd: 1.0, tokensPerSecond: 2500 };
const LARGE_PRICE = { version: 'bench-large-70b', inputPerMTok: 0.9, outputPerMTok: 0.9 };
const REFERENCE_PRICE = { version: 'bench-reference', inputPerMTok: 2.5, outputPerMTok: 10 };

const CONFIGS = ['routed', 'all-small', 'all-large'] as const;
type Config = (typeof CONFIGS)[number];

/** One configuration's totals over the workload, from its recorded rows. */
export interface RoutingConfigFigures {
  executions: number;
  valid: number;
  partial: number;
  calls: number;
  largeCalls: number;
  tokens: number;
  costUsd: number;
  referenceCostUsd: number;
}

export interface RoutingFigures {
  executions: number;
  configs: Record<Config, RoutingConfigFigures>;
  /** 1 - routed cost / all-large cost */
  savingVsLarge: number;
  /** the markdown report the CLI prints */
  report: string;
  wallS: number;
}

export interface RoutingOptions {
  temporalCli?: string;
  workflowBundle?: string;
  /** prefix of the fresh databases, one per configuration (dropped and created) */
  databasePrefix?: string;
  log?: (line: string) => void;
}

/** The large pool as the corpus describes it: its escalation answer first, then the corpus's answers per rung. */
function scriptAllLarge(h: Harness, c: CorpusCase): void {
  const format = getMicroTask(c.task).formatName;
  const calls = new Map<Rung, number>();
  const answer = (body: ChatBody) => {
    const rung: Rung = (calls.get('escalate') ?? 0) === 0 && !body.response_format?.json_schema?.name.endsWith('_repair') ? 'escalate' : rungOf(c.task, body, true);
    const nth = calls.get(rung) ?? 0;
    calls.set(rung, nth + 1);
    return c.respond(body, rung, nth);
  };
  h.model.otherwise(format, answer);
  h.model.otherwise(`${format}_repair`, answer);
}

async function runConfig(config: Config, common: { temporalCli: string; workflowBundle: string }, databasePrefix: string, log: (line: string) => void): Promise<RoutingConfigFigures> {
  const databaseUrl = await freshDatabase(`${databasePrefix}_${config.replace('-', '_')}`);
  const h = await startHarness({
    ...common,
    databaseUrl,
    adjust: (r) => {
      // the pools stream, as the shipped local pools do: a generation that loops is stopped early
      Object.values(r.pools).forEach((p) => (p.stream = true));
      r.pools.small!.price = SMALL_PRICE;
      r.pools.large!.price = LARGE_PRICE;
      r.reference.price = REFERENCE_PRICE;
      if (config === 'all-small') delete r.pools.small!.escalateTo;
      if (config === 'all-large') {
        // every micro-task's pool is served by the large model at its price
        Object.assign(r.pools.small!, { model: 'scripted-large', price: LARGE_PRICE, contextWindow: r.pools.large!.contextWindow });
        delete r.pools.small!.escalateTo;
      }
    },
  });
  try {
    let i = 0;
    for (const c of corpus) {
      for (const clean of [true, false]) {
        h.model.reset();
        const format = getMicroTask(c.task).formatName;
        if (config === 'all-large' && !clean) scriptAllLarge(h, c);
        else if (clean) h.model.otherwise(format, ok(c.good));
        else scriptCase(h.model, c, 'ladder');
        await h.runTask({ task: c.task, input: c.input, context: c.context });
        i++;
      }
      if (i % 20 === 0) log(`[${config}] ${i}/${corpus.length * 2}`);
    }
    const t = await h.pgPool.query(`select count(*) as n, count(*) filter (where status = 'valid') as valid, count(*) filter (where status = 'partial') as partial from task_results`);
    const a = await h.pgPool.query(
      `select count(*) filter (where error is null) as calls, count(*) filter (where error is null and (pool = 'large' or model = 'scripted-large')) as large_calls,
         sum(prompt_tokens + completion_tokens) as tokens, sum(cost_usd) as cost, sum(reference_cost_usd) as ref from model_attempts`,
    );
    const r = t.rows[0];
    const x = a.rows[0];
    return {
      executions: Number(r.n),
      valid: Number(r.valid),
      partial: Number(r.partial),
      calls: Number(x.calls),
      largeCalls: Number(x.large_calls),
      tokens: Number(x.tokens),
      costUsd: Number(x.cost),
      referenceCostUsd: Number(x.ref),
    };
  } finally {
    await h.stop();
  }
}

function row(config: Config, f: RoutingConfigFigures): string {
  return `| ${config} | ${f.valid}/${f.executions} (${((100 * f.valid) / f.executions).toFixed(1)}%) | ${f.partial} | ${f.calls} | ${f.largeCalls} | ${f.tokens.toLocaleString('en-US')} | $${f.costUsd.toFixed(6)} | $${f.referenceCostUsd.toFixed(6)} |`;
}

/** Runs the workload under each configuration, each on a harness and database of its own. */
export async function runRouting(o: RoutingOptions = {}): Promise<RoutingFigures> {
  const started = Date.now();
  const log = o.log ?? ((l: string) => console.error(l));
  const common = { temporalCli: o.temporalCli ?? ensureTemporalCli(), workflowBundle: o.workflowBundle ?? (await bundleWorkflows()).code };
  const configs = {} as Record<Config, RoutingConfigFigures>;
  for (const config of CONFIGS) configs[config] = await runConfig(config, common, o.databasePrefix ?? 'microtasks_bench_routing', log);
  const savingVsLarge = 1 - configs.routed.costUsd / configs['all-large'].costUsd;
  const lines = [
    `workload: ${corpus.length * 2} micro-task executions of 7 shipped micro-tasks (${corpus.length} clean, ${corpus.length} with a broken first small-model output)`,
    `prices: small $${((SMALL_PRICE.hourlyUsd / 3600 / SMALL_PRICE.tokensPerSecond) * 1e6).toFixed(3)}/1M tokens (self-hosted, $${SMALL_PRICE.hourlyUsd}/h at ${SMALL_PRICE.tokensPerSecond} tokens/s), large $${LARGE_PRICE.inputPerMTok}/1M, reference $${REFERENCE_PRICE.inputPerMTok}/$${REFERENCE_PRICE.outputPerMTok} per 1M in/out\n`,
    '| config | valid | partial | calls | calls on large | tokens | cost | reference cost |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...CONFIGS.map((c) => row(c, configs[c])),
    `\nrouted costs ${(savingVsLarge * 100).toFixed(1)}% less than all-large`,
  ];
  return { executions: corpus.length * 2, configs, savingVsLarge, report: lines.join('\n'), wallS: (Date.now() - started) / 1000 };
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  console.log((await runRouting()).report);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
