import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import type pg from 'pg';
import { inject } from 'vitest';
import type { ModelActivityDeps } from '../../activities/model.js';
import { RegistryConfig, snapshotOf, type RegistrySnapshot } from '../../core/registry.js';
import { createDb, createPool, type Db } from '../../db/client.js';
import { modelAttempts, pipelineRuns, taskResults } from '../../db/schema.js';
import { ORCHESTRATION_QUEUE } from '../../config/load.js';
import { createOrchestrationWorker, createPoolWorker, type WorkerTuning } from '../../workers/factory.js';
import { runPipeline, runTask, type RunPipelineInput, type RunTaskInput } from '../../workflows/pipeline.js';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes.js';
import { ScriptedModelServer, type ScriptedReply } from './scripted-model.js';

export interface Harness {
  env: TestWorkflowEnvironment;
  model: ScriptedModelServer;
  db: Db;
  pgPool: pg.Pool;
  registry: RegistrySnapshot;
  /** the registry the workers were started with, after `adjust` */
  config: RegistryConfig;
  /** runs a pipeline to its end; rejects with the workflow's failure */
  run: (pipeline: string, input: unknown, extra?: Partial<RunPipelineInput>) => Promise<{ workflowId: string; result: Awaited<ReturnType<typeof runPipeline>> }>;
  start: (pipeline: string, input: unknown, extra?: Partial<RunPipelineInput>) => Promise<string>;
  /** runs one micro-task as the pipeline `task:<name>`; resolves with the workflow id and its settled result */
  runTask: (req: RunTaskInput) => Promise<{ workflowId: string; result: PromiseSettledResult<Awaited<ReturnType<typeof runTask>>> }>;
  rows: (workflowId: string) => Promise<{
    attempts: (typeof modelAttempts.$inferSelect)[];
    tasks: (typeof taskResults.$inferSelect)[];
    run: typeof pipelineRuns.$inferSelect | undefined;
  }>;
  stop: () => Promise<void>;
}

export interface HarnessOptions {
  /** outside vitest (benchmarks): what the global setup would provide */
  temporalCli?: string;
  databaseUrl?: string;
  workflowBundle?: string;
  /** pools whose workers are started; a pool left out looks "down" */
  servePools?: string[];
  poolWaitSeconds?: number;
  afterRecorded?: ModelActivityDeps['afterRecorded'];
  /** probe the endpoints at worker start (default true) */
  probe?: boolean;
  /** how the endpoint answers the start-up probe of guided decoding */
  probeAnswer?: ScriptedReply;
  /** changes to the test registry, e.g. a streaming pool */
  adjust?: (registry: RegistryConfig) => void;
  /** worker options of the orchestration worker and of the pool workers (benchmarks) */
  orchestrationTuning?: WorkerTuning;
  poolTuning?: WorkerTuning;
}

export function testRegistry(baseUrl: string, poolWaitSeconds = 20): RegistryConfig {
  return RegistryConfig.parse({
    version: 'test-1',
    defaultPool: 'small',
    poolWaitSeconds,
    pools: {
      small: {
        baseUrl,
        model: 'scripted-small',
        kind: 'openai',
        contextWindow: 8192,
        concurrency: 4,
        timeoutSeconds: 10,
        escalateTo: 'large',
        price: { version: 'small-test-1', hourlyUsd: 0.36, tokensPerSecond: 100 },
      },
      large: {
        baseUrl,
        model: 'scripted-large',
        kind: 'openai',
        contextWindow: 32768,
        concurrency: 4,
        timeoutSeconds: 10,
        price: { version: 'large-test-1', inputPerMTok: 1, outputPerMTok: 2 },
      },
    },
    reference: { model: 'reference', price: { version: 'ref-test-1', inputPerMTok: 5, outputPerMTok: 15 } },
  });
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const model = new ScriptedModelServer();
  const baseUrl = await model.start();
  // the pool workers' start-up probe of guided decoding: this endpoint enforces the schema unless told otherwise
  model.otherwise('probe', opts.probeAnswer ?? { content: '{"word": "alpha"}' });
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: opts.temporalCli ?? inject('temporalCli') },
      searchAttributes: [...SEARCH_ATTRIBUTES],
      extraArgs: ['--log-level', 'error'],
    },
  });
  const pgPool = createPool(opts.databaseUrl ?? inject('databaseUrl'));
  const db = createDb(pgPool);
  const config = testRegistry(baseUrl, opts.poolWaitSeconds);
  opts.adjust?.(config);
  const registry = snapshotOf(config);
  const workers: Worker[] = [
    await createOrchestrationWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      db,
      registry: () => registry,
      bundle: { code: opts.workflowBundle ?? inject('workflowBundle') },
      ...(opts.orchestrationTuning ? { tuning: opts.orchestrationTuning } : {}),
    }),
  ];
  for (const pool of opts.servePools ?? Object.keys(config.pools)) {
    workers.push(
      await createPoolWorker({
        connection: env.nativeConnection,
        namespace: env.namespace ?? 'default',
        db,
        poolName: pool,
        pool: config.pools[pool]!,
        registry,
        apiKey: undefined,
        ...(opts.probe === false ? { probe: false } : {}),
        ...(opts.afterRecorded ? { afterRecorded: opts.afterRecorded } : {}),
        ...(opts.poolTuning ? { tuning: opts.poolTuning } : {}),
      }),
    );
  }
  const running = workers.map((w) => w.run());

  const start = async (pipeline: string, input: unknown, extra: Partial<RunPipelineInput> = {}) => {
    const workflowId = `${pipeline}-${randomUUID()}`;
    await env.client.workflow.start(runPipeline, { taskQueue: ORCHESTRATION_QUEUE, workflowId, args: [{ pipeline, input, ...extra }] });
    return workflowId;
  };

  return {
    env,
    model,
    db,
    pgPool,
    registry,
    config,
    start,
    run: async (pipeline, input, extra) => {
      const workflowId = await start(pipeline, input, extra);
      const result = await env.client.workflow.getHandle<typeof runPipeline>(workflowId).result();
      return { workflowId, result };
    },
    runTask: async (req) => {
      const workflowId = `task-${req.task}-${randomUUID()}`;
      const handle = await env.client.workflow.start(runTask, { taskQueue: ORCHESTRATION_QUEUE, workflowId, args: [req] });
      const [result] = await Promise.allSettled([handle.result()]);
      return { workflowId, result: result! };
    },
    rows: async (workflowId) => ({
      attempts: await db.select().from(modelAttempts).where(eq(modelAttempts.workflowId, workflowId)).orderBy(modelAttempts.id),
      tasks: await db.select().from(taskResults).where(eq(taskResults.workflowId, workflowId)).orderBy(taskResults.id),
      run: (await db.select().from(pipelineRuns).where(eq(pipelineRuns.workflowId, workflowId)))[0],
    }),
    stop: async () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled(running);
      await env.teardown();
      await model.stop();
      await pgPool.end();
    },
  };
}
