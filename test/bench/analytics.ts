/**
 * Seeds a million model-attempt rows (and matching results and runs) into a scratch database
 * on the project's Postgres, then times every analytics view. Prints a table.
 *   tsx test/bench/analytics.ts [rows]
 */
import pg from 'pg';
import { migrateDatabase } from '../../db/migrate.js';
import { startPostgres } from '../../infra/postgres.js';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const VIEWS = ['cost_per_task', 'cost_per_pipeline', 'cost_per_model', 'cost_per_day', 'repair_rates', 'latency_per_task', 'routing_savings'];

async function main(): Promise<void> {
  const serverUrl = await startPostgres();
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query('drop database if exists microtasks_analytics_bench with (force)');
  await admin.query('create database microtasks_analytics_bench');
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = '/microtasks_analytics_bench';
  await migrateDatabase(url.toString());
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();

  const t0 = Date.now();
  console.error(`seeding ${ROWS} attempt rows...`);
  const runs = Math.ceil(ROWS / 16);
  await db.query(`
    insert into pipeline_runs (workflow_id, run_id, pipeline, pipeline_version, registry_version, status, input, attempts, repairs, escalations,
      prompt_tokens, completion_tokens, cost_usd, reference_cost_usd, started_at, finished_at)
    select 'wf-' || g, 'run-' || g, (array['product-review','ticket-triage','invoice-extraction','document-summary'])[1 + g % 4], 1, 'bench',
      (array['completed','completed','completed','completed','completed','completed','completed','completed','partial','failed'])[1 + g % 10],
      '{}'::jsonb, 16, g % 3, (g % 11 = 0)::int, 6000, 1500, 0.0009, 0.03,
      now() - (g % 90) * interval '1 day', now() - (g % 90) * interval '1 day' + interval '20 seconds'
    from generate_series(1, ${runs}) g`);
  await db.query(`
    insert into task_results (workflow_id, run_id, pipeline, step, item_index, task, task_version, status, output, attempts, repairs, escalations,
      final_pool, prompt_tokens, completion_tokens, cost_usd, reference_cost_usd, created_at)
    select 'wf-' || (g / 4), 'run-' || (g / 4), 'p', 's' || (g % 4), -1,
      (array['extract-features','write-scenarios','write-advice','generate-keywords','classify-ticket','extract-ticket-fields','draft-reply','extract-invoice','summarize-chunk','combine-summaries'])[1 + g % 10],
      1, (array['valid','valid','valid','valid','valid','valid','valid','valid','partial','failed'])[1 + (g / 7) % 10], null,
      1 + g % 4, (g % 4 > 1)::int, (g % 13 = 0)::int, 'small', 1500, 400, 0.0002, 0.008, now() - (g % 90) * interval '1 day'
    from generate_series(1, ${Math.ceil(ROWS / 4)}) g`);
  // bulk load without the per-row trigger, then build the rollups in one pass
  await db.query('alter table model_attempts disable trigger model_attempts_rollup');
  await db.query(`
    insert into model_attempts (attempt_key, workflow_id, run_id, pipeline, step, item_index, task, task_version, attempt_no, kind, activity_attempt,
      pool, model, endpoint, route_reason, schema_mode, max_tokens, request, raw_output, finish_reason, http_status, error,
      prompt_tokens, completion_tokens, latency_ms, ttft_ms, price_version, cost_usd, reference_model, reference_cost_usd, valid, created_at)
    select 'k-' || g, 'wf-' || (g / 16), 'run-' || (g / 16),
      (array['product-review','ticket-triage','invoice-extraction','document-summary'])[1 + (g / 16) % 4], 's', -1,
      (array['extract-features','write-scenarios','write-advice','generate-keywords','classify-ticket','extract-ticket-fields','draft-reply','extract-invoice','summarize-chunk','combine-summaries'])[1 + g % 10],
      1, 1 + g % 3, (array['generate','generate','generate','repair','regenerate','escalate','continue'])[1 + g % 7], 1,
      case when g % 7 = 5 then 'large' else 'small' end, case when g % 7 = 5 then 'large-model' else 'small-model' end,
      'http://127.0.0.1:8088/v1', 'default pool', 'json_schema', 512, '{}'::jsonb, '{}', 'stop',
      case when g % 97 = 0 then 500 else 200 end, case when g % 97 = 0 then 'HTTP 500' end,
      300 + g % 700, 50 + g % 300, 200 + ((g::bigint * 7919) % 5000)::int, 20 + g % 200, 'v1',
      (300 + g % 700) * 0.0000002 + (50 + g % 300) * 0.0000006, 'reference', (300 + g % 700) * 0.0000025 + (50 + g % 300) * 0.00001,
      g % 5 <> 0, now() - (g % 90) * interval '1 day' - (g % 86400) * interval '1 second'
    from generate_series(1, ${ROWS}) g`);
  await db.query('alter table model_attempts enable trigger model_attempts_rollup');
  console.error(`seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const r0 = Date.now();
  await db.query('select rebuild_attempt_rollups()');
  const rebuildMs = Date.now() - r0;
  await db.query('vacuum analyze');
  const rollups = (await db.query('select count(*)::int as n from attempt_rollups')).rows[0].n as number;

  // what the trigger adds to each insert, as the model activity does it: one row per statement
  const perRow = async (n: number) => {
    const s = performance.now();
    for (let i = 0; i < n; i++) {
      await db.query(
        `insert into model_attempts (attempt_key, workflow_id, run_id, pipeline, step, task, task_version, attempt_no, kind, activity_attempt, pool, model,
           endpoint, route_reason, schema_mode, max_tokens, request, latency_ms, price_version, reference_model, prompt_tokens, completion_tokens, cost_usd)
         values ($1, 'wf-x', 'run-x', 'product-review', 's', 'extract-features', 1, 1, 'generate', 1, 'small', 'small-model', 'e', 'r', 'json_schema', 512, '{}', 300, 'v1', 'reference', 400, 80, 0.0001)`,
        [`trigger-probe-${n}-${i}-${Math.random()}`],
      );
    }
    return (performance.now() - s) / n;
  };
  await db.query('alter table model_attempts disable trigger model_attempts_rollup');
  const without = await perRow(2000);
  await db.query('alter table model_attempts enable trigger model_attempts_rollup');
  const withTrigger = await perRow(2000);
  console.log(`${ROWS} attempt rows, ${rollups} rollup rows (rebuilt in ${rebuildMs} ms); insert of one attempt row: ${without.toFixed(3)} ms without the rollup trigger, ${withTrigger.toFixed(3)} ms with it\n`);

  console.log(`| view | rows returned | best of 5 (ms) | median of 5 (ms) |`);
  console.log(`| --- | ---: | ---: | ---: |`);
  for (const view of VIEWS) {
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < 5; i++) {
      const s = performance.now();
      const r = await db.query(`select * from ${view}`);
      times.push(performance.now() - s);
      rows = r.rowCount ?? 0;
    }
    times.sort((a, b) => a - b);
    console.log(`| ${view} | ${rows} | ${times[0]!.toFixed(0)} | ${times[2]!.toFixed(0)} |`);
  }
  await db.end();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
