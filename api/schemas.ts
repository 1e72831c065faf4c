/** The HTTP API's own request and response shapes; a run's `input` is each pipeline's own input schema. */
import { z } from 'zod';

export const ErrorBody = z
  .object({
    error: z.string().describe('a stable code: invalid_request, unauthorized, forbidden, not_found, conflict, rate_limited, budget_exhausted, ...'),
    message: z.string(),
    issues: z.array(z.object({ path: z.string().describe('JSON pointer into the request body'), message: z.string(), code: z.string() })).optional(),
  })
  .meta({ id: 'Error' });

/** What a request may change of a micro-task's repair budget; the cost budget bounds it whatever it says. */
export const BudgetOverrides = z
  .object({
    maxAttempts: z.int().min(1).max(12),
    maxTokens: z.int().min(256).max(200_000),
    maxRepairs: z.int().min(0).max(6),
    maxRegenerations: z.int().min(0).max(4),
    maxContinuations: z.int().min(0).max(4),
    maxTokensCeiling: z.int().min(256).max(32_768),
  })
  .partial()
  .strict()
  .meta({ id: 'BudgetOverrides' });

const runOptions = {
  budget: BudgetOverrides.optional(),
  costBudgetUsd: z.number().positive().max(1000).optional().describe('the most this run may spend on model calls; default and ceiling: the key\'s run budget'),
};

export function pipelineRunRequest(input: z.ZodType) {
  return z.object({ input, ...runOptions }).strict();
}

export const ContextBlockSchema = z
  .object({
    title: z.string().min(1),
    facts: z.union([z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])), z.array(z.string()), z.string()]),
  })
  .meta({ id: 'ContextBlock' });

export function taskRunRequest(input: z.ZodType) {
  return z.object({ input, context: z.array(ContextBlockSchema).optional(), ...runOptions }).strict();
}

export const IdempotencyHeaders = z.looseObject({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe('the same key with the same request returns the run it started; with another request, 409. Remembered for as long as the API keeps its run rows'),
});

export const RunLinks = z.object({ self: z.string(), events: z.string(), cancel: z.string(), ui: z.string().describe('the run in the Temporal UI') });

export const RunAccepted = z
  .object({
    id: z.string().describe('the workflow id'),
    created: z.boolean().describe('false when the idempotency key named a run that already existed'),
    links: RunLinks,
  })
  .meta({ id: 'RunAccepted' });

export const Totals = z.object({
  attempts: z.number(),
  repairs: z.number(),
  escalations: z.number(),
  promptTokens: z.number(),
  completionTokens: z.number(),
  costUsd: z.number(),
  referenceCostUsd: z.number(),
});

export const StepProgressSchema = z.object({
  id: z.string(),
  task: z.string(),
  status: z.enum(['pending', 'running', 'valid', 'partial', 'failed']),
  items: z.number(),
  done: z.number(),
  attempt: z.number().describe('the attempt number of the latest call'),
  lastKind: z.string().nullable().describe('the rung of the latest call: generate, repair, continue, regenerate, escalate'),
  pool: z.string().nullable(),
  paths: z.array(z.string()).describe('the paths the latest repair targets'),
});

export const ProgressSchema = z
  .object({
    pipeline: z.string(),
    status: z.enum(['running', 'completed', 'partial', 'failed', 'cancelled']),
    currentStep: z.string().nullable(),
    steps: z.array(StepProgressSchema),
    totals: Totals.describe('so far'),
  })
  .meta({ id: 'Progress' });

export const RunStatus = z.enum(['running', 'completed', 'partial', 'failed', 'cancelled', 'terminated', 'timed_out']);

export const RunView = z
  .object({
    id: z.string(),
    kind: z.enum(['pipeline', 'task']),
    name: z.string(),
    status: RunStatus,
    progress: ProgressSchema.nullable().describe('from the workflow\'s progress query; null when no worker answered'),
    result: z
      .object({
        status: z.enum(['completed', 'partial']),
        output: z.unknown(),
        unresolved: z.record(z.string(), z.array(z.string())).describe('paths left for review, by step'),
        totals: Totals,
      })
      .optional(),
    failure: z
      .object({
        type: z.string().describe('MicroTaskFailed, InvalidPipelineInput, CostBudgetExceeded, InputTooLarge, ...'),
        message: z.string(),
        step: z.string().optional(),
        task: z.string().optional(),
        paths: z.array(z.string()).describe('the JSON paths left unresolved'),
      })
      .optional(),
    startedAt: z.string().nullable(),
    closedAt: z.string().nullable(),
    links: RunLinks,
  })
  .meta({ id: 'Run' });

export const PipelineInfo = z
  .object({
    name: z.string(),
    kind: z.enum(['pipeline', 'task']),
    version: z.number(),
    description: z.string(),
    steps: z.array(z.object({ id: z.string(), task: z.string() })),
    inputSchema: z.record(z.string(), z.unknown()).describe('JSON Schema (2020-12) of `input`'),
    outputSchema: z.record(z.string(), z.unknown()).nullable().describe('JSON Schema (2020-12) of a completed run\'s output, where the definition declares one (every micro-task; a pipeline with `output`); a partial run\'s output may leave its unresolved paths short of it'),
    runs: z.string().describe('where to POST a run'),
  })
  .meta({ id: 'PipelineInfo' });

export const PipelineList = z.object({ pipelines: z.array(PipelineInfo), tasks: z.array(PipelineInfo) });

export const Ready = z.object({
  ready: z.boolean(),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string() })),
});
