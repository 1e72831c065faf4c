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
  const databaseUrl = await freshDatabase(`microtasks_test_${project.name}`);
  const bundle = await bundleWorkflows();
  project.provide('temporalCli', temporalCli);
  project.provide('databaseUrl', databaseUrl);
  project.provide('workflowBundle', bundle.code);
}
