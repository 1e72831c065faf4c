import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineMicroTask } from '../../core/contract.js';
import { costUsd } from '../../core/cost.js';
import { RegistryConfig, snapshotOf, toPrice } from '../../core/registry.js';
import { choosePool, escalationTarget, sizeProblem } from '../../core/routing.js';

const registryConfig = () => ({
    version: 'r1',
    defaultPool: 'small',
    pools: {
      small: { baseUrl: 'http://user:secret@gpu-1:8000/v1?key=x', model: 'qwen-7b', contextWindow: 1000, escalateTo: 'large', price: { version: 's1', hourlyUsd: 3.6, tokensPerSecond: 1000 } },
      large: { baseUrl: 'http://gpu-2:8000/v1', model: 'llama-70b', contextWindow: 32000, price: { version: 'l1', inputPerMTok: 0.9, outputPerMTok: 0.9 } },
    },
    reference: { model: 'frontier', price: { version: 'ref1', inputPerMTok: 2.5, outputPerMTok: 10 } },
  });
const registry = snapshotOf(RegistryConfig.parse(registryConfig()));

const task = (over: Partial<Parameters<typeof defineMicroTask>[0]> = {}) =>
  defineMicroTask({
    name: 'classify-ticket',
    version: 1,
    formatName: 'classify_ticket',
    description: 'd',
    input: z.object({ text: z.string() }),
    output: z.object({ c: z.string() }),
    prompt: () => ({ system: '', user: '' }),
    pool: 'small',
    maxTokens: 200,
    ...over,
  });

describe('routing', () => {
  it('sends a micro-task to its default pool', () => {
    expect(choosePool(task(), 400, registry)).toMatchObject({ pool: 'small', reason: 'default pool of classify-ticket', fits: true });
  });

  it('names the sizes when a call fits no pool it can be routed to, and nothing when it fits one', () => {
    const big = task({ prompt: (i: unknown) => ({ system: '', user: (i as { text: string }).text }) });
    expect(sizeProblem(big, { text: 'x'.repeat(200_000) }, [], registry)).toMatch(/classify-ticket needs about \d+ tokens \(its prompt and max_tokens 200\), over the 32000-token window of pool large, the largest it can be routed to/);
    expect(sizeProblem(big, { text: 'x'.repeat(20_000) }, [], registry)).toBeUndefined();
  });

  it('sends an input too large for the pool context window to the next pool, and says why', () => {
    const route = choosePool(task(), 4000, registry);
    expect(route.pool).toBe('large');
    expect(route.reason).toContain('over the 1000-token window of small');
  });

  it('sends a task declared hard to the larger pool', () => {
    expect(choosePool(task({ difficulty: 'hard' }), 100, registry).pool).toBe('large');
  });

  it('sends a task to the pool the registry routes it to, and names the route', () => {
    const routed = { ...registry, routes: { 'classify-ticket': 'large' } };
    expect(choosePool(task(), 100, routed)).toMatchObject({ pool: 'large', reason: 'the registry routes classify-ticket to large', fits: true });
    expect(choosePool(task({ name: 'extract-fields' }), 100, routed).pool).toBe('small');
  });

  it('rejects a route to a pool the registry does not have', () => {
    const bad = RegistryConfig.safeParse({ ...registryConfig(), routes: { 'classify-ticket': 'gpu-xl' } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]).toMatchObject({ path: ['routes', 'classify-ticket'], message: 'no pool named "gpu-xl"' });
  });

  it('falls back to the default pool when the task names one that is not configured', () => {
    const route = choosePool(task({ pool: 'gpu-xl' }), 100, registry);
    expect(route).toMatchObject({ pool: 'small', reason: 'pool "gpu-xl" of classify-ticket is not configured; using the default pool', fits: true });
  });

  it('escalates once to the larger pool and not back', () => {
    expect(escalationTarget(registry, 'small', ['small'])).toBe('large');
    expect(escalationTarget(registry, 'small', ['small', 'large'])).toBeUndefined();
    expect(escalationTarget(registry, 'large', ['large'])).toBeUndefined();
  });
});

describe('model registry', () => {
  it('derives a per-token price from an hourly cost and a measured throughput, and records the basis', () => {
    expect(toPrice({ version: 's1', hourlyUsd: 3.6, tokensPerSecond: 1000 })).toEqual({ version: 's1', inputPerMTok: 1, outputPerMTok: 1, basis: 'derived-hourly' });
    expect(costUsd(registry.pools.large!.price, 1000, 500)).toBeCloseTo(0.00135, 12);
  });

  it('keeps credentials and query strings out of the endpoint a workflow sees', () => {
    expect(registry.pools.small!.endpoint).toBe('http://gpu-1:8000/v1');
    expect(JSON.stringify(registry)).not.toContain('secret');
  });

  it('names the field that is wrong', () => {
    const bad = RegistryConfig.safeParse({
      version: 'r',
      defaultPool: 'tiny',
      pools: { small: { baseUrl: 'not a url', model: 'm', contextWindow: 10, escalateTo: 'huge', price: { version: 'p', inputPerMTok: -1, outputPerMTok: 1 } } },
      reference: { model: 'x', price: { version: 'r', inputPerMTok: 1, outputPerMTok: 1 } },
    });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['pools.small.baseUrl', 'pools.small.price.inputPerMTok']));
  });

  it('rejects an escalation target or default pool that does not exist', () => {
    const bad = RegistryConfig.safeParse({
      version: 'r',
      defaultPool: 'tiny',
      pools: { small: { baseUrl: 'http://a/v1', model: 'm', contextWindow: 10, escalateTo: 'huge', price: { version: 'p', inputPerMTok: 1, outputPerMTok: 1 } } },
      reference: { model: 'x', price: { version: 'r', inputPerMTok: 1, outputPerMTok: 1 } },
    });
    expect(bad.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['defaultPool', 'no pool named "tiny"'],
      ['pools.small.escalateTo', 'no pool named "huge"'],
    ]);
  });
});
