/** A deployment's configuration: the environment (config/env.ts) and the registry file it names, parsed once at start. */
import fs from 'node:fs';
import { z } from 'zod';
import { RegistryConfig, snapshotOf, type RegistrySnapshot } from '../core/registry.js';
import { ConfigError, envNameOf, readEnv, type Env, type PoolOverride } from './env.js';

export const ORCHESTRATION_QUEUE = 'pipelines';

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

/** Reads the registry file and applies the POOL_<NAME>_* overrides; an override for a pool the registry does not have is an error. */
export function loadRegistry(file: string, overrides: Env['poolOverrides'] = {}): RegistryConfig {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read the model registry ${file} (MODEL_REGISTRY): ${err instanceof Error ? err.message : String(err)}`);
  }
  const pools = ((json as { pools?: unknown } | null)?.pools ?? {}) as Record<string, Record<string, unknown>>;
  const byEnvName = new Map(Object.keys(pools).map((name) => [envNameOf(name), name]));
  for (const [envName, override] of Object.entries(overrides)) {
    const pool = byEnvName.get(envName);
    if (pool === undefined) {
      const variables = Object.keys(override).map((k) => `POOL_${envName}_${k.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`);
      throw new ConfigError(`${variables.join(', ')}: the registry ${file} has no pool ${envName.toLowerCase().replace(/_/g, '-')}; its pools: ${Object.keys(pools).join(', ')}`);
    }
    Object.assign(pools[pool]!, override satisfies PoolOverride);
  }
  const parsed = RegistryConfig.safeParse(json);
  if (!parsed.success) throw new ConfigError(`invalid model registry:\n${formatZodError(parsed.error, file)}`);
  return parsed.data;
}

export function loadConfig(env: Env = readEnv()): AppConfig {
  const registry = loadRegistry(env.registryPath, env.poolOverrides);
  return {
    temporalAddress: env.temporal.address,
    temporalNamespace: env.temporal.namespace,
    temporalUiUrl: env.temporal.uiUrl,
    databaseUrl: env.database.url,
    registryPath: env.registryPath,
    registry,
    snapshot: snapshotOf(registry),
    pipelinesModule: env.pipelinesModule,
  };
}
