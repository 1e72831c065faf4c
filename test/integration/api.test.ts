import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { count, eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import fs from 'node:fs';
import { chromium } from 'playwright-core';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createApiKey, revokeApiKey, sha256 } from '../../api/keys.js';
import { createApi } from '../../api/server.js';
import { connectApi, RunEndedError, type RunEvent } from '../../client/http.js';
import { apiKeyDays, apiKeys, apiRuns, modelAttempts } from '../../db/schema.js';
import { pipelines } from '../../pipelines/index.js';
import { extractFeatures } from '../../pipelines/product-review/extract-features.js';
import { productReview } from '../../pipelines/product-review/index.js';
import { productBlock, specSheetBlock, type ProductReviewInput } from '../../pipelines/product-review/product.js';
import { answerProductReview, productReviewOutputs, sample } from '../support/fixtures.js';
import { startHarness, type Harness } from '../support/harness.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

let h: Harness;
let app: FastifyInstance;
let base: string;
const logLines: string[] = [];
const keys: Record<'full' | 'other' | 'triage' | 'limited' | 'budget' | 'revoked', { id: string; key: string }> = {} as never;
const review = sample('product-review', 'wireless-headphones') as Record<string, unknown>;

beforeAll(async () => {
  h = await startHarness({
    // a long call stays in flight until it is cancelled, instead of timing out
    adjust: (r) => {
      r.pools.small!.timeoutSeconds = 90;
    },
  });
  app = await createApi({
    client: h.env.client,
    db: h.db,
    registry: h.registry,
    temporalUiUrl: 'http://localhost:8233',
    pollMs: 100,
    settleEveryMs: 0,
    bodyLimit: 64 * 1024,
    logger: {
      level: 'info',
      redact: { paths: ['req.headers.authorization'], censor: '[redacted]' },
      stream: new Writable({
        write(chunk: Buffer, _enc, done) {
          logLines.push(chunk.toString());
          done();
        },
      }),
      // headers too, so the redaction is what keeps the key out
      serializers: { req: (req: { method: string; url: string; headers: unknown }) => ({ method: req.method, url: req.url, headers: req.headers }) },
    },
  });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  keys.full = await createApiKey(h.db, { name: 'full', pipelines: ['*'], dailyBudgetUsd: 100, runBudgetUsd: 0.05, rateLimitPerMinute: 10_000 });
  keys.other = await createApiKey(h.db, { name: 'other', pipelines: ['*'], dailyBudgetUsd: 1 });
  keys.triage = await createApiKey(h.db, { name: 'triage only', pipelines: ['ticket-triage'], dailyBudgetUsd: 1 });
  keys.limited = await createApiKey(h.db, { name: 'slow', pipelines: ['*'], dailyBudgetUsd: 1, rateLimitPerMinute: 3 });
  keys.budget = await createApiKey(h.db, { name: 'budget', pipelines: ['product-review'], dailyBudgetUsd: 0.1, runBudgetUsd: 0.03, rateLimitPerMinute: 10_000 });
  keys.revoked = await createApiKey(h.db, { name: 'gone', pipelines: ['*'], dailyBudgetUsd: 1 });
  await revokeApiKey(h.db, keys.revoked.id);
});
afterAll(async () => {
  await app?.close();
  await h?.stop();
});
beforeEach(() => {
  h.model.reset();
  answerProductReview(h.model);
});

const auth = (k: { key: string }) => ({ authorization: `Bearer ${k.key}` });
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: typeof body === 'string' ? body : JSON.stringify(body) });
const apiRunCount = async () => (await h.db.select({ n: count() }).from(apiRuns))[0]!.n;
const workflowCount = async () => (await h.env.client.workflow.count()).count;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('HTTP API: the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document whose request schemas accept every shipped sample', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { openapi: string; paths: Record<string, Record<string, any>>; components: unknown };
    expect(doc.openapi).toBe('3.1.0');
    const check = await new Validator().validate(doc as never);
    expect(check.errors ?? []).toEqual([]);
    expect(check.valid).toBe(true);

    const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
    let checked = 0;
    for (const name of Object.keys(pipelines)) {
      const dir = path.join('pipelines', name, 'samples');
      if (!fs.existsSync(dir)) continue;
      const schema = doc.paths[`/v1/pipelines/${name}/runs`]!.post.requestBody.content['application/json'].schema;
      const validate = ajv.compile({ $id: `urn:run:${name}`, components: doc.components, ...schema });
      for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
        const input = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as unknown;
        expect(validate({ input }), `${name}/${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
        // and the document's schema refuses what the pipeline refuses
        expect(validate({ input: { ...(input as object), unexpected: undefined }, extra: 1 })).toBe(false);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(14);
    expect((await app.inject({ method: 'GET', url: '/docs/' })).statusCode).toBe(200);
  });

  it('renders the docs page in a browser, with every pipeline\'s start operation', async () => {
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.goto(`${base}/docs/`);
      await page.getByText('Start product-review', { exact: true }).waitFor({ timeout: 20_000 });
      for (const name of Object.keys(pipelines)) expect(await page.getByText(`Start ${name}`, { exact: true }).count()).toBe(1);
    } finally {
      await browser.close();
    }
  });

  it('lists the pipelines and micro-tasks with their input and output schemas', async () => {
    const list = (await app.inject({ method: 'GET', url: '/v1/pipelines', headers: auth(keys.full) })).json() as { pipelines: { name: string; inputSchema: any }[]; tasks: { name: string; outputSchema: any }[] };
    expect(list.pipelines.map((p) => p.name)).toEqual(['product-review', 'ticket-triage', 'invoice-extraction', 'document-summary']);
    expect(list.pipelines[0]!.inputSchema.required).toContain('name');
    expect(list.tasks.find((t) => t.name === 'extract-features')!.outputSchema.properties).toHaveProperty('features');
    const one = await app.inject({ method: 'GET', url: '/v1/pipelines/ticket-triage', headers: auth(keys.full) });
    expect(one.json()).toMatchObject({ name: 'ticket-triage', kind: 'pipeline', runs: '/v1/pipelines/ticket-triage/runs' });
    expect((await app.inject({ method: 'GET', url: '/v1/pipelines/nope', headers: auth(keys.full) })).statusCode).toBe(404);
  });
});

describe('HTTP API: idempotency', () => {
  it('returns the existing run for the same key and input, and 409 for the same key with another input', async () => {
    const headers = { ...auth(keys.full), 'idempotency-key': 'order-1' };
    const first = await post('/v1/pipelines/product-review/runs', { input: review }, headers);
    expect(first.statusCode).toBe(201);
    const id = (first.json() as { id: string }).id;
    expect(id).toMatch(new RegExp(`^api-${keys.full.id}-[0-9a-f]{32}$`));
    // the same request with its keys in another order is the same request
    const again = await post('/v1/pipelines/product-review/runs', { input: Object.fromEntries(Object.entries(review).reverse()) }, headers);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ id, created: false });

    const other = await post('/v1/pipelines/product-review/runs', { input: { ...review, name: 'Another product' } }, headers);
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ error: 'idempotency_conflict' });

    // finished, the run is still the one the key names, not a new one
    const run = await connectApi({ baseUrl: base, apiKey: keys.full.key }).run(id).result();
    expect(run.status).toBe('completed');
    // a closed run's progress comes from its result in the history, every step settled
    const view = await app.inject({ method: 'GET', url: `/v1/runs/${id}`, headers });
    expect(view.json().progress).toMatchObject({ status: 'completed', steps: [{ status: 'valid' }, { status: 'valid' }, { status: 'valid' }, { status: 'valid' }] });
    const after = await post('/v1/pipelines/product-review/runs', { input: review }, headers);
    expect(after.json()).toMatchObject({ id, created: false });
    expect(h.model.requestsFor('extract_features')).toHaveLength(1);

    // the idempotency key is scoped to the API key: another key's same header is another run
    const theirs = await post('/v1/pipelines/product-review/runs', { input: review }, { ...auth(keys.other), 'idempotency-key': 'order-1' });
    expect(theirs.statusCode).toBe(201);
    expect((theirs.json() as { id: string }).id).not.toBe(id);
    // and a run is visible only to the key that started it
    expect((await app.inject({ method: 'GET', url: `/v1/runs/${id}`, headers: auth(keys.other) })).statusCode).toBe(404);
  });

  it('starts exactly one run for concurrent starts with the same key', async () => {
    const before = await workflowCount();
    const headers = { ...auth(keys.full), 'idempotency-key': 'order-concurrent' };
    const replies = await Promise.all(Array.from({ length: 6 }, () => post('/v1/pipelines/product-review/runs', { input: review }, headers)));
    const bodies = replies.map((r) => r.json() as { id: string; created: boolean });
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
    expect(bodies.filter((b) => b.created)).toHaveLength(1);
    expect(replies.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    expect(await h.db.select().from(apiRuns).where(eq(apiRuns.workflowId, bodies[0]!.id))).toHaveLength(1);
    await waitFor('the run to be listed', async () => ((await workflowCount()) >= before + 1 ? true : undefined));
    expect(await workflowCount()).toBe(before + 1);
  });
});

describe('HTTP API: bad requests start nothing', () => {
  const url = '/v1/pipelines/product-review/runs';
  it.each([
    ['a missing field', { input: { ...review, name: undefined } }, 400, '/input/name'],
    ['a field of the wrong type', { input: { ...review, price: 'cheap' } }, 400, '/input/price'],
    ['a field the request does not have', { input: review, priority: 'high' }, 400, ''],
    ['a budget above what the schema allows', { input: review, budget: { maxAttempts: 99 } }, 400, '/budget/maxAttempts'],
  ])('answers %s with 400 and its JSON path', async (_what, body, status, at) => {
    const [runs, flows] = [await apiRunCount(), await workflowCount()];
    const res = await post(url, body, auth(keys.full));
    expect(res.statusCode).toBe(status);
    const json = res.json() as { error: string; issues: { path: string }[] };
    expect(json.error).toBe('invalid_request');
    expect(json.issues.map((i) => i.path)).toContain(at);
    expect([await apiRunCount(), await workflowCount()]).toEqual([runs, flows]);
  });

  it('reports every failing field, not only the first', async () => {
    const res = await post(url, { input: { ...review, name: '', price: -1, currency: 7 } }, auth(keys.full));
    expect((res.json() as { issues: { path: string }[] }).issues.map((i) => i.path).sort()).toEqual(['/input/currency', '/input/name', '/input/price']);
  });

  it.each([
    ['an unknown pipeline', () => post('/v1/pipelines/no-such/runs', { input: {} }, auth(keys.full)), 404, 'not_found'],
    ['an unknown run', () => app.inject({ method: 'GET', url: '/v1/runs/api-nope', headers: auth(keys.full) }), 404, 'not_found'],
    ['an oversized body', () => post(url, { input: { ...review, customerNotes: ['x'.repeat(70 * 1024)] } }, auth(keys.full)), 413, 'body_too_large'],
    ['malformed JSON', () => post(url, '{"input": ', auth(keys.full)), 400, 'invalid_json'],
    ['a body that is not JSON', () => app.inject({ method: 'POST', url, headers: { ...auth(keys.full), 'content-type': 'text/plain' }, payload: 'hello' }), 415, 'unsupported_media_type'],
    ['no key', () => post(url, { input: review }), 401, 'unauthorized'],
    ['a wrong key', () => post(url, { input: review }, auth({ key: `${keys.full.key.slice(0, -4)}AAAA` })), 401, 'unauthorized'],
    ['a revoked key', () => post(url, { input: review }, auth(keys.revoked)), 401, 'unauthorized'],
    ['a key without the pipeline', () => post(url, { input: review }, auth(keys.triage)), 403, 'forbidden'],
    ['a cost budget above the key\'s run budget', () => post(url, { input: review, costBudgetUsd: 1 }, auth(keys.full)), 403, 'run_budget_exceeds_key'],
  ])('answers %s with its status', async (_what, send, status, code) => {
    const [runs, flows] = [await apiRunCount(), await workflowCount()];
    const res = await send();
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ error: code });
    expect([await apiRunCount(), await workflowCount()]).toEqual([runs, flows]);
  });

  it('limits each key\'s requests per minute with 429 and Retry-After', async () => {
    const codes: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 4; i++) {
      const res = await app.inject({ method: 'GET', url: '/v1/pipelines', headers: auth(keys.limited) });
      codes.push(res.statusCode);
      if (res.statusCode === 429) retryAfter = res.headers['retry-after'] as string;
    }
    expect(codes).toEqual([200, 200, 200, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // another key has its own allowance
    expect((await app.inject({ method: 'GET', url: '/v1/pipelines', headers: auth(keys.full) })).statusCode).toBe(200);
  });

  it('limits requests without a valid key per address, before any more lookups', async () => {
    const from = { remoteAddress: '10.0.0.9' };
    const codes: number[] = [];
    for (let i = 0; i < 31; i++) codes.push((await app.inject({ method: 'GET', url: '/v1/pipelines', headers: auth({ key: `mtp_000000000000_${'A'.repeat(43)}` }), ...from })).statusCode);
    expect(codes.slice(0, 30).every((c) => c === 401)).toBe(true);
    expect(codes[30]).toBe(429);
    // a valid key from the same address has its own allowance
    expect((await app.inject({ method: 'GET', url: '/v1/pipelines', headers: auth(keys.full), ...from })).statusCode).toBe(200);
  });
});

describe('HTTP API: daily budget', () => {
  it('admits no more concurrent runs than the day\'s budget holds, and settles them from their calls', async () => {
    // $0.10 a day, $0.03 reserved per run: three runs fit
    const replies = await Promise.all(
      Array.from({ length: 8 }, (_, i) => post('/v1/pipelines/product-review/runs', { input: review }, { ...auth(keys.budget), 'idempotency-key': `budget-${i}` })),
    );
    const started = replies.filter((r) => r.statusCode === 201);
    const refused = replies.filter((r) => r.statusCode === 429);
    expect([started.length, refused.length]).toEqual([3, 5]);
    for (const r of refused) {
      expect(r.json()).toMatchObject({ error: 'budget_exhausted' });
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    }
    const [day] = await h.db.select().from(apiKeyDays).where(eq(apiKeyDays.keyId, keys.budget.id));
    expect(day!.reservedUsd).toBeCloseTo(0.09, 9);

    const client = connectApi({ baseUrl: base, apiKey: keys.budget.key });
    const ids = started.map((r) => (r.json() as { id: string }).id);
    for (const id of ids) expect((await client.run(id).result()).status).toBe('completed');
    const [settled] = await h.db.select().from(apiKeyDays).where(eq(apiKeyDays.keyId, keys.budget.id));
    const cost = (await h.db.execute(sql`select sum(cost_usd)::float8 as c from model_attempts where workflow_id in ${ids}`)).rows[0] as { c: number };
    expect(settled!.reservedUsd).toBeCloseTo(0, 9);
    expect(settled!.spentUsd).toBeCloseTo(cost.c, 8);
    expect(settled!.spentUsd).toBeGreaterThan(0);
    // with the reservations released the day has room again
    expect((await post('/v1/pipelines/product-review/runs', { input: review }, auth(keys.budget))).statusCode).toBe(201);
  });
});

describe('HTTP API: progress and cancel', () => {
  it('streams every step as server-sent events and ends with the result', async () => {
    h.model.reset();
    for (const [format, value] of Object.entries(productReviewOutputs)) h.model.otherwise(format, { content: JSON.stringify(value), delayMs: 300 });
    const client = connectApi({ baseUrl: base, apiKey: keys.full.key });
    const run = await client.start(productReview, review as never, { idempotencyKey: 'sse-1' });
    const events: RunEvent[] = [];
    for await (const e of run.events()) events.push(e);
    const last = events.at(-1)!;
    expect(last.type).toBe('end');
    expect(last.type === 'end' && last.run.status).toBe('completed');
    const final = new Map(events.flatMap((e) => (e.type === 'step' ? [[e.step.id, e.step.status] as const] : [])));
    expect([...final]).toEqual([
      ['features', 'valid'],
      ['scenarios', 'valid'],
      ['advice', 'valid'],
      ['keywords', 'valid'],
    ]);
    // steps were seen running on the way, with their attempt and pool
    expect(events.some((e) => e.type === 'progress' && e.progress.currentStep === 'scenarios' && e.progress.steps[1]!.pool === 'small')).toBe(true);
    const result = await run.result();
    expect(result.output.verdict).toBe('buy');
    // the output meets the schema the API publishes for it
    const info = (await app.inject({ method: 'GET', url: '/v1/pipelines/product-review', headers: auth(keys.full) })).json() as { outputSchema: object };
    const validate = addFormats(new Ajv2020({ strict: false })).compile(info.outputSchema);
    expect(validate(result.output), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...result.output, verdict: 'maybe' })).toBe(false);
  });

  it('cancels a run mid-pipeline: the call in flight is aborted, the run ends cancelled, its attempts keep their rows', async () => {
    h.model.reset();
    answerProductReview(h.model);
    h.model.script('write_scenarios', { hangMs: 80_000 });
    const client = connectApi({ baseUrl: base, apiKey: keys.full.key });
    const run = await client.start('product-review', review, { idempotencyKey: 'cancel-1' });
    await waitFor('the second step to be in flight', async () => ((await run.progress())?.steps[1]?.attempt === 1 && h.model.requestsFor('write_scenarios').length === 1 ? true : undefined));
    const t0 = Date.now();
    await run.cancel();
    const err = await run.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RunEndedError);
    expect((err as RunEndedError).run.status).toBe('cancelled');
    // aborted at a heartbeat, not left to run into its 90 s timeout
    expect(Date.now() - t0).toBeLessThan(20_000);
    const rows = await h.rows(run.id);
    expect(rows.run?.status).toBe('cancelled');
    expect(rows.attempts.map((a) => [a.task, a.valid])).toEqual([
      ['extract-features', true],
      ['write-scenarios', false],
    ]);
    expect(rows.attempts[1]!.error).toMatch(/^cancelled/);
    const desc = await h.env.client.workflow.getHandle(run.id).describe();
    expect(desc.status.name).toBe('CANCELLED');
    // a cancelled run cannot be cancelled again
    expect((await app.inject({ method: 'POST', url: `/v1/runs/${run.id}/cancel`, headers: auth(keys.full) })).statusCode).toBe(409);
    expect(await h.db.select().from(modelAttempts).where(eq(modelAttempts.workflowId, run.id))).toHaveLength(2);
    // its reservation is settled from the calls it made
    const [settled] = await h.db.select().from(apiRuns).where(eq(apiRuns.workflowId, run.id));
    expect(settled!.settledAt).not.toBeNull();
    expect(settled!.spentUsd).toBeCloseTo(rows.attempts.reduce((t, a) => t + (a.costUsd ?? 0), 0), 8);
  });

  it('shows a failed run\'s typed failure with its unresolved paths', async () => {
    h.model.otherwise('write_advice', { content: JSON.stringify({ ...productReviewOutputs.write_advice, verdict: 'maybe' }) });
    h.model.otherwise('write_advice_repair', { content: '{"/verdict": "maybe"}' });
    const client = connectApi({ baseUrl: base, apiKey: keys.full.key });
    const run = await client.start(productReview, review as never, { budget: { maxAttempts: 4 } });
    const err = (await run.result().catch((e: unknown) => e)) as RunEndedError;
    expect(err).toBeInstanceOf(RunEndedError);
    expect(err.run.status).toBe('failed');
    expect(err.run.failure).toMatchObject({ type: 'MicroTaskFailed', step: 'advice', task: 'write-advice', paths: ['/verdict'] });
    expect(err.run.links.ui).toBe(`http://localhost:8233/namespaces/default/workflows/${run.id}`);
  });

  it('runs one micro-task on its own', async () => {
    const client = connectApi({ baseUrl: base, apiKey: keys.full.key });
    const product = review as unknown as ProductReviewInput;
    const run = await client.runTask(extractFeatures, { productName: product.name, maxFeatures: 4 }, { context: [productBlock(product), specSheetBlock(product)] });
    const result = await run.result();
    expect(result.output).toEqual(productReviewOutputs.extract_features);
  });

  it('keeps the key out of the log and out of the workflow history', async () => {
    const ids = (await h.db.select({ id: apiRuns.workflowId }).from(apiRuns).where(eq(apiRuns.keyId, keys.full.id))).map((r) => r.id);
    expect(ids.length).toBeGreaterThan(0);
    const text = logLines.join('');
    expect(text).toContain('[redacted]');
    for (const k of Object.values(keys)) expect(text).not.toContain(k.key.slice(17));
    for (const id of ids.slice(0, 3)) {
      const history = JSON.stringify(await h.env.client.workflow.getHandle(id).fetchHistory());
      expect(history).not.toContain(keys.full.key.slice(17));
    }
  });
});

describe('the keys command', () => {
  const keysCli = (...args: string[]) =>
    spawnSync('node_modules/.bin/tsx', ['api/keys-cli.ts', ...args], { encoding: 'utf8', env: { ...process.env, DATABASE_URL: inject('databaseUrl') } });

  it('prints a new key once, stores only its hash, and revokes it', async () => {
    const created = keysCli('create', '--name', 'cli', '--pipelines', 'product-review,task:extract-features', '--daily-budget-usd', '2', '--rate-limit', '30');
    expect(created.status, created.stderr).toBe(0);
    const key = created.stdout.trim();
    const id = /^mtp_([0-9a-f]{12})_/.exec(key)![1]!;
    const [row] = await h.db.select().from(apiKeys).where(eq(apiKeys.id, id));
    expect(row).toMatchObject({ name: 'cli', keyHash: sha256(key), pipelines: ['product-review', 'task:extract-features'], dailyBudgetUsd: 2, rateLimitPerMinute: 30, revokedAt: null });
    expect(JSON.stringify(row)).not.toContain(key.slice(17));
    const listed = keysCli('list');
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).not.toContain(key.slice(17));

    expect((await app.inject({ method: 'GET', url: '/v1/pipelines', headers: auth({ key }) })).statusCode).toBe(200);
    expect(keysCli('revoke', id).status).toBe(0);
    expect((await app.inject({ method: 'GET', url: '/v1/pipelines', headers: auth({ key }) })).statusCode).toBe(401);
    expect(keysCli('create', '--name', 'x').status).not.toBe(0);
  });
});

describe('HTTP API: health', () => {
  it('is ready when Temporal and Postgres answer and every pool has a worker', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ ok: true });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toMatchObject({ ready: true, checks: { temporal: { ok: true }, postgres: { ok: true }, orchestration: { ok: true }, 'pool small': { ok: true }, 'pool large': { ok: true } } });
    expect(ready.statusCode).toBe(200);
  });

  it('is not ready while a pool has no worker polling its queue', async () => {
    const ghost = { ...h.registry.pools.small!, name: 'ghost', taskQueue: 'model-ghost' };
    const other = await createApi({ client: h.env.client, db: h.db, registry: { ...h.registry, pools: { ...h.registry.pools, ghost } }, temporalUiUrl: 'http://localhost:8233', settleEveryMs: 0, logger: false });
    try {
      const res = await other.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ ready: false, checks: { 'pool small': { ok: true }, 'pool ghost': { ok: false, detail: '0 worker(s) polling model-ghost' } } });
    } finally {
      await other.close();
    }
  });
});
