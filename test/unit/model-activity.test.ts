import { ApplicationFailure, CancelledFailure, type Logger } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createModelActivities, LOST_CALL_ERROR, LOST_RECORD_ERROR, type CallHeartbeat, type ChatClient } from '../../activities/model.js';
import type { ModelCallRequest } from '../../activities/types.js';
import { defineMicroTask } from '../../core/contract.js';
import { FailureTypes } from '../../core/failures.js';
import { RegistryConfig, snapshotOf, type EndpointKind } from '../../core/registry.js';
import type { Db } from '../../db/client.js';

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

const registryFor = (kind: EndpointKind) =>
  RegistryConfig.parse({
    version: 'r1',
    defaultPool: 'small',
    pools: {
      small: { baseUrl: 'http://gpu-1:8000/v1', model: 'qwen-7b', kind, contextWindow: 8192, price: { version: 's1', inputPerMTok: 1, outputPerMTok: 1 } },
      large: { baseUrl: 'http://gpu-2:8000/v1', model: 'llama-70b', kind, contextWindow: 32768, price: { version: 'l1', inputPerMTok: 2, outputPerMTok: 2 } },
    },
    reference: { model: 'frontier', price: { version: 'ref1', inputPerMTok: 5, outputPerMTok: 15 } },
  });

/** Records what the endpoint was sent; answers a valid classification. */
function fakeClient(): { client: ChatClient; sent: Record<string, unknown>[] } {
  const sent: Record<string, unknown>[] = [];
  const create = (async (params: Record<string, unknown>) => {
    sent.push(params);
    return {
      id: 'c',
      object: 'chat.completion',
      created: 0,
      model: 'qwen-7b',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: '{"category": "shipping"}' } }],
      usage: { prompt_tokens: 40, completion_tokens: 8, total_tokens: 48 },
    };
  }) as unknown as ChatClient['chat']['completions']['create'];
  return { client: { chat: { completions: { create } } }, sent };
}

/**
 * An insert of a model_attempts row as the activity builds it: `onConflictDoNothing` for a
 * recovered row, `onConflictDoUpdate` (replacing a recovered no-result row) for a call's own;
 * `returning` gives the id. `conflicts` notes which was used for each row.
 */
function fakeInsert(returning: (row: Record<string, unknown>) => Promise<{ id: number }[]>, conflicts: string[] = []) {
  return {
    insert: () => ({
      values: (row: Record<string, unknown>) => ({
        onConflictDoNothing: () => (conflicts.push('nothing'), { returning: () => returning(row) }),
        onConflictDoUpdate: () => (conflicts.push('update'), { returning: () => returning(row) }),
      }),
    }),
  } as unknown as Db;
}

/** Takes the attempt row and gives it an id, as the model_attempts insert does. */
const fakeDb = fakeInsert(async () => [{ id: 7 }]);

const call = (pool: string): ModelCallRequest => ({
  workflowId: 'wf',
  runId: 'run',
  pipeline: 'ticket-triage',
  step: 'classify',
  itemIndex: -1,
  task: 'classify-ticket',
  taskVersion: 1,
  attemptNo: 1,
  spec: { kind: 'generate' },
  pool,
  routeReason: 'default pool of classify-ticket',
  maxTokens: 100,
  input: { text: 'Where is my parcel?' },
  context: [],
});

const quiet: Logger = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const activityEnv = (info?: ConstructorParameters<typeof MockActivityEnvironment>[0]) => new MockActivityEnvironment(info, { logger: quiet });

function activitiesFor(kind: EndpointKind) {
  const config = registryFor(kind);
  const { client, sent } = fakeClient();
  const activities = createModelActivities({ db: fakeDb, poolName: 'small', pool: config.pools.small!, client, registry: snapshotOf(config), getTask: () => classify });
  return { activities, sent };
}

describe('the model call activity', () => {
  it("sends the schema in the field of the pool's kind", async () => {
    for (const [kind, field] of [['vllm', 'structured_outputs'], ['llamacpp', 'json_schema'], ['openai', 'response_format']] as const) {
      const { activities, sent } = activitiesFor(kind);
      const result = await activityEnv().run(activities.callModel, call('small'));
      expect(result).toMatchObject({ attemptId: 7, text: '{"category": "shipping"}', promptTokens: 40 });
      expect(sent[0], kind).toHaveProperty(field);
    }
  });

  it('refuses a call routed to another pool, without calling the endpoint', async () => {
    const { activities, sent } = activitiesFor('openai');
    const failure = await activityEnv().run(activities.callModel, call('large')).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: FailureTypes.misroutedCall, nonRetryable: true });
    expect((failure as Error).message).toMatch(/routed to pool large reached a worker of pool small on task queue model-small/);
    expect(sent).toEqual([]);
  });

  it('aborts the call in flight when its run is cancelled, records it, and ends as cancelled', async () => {
    const config = registryFor('openai');
    const rows: Record<string, unknown>[] = [];
    const db = fakeInsert(async (row) => (rows.push(row), [{ id: 8 }]));
    let signal: AbortSignal | undefined;
    // an endpoint that answers only when the request is aborted, as a hung one does
    const create = ((_params: unknown, options: { signal: AbortSignal }) => {
      signal = options.signal;
      return new Promise((_resolve, reject) => options.signal.addEventListener('abort', () => reject(Object.assign(new Error('Request was aborted.'), { name: 'AbortError' }))));
    }) as unknown as ChatClient['chat']['completions']['create'];
    const activities = createModelActivities({ db, poolName: 'small', pool: config.pools.small!, client: { chat: { completions: { create } } }, registry: snapshotOf(config), getTask: () => classify });
    const env = activityEnv();
    let beats = 0;
    env.on('heartbeat', () => beats++);
    const running = env.run(activities.callModel, call('small')).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 50));
    // the call heartbeats while it waits, which is how a worker learns of the cancellation
    expect(beats).toBeGreaterThan(0);
    env.cancel();
    const err = await running;
    expect(signal?.aborted).toBe(true);
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ valid: false, error: expect.stringMatching(/^cancelled: /) });
  });

  it('heartbeats the attempt key and the start of the call before the request is sent', async () => {
    const { activities, sent } = activitiesFor('openai');
    const env = activityEnv({ activityId: '3', startToCloseTimeoutMs: 60_000 });
    const beats: { beat: CallHeartbeat; sentBefore: number }[] = [];
    env.on('heartbeat', (d: CallHeartbeat) => beats.push({ beat: structuredClone(d), sentBefore: sent.length }));
    await env.run(activities.callModel, call('small'));
    expect(beats[0]).toMatchObject({ sentBefore: 0, beat: { attemptKey: 'wf/run/3/1', activityAttempt: 1, callStartedAt: expect.any(Number) } });
    expect(beats[0]!.beat.ended).toBeUndefined();
    // while its row is written, the heartbeat says how the call ended
    expect(beats.at(-1)!.beat.ended).toMatchObject({ httpStatus: 200, promptTokens: 40, completionTokens: 8, error: null });
  });

  it("records the previous attempt's lost call from its heartbeat before calling again", async () => {
    const config = registryFor('openai');
    const rows: Record<string, unknown>[] = [];
    const conflicts: string[] = [];
    const db = fakeInsert(async (row) => (rows.push(row), [{ id: rows.length }]), conflicts);
    const { client, sent } = fakeClient();
    const activities = createModelActivities({ db, poolName: 'small', pool: config.pools.small!, client, registry: snapshotOf(config), getTask: () => classify });
    const lost: CallHeartbeat = { attemptKey: 'wf/run/3/1', activityAttempt: 1, callStartedAt: 1_000, at: 5_500 };
    await activityEnv({ activityId: '3', attempt: 2, heartbeatDetails: lost, startToCloseTimeoutMs: 60_000 }).run(activities.callModel, call('small'));
    expect(sent).toHaveLength(1);
    expect(rows.map((r) => [r.attemptKey, r.activityAttempt, r.httpStatus, r.valid, r.error, r.latencyMs])).toEqual([
      ['wf/run/3/1', 1, null, false, `${LOST_CALL_ERROR}: no result (heartbeat timeout)`, 4_500],
      ['wf/run/3/2', 2, 200, undefined, undefined, expect.any(Number)],
    ]);
    // the recovered row never changes a row that is there; the call's own row replaces a recovered no-result one
    expect(conflicts).toEqual(['nothing', 'update']);

    // a call that ended but was not recorded keeps what it cost; a heartbeat of another activity is ignored
    rows.length = 0;
    const ended: CallHeartbeat = { ...lost, ended: { latencyMs: 900, ttftMs: null, httpStatus: 200, error: null, finishReason: 'stop', promptTokens: 40, completionTokens: 8, tokensEstimated: false, costUsd: 0.5, referenceCostUsd: 2 } };
    await activityEnv({ activityId: '3', attempt: 2, heartbeatDetails: ended, startToCloseTimeoutMs: 60_000 }).run(activities.callModel, call('small'));
    expect(rows[0]).toMatchObject({ attemptKey: 'wf/run/3/1', httpStatus: 200, latencyMs: 900, promptTokens: 40, costUsd: 0.5, valid: false, error: `${LOST_RECORD_ERROR}: HTTP 200 answered, the output is lost` });
    rows.length = 0;
    await activityEnv({ activityId: '4', attempt: 2, heartbeatDetails: lost, startToCloseTimeoutMs: 60_000 }).run(activities.callModel, call('small'));
    expect(rows.map((r) => r.attemptKey)).toEqual(['wf/run/4/2']);
  });

  it('retries the write of a row while the database is down instead of failing the call', async () => {
    const config = registryFor('openai');
    let failures = 3;
    const db = fakeInsert(async () => {
      if (failures-- > 0) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      return [{ id: 9 }];
    });
    const { client, sent } = fakeClient();
    const activities = createModelActivities({ db, poolName: 'small', pool: config.pools.small!, client, registry: snapshotOf(config), getTask: () => classify });
    const result = await activityEnv({ startToCloseTimeoutMs: 60_000 }).run(activities.callModel, call('small'));
    expect(result).toMatchObject({ attemptId: 9 });
    expect(sent).toHaveLength(1);
    expect(failures).toBe(-1);
  });
});
