/**
 * The whole chain against a real OpenAI-compatible server: the local llama.cpp server with a
 * small instruct model, started by infra/model-server.sh. Temporal and Postgres are real too.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../infra/paths.js';
import { DEFAULT_REGISTRY } from '../../config/env.js';
import { loadRegistry } from '../../config/load.js';
import { sample } from '../support/fixtures.js';
import { startHarness, type Harness } from '../support/harness.js';

const SCRIPT = path.join(ROOT, 'infra', 'model-server.sh');
let h: Harness;
const servers: Record<'small' | 'large', { baseUrl: string; model: string }> = { small: { baseUrl: '', model: '' }, large: { baseUrl: '', model: '' } };

beforeAll(async () => {
  for (const pool of ['small', 'large'] as const) {
    const [baseUrl, model] = execFileSync('bash', [SCRIPT, 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, MODEL_NAME: pool } })
      .trim()
      .split('\n') as [string, string];
    servers[pool] = { baseUrl, model };
  }
  h = await startHarness({
    adjust: (r) => {
      // the shipped routing: which tasks start on which pool
      r.routes = { ...loadRegistry(DEFAULT_REGISTRY, {}).routes };
      for (const [name, pool] of Object.entries(r.pools)) {
        const server = servers[name as 'small' | 'large'];
        pool.baseUrl = server.baseUrl;
        pool.model = server.model;
        pool.kind = 'llamacpp';
        pool.timeoutSeconds = 300;
        pool.concurrency = 2;
        pool.stream = true;
      }
    },
  });
});
afterAll(async () => h?.stop());

describe('a shipped pipeline on the real local model', () => {
  it('finds by probing that the server enforces the JSON schema', async () => {
    for (const pool of ['small', 'large'] as const) {
      const { rows } = await h.pgPool.query('select * from endpoint_probes where endpoint = $1 and model = $2', [h.registry.pools[pool]!.endpoint, servers[pool].model]);
      expect(rows[0], pool).toMatchObject({ declared_mode: 'json_schema', schema_enforced: true, effective_mode: 'json_schema', kind: 'llamacpp' });
    }
  });

  it.each(['ticket-triage', 'product-review'])('runs %s: every micro-task ends valid or as the typed failure, with real tokens and latency', async (pipeline) => {
    const input = sample(pipeline, pipeline === 'ticket-triage' ? 'billing-double-charge' : 'wireless-headphones');
    const workflowId = await h.start(pipeline, input, { budget: { maxAttempts: 4 } });
    const outcome = await h.env.client.workflow
      .getHandle(workflowId)
      .result()
      .then(
        (r) => ({ ok: true as const, r }),
        (e: unknown) => ({ ok: false as const, e }),
      );
    const { attempts, tasks, run } = await h.rows(workflowId);
    if (outcome.ok) {
      expect(['completed', 'partial']).toContain(outcome.r.status);
      expect(run!.status).toBe(outcome.r.status);
    } else {
      expect(outcome.e).toBeInstanceOf(WorkflowFailedError);
      const cause = (outcome.e as WorkflowFailedError).cause as ApplicationFailure;
      expect(cause.type).toBe('MicroTaskFailed');
      expect(run!.status).toBe('failed');
      // the failed micro-task tried more than one rung, and every attempt is in its details
      const failed = tasks.find((t) => t.status === 'failed')!;
      expect(failed.attempts).toBeGreaterThan(1);
      expect((cause.details?.[0] as { attempts: unknown[] }).attempts).toHaveLength(failed.attempts);
    }
    expect(attempts.length).toBeGreaterThan(0);
    for (const a of attempts) {
      expect(a.error).toBeNull();
      // routing: each attempt ran on the model of the pool it was routed to
      expect(a.model).toBe(servers[a.pool as 'small' | 'large'].model);
      expect(a.tokensEstimated).toBe(false);
      expect(a.promptTokens).toBeGreaterThan(0);
      expect(a.completionTokens).toBeGreaterThan(0);
      expect(a.latencyMs).toBeGreaterThan(0);
      expect(a.valid).not.toBeNull();
    }
    for (const t of tasks) {
      const mine = attempts.filter((a) => a.step === t.step && a.itemIndex === t.itemIndex);
      expect(mine).toHaveLength(t.attempts);
      expect(mine.at(-1)!.valid).toBe(t.status === 'valid');
      expect(t.promptTokens).toBe(mine.reduce((s, a) => s + a.promptTokens, 0));
    }
    console.log(`${pipeline}: ${outcome.ok ? outcome.r.status : 'failed'}; ${attempts.length} calls: ${attempts.map((a) => `${a.task}:${a.kind}:${a.valid ? 'ok' : 'x'}`).join(' ')}`);
  });
});
