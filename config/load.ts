/** The one place that reads process.env and the registry file; everything below gets parsed values. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { RegistryConfig, snapshotOf, type PoolConfig, type RegistrySnapshot } from '../core/registry.js';
import { databaseUrl } from '../infra/postgres.js';

export const ORCHESTRATION_QUEUE = 'pipelines';

/** The shipped model registry: the local llama.cpp pools of the dev stack. */
export const DEFAULT_REGISTRY = fileURLToPath(new URL('./models.json', import.meta.url));

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface AppConfig {
  temporalAddress: string;
  temporalNamespace: string;
  temporalUiUrl: string;
  databaseUrl: string;
  registryPath: string;
  registry: RegistryConfig;
  snapshot: RegistrySnapshot;
  /** PIPELINES_MODULE: a module of the user's that exports `pipelines`, served beside the shipped ones */
  pipelinesModule: string | undefined;
}

function formatZodError(error: z.ZodError, where: string): string {
  return error.issues.map((i) => `${where}: ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('\n');
}

/** Reads the registry file and applies POOL_<NAME>_BASE_URL / _MODEL / _KIND / _SCHEMA_MODE overrides from the environment. */
export function loadRegistry(file: string, env: NodeJS.ProcessEnv = process.env): RegistryConfig {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read the model registry ${file} (MODEL_REGISTRY): ${err instanceof Error ? err.message : String(err)}`);
  }
  const raw = json as { pools?: Record<string, Record<string, unknown>> };
  for (const [name, pool] of Object.entries(raw.pools ?? {})) {
    const prefix = `POOL_${name.toUpperCase().replace(/-/g, '_')}_`;
    const map: Record<string, keyof PoolConfig> = { BASE_URL: 'baseUrl', MODEL: 'model', KIND: 'kind', SCHEMA_MODE: 'schemaMode', API_KEY_ENV: 'apiKeyEnv' };
    for (const [suffix, key] of Object.entries(map)) {
      const v = env[prefix + suffix];
      if (v !== undefined && v !== '') pool[key] = v;
    }
  }
  const parsed = RegistryConfig.safeParse(json);
  if (!parsed.success) throw new ConfigError(`invalid model registry:\n${formatZodError(parsed.error, file)}`);
  return parsed.data;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const registryPath = path.resolve(env.MODEL_REGISTRY ?? DEFAULT_REGISTRY);
  const registry = loadRegistry(registryPath, env);
  const uiPort = env.TEMPORAL_UI_PORT ?? '8233';
  return {
    temporalAddress: env.TEMPORAL_ADDRESS ?? `127.0.0.1:${env.TEMPORAL_PORT ?? 7233}`,
    temporalNamespace: env.TEMPORAL_NAMESPACE ?? 'default',
    temporalUiUrl: (env.TEMPORAL_UI_URL ?? `http://localhost:${uiPort}`).replace(/\/$/, ''),
    databaseUrl: databaseUrl(),
    registryPath,
    registry,
    snapshot: snapshotOf(registry),
    pipelinesModule: env.PIPELINES_MODULE ? path.resolve(env.PIPELINES_MODULE) : undefined,
  };
}

/** A pool's API key, read from the variable the registry names; never stored or logged. */
export function apiKeyOf(pool: PoolConfig, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!pool.apiKeyEnv) return undefined;
  const key = env[pool.apiKeyEnv];
  if (!key) throw new ConfigError(`the pool's apiKeyEnv names ${pool.apiKeyEnv}, but that variable is not set`);
  return key;
}
