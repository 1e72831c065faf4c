import type { TestProject } from 'vitest/node';
import { ensureTemporalCli } from '../../infra/temporal.js';
import { bundleWorkflows } from '../../workers/factory.js';
import { freshDatabase } from './database.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalCli: string;
    databaseUrl: string;
    workflowBundle: string;
  }
}

/** A fresh database per run on the real Postgres, the real Temporal CLI, and the workflow bundle built once. */
export default async function setup(project: TestProject): Promise<void> {
  const temporalCli = ensureTemporalCli();
  // TEST_DB_SUFFIX keeps a focused run (one file) off the database of a full run of the same project
  const suffix = process.env.TEST_DB_SUFFIX;
  if (suffix !== undefined && !/^[a-z0-9_]+$/.test(suffix)) throw new Error('TEST_DB_SUFFIX must be lower-case letters, digits and underscores');
  const databaseUrl = await freshDatabase(`microtasks_test_${project.name}${suffix ? `_${suffix}` : ''}`);
  const bundle = await bundleWorkflows();
  project.provide('temporalCli', temporalCli);
  project.provide('databaseUrl', databaseUrl);
  project.provide('workflowBundle', bundle.code);
}
