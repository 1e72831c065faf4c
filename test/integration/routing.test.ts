import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { answerProductReview, productReviewOutputs, sample } from '../support/fixtures.js';
import { startHarness, type Harness } from '../support/harness.js';
import { RELEASE_PATCH } from '../../workflows/patches.js';

const review = sample('product-review', 'wireless-headphones');

describe('routing when the small pool has no worker', () => {
  let h: Harness;
  beforeAll(async () => {
    // only the large pool is served; the small pool looks down
    h = await startHarness({ servePools: ['large'], poolWaitSeconds: 2, adjust: (r) => void (r.pools.large!.stream = true) });
  });
  afterAll(async () => h?.stop());
  beforeEach(() => {
    h.model.reset();
    answerProductReview(h.model);
  });

  it('falls back to the larger pool after a bounded wait instead of hanging, and records why', async () => {
    const started = Date.now();
    const { workflowId, result } = await h.run('product-review', review);
    expect(result.status).toBe('completed');
    expect(Date.now() - started).toBeLessThan(60_000);
    const { attempts, tasks } = await h.rows(workflowId);
    // no call was made on the small pool, so it has no rows; once found down, it is not waited for again
    expect(attempts.map((a) => [a.pool, a.kind])).toEqual([
      ['large', 'escalate'],
      ['large', 'generate'],
      ['large', 'generate'],
      ['large', 'generate'],
    ]);
    expect(attempts[0]!.routeReason).toContain('no worker picked the call up in time');
    expect(attempts[0]!.routeReason).toContain('escalating from small to large');
    for (const a of attempts.slice(1)) expect(a.routeReason).toContain('small had no worker earlier in this run, routed to large');
    for (const a of attempts) {
      expect(a.priceVersion).toBe('large-test-1');
      expect(a.costUsd).toBeCloseTo((a.promptTokens * 1 + a.completionTokens * 2) / 1e6, 12);
    }
    expect(tasks.map((t) => [t.finalPool, t.escalations])).toEqual([
      ['large', 1],
      ['large', 0],
      ['large', 0],
      ['large', 0],
    ]);
  });

  it('streams on a streaming pool: time to first token is recorded and usage comes from the last chunk', async () => {
    const { workflowId } = await h.run('product-review', review);
    const { attempts } = await h.rows(workflowId);
    for (const a of attempts) {
      expect(a.ttftMs).not.toBeNull();
      expect(a.ttftMs!).toBeLessThanOrEqual(a.latencyMs);
      expect(a.tokensEstimated).toBe(false);
    }
    const req = h.model.requestsFor('extract_features')[0]!;
    expect(req.stream).toBe(true);
    expect(JSON.parse(attempts[0]!.rawOutput!)).toEqual(productReviewOutputs.extract_features);
  });

  it('estimates tokens, and marks them estimated, when the endpoint reports no usage', async () => {
    h.model.script('extract_features', { content: JSON.stringify(productReviewOutputs.extract_features), usage: null });
    const { workflowId } = await h.run('product-review', review);
    const f = (await h.rows(workflowId)).attempts.find((a) => a.task === 'extract-features')!;
    expect(f.tokensEstimated).toBe(true);
    expect(f.completionTokens).toBe(Math.ceil(JSON.stringify(productReviewOutputs.extract_features).length / 4));
    expect(f.promptTokens).toBeGreaterThan(0);
  });
});

describe('a task the registry routes to a pool that has no worker', () => {
  let h: Harness;
  beforeAll(async () => {
    // write-advice is routed to large, and only small is served
    h = await startHarness({ servePools: ['small'], poolWaitSeconds: 2, adjust: (r) => void (r.routes = { 'write-advice': 'large' }) });
  });
  afterAll(async () => h?.stop());

  it('runs on its own pool after the bounded wait, and records why', async () => {
    answerProductReview(h.model);
    const { workflowId, result } = await h.run('product-review', review);
    expect(result.status).toBe('completed');
    const { attempts, tasks } = await h.rows(workflowId);
    // the call on large was never picked up, so only calls on small were made and recorded
    expect(attempts.map((a) => [a.task, a.pool])).toEqual([
      ['extract-features', 'small'],
      ['write-scenarios', 'small'],
      ['write-advice', 'small'],
      ['generate-keywords', 'small'],
    ]);
    expect(attempts[2]!.routeReason).toBe("large has no worker; back to write-advice's own pool small");
    expect(tasks.find((t) => t.task === 'write-advice')).toMatchObject({ status: 'valid', finalPool: 'small' });
  });
});

describe('an endpoint that silently ignores the JSON schema', () => {
  let h: Harness;
  beforeAll(async () => {
    // answers the probe the way the prompt asks, against the schema
    h = await startHarness({ probeAnswer: { content: '{"word": "gamma"}' } });
  });
  afterAll(async () => h?.stop());

  it('is found out by the probe, recorded, and then gets the schema in the prompt instead', async () => {
    answerProductReview(h.model);
    // without response_format the scripted server files requests under "*"
    h.model.otherwise('*', (body) => {
      const system = body.messages[0]!.content;
      const format = Object.keys(productReviewOutputs).find((f) => system.includes(`"${f}"`) || body.messages[1]!.content.includes(f)) ?? 'extract_features';
      return { content: JSON.stringify(productReviewOutputs[format as keyof typeof productReviewOutputs]) };
    });
    const probes = await h.pgPool.query(`select * from endpoint_probes where endpoint = $1`, [h.registry.pools.small!.endpoint]);
    expect(probes.rows[0]).toMatchObject({ schema_enforced: false, effective_mode: 'prompt', declared_mode: 'json_schema' });
    const workflowId = await h.start('product-review', sample('product-review', 'wireless-headphones'));
    await h.env.client.workflow.getHandle(workflowId).result().catch(() => undefined);
    const first = h.model.received.find((r) => r.format === '*')!;
    expect(first.body.response_format).toBeUndefined();
    expect(first.body.messages[0]!.content).toContain('The JSON must match this JSON schema');
    const { attempts } = await h.rows(workflowId);
    expect(attempts[0]!.schemaMode).toBe('prompt');
  });
});

describe('a streaming pool whose model starts looping', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ adjust: (r) => Object.values(r.pools).forEach((p) => (p.stream = true)) });
  });
  afterAll(async () => h?.stop());
  beforeEach(() => {
    h.model.reset();
    answerProductReview(h.model);
  });

  it('stops a streamed generation that loops, records what came, and regenerates instead of giving it more room', async () => {
    const item = JSON.stringify(productReviewOutputs.extract_features.features[0]);
    const loop = `{"features": [${Array.from({ length: 40 }, () => item).join(', ')}, {"name": "ba`;
    const whole = Math.ceil(loop.length / 4); // the completion tokens of the whole loop
    h.model.script('extract_features', { content: loop, finishReason: 'length', usage: { prompt: 300, completion: whole } });
    const { workflowId, result } = await h.run('product-review', review);
    expect(result.status).toBe('completed');
    const { attempts } = await h.rows(workflowId);
    const features = attempts.filter((a) => a.task === 'extract-features');
    expect(features.map((a) => [a.kind, a.finishReason, a.valid])).toEqual([
      ['generate', 'runaway', false],
      ['regenerate', 'stop', true],
    ]);
    const stopped = features[0]!;
    // the worker left the stream after a few copies: it records what it received, estimated
    expect(stopped.rawOutput!.length).toBeLessThan(loop.length / 3);
    expect(stopped.tokensEstimated).toBe(true);
    expect(stopped.completionTokens).toBeLessThan(whole / 3);
    expect(stopped.issues).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'runaway', path: '' })]));
  });

});

/**
 * A pool whose one slot is taken longer than poolWaitSeconds: the queued calls are not picked up
 * in time, but the pool's worker is alive, so they wait again there instead of escalating.
 */
describe('a busy pool, told from a pool with no worker', () => {
  const RUNS = 4;
  const CALL_MS = 800;
  const busyHarness = (busyWaitSeconds: number) =>
    startHarness({
      poolWaitSeconds: 1,
      adjust: (r) => {
        r.pools.small!.concurrency = 1;
        r.poolBusyWaitSeconds = busyWaitSeconds;
      },
    });
  const answerSlowly = (h: Harness) => {
    for (const [format, value] of Object.entries(productReviewOutputs)) h.model.otherwise(format, { content: JSON.stringify(value), delayMs: CALL_MS });
  };
  const runAtOnce = (h: Harness) => Promise.all(Array.from({ length: RUNS }, () => h.run('product-review', review)));

  describe('with the default busy wait', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await busyHarness(1800);
    });
    afterAll(async () => h?.stop());

    it('keeps every call on the busy pool: each waits its turn, none escalates', async () => {
      answerSlowly(h);
      const runs = await runAtOnce(h);
      for (const r of runs) expect(r.result.status).toBe('completed');
      const rows = await Promise.all(runs.map((r) => h.rows(r.workflowId)));
      const attempts = rows.flatMap((r) => r.attempts);
      // one call per micro-task, each on its own pool, as with no load
      expect(attempts).toHaveLength(RUNS * 4);
      for (const a of attempts) expect([a.kind, a.routeReason]).not.toEqual(['escalate', expect.anything()]);
      expect(attempts.filter((a) => /no worker/.test(a.routeReason ?? ''))).toEqual([]);
      for (const r of rows) for (const t of r.tasks) expect(t.escalations).toBe(0);
      // the small pool's one slot served its calls in turn, so some waited past poolWaitSeconds
      const small = attempts.filter((a) => a.pool === 'small').map((a) => a.createdAt.getTime()).sort((a, b) => a - b);
      expect(small.length).toBeGreaterThanOrEqual(RUNS);
      expect(small.at(-1)! - small[0]!).toBeGreaterThanOrEqual((small.length - 1) * CALL_MS - 500);
    });

    it("records one patch marker in a run's history, the release's, however many patches the code has", async () => {
      const { workflowId } = await h.run('product-review', review);
      const history = await h.env.client.workflow.getHandle(workflowId).fetchHistory();
      const patches = (history.events ?? []).flatMap((e) => (e.markerRecordedEventAttributes?.markerName === 'core_patch' ? [e.markerRecordedEventAttributes] : []));
      const ids = patches.map((m) => JSON.parse(Buffer.from(m.details!['patch-data']!.payloads![0]!.data!).toString('utf8')).id as string);
      expect(ids).toEqual([RELEASE_PATCH]);
    });
  });

  describe('with no busy wait', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await busyHarness(0);
    });
    afterAll(async () => h?.stop());

    it('falls back as from a pool with no worker once poolWaitSeconds passes', async () => {
      answerSlowly(h);
      const runs = await runAtOnce(h);
      for (const r of runs) expect(r.result.status).toBe('completed');
      const attempts = (await Promise.all(runs.map((r) => h.rows(r.workflowId)))).flatMap((r) => r.attempts);
      const escalated = attempts.filter((a) => a.pool === 'large');
      expect(escalated.length).toBeGreaterThan(0);
      for (const a of escalated) expect(a.routeReason).toMatch(/no worker picked the call up in time|had no worker earlier in this run/);
    });
  });
});

/**
 * Windows that hold product-review's first step (about 690 tokens with its max_tokens) but not the
 * scenarios it feeds (about 970): the second step's input is known only once the first has run.
 */
describe('a step whose input an earlier result makes too large for every pool', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      adjust: (r) => {
        r.pools.small!.contextWindow = 800;
        r.pools.large!.contextWindow = 800;
      },
    });
  });
  afterAll(async () => h?.stop());

  it('ends with InputTooLarge naming the sizes, before any call of that step; the first step is kept', async () => {
    answerProductReview(h.model);
    const workflowId = await h.start('product-review', review);
    const err = await h.env.client.workflow.getHandle(workflowId).result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('InputTooLarge');
    expect(cause.message).toMatch(/write-scenarios needs about \d+ tokens \(its prompt and max_tokens \d+\), over the 800-token window of pool large/);
    const { attempts, tasks, run } = await h.rows(workflowId);
    expect(attempts.map((a) => a.task)).toEqual(['extract-features']);
    expect(h.model.requestsFor('write_scenarios')).toHaveLength(0);
    expect(tasks.map((t) => [t.task, t.status])).toEqual([
      ['extract-features', 'valid'],
      ['write-scenarios', 'failed'],
    ]);
    expect(tasks[1]!.reason).toContain('over the 800-token window');
    expect(run?.status).toBe('failed');
  });
});
