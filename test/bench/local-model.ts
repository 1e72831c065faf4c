/**
 * The shipped pipelines on the real local model, with and without the JSON-schema constraint:
 * the share of first attempts that were valid, and the share of micro-tasks that ended valid
 * after the repair ladder. Prints a table.
 *   tsx test/bench/local-model.ts [runs per pipeline and mode, default 5] [--pipelines a,b] [--modes json_schema,prompt]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { ROOT } from '../../infra/paths.js';
import { ensureTemporalCli } from '../../infra/temporal.js';
import { bundleWorkflows } from '../../workers/factory.js';
import { freshDatabase } from '../support/database.js';
import { startHarness } from '../support/harness.js';

const ALL_PIPELINES = ['product-review', 'ticket-triage', 'invoice-extraction', 'document-summary'];
const ALL_MODES = ['json_schema', 'prompt'] as const;

function parseArgs(argv: string[]): { runs: number; pipelines: string[]; modes: (typeof ALL_MODES)[number][] } {
  let runs = 5;
  let pipelines = ALL_PIPELINES;
  let modes: (typeof ALL_MODES)[number][] = [...ALL_MODES];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const list = () => (argv[++i] ?? '').split(',').filter(Boolean);
    if (a === '--pipelines') pipelines = list();
    else if (a === '--modes') modes = list() as typeof modes;
    else if (/^\d+$/.test(a) && Number(a) > 0) runs = Number(a);
    else throw new Error(`unknown argument ${JSON.stringify(a)}; usage: local-model.ts [runs] [--pipelines ${ALL_PIPELINES.join(',')}] [--modes ${ALL_MODES.join(',')}]`);
  }
  for (const p of pipelines) if (!ALL_PIPELINES.includes(p)) throw new Error(`unknown pipeline ${JSON.stringify(p)}; one of ${ALL_PIPELINES.join(', ')}`);
  for (const m of modes) if (!ALL_MODES.includes(m)) throw new Error(`unknown schema mode ${JSON.stringify(m)}; one of ${ALL_MODES.join(', ')}`);
  return { runs, pipelines, modes };
}

const { runs: RUNS, pipelines: PIPELINES, modes: MODES } = parseArgs(process.argv.slice(2));
const SCRIPT = path.join(ROOT, 'infra', 'model-server.sh');

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const [baseUrl, model] = execFileSync('bash', [SCRIPT, 'start'], { encoding: 'utf8' }).trim().split('\n') as [string, string];
  const temporalCli = ensureTemporalCli();
  const workflowBundle = (await bundleWorkflows()).code;
  const rows: string[] = [];
  for (const mode of MODES) {
    const databaseUrl = await freshDatabase(`microtasks_bench_local_${mode}`);
    const h = await startHarness({
      temporalCli,
      databaseUrl,
      workflowBundle,
      probe: false,
      adjust: (r) => {
        for (const p of Object.values(r.pools)) Object.assign(p, { baseUrl, model, kind: 'llamacpp', schemaMode: mode, timeoutSeconds: 300, concurrency: 2, stream: true });
        // one local model: no escalation, so the figures are the small model's own
        delete r.pools.small!.escalateTo;
      },
    });
    try {
      for (const pipeline of PIPELINES) {
        const dir = path.join(ROOT, 'pipelines', pipeline, 'samples');
        const samples = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
        for (let i = 0; i < RUNS; i++) {
          const input = JSON.parse(fs.readFileSync(path.join(dir, samples[i % samples.length]!), 'utf8'));
          const t0 = Date.now();
          const workflowId = await h.start(pipeline, input, { budget: { maxAttempts: 4 } });
          const status = await h.env.client.workflow.getHandle(workflowId).result().then((r) => r.status, () => 'failed');
          console.error(`[${mode}] ${pipeline} run ${i + 1}/${RUNS} (${samples[i % samples.length]}): ${status} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
        }
      }
      const first = await h.pgPool.query(
        `select pipeline, count(*) filter (where valid) as valid, count(*) as n from model_attempts where attempt_no = 1 and error is null group by pipeline`,
      );
      const final = await h.pgPool.query(`select pipeline, count(*) filter (where status = 'valid') as valid, count(*) filter (where status = 'partial') as partial, count(*) as n from task_results group by pipeline`);
      const runs = await h.pgPool.query(`select pipeline, count(*) filter (where status = 'completed') as completed, count(*) filter (where status = 'partial') as partial, count(*) as n from pipeline_runs group by pipeline`);
      const tps = await h.pgPool.query(`select sum(completion_tokens)::float / nullif(sum(latency_ms - coalesce(ttft_ms, 0)), 0) * 1000 as gen_tps, percentile_disc(0.5) within group (order by ttft_ms) as p50_ttft from model_attempts where error is null`);
      for (const pipeline of PIPELINES) {
        const f = first.rows.find((r) => r.pipeline === pipeline) ?? { valid: 0, n: 0 };
        const e = final.rows.find((r) => r.pipeline === pipeline) ?? { valid: 0, partial: 0, n: 0 };
        const r = runs.rows.find((x) => x.pipeline === pipeline) ?? { completed: 0, partial: 0, n: 0 };
        const pct = (a: number, b: number) => (b > 0 ? `${((100 * a) / b).toFixed(0)}% (${a}/${b})` : '-');
        rows.push(`| ${pipeline} | ${mode} | ${pct(Number(f.valid), Number(f.n))} | ${pct(Number(e.valid), Number(e.n))} | ${Number(e.partial)} | ${r.completed}/${r.n} completed, ${r.partial} partial |`);
      }
      console.error(`[${mode}] generation ${Number(tps.rows[0].gen_tps).toFixed(1)} tokens/s, p50 time to first token ${tps.rows[0].p50_ttft} ms`);
    } finally {
      await h.stop();
    }
  }
  console.log(`model ${model} at ${baseUrl}; ${RUNS} runs per pipeline and mode (samples in turn), budget 4 attempts, no escalation\n`);
  console.log('| pipeline | schema | first attempts valid | micro-tasks valid after repair | partial | runs |');
  console.log('| --- | --- | ---: | ---: | ---: | --- |');
  for (const r of rows) console.log(r);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
