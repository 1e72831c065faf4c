import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { apiKeyOf, ConfigError, DEFAULT_REGISTRY, readEnv } from '../../config/env.js';
import { loadConfig, loadRegistry } from '../../config/load.js';

describe('the environment', () => {
  it('defaults to the dev stack on this machine', () => {
    const env = readEnv({});
    expect(env.temporal).toEqual({ address: '127.0.0.1:7233', namespace: 'default', uiUrl: 'http://localhost:8233', external: false });
    expect(env.database).toEqual({ url: 'postgres://postgres:postgres@127.0.0.1:54329/microtasks', external: false });
    expect(env.registryPath).toBe(DEFAULT_REGISTRY);
    expect(env.poolOverrides).toEqual({});
  });

  it('takes the servers a deployment names', () => {
    const env = readEnv({ TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_NAMESPACE: 'prod', TEMPORAL_UI_URL: 'https://temporal.example.com/', DATABASE_URL: 'postgres://app:pw@db:5432/app' });
    expect(env.temporal).toEqual({ address: 'temporal.internal:7233', namespace: 'prod', uiUrl: 'https://temporal.example.com', external: true });
    expect(env.database).toEqual({ url: 'postgres://app:pw@db:5432/app', external: true });
  });

  it('reads an empty variable as an unset one', () => {
    expect(readEnv({ DATABASE_URL: '', TEMPORAL_PORT: '' }).database.external).toBe(false);
  });

  it('names every bad variable, and never repeats a value that may hold a secret', () => {
    let error: unknown;
    try {
      readEnv({ TEMPORAL_PORT: 'seven', DATABASE_URL: 'mysql://root:hunter2@db/app', POOL_SMALL_KIND: 'tgi' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/TEMPORAL_PORT: must be a port number/);
    expect(message).toMatch(/DATABASE_URL: must be a postgres:\/\/ URL/);
    expect(message).toMatch(/POOL_SMALL_KIND: /);
    expect(message).not.toContain('hunter2');
  });

  it("reads the orchestration worker's Temporal options, each only when set", () => {
    expect(readEnv({}).worker).toEqual({});
    expect(
      readEnv({
        WORKER_MAX_CACHED_WORKFLOWS: '0',
        WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '10',
        WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: '20',
        WORKER_REUSE_V8_CONTEXT: 'false',
        WORKER_WORKFLOW_THREADS: '2',
        WORKER_PRELOAD_MODULES: 'false',
      }).worker,
    ).toEqual({ maxCachedWorkflows: 0, maxConcurrentWorkflowTaskExecutions: 10, maxConcurrentLocalActivityExecutions: 20, reuseV8Context: false, workflowThreadPoolSize: 2, preloadModules: false });
    expect(() => readEnv({ WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '1', WORKER_REUSE_V8_CONTEXT: 'yes', WORKER_MAX_CACHED_WORKFLOWS: 'many' })).toThrow(
      /WORKER_MAX_CACHED_WORKFLOWS: must be a whole number[\s\S]*WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: must be at least 2[\s\S]*WORKER_REUSE_V8_CONTEXT: must be true or false/,
    );
  });

  it('collects POOL_<NAME>_* overrides by pool, hyphens spelled as underscores', () => {
    const env = readEnv({ POOL_SMALL_KIND: 'vllm', POOL_SMALL_SCHEMA_MODE: 'prompt', POOL_BIG_GPU_MODEL: 'llama-70b', POOL_BIG_GPU_API_KEY_ENV: 'GPU_KEY', POOL_SMALL_API_KEY: 'not an override' });
    expect(env.poolOverrides).toEqual({ SMALL: { kind: 'vllm', schemaMode: 'prompt' }, BIG_GPU: { model: 'llama-70b', apiKeyEnv: 'GPU_KEY' } });
  });
});

describe('the model registry', () => {
  it('ships a valid registry in config/models.json', () => {
    const registry = loadRegistry(DEFAULT_REGISTRY);
    expect(Object.keys(registry.pools)).toEqual(['small', 'large']);
  });

  it('applies an override to its pool', () => {
    const config = loadConfig(readEnv({ POOL_SMALL_BASE_URL: 'http://gpu-1:8000/v1', POOL_SMALL_KIND: 'vllm' }));
    expect(config.registry.pools.small).toMatchObject({ baseUrl: 'http://gpu-1:8000/v1', kind: 'vllm' });
    expect(config.snapshot.pools.small!.endpoint).toBe('http://gpu-1:8000/v1');
  });

  it('refuses an override for a pool it does not have, naming the variable', () => {
    expect(() => loadRegistry(DEFAULT_REGISTRY, readEnv({ POOL_SMAL_BASE_URL: 'http://gpu-1:8000/v1' }).poolOverrides)).toThrow(
      /POOL_SMAL_BASE_URL: the registry .* has no pool smal; its pools: small, large/,
    );
  });

  it('names the file and the field of a bad registry', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'registry-')), 'models.json');
    const shipped = JSON.parse(fs.readFileSync(DEFAULT_REGISTRY, 'utf8')) as { pools: { small: Record<string, unknown> } };
    shipped.pools.small.concurrency = 0;
    fs.writeFileSync(file, JSON.stringify(shipped));
    expect(() => loadRegistry(file)).toThrow(new RegExp(`${file}: pools.small.concurrency`));
  });
});

describe('a pool API key', () => {
  it('is read from the variable the pool names, and its absence is an error naming it', () => {
    expect(apiKeyOf({ apiKeyEnv: 'GPU_KEY' }, { GPU_KEY: 'k' })).toBe('k');
    expect(apiKeyOf({}, {})).toBeUndefined();
    expect(() => apiKeyOf({ apiKeyEnv: 'GPU_KEY' }, {})).toThrow(/names GPU_KEY, but that variable is not set/);
  });
});

describe('task queues of the registry', () => {
  it('refuses two pools on one task queue, where a call for one would reach the other', () => {
    const shipped = JSON.parse(fs.readFileSync(DEFAULT_REGISTRY, 'utf8')) as { pools: Record<string, Record<string, unknown>> };
    shipped.pools.large!.taskQueue = 'model-small';
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'registry-')), 'models.json');
    fs.writeFileSync(file, JSON.stringify(shipped));
    expect(() => loadRegistry(file)).toThrow(/pools.large.taskQueue: task queue "model-small" is pool "small"'s already/);
  });
});
