/**
 * What an OpenAI-compatible endpoint does wrong, on demand, through the real workflows, Temporal and
 * Postgres: errors, resets, empty bodies, hangs, streams cut short or slow, and pools with no worker
 * under load. For each fault the run completes or fails with its typed error, every request the
 * endpoint received has exactly one attempt row (and no row lacks a request), and the rows say what
 * happened.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { modelAttempts } from '../../db/schema.js';
import { getMicroTask } from '../../pipelines/index.js';
import { productBlock, specSheetBlock, type ProductReviewInput } from '../../pipelines/product-review/product.js';
import { productReviewOutputs, sample } from '../support/fixtures.js';
import { startHarness, type Harness } from '../support/harness.js';
import type { ChatBody, Responder } from '../support/scripted-model.js';

const product = sample('product-review', 'wireless-headphones') as ProductReviewInput;
/**
 * One micro-task run of extract-features: one format (`extract_features`), three features in its
 * valid answer. Runs in one test differ in `maxFeatures` (3 to 8 all take that answer), which
 * the prompt states, so the endpoint can script each run on its own while they run at once.
 */
const features = (maxFeatures = 4) => ({ task: 'extract-features', input: { productName: product.name, maxFeatures }, context: [productBlock(product), specSheetBlock(product)] });
const runOf = (body: ChatBody) => Number(/List up to (\d+) features/.exec(body.messages[body.messages.length - 1]!.content)?.[1]);
const valid = JSON.stringify(productReviewOutputs.extract_features);
const answerValid = { content: valid };

/** Each run's replies (by its maxFeatures), in order; then the valid answer. */
function scriptRuns(h: Harness, replies: Record<number, Responder[]>): void {
  const queues = new Map(Object.entries(replies).map(([n, r]) => [Number(n), [...r]]));
  h.model.otherwise('extract_features', (body) => {
    const next = queues.get(runOf(body))?.shift() ?? answerValid;
    return typeof next === 'function' ? next(body) : next;
  });
}

/** Runs these extract-features runs at once; resolves when all have ended. */
const runAll = (h: Harness, ...maxFeatures: number[]) => Promise.all(maxFeatures.map((n) => h.runTask(features(n))));

/** The run's typed failure. */
function failureOf(settled: PromiseSettledResult<unknown>): ApplicationFailure {
  expect(settled.status).toBe('rejected');
  const err = (settled as PromiseRejectedResult).reason;
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect((err as WorkflowFailedError).cause).toBeInstanceOf(ApplicationFailure);
  return (err as WorkflowFailedError).cause as ApplicationFailure;
}

function completed(settled: PromiseSettledResult<unknown>): { status: string; output: unknown } {
  if (settled.status === 'rejected') throw settled.reason;
  return settled.value as { status: string; output: unknown };
}

const tally = (xs: string[]) => Object.fromEntries([...new Set(xs)].sort().map((x) => [x, xs.filter((y) => y === x).length]));

/**
 * Every request the endpoint received since the last reset has exactly one attempt row among these
 * runs' rows, and no row lacks a request: the counts per format (the schema name on the wire, and
 * the one the row's request records) are the same.
 */
async function expectOneRowPerRequest(h: Harness, workflowIds: string[]): Promise<void> {
  const rows = await h.db
    .select({ format: sql<string>`${modelAttempts.request}->>'schemaName'` })
    .from(modelAttempts)
    .where(inArray(modelAttempts.workflowId, workflowIds));
  const requests = h.model.received.filter((r) => r.format !== 'probe').map((r) => r.format);
  expect(requests.length).toBeGreaterThan(0);
  expect(tally(rows.map((r) => r.format))).toEqual(tally(requests));
}

/** The rows as [activity attempt, pool, kind, HTTP status, finish reason, valid]. */
const shape = (rows: (typeof modelAttempts.$inferSelect)[]) => rows.map((a) => [a.activityAttempt, a.pool, a.kind, a.httpStatus, a.finishReason, a.valid]);

const ms = (a: { createdAt: Date }, b: { createdAt: Date }) => b.createdAt.getTime() - a.createdAt.getTime();

/** the pools' start-to-close timeout here; the client gives up 5 s before it */
const TIMEOUT_S = 7;
const CLIENT_TIMEOUT_MS = TIMEOUT_S * 1000 - 5000;

describe('a non-streaming endpoint that fails', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ adjust: (r) => Object.values(r.pools).forEach((p) => (p.timeoutSeconds = TIMEOUT_S)) });
  });
  afterAll(async () => h?.stop());
  beforeEach(() => h.model.reset());

  it('retries a 500 by the retry policy and records both calls', async () => {
    h.model.script('extract_features', { status: 500, message: 'scripted overload' }).otherwise('extract_features', answerValid);
    const { workflowId, result } = await h.runTask(features());
    expect(completed(result).output).toEqual(productReviewOutputs.extract_features);
    const { attempts } = await h.rows(workflowId);
    expect(shape(attempts)).toEqual([
      [1, 'small', 'generate', 500, null, false],
      [2, 'small', 'generate', 200, 'stop', true],
    ]);
    expect(attempts[0]!.error).toBe('HTTP 500: 500 scripted overload');
    expect(attempts[0]!.costUsd).toBe(0);
    // the retry policy's first interval is 2 s
    expect(ms(attempts[0]!, attempts[1]!)).toBeGreaterThanOrEqual(2000);
    await expectOneRowPerRequest(h, [workflowId]);
  });

  it('waits out a 429 for at least its Retry-After, and still retries a 429 without one', async () => {
    // 5 s: longer than the policy's first interval (2 s), so only a Retry-After honoured waits this long
    scriptRuns(h, { 3: [{ status: 429, headers: { 'retry-after': '5' } }], 4: [{ status: 429 }] });
    const [honoured, plain] = await runAll(h, 3, 4);
    expect(completed(honoured!.result).status).toBe('completed');
    expect(completed(plain!.result).status).toBe('completed');

    const a = (await h.rows(honoured!.workflowId)).attempts;
    expect(shape(a)).toEqual([
      [1, 'small', 'generate', 429, null, false],
      [2, 'small', 'generate', 200, 'stop', true],
    ]);
    expect(a[0]!.error).toMatch(/^HTTP 429/);
    expect(ms(a[0]!, a[1]!)).toBeGreaterThanOrEqual(5000);
    const b = (await h.rows(plain!.workflowId)).attempts;
    expect(shape(b)).toEqual([
      [1, 'small', 'generate', 429, null, false],
      [2, 'small', 'generate', 200, 'stop', true],
    ]);
    // by the policy's first interval instead
    expect(ms(b[0]!, b[1]!)).toBeGreaterThanOrEqual(2000);
    expect(ms(b[0]!, b[1]!)).toBeLessThan(5000);
    await expectOneRowPerRequest(h, [honoured!.workflowId, plain!.workflowId]);
  });

  it('does not retry a 400: the larger pool answers instead, and a 400 there too fails the run typed', async () => {
    const rejected = { status: 400, message: 'scripted: bad request' };
    // run 3: small refuses, large answers; run 4: both refuse
    scriptRuns(h, { 3: [rejected], 4: [rejected, rejected] });
    const [moved, failed] = await runAll(h, 3, 4);
    expect(completed(moved!.result).output).toEqual(productReviewOutputs.extract_features);
    const a = (await h.rows(moved!.workflowId)).attempts;
    expect(shape(a)).toEqual([
      [1, 'small', 'generate', 400, null, false],
      [1, 'large', 'escalate', 200, 'stop', true],
    ]);
    expect(a[0]!.error).toBe('HTTP 400: 400 scripted: bad request');
    expect(a[1]!.routeReason).toBe('model call failed: ModelRequestRejected: HTTP 400: 400 scripted: bad request; escalating from small to large');

    const failure = failureOf(failed!.result);
    expect(failure.type).toBe('MicroTaskFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`micro-task extract-features v${getMicroTask('extract-features').version} failed after 2 attempt(s)`);
    expect(failure.message).toContain('no larger pool to escalate to');
    const b = await h.rows(failed!.workflowId);
    expect(shape(b.attempts)).toEqual([
      [1, 'small', 'generate', 400, null, false],
      [1, 'large', 'escalate', 400, null, false],
    ]);
    expect(b.tasks.map((t) => [t.status, t.finalPool])).toEqual([['failed', 'large']]);
    expect(b.run?.status).toBe('failed');
    await expectOneRowPerRequest(h, [moved!.workflowId, failed!.workflowId]);
  });

  it('records a hang past the client timeout as a failed call, retries it by the policy, then escalates', async () => {
    h.model.otherwise('extract_features', (body) => (body.model === 'scripted-small' ? { hangMs: CLIENT_TIMEOUT_MS + 3000 } : answerValid));
    const { workflowId, result } = await h.runTask(features());
    expect(completed(result).output).toEqual(productReviewOutputs.extract_features);
    const { attempts, tasks } = await h.rows(workflowId);
    // the policy's four attempts on small, each given up by the client, then the larger pool
    expect(shape(attempts)).toEqual([
      [1, 'small', 'generate', null, null, false],
      [2, 'small', 'generate', null, null, false],
      [3, 'small', 'generate', null, null, false],
      [4, 'small', 'generate', null, null, false],
      [1, 'large', 'escalate', 200, 'stop', true],
    ]);
    for (const a of attempts.slice(0, 4)) {
      expect(a.error).toMatch(/^timed out after 2000 ms: /);
      // given up by the client, before Temporal's start-to-close timeout would have ended the attempt
      expect(a.latencyMs).toBeGreaterThanOrEqual(CLIENT_TIMEOUT_MS - 50);
      expect(a.latencyMs).toBeLessThan(TIMEOUT_S * 1000);
    }
    expect(attempts[4]!.routeReason).toMatch(/^model call failed: ModelUnavailable: timed out after 2000 ms: .*; escalating from small to large$/);
    expect(tasks.map((t) => [t.status, t.finalPool, t.escalations])).toEqual([['valid', 'large', 1]]);
    await expectOneRowPerRequest(h, [workflowId]);
  });

  it('gives up on a response whose headers came and whose body never does, at the same deadline', async () => {
    // the SDK's own timeout ends at the headers; this body would outlast the start-to-close timeout
    h.model.script('extract_features', { hangMs: TIMEOUT_S * 1000 + 2000, afterHeaders: true }, answerValid);
    const { workflowId, result } = await h.runTask(features());
    expect(completed(result).output).toEqual(productReviewOutputs.extract_features);
    const { attempts } = await h.rows(workflowId);
    expect(shape(attempts)).toEqual([
      [1, 'small', 'generate', null, null, false],
      [2, 'small', 'generate', 200, 'stop', true],
    ]);
    // timed out by the worker, not cancelled by Temporal's start-to-close timeout
    expect(attempts[0]!.error).toMatch(/^timed out after 2000 ms: AbortError/);
    expect(attempts[0]!.latencyMs).toBeGreaterThanOrEqual(CLIENT_TIMEOUT_MS - 50);
    expect(attempts[0]!.latencyMs).toBeLessThan(TIMEOUT_S * 1000);
    await expectOneRowPerRequest(h, [workflowId]);
  });

  it('retries a connection reset before the response and one after its headers, and says which', async () => {
    scriptRuns(h, { 3: [{ reset: 'before-headers' }], 4: [{ reset: 'after-headers' }] });
    const [before, after] = await runAll(h, 3, 4);
    const rows = [];
    for (const run of [before!, after!]) {
      expect(completed(run.result).output).toEqual(productReviewOutputs.extract_features);
      const { attempts } = await h.rows(run.workflowId);
      expect(shape(attempts)).toEqual([
        [1, 'small', 'generate', null, null, false],
        [2, 'small', 'generate', 200, 'stop', true],
      ]);
      rows.push(attempts[0]!);
    }
    // no response at all: the connection failed; a response under way: its body was cut
    expect(rows[0]!.error).toMatch(/^APIConnectionError: Connection error\. \(cause: TypeError: fetch failed; .*ECONNRESET/);
    expect(rows[1]!.error).toMatch(/^TypeError: terminated \(cause: .*ECONNRESET/);
    await expectOneRowPerRequest(h, [before!.workflowId, after!.workflowId]);
  });

  it('retries a 200 with an empty body; an empty completion is an answer the ladder regenerates', async () => {
    scriptRuns(h, { 3: [{ emptyBody: true }], 4: [{ content: '' }] });
    const [empty, blank] = await runAll(h, 3, 4);
    expect(completed(empty!.result).output).toEqual(productReviewOutputs.extract_features);
    const a = (await h.rows(empty!.workflowId)).attempts;
    expect(shape(a)).toEqual([
      [1, 'small', 'generate', 200, null, false],
      [2, 'small', 'generate', 200, 'stop', true],
    ]);
    expect(a[0]!.error).toBe('NoCompletionError: HTTP 200 with an empty body: no completion');

    expect(completed(blank!.result).output).toEqual(productReviewOutputs.extract_features);
    const b = (await h.rows(blank!.workflowId)).attempts;
    // the endpoint answered and the model said nothing: an output, read and regenerated, not a transport retry
    expect(shape(b)).toEqual([
      [1, 'small', 'generate', 200, 'stop', false],
      [1, 'small', 'regenerate', 200, 'stop', true],
    ]);
    expect(b[0]!.rawOutput).toBe('');
    expect(b[0]!.error).toBeNull();
    expect(b[0]!.issues).toEqual([expect.objectContaining({ path: '' })]);
    await expectOneRowPerRequest(h, [empty!.workflowId, blank!.workflowId]);
  });
});

/** streamed pools: a call must end within its deadline, and may go 3 s without a heartbeat */
const STREAM_TIMEOUT_S = 15;
const HEARTBEAT_S = 3;

describe('a streaming endpoint that fails', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      adjust: (r) =>
        Object.values(r.pools).forEach((p) => {
          p.stream = true;
          p.timeoutSeconds = STREAM_TIMEOUT_S;
          p.heartbeatSeconds = HEARTBEAT_S;
        }),
    });
  });
  afterAll(async () => h?.stop());
  beforeEach(() => h.model.reset());

  // cut right after the second of three features: closed by a lenient parser, it would pass the contract
  const secondEnds = valid.indexOf('},{', valid.indexOf('},{') + 3) + 1;
  const cut = valid.slice(0, secondEnds);
  const cutChunks = Math.ceil(cut.length / 16);

  it('treats a stream that ends before its finish reason as a failed call, recorded with what came, and retries it', async () => {
    expect(JSON.parse(`${cut}]}`).features).toHaveLength(2);
    scriptRuns(h, {
      // closed cleanly, by a reset, with no event at all, and reset after its first chunk
      3: [{ streamed: cut, stopAfter: cutChunks }],
      4: [{ streamed: cut, stopAfter: cutChunks, stopBy: 'reset' }],
      5: [{ emptyBody: true }],
      6: [{ reset: 'after-headers' }],
    });
    const runs = await runAll(h, 3, 4, 5, 6);
    const first = [];
    for (const run of runs) {
      // all three features: no cut answer was taken for a complete one
      expect(completed(run.result).output).toEqual(productReviewOutputs.extract_features);
      const { attempts } = await h.rows(run.workflowId);
      expect(shape(attempts)).toEqual([
        [1, 'small', 'generate', 200, null, false],
        [2, 'small', 'generate', 200, 'stop', true],
      ]);
      expect(attempts[0]!.costUsd).toBe(0);
      first.push(attempts[0]!);
    }
    expect(first.map((a) => a.rawOutput)).toEqual([cut, cut, '', '{"']);
    expect(first[0]!.error).toBe(`StreamCutError: stream ended before its finish reason, after ${cutChunks} chunk(s) and ${cut.length} character(s)`);
    expect(first[1]!.error).toMatch(/^StreamCutError: stream ended before its finish reason, .* \(cause: TypeError: terminated; .*ECONNRESET/);
    expect(first[2]!.error).toBe('StreamCutError: stream ended before its finish reason, after 0 chunk(s) and 0 character(s)');
    expect(first[3]!.error).toMatch(/^StreamCutError: stream ended before its finish reason, after 1 chunk\(s\) and 2 character\(s\) \(cause: TypeError: terminated; .*ECONNRESET/);
    await expectOneRowPerRequest(h, runs.map((r) => r.workflowId));
  });

  it('keeps a call whose tokens come slower than the heartbeat timeout, and records it once', async () => {
    // three chunks 3.5 s apart: each gap longer than the 3 s heartbeat timeout
    const slow = { streamed: valid, chunkChars: Math.ceil(valid.length / 3), chunkDelayMs: 3500 };
    h.model.script('extract_features', slow);
    const { workflowId, result } = await h.runTask(features());
    expect(completed(result).output).toEqual(productReviewOutputs.extract_features);
    const { attempts } = await h.rows(workflowId);
    expect(shape(attempts)).toEqual([[1, 'small', 'generate', 200, 'stop', true]]);
    expect(attempts[0]!.latencyMs).toBeGreaterThanOrEqual(7000);
    expect(attempts[0]!.ttftMs!).toBeLessThan(3500);
    // the call ran under the pool's heartbeat timeout, shorter than the gaps between its tokens
    const history = await h.env.client.workflow.getHandle(workflowId).fetchHistory();
    const scheduled = (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes] : []));
    expect(scheduled.filter((s) => s.activityType?.name === 'callModel').map((s) => Number(s.heartbeatTimeout?.seconds))).toEqual([HEARTBEAT_S]);
    await expectOneRowPerRequest(h, [workflowId]);
  });

  it('gives up on a stream whose headers came and whose tokens never do, though the call heartbeats', async () => {
    const deadlineMs = STREAM_TIMEOUT_S * 1000 - 5000;
    h.model.script('extract_features', { hangMs: STREAM_TIMEOUT_S * 1000 + 3000, afterHeaders: true }, answerValid);
    const { workflowId, result } = await h.runTask(features());
    expect(completed(result).output).toEqual(productReviewOutputs.extract_features);
    const { attempts } = await h.rows(workflowId);
    expect(shape(attempts)).toEqual([
      [1, 'small', 'generate', 200, null, false],
      [2, 'small', 'generate', 200, 'stop', true],
    ]);
    // the call heartbeat all along; the worker gave it up at its deadline
    expect(attempts[0]!.error).toBe(`timed out after ${deadlineMs} ms: StreamCutError: stream ended before its finish reason, after 0 chunk(s) and 0 character(s)`);
    expect(attempts[0]!.latencyMs).toBeGreaterThanOrEqual(deadlineMs - 50);
    expect(attempts[0]!.latencyMs).toBeLessThan(STREAM_TIMEOUT_S * 1000);
    await expectOneRowPerRequest(h, [workflowId]);
  });
});

const RUNS = 40;
const POOL_WAIT_S = 4;
/** the runs' waits one after another would take RUNS * POOL_WAIT_S (160 s); at once, a fraction of that */
const AT_ONCE_MS = (RUNS * POOL_WAIT_S * 1000) / 2;

describe('a larger pool with no worker, under load', () => {
  let h: Harness;
  beforeAll(async () => {
    // only small is served, with room for every run's call at once
    h = await startHarness({ servePools: ['small'], poolWaitSeconds: POOL_WAIT_S, adjust: (r) => void (r.pools.small!.concurrency = RUNS) });
  });
  afterAll(async () => h?.stop());

  it(`ends each of ${RUNS} runs whose small attempt fails after the bounded wait for large, typed, and records why`, { timeout: 150_000 }, async () => {
    h.model.otherwise('extract_features', { status: 400, message: 'scripted: bad request' });
    const started = Date.now();
    const runs = await Promise.all(Array.from({ length: RUNS }, () => h.runTask(features())));
    expect(Date.now() - started).toBeLessThan(AT_ONCE_MS);
    for (const run of runs) {
      const failure = failureOf(run.result);
      expect(failure.type).toBe('MicroTaskFailed');
      expect(failure.message).toContain('no worker picked the call up in time');
      const { attempts, tasks, run: row } = await h.rows(run.workflowId);
      // the call on large was never picked up, so only the small call has a row
      expect(shape(attempts)).toEqual([[1, 'small', 'generate', 400, null, false]]);
      expect(tasks.map((t) => [t.status, t.finalPool])).toEqual([['failed', 'large']]);
      expect(tasks[0]!.reason).toMatch(/^model call failed: no worker picked the call up in time \(.*\); no larger pool to escalate to$/);
      expect(row?.status).toBe('failed');
      // the escalation waited its bound for a worker before the run ended
      expect(row!.finishedAt!.getTime() - attempts[0]!.createdAt.getTime()).toBeGreaterThanOrEqual(POOL_WAIT_S * 1000);
    }
    expect(h.model.received.filter((r) => r.format === 'extract_features').map((r) => r.body.model)).toEqual(Array(RUNS).fill('scripted-small'));
    await expectOneRowPerRequest(h, runs.map((r) => r.workflowId));
  });
});

describe('a smaller pool with no worker, under load', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ servePools: ['large'], poolWaitSeconds: POOL_WAIT_S, adjust: (r) => void (r.pools.large!.concurrency = RUNS) });
  });
  afterAll(async () => h?.stop());

  it(`escalates each of ${RUNS} runs to the larger pool after the bounded wait, and records why in the route reason`, { timeout: 150_000 }, async () => {
    h.model.otherwise('extract_features', answerValid);
    const started = Date.now();
    const runs = await Promise.all(Array.from({ length: RUNS }, () => h.runTask(features())));
    expect(Date.now() - started).toBeLessThan(AT_ONCE_MS);
    for (const run of runs) {
      expect(completed(run.result).output).toEqual(productReviewOutputs.extract_features);
      const { attempts, tasks, run: row } = await h.rows(run.workflowId);
      // no call was made on small, so it has no row
      expect(shape(attempts)).toEqual([[1, 'large', 'escalate', 200, 'stop', true]]);
      expect(attempts[0]!.routeReason).toMatch(/^model call failed: no worker picked the call up in time \(.*\); escalating from small to large$/);
      expect(tasks.map((t) => [t.status, t.finalPool, t.escalations])).toEqual([['valid', 'large', 1]]);
      expect(attempts[0]!.createdAt.getTime() - row!.startedAt.getTime()).toBeGreaterThanOrEqual(POOL_WAIT_S * 1000);
    }
    await expectOneRowPerRequest(h, runs.map((r) => r.workflowId));
  });
});
