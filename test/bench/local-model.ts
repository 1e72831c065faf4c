/**
 * The shipped pipelines on the real local models, through the real workflows, with routing
 * small -> large as shipped: the share of first attempts that were valid, the share of micro-tasks
 * valid after the repair ladder, completed runs, escalations, tokens/s per pool and time per
 * pipeline. Two runs are in flight at once, so both slots of each server are used. Prints a table.
 *   tsx test/bench/local-model.ts [runs per pipeline and mode, default 10] [--pipelines a,b] [--modes json_schema,prompt] [--budget N]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { ROOT } from '../../infra/paths.js';
import { ensureTemporalCli } from '../../infra/temporal.js';
import { DEFAULT_REGISTRY } from '../../config/env.js';
import { loadRegistry } from '../../config/load.js';
import { bundleWorkflows } from '../../workers/factory.js';
import { freshDatabase } from '../support/database.js';
import { startHarness } from '../support/harness.js';

const ALL_PIPELINES = ['product-review', 'ticket-triage', 'invoice-extraction', 'document-summary'];
const ALL_MODES = ['json_schema', 'prompt'] as const;
const IN_FLIGHT = 2;

function parseArgs(argv: string[]): { runs: number; pipelines: string[]; modes: (typeof ALL_MODES)[number][]; budget: number } {
  let runs = 10;
  let budget = 6;
  let pipelines = ALL_PIPELINES;
  let modes: (typeof ALL_MODES)[number][] = ['json_schema'];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const list = () => (argv[++i] ?? '').split(',').filter(Boolean);
    if (a === '--pipelines') pipelines = list();
    else if (a === '--modes') modes = list() as typeof modes;
    else if (a === '--budget') budget = Number(argv[++i]);
    else if (/^\d+$/.test(a) && Number(a) > 0) runs = Number(a);
    else throw new Error(`unknown argument ${JSON.stringify(a)}; usage: local-model.ts [runs] [--pipelines ${ALL_PIPELINES.join(',')}] [--modes ${ALL_MODES.join(',')}] [--budget N]`);
  }
  for (const p of pipelines) if (!ALL_PIPELINES.includes(p)) throw new Error(`unknown pipeline ${JSON.stringify(p)}; one of ${ALL_PIPELINES.join(', ')}`);
  for (const m of modes) if (!ALL_MODES.includes(m)) throw new Error(`unknown schema mode ${JSON.stringify(m)}; one of ${ALL_MODES.join(', ')}`);
  if (!Number.isInteger(budget) || budget < 1) throw new Error('--budget takes a whole number of attempts per micro-task');
  return { runs, pipelines, modes, budget };
}

const { runs: RUNS, pipelines: PIPELINES, modes: MODES, budget: BUDGET } = parseArgs(process.argv.slice(2));
const SCRIPT = path.join(ROOT, 'infra', 'model-server.sh');
const SHIPPED = loadRegistry(DEFAULT_REGISTRY, {});

function startServer(pool: 'small' | 'large'): { baseUrl: string; model: string } {
  const [baseUrl, model] = execFileSync('bash', [SCRIPT, 'start'], { encoding: 'utf8', env: { ...process.env, MODEL_NAME: pool } }).trim().split('\n') as [string, string];
  return { baseUrl, model };
}

const pct = (a: number, b: number) => (b > 0 ? `${((100 * a) / b).toFixed(0)}% (${a}/${b})` : '-');

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const servers = { small: startServer('small'), large: startServer('large') };
  const temporalCli = ensureTemporalCli();
  const workflowBundle = (await bundleWorkflows()).code;
  const rows: string[] = [];
  const speeds: string[] = [];
  for (const mode of MODES) {
    const databaseUrl = await freshDatabase(`microtasks_bench_local_${mode}`);
    const h = await startHarness({
      temporalCli,
      databaseUrl,
      workflowBundle,
      probe: false,
      // as shipped: a call that waits this long for a free slot is routed elsewhere
      poolWaitSeconds: 60,
      adjust: (r) => {
        // the shipped routing: which tasks start on which pool
        r.routes = { ...SHIPPED.routes };
        for (const [name, p] of Object.entries(r.pools)) {
          const server = servers[name as 'small' | 'large'];
          Object.assign(p, { baseUrl: server.baseUrl, model: server.model, kind: 'llamacpp', schemaMode: mode, timeoutSeconds: 600, concurrency: 2, stream: true });
        }
      },
    });
    try {
      for (const pipeline of PIPELINES) {
        const dir = path.join(ROOT, 'pipelines', pipeline, 'samples');
        const samples = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
        let next = 0;
        const lane = async () => {
          for (let i = next++; i < RUNS; i = next++) {
            const sample = samples[i % samples.length]!;
            const input = JSON.parse(fs.readFileSync(path.join(dir, sample), 'utf8'));
            const t0 = Date.now();
            const workflowId = await h.start(pipeline, input, { budget: { maxAttempts: BUDGET } });
            const status = await h.env.client.workflow.getHandle(workflowId).result().then((r) => r.status, () => 'failed');
            console.error(`[${mode}] ${pipeline} run ${i + 1}/${RUNS} (${sample}): ${status} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
          }
        };
        await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
      }
      const q = async (sql: string) => (await h.pgPool.query(sql)).rows as Record<string, string | number | null>[];
      const first = await q(`select pipeline, count(*) filter (where valid) as valid, count(*) as n from model_attempts where attempt_no = 1 and error is null group by pipeline`);
      const final = await q(`select pipeline, count(*) filter (where status = 'valid') as valid, count(*) filter (where status = 'partial') as partial, count(*) as n from task_results group by pipeline`);
      const runs = await q(
        `select pipeline, count(*) filter (where status = 'completed') as completed, count(*) filter (where status = 'partial') as partial, count(*) as n,
                sum(escalations) as escalations, sum(attempts) as calls,
                percentile_disc(0.5) within group (order by extract(epoch from finished_at - started_at)) as p50_s
           from pipeline_runs group by pipeline`,
      );
      const pools = await q(
        `select pool, model, count(*) as calls, sum(prompt_tokens) as pt, sum(completion_tokens) as ct,
                sum(completion_tokens)::float / nullif(sum(latency_ms - coalesce(ttft_ms, 0)), 0) * 1000 as gen_tps,
                percentile_disc(0.5) within group (order by ttft_ms) as p50_ttft
           from model_attempts where error is null group by pool, model order by pool desc`,
      );
      for (const pipeline of PIPELINES) {
        const f = first.find((r) => r.pipeline === pipeline) ?? { valid: 0, n: 0 };
        const e = final.find((r) => r.pipeline === pipeline) ?? { valid: 0, partial: 0, n: 0 };
        const r = runs.find((x) => x.pipeline === pipeline) ?? { completed: 0, partial: 0, n: 0, escalations: 0, calls: 0, p50_s: null };
        rows.push(
          `| ${pipeline} | ${mode} | ${pct(Number(f.valid), Number(f.n))} | ${pct(Number(e.valid), Number(e.n))} | ${Number(e.partial)} | ${r.completed}/${r.n} completed, ${r.partial} partial | ${Number(r.escalations)} | ${Number(r.calls)} | ${r.p50_s === null ? '-' : Number(r.p50_s).toFixed(0)} |`,
        );
      }
      for (const p of pools) {
        speeds.push(`| ${mode} | ${p.pool} | ${p.model} | ${p.calls} | ${p.pt} / ${p.ct} | ${Number(p.gen_tps).toFixed(1)} | ${p.p50_ttft} |`);
      }
    } finally {
      await h.stop();
    }
  }
  console.log(`small ${servers.small.model}, large ${servers.large.model}; ${RUNS} runs per pipeline and mode (samples in turn, ${IN_FLIGHT} in flight), budget ${BUDGET} attempts, escalation small -> large, routes ${JSON.stringify(SHIPPED.routes)}\n`);
  console.log('| pipeline | schema | first attempts valid | micro-tasks valid after repair | partial | runs | escalations | model calls | median s per run |');
  console.log('| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |');
  for (const r of rows) console.log(r);
  console.log('\n| schema | pool | model | calls | prompt / completion tokens | generation tokens/s per call | median ms to first token |');
  console.log('| --- | --- | --- | ---: | ---: | ---: | ---: |');
  for (const s of speeds) console.log(s);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
