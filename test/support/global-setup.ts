import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrateDatabase } from '../../db/migrate.js';
import { startPostgres } from '../../infra/postgres.js';
import { ensureTemporalCli } from '../../infra/temporal.js';
import { bundleWorkflows } from '../../workers/factory.js';

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
  const serverUrl = await startPostgres();
  const dbName = `microtasks_test_${project.name}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${dbName} with (force)`);
  await admin.query(`create database ${dbName}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  await migrateDatabase(url.toString());
  const bundle = await bundleWorkflows();
  project.provide('temporalCli', temporalCli);
  project.provide('databaseUrl', url.toString());
  project.provide('workflowBundle', bundle.code);
}
