/**
 * The row of a call whose worker was cut off from Temporal but not from Postgres, on the real
 * database: the activity's retry writes the recovered no-result row first (from the heartbeat the
 * lost attempt left), and the call's own row, written when the call ends, replaces it in place.
 * Both are written by the model activity itself (createModelActivities, run in a
 * MockActivityEnvironment) against an endpoint this file holds back; attempt_rollups is held to
 * what rebuild_attempt_rollups() computes from the rows after every step.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Logger } from '@temporalio/common';
import { eq, like } from 'drizzle-orm';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createModelActivities, LOST_CALL_ERROR, LOST_RECORD_ERROR, type CallHeartbeat, type ChatClient } from '../../activities/model.js';
import { createRecordActivities } from '../../activities/records.js';
import type { ModelCallRequest, ModelCallResult } from '../../activities/types.js';
import { defineMicroTask } from '../../core/contract.js';
import { RegistryConfig, snapshotOf } from '../../core/registry.js';
import { createDb, createPool, type Db } from '../../db/client.js';
import { modelAttempts, type ModelAttemptRow } from '../../db/schema.js';
import { freshDatabase, rollupsAndRebuild } from '../support/database.js';

const classify = defineMicroTask({
  name: 'classify-ticket',
  version: 1,
  formatName: 'classify_ticket',
  description: 'Classify a ticket.',
  input: z.object({ text: z.string() }),
  output: z.object({ category: z.enum(['billing', 'shipping']) }),
  prompt: (i: { text: string }) => ({ system: 'Classify the ticket.', user: i.text }),
  pool: 'small',
  maxTokens: 100,
});

const config = RegistryConfig.parse({
  version: 'r1',
  defaultPool: 'small',
  pools: {
    small: { baseUrl: 'http://gpu-1:8000/v1', model: 'qwen-7b', kind: 'openai', contextWindow: 8192, price: { version: 's1', inputPerMTok: 1, outputPerMTok: 3 } },
  },
  reference: { model: 'frontier', price: { version: 'ref1', inputPerMTok: 5, outputPerMTok: 15 } },
});
const registry = snapshotOf(config);

const quiet: Logger = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** An endpoint that answers a valid classification with known usage; a call whose key is held waits until it is let go. */
class HeldEndpoint {
  private readonly held = new Map<number, { release: () => void; gate: Promise<void> }>();
  calls = 0;
  readonly client: ChatClient;

  constructor() {
    const create = (async () => {
      const n = ++this.calls;
      await this.held.get(n)?.gate;
      return {
        id: `c${n}`,
        object: 'chat.completion',
        created: 0,
        model: 'qwen-7b',
        choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: '{"category": "shipping"}' } }],
        usage: { prompt_tokens: 40, completion_tokens: 8, total_tokens: 48 },
      };
    }) as unknown as ChatClient['chat']['completions']['create'];
    this.client = { chat: { completions: { create } } };
  }

  /** Holds the next call made (counted from now) until `release()`. */
  holdNext(): () => void {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    this.held.set(this.calls + 1, { release, gate });
    return release;
  }
}

let pgPool: pg.Pool;
let db: Db;
const endpoint = new HeldEndpoint();
const activities = () => createModelActivities({ db, poolName: 'small', pool: config.pools.small!, client: endpoint.client, registry, getTask: () => classify });
let runs = 0;

/** A call of its own workflow (and pipeline name, so its rollups are its own too). */
function call(): ModelCallRequest {
  const n = ++runs;
  return {
    workflowId: `wf-lost-${n}`,
    runId: 'run',
    pipeline: `lost-${n}`,
    step: 'classify',
    itemIndex: -1,
    task: 'classify-ticket',
    taskVersion: 1,
    attemptNo: 1,
    spec: { kind: 'generate' },
    pool: 'small',
    routeReason: 'default pool of classify-ticket',
    maxTokens: 100,
    input: { text: 'Where is my parcel?' },
    context: [],
  };
}

/** Runs attempt `attempt` of activity `activityId`; its heartbeats go to `beats`. */
function attempt(req: ModelCallRequest, attemptNo: number, opts: { heartbeatDetails?: unknown; beats?: CallHeartbeat[] } = {}): Promise<ModelCallResult> {
  const env = new MockActivityEnvironment(
    { activityId: '5', attempt: attemptNo, heartbeatDetails: opts.heartbeatDetails, startToCloseTimeoutMs: 60_000, heartbeatTimeoutMs: 5_000 },
    { logger: quiet },
  );
  env.on('heartbeat', (d: CallHeartbeat) => opts.beats?.push(structuredClone(d)));
  return env.run(activities().callModel, req);
}

const keyOf = (req: ModelCallRequest, activityAttempt: number) => `${req.workflowId}/${req.runId}/5/${activityAttempt}`;

async function rowsOf(req: ModelCallRequest): Promise<ModelAttemptRow[]> {
  return db.select().from(modelAttempts).where(eq(modelAttempts.workflowId, req.workflowId)).orderBy(modelAttempts.attemptKey);
}

async function expectRollupsAsRebuilt(): Promise<void> {
  const { kept, rebuilt } = await rollupsAndRebuild(pgPool);
  expect(kept).toEqual(rebuilt);
}

/** One pipeline's rollups: day, calls, failed calls, prompt tokens, cost. */
async function rollupsOf(pipeline: string): Promise<[string, number, number, number, number][]> {
  const res = await pgPool.query(`select day::text, calls, failed_calls, prompt_tokens, cost_usd from attempt_rollups where pipeline = $1 order by day`, [pipeline]);
  return res.rows.map((r: { day: string; calls: string; failed_calls: string; prompt_tokens: string; cost_usd: number }) => [r.day, Number(r.calls), Number(r.failed_calls), Number(r.prompt_tokens), r.cost_usd]);
}

const COST = (40 * 1 + 8 * 3) / 1e6;
const REFERENCE_COST = (40 * 5 + 8 * 15) / 1e6;
const today = () => new Date().toISOString().slice(0, 10);

beforeAll(async () => {
  // a database of its own: every rollup in it is compared with a rebuild from its rows
  pgPool = createPool(await freshDatabase('microtasks_test_lost_calls'));
  db = createDb(pgPool);
});

afterAll(async () => pgPool?.end());

describe('the row of a call whose worker was cut off from Temporal but not from Postgres', () => {
  it("replaces the recovered no-result row its retry wrote first, in place, and the rollups follow even across a UTC day", async () => {
    const req = call();
    const beats: CallHeartbeat[] = [];
    // attempt 1 sends its request and heartbeats; the endpoint holds the answer
    const release = endpoint.holdNext();
    const first = attempt(req, 1, { beats });
    await expect.poll(() => beats.length).toBeGreaterThan(0);
    // Temporal gave up on attempt 1 (its heartbeats stopped reaching it) and hands attempt 2 the last one
    const second = await attempt(req, 2, { heartbeatDetails: beats.at(-1) });
    const [placeholder, retried] = await rowsOf(req);
    expect(placeholder).toMatchObject({ attemptKey: keyOf(req, 1), error: `${LOST_CALL_ERROR}: no result (heartbeat timeout)`, httpStatus: null, costUsd: 0, valid: false });
    expect(retried).toMatchObject({ attemptKey: keyOf(req, 2), id: second.attemptId, httpStatus: 200, error: null });
    // the placeholder was written the day before: the row of the call goes to the rollup of its own day
    await pgPool.query(`update model_attempts set created_at = created_at - interval '1 day' where id = $1`, [placeholder!.id]);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    expect(await rollupsOf(req.pipeline)).toEqual([
      [yesterday, 0, 1, 0, 0],
      [today(), 1, 0, 40, COST],
    ]);
    await expectRollupsAsRebuilt();

    // the cut-off worker's call ends: its own row takes the placeholder's place
    release();
    const late = await first;
    expect(late.attemptId).toBe(placeholder!.id);
    const rows = await rowsOf(req);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      id: placeholder!.id,
      attemptKey: keyOf(req, 1),
      activityAttempt: 1,
      error: null,
      httpStatus: 200,
      finishReason: 'stop',
      rawOutput: '{"category": "shipping"}',
      promptTokens: 40,
      completionTokens: 8,
      costUsd: COST,
      referenceCostUsd: REFERENCE_COST,
      valid: null,
      validatedAt: null,
    });
    expect(rows[0]!.createdAt.getTime()).toBeGreaterThan(placeholder!.createdAt.getTime());
    expect(rows[1]).toEqual(retried);
    // yesterday's rollup had only the placeholder, and is gone as a rebuild would not have it
    expect(await rollupsOf(req.pipeline)).toEqual([[today(), 2, 0, 80, COST + COST]]);
    await expectRollupsAsRebuilt();

    // the validation of the row by id, as the orchestration worker records it, changes it and no rollup
    const records = createRecordActivities({ db, registry: () => registry });
    const before = await rollupsAndRebuild(pgPool);
    await records.recordValidation({ attemptId: late.attemptId, valid: true, issues: [], fixes: [], at: Date.now() });
    expect(await db.query.modelAttempts.findFirst({ where: (t, { eq }) => eq(t.id, placeholder!.id) })).toMatchObject({ valid: true, issues: [], fixes: [], validatedAt: expect.any(Date) });
    expect(await rollupsAndRebuild(pgPool)).toEqual(before);
  });

  it('keeps the row of the call when it came first: the recovered row is never written over it', async () => {
    const req = call();
    const beats: CallHeartbeat[] = [];
    const first = await attempt(req, 1, { beats });
    // the last heartbeat the retry could be handed: one from before the call ended
    const second = await attempt(req, 2, { heartbeatDetails: beats.find((b) => !b.ended) });
    const rows = await rowsOf(req);
    expect(rows.map((r) => [r.attemptKey, r.id, r.httpStatus, r.error, r.costUsd])).toEqual([
      [keyOf(req, 1), first.attemptId, 200, null, COST],
      [keyOf(req, 2), second.attemptId, 200, null, COST],
    ]);
    expect(endpoint.calls).toBeGreaterThan(0);
    expect(await rollupsOf(req.pipeline)).toEqual([[today(), 2, 0, 80, COST + COST]]);
    await expectRollupsAsRebuilt();
  });

  it('leaves a recovered row that carries the cost of the call (the call ended, its row was not written) as it is', async () => {
    const req = call();
    const beats: CallHeartbeat[] = [];
    const release = endpoint.holdNext();
    const first = attempt(req, 1, { beats });
    await expect.poll(() => beats.length).toBeGreaterThan(0);
    const ended: CallHeartbeat = {
      ...beats.at(-1)!,
      ended: { latencyMs: 900, ttftMs: null, httpStatus: 200, error: null, finishReason: 'stop', promptTokens: 40, completionTokens: 8, tokensEstimated: false, costUsd: COST, referenceCostUsd: REFERENCE_COST },
    };
    await attempt(req, 2, { heartbeatDetails: ended });
    release();
    const late = await first;
    const [kept] = await rowsOf(req);
    expect(kept).toMatchObject({ id: late.attemptId, error: `${LOST_RECORD_ERROR}: HTTP 200 answered, the output is lost`, rawOutput: null, costUsd: COST, latencyMs: 900 });
    await expectRollupsAsRebuilt();
  });

  it('ends with the row of each call when the recovered row and the call’s own are written at once', async () => {
    const reqs = Array.from({ length: 8 }, () => ({ ...call(), pipeline: 'lost-race' }));
    await Promise.all(
      reqs.flatMap((req) => {
        const lost: CallHeartbeat = { attemptKey: keyOf(req, 1), activityAttempt: 1, callStartedAt: Date.now() - 3_000, at: Date.now() - 1_000 };
        return [attempt(req, 1), attempt(req, 2, { heartbeatDetails: lost })];
      }),
    );
    for (const req of reqs) {
      const rows = await rowsOf(req);
      expect(rows.map((r) => [r.attemptKey, r.httpStatus, r.error, r.costUsd])).toEqual([
        [keyOf(req, 1), 200, null, COST],
        [keyOf(req, 2), 200, null, COST],
      ]);
    }
    expect(await db.select().from(modelAttempts).where(like(modelAttempts.error, `${LOST_CALL_ERROR}%`))).toEqual([]);
    expect(await rollupsOf('lost-race')).toEqual([[today(), 16, 0, 640, expect.closeTo(16 * COST, 15)]]);
    await expectRollupsAsRebuilt();
  });

  it('keeps the rollups as rebuilt when a row is deleted or its rolled-up columns change in other ways', async () => {
    const req = call();
    await attempt(req, 1);
    await attempt(req, 2);
    const [a, b] = await rowsOf(req);
    await pgPool.query(`update model_attempts set error = 'HTTP 500: scripted', prompt_tokens = 0, cost_usd = 0, kind = 'repair' where id = $1`, [a!.id]);
    await expectRollupsAsRebuilt();
    await pgPool.query(`update model_attempts set pool = 'large', latency_ms = latency_ms + 1000, ttft_ms = 50 where id = $1`, [b!.id]);
    await expectRollupsAsRebuilt();
    await pgPool.query(`delete from model_attempts where id = $1`, [a!.id]);
    await expectRollupsAsRebuilt();
    await pgPool.query(`delete from model_attempts where id = $1`, [b!.id]);
    expect(await rollupsOf(req.pipeline)).toEqual([]);
    await expectRollupsAsRebuilt();
  });
});
