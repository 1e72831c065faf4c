import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../support/database.js';

/** A database of its own: the views aggregate everything, so no other test's rows may be in it. */
let db: pg.Client;

beforeAll(async () => {
  const url = await freshDatabase('microtasks_test_analytics');
  db = new pg.Client({ connectionString: url });
  await db.connect();

  let n = 0;
  const attempt = (o: { pipeline: string; task: string; pool: string; kind: string; prompt: number; completion: number; cost: number; ref: number; latency: number; error?: string; day?: string }) =>
    db.query(
      `insert into model_attempts (attempt_key, workflow_id, run_id, pipeline, step, task, task_version, attempt_no, kind, activity_attempt, pool, model,
         endpoint, route_reason, schema_mode, max_tokens, request, prompt_tokens, completion_tokens, latency_ms, price_version, cost_usd, reference_model,
         reference_cost_usd, error, created_at)
       values ($1, 'wf', 'run', $2, 's', $3, 1, 1, $4, 1, $5, $5 || '-model', 'e', 'r', 'json_schema', 100, '{}', $6, $7, $8, 'v', $9, 'ref', $10, $11, $12)`,
      [`k${n++}`, o.pipeline, o.task, o.kind, o.pool, o.prompt, o.completion, o.latency, o.cost, o.ref, o.error ?? null, o.day ?? '2026-11-20T12:00:00Z'],
    );
  // product-review: two calls of extract-features on small (one a repair), one failed call, one escalation on large
  await attempt({ pipeline: 'product-review', task: 'extract-features', pool: 'small', kind: 'generate', prompt: 100, completion: 50, cost: 0.001, ref: 0.01, latency: 100 });
  await attempt({ pipeline: 'product-review', task: 'extract-features', pool: 'small', kind: 'repair', prompt: 40, completion: 10, cost: 0.0004, ref: 0.004, latency: 300 });
  await attempt({ pipeline: 'product-review', task: 'extract-features', pool: 'small', kind: 'generate', prompt: 0, completion: 0, cost: 0, ref: 0, latency: 5000, error: 'HTTP 500' });
  await attempt({ pipeline: 'product-review', task: 'write-advice', pool: 'large', kind: 'escalate', prompt: 200, completion: 100, cost: 0.002, ref: 0.006, latency: 1000 });
  // an older day
  await attempt({ pipeline: 'ticket-triage', task: 'classify-ticket', pool: 'small', kind: 'generate', prompt: 80, completion: 20, cost: 0.0005, ref: 0.005, latency: 200, day: '2026-10-01T12:00:00Z' });

  const result = (task: string, status: string, attempts: number, repairs: number, escalations: number, day = '2026-11-20T12:00:00Z') =>
    db.query(
      `insert into task_results (workflow_id, run_id, pipeline, step, item_index, task, task_version, status, attempts, repairs, escalations, final_pool,
         prompt_tokens, completion_tokens, cost_usd, reference_cost_usd, created_at)
       values ('wf-' || $1 || $2, 'run', 'p', $1, $7, $1, 1, $2, $3, $4, $5, 'small', 0, 0, 0, 0, $6)`,
      [task, status, attempts, repairs, escalations, day, n++],
    );
  await result('extract-features', 'valid', 2, 1, 0);
  await result('write-advice', 'valid', 3, 0, 1);
  await result('write-advice', 'failed', 6, 2, 1);
  await result('classify-ticket', 'valid', 1, 0, 0, '2026-10-01T12:00:00Z');
});

afterAll(async () => db?.end());

describe('analytics views on known rows', () => {
  it('adds up cost per micro-task, counting failed calls apart and at no cost', async () => {
    const { rows } = await db.query('select * from cost_per_task order by task');
    expect(rows.map((r) => [r.task, Number(r.results), Number(r.calls), Number(r.failed_calls), Number(r.repair_calls), Number(r.escalation_calls)])).toEqual([
      ['classify-ticket', 1, 1, 0, 0, 0],
      ['extract-features', 1, 2, 1, 1, 0],
      ['write-advice', 2, 1, 0, 0, 1],
    ]);
    const ef = rows.find((r) => r.task === 'extract-features')!;
    expect(Number(ef.prompt_tokens)).toBe(140);
    expect(ef.cost_usd).toBeCloseTo(0.0014, 12);
    expect(ef.savings_usd).toBeCloseTo(0.0126, 12);
    expect(ef.cost_per_result_usd).toBeCloseTo(0.0014, 12);
  });

  it('gives repair and escalation rates per micro-task from the results', async () => {
    const { rows } = await db.query(`select * from repair_rates where task = 'write-advice'`);
    expect(rows[0]).toMatchObject({ results: '2', avg_attempts: 4.5, repair_rate: 0.5, escalation_rate: 1, valid_rate: 0.5, failure_rate: 0.5, first_try_valid_rate: 0 });
  });

  it('shows savings against the reference model per pipeline and overall', async () => {
    const { rows } = await db.query('select * from routing_savings');
    const all = rows.find((r) => r.pipeline === '(all)')!;
    expect(all.cost_usd).toBeCloseTo(0.0039, 12);
    expect(all.reference_cost_usd).toBeCloseTo(0.025, 12);
    expect(all.savings_share).toBeCloseTo(1 - 0.0039 / 0.025, 9);
    expect(rows.find((r) => r.pipeline === 'product-review')!.cost_usd).toBeCloseTo(0.0034, 12);
  });

  it('gives latency percentiles per pool within a bucket of the exact value', async () => {
    const { rows } = await db.query(`select * from cost_per_model order by pool`);
    const small = rows.find((r) => r.pool === 'small')!;
    // small pool successful latencies: 100, 300, 200 (the 5000 ms failure is excluded); exact p50 is 200
    expect(Number(small.calls)).toBe(3);
    expect(small.p50_latency_ms).toBeGreaterThan(200 / 1.25);
    expect(small.p50_latency_ms).toBeLessThanOrEqual(200 * 1.25);
    expect(small.p95_latency_ms).toBeLessThanOrEqual(300 * 1.25);
  });

  it('filters by day with the *_since functions', async () => {
    const { rows } = await db.query(`select task from cost_per_task_since('2026-11-01') order by task`);
    expect(rows.map((r) => r.task)).toEqual(['extract-features', 'write-advice']);
    const day = await db.query(`select day::text, sum(cost_usd) as cost from cost_per_day group by day order by day`);
    expect(day.rows.map((r) => r.day)).toEqual(['2026-10-01', '2026-11-20']);
  });

  it('rebuilds the rollups from the attempt rows to the same totals', async () => {
    const before = (await db.query('select * from routing_savings order by pipeline')).rows;
    await db.query('select rebuild_attempt_rollups()');
    expect((await db.query('select * from routing_savings order by pipeline')).rows).toEqual(before);
  });
});
