/**
 * A typed client for starting pipelines from a service written in TypeScript, directly on Temporal
 * (client/http.ts is the same over the HTTP API, with an API key). The workflow id is the
 * idempotency key: starting again with the same id attaches to the run that has it.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Pipeline } from '../core/contract.js';
import type { LadderBudget } from '../core/ladder/budget.js';
import { loadConfig, ORCHESTRATION_QUEUE } from '../config/load.js';
import { progressQuery, runPipeline, type PipelineProgress, type PipelineResult } from '../workflows/pipeline.js';

export interface StartOptions {
  /** the business id of the job; the same id never starts a second run */
  workflowId?: string;
  budget?: Partial<LadderBudget>;
  costBudgetUsd?: number;
}

export interface PipelineClient {
  /** starts a run, or finds the one with this workflow id; resolves with the workflow id */
  start: <PI>(pipeline: Pipeline<PI, unknown> | string, input: PI, options?: StartOptions) => Promise<string>;
  /** starts a run and waits for its result; a failed run rejects with its typed failure */
  run: <PI, PO>(pipeline: Pipeline<PI, PO> | string, input: PI, options?: StartOptions) => Promise<PipelineResult & { output: PO }>;
  progress: (workflowId: string) => Promise<PipelineProgress>;
  /** waits for a run started before; a failed run rejects with its typed failure */
  result: (workflowId: string) => Promise<PipelineResult>;
  /** cancels a run: the model call in flight is aborted and the run ends cancelled, in Temporal and in pipeline_runs */
  cancel: (workflowId: string) => Promise<void>;
  /** the run in the Temporal UI */
  uiUrl: (workflowId: string) => string;
  close: () => Promise<void>;
}

export async function connectPipelines(o: { taskQueue?: string } = {}): Promise<PipelineClient> {
  const config = loadConfig();
  const connection = await Connection.connect({ address: config.temporalAddress });
  const client = new Client({ connection, namespace: config.temporalNamespace });
  const taskQueue = o.taskQueue ?? ORCHESTRATION_QUEUE;
  const start: PipelineClient['start'] = async (pipeline, input, options = {}) => {
    const name = typeof pipeline === 'string' ? pipeline : pipeline.name;
    const workflowId = options.workflowId ?? `${name}-${randomUUID()}`;
    try {
      await client.workflow.start(runPipeline, {
        taskQueue,
        workflowId,
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        args: [{ pipeline: name, input, ...(options.budget ? { budget: options.budget } : {}), ...(options.costBudgetUsd !== undefined ? { costBudgetUsd: options.costBudgetUsd } : {}) }],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    return workflowId;
  };
  return {
    start,
    run: async (pipeline, input, options) => {
      const id = await start(pipeline, input, options);
      return (await client.workflow.getHandle<typeof runPipeline>(id).result()) as PipelineResult & { output: never };
    },
    progress: (workflowId) => client.workflow.getHandle(workflowId).query(progressQuery),
    result: (workflowId) => client.workflow.getHandle<typeof runPipeline>(workflowId).result(),
    cancel: async (workflowId) => {
      await client.workflow.getHandle(workflowId).cancel();
    },
    uiUrl: (workflowId) => `${config.temporalUiUrl}/namespaces/${config.temporalNamespace}/workflows/${encodeURIComponent(workflowId)}`,
    close: () => connection.close(),
  };
}
