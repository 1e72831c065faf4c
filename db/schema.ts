import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, date, doublePrecision, index, integer, jsonb, numeric, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

/** One row per pipeline run; the workflow id is the business idempotency key. */
export const pipelineRuns = pgTable(
  'pipeline_runs',
  {
    workflowId: text('workflow_id').primaryKey(),
    runId: text('run_id').notNull(),
    pipeline: text('pipeline').notNull(),
    pipelineVersion: integer('pipeline_version').notNull(),
    registryVersion: text('registry_version').notNull(),
    status: text('status', { enum: ['running', 'completed', 'partial', 'failed', 'cancelled'] }).notNull(),
    input: jsonb('input').notNull(),
    output: jsonb('output'),
    error: jsonb('error'),
    attempts: integer('attempts').notNull().default(0),
    repairs: integer('repairs').notNull().default(0),
    escalations: integer('escalations').notNull().default(0),
    promptTokens: integer('prompt_tokens').notNull().default(0),
    completionTokens: integer('completion_tokens').notNull().default(0),
    costUsd: doublePrecision('cost_usd').notNull().default(0),
    referenceCostUsd: doublePrecision('reference_cost_usd').notNull().default(0),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [index('pipeline_runs_pipeline_started_idx').on(t.pipeline, t.startedAt)],
);

/** One row per micro-task execution (one per item of a fan-out). */
export const taskResults = pgTable(
  'task_results',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    workflowId: text('workflow_id').notNull(),
    runId: text('run_id').notNull(),
    pipeline: text('pipeline').notNull(),
    step: text('step').notNull(),
    itemIndex: integer('item_index').notNull().default(-1),
    task: text('task').notNull(),
    taskVersion: integer('task_version').notNull(),
    status: text('status', { enum: ['valid', 'partial', 'failed'] }).notNull(),
    output: jsonb('output'),
    issues: jsonb('issues').notNull().default(sql`'[]'::jsonb`),
    unresolvedPaths: jsonb('unresolved_paths').notNull().default(sql`'[]'::jsonb`),
    attempts: integer('attempts').notNull(),
    repairs: integer('repairs').notNull(),
    escalations: integer('escalations').notNull(),
    finalPool: text('final_pool'),
    promptTokens: integer('prompt_tokens').notNull(),
    completionTokens: integer('completion_tokens').notNull(),
    costUsd: doublePrecision('cost_usd').notNull(),
    referenceCostUsd: doublePrecision('reference_cost_usd').notNull(),
    reason: text('reason'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('task_results_run_step_item_uq').on(t.workflowId, t.runId, t.step, t.itemIndex),
    index('task_results_task_created_idx').on(t.task, t.createdAt),
  ],
);

/**
 * One row per model call that was really made, written by the activity that made it.
 * `attemptKey` (workflow, run, activity id, activity attempt) makes the write idempotent.
 */
export const modelAttempts = pgTable(
  'model_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    attemptKey: text('attempt_key').notNull(),
    workflowId: text('workflow_id').notNull(),
    runId: text('run_id').notNull(),
    pipeline: text('pipeline').notNull(),
    step: text('step').notNull(),
    itemIndex: integer('item_index').notNull().default(-1),
    task: text('task').notNull(),
    taskVersion: integer('task_version').notNull(),
    attemptNo: integer('attempt_no').notNull(),
    kind: text('kind', { enum: ['generate', 'continue', 'repair', 'regenerate', 'escalate'] }).notNull(),
    activityAttempt: integer('activity_attempt').notNull(),
    pool: text('pool').notNull(),
    model: text('model').notNull(),
    endpoint: text('endpoint').notNull(),
    routeReason: text('route_reason').notNull(),
    schemaMode: text('schema_mode').notNull(),
    maxTokens: integer('max_tokens').notNull(),
    repairedPaths: jsonb('repaired_paths').notNull().default(sql`'[]'::jsonb`),
    request: jsonb('request').notNull(),
    rawOutput: text('raw_output'),
    finishReason: text('finish_reason'),
    httpStatus: integer('http_status'),
    error: text('error'),
    promptTokens: integer('prompt_tokens').notNull().default(0),
    completionTokens: integer('completion_tokens').notNull().default(0),
    tokensEstimated: boolean('tokens_estimated').notNull().default(false),
    latencyMs: integer('latency_ms').notNull(),
    ttftMs: integer('ttft_ms'),
    priceVersion: text('price_version').notNull(),
    costUsd: doublePrecision('cost_usd').notNull().default(0),
    referenceModel: text('reference_model').notNull(),
    referenceCostUsd: doublePrecision('reference_cost_usd').notNull().default(0),
    /** null until the workflow has validated the output */
    valid: boolean('valid'),
    issues: jsonb('issues'),
    fixes: jsonb('fixes'),
    createdAt: createdAt(),
    validatedAt: timestamp('validated_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('model_attempts_attempt_key_uq').on(t.attemptKey),
    index('model_attempts_workflow_idx').on(t.workflowId, t.runId),
    index('model_attempts_task_created_idx').on(t.task, t.createdAt),
    index('model_attempts_created_idx').on(t.createdAt),
  ],
);

export type ModelAttemptRow = typeof modelAttempts.$inferSelect;
export type NewModelAttempt = typeof modelAttempts.$inferInsert;

/** Every price a pool has had; attempt rows name the version they were costed with. */
export const priceVersions = pgTable(
  'price_versions',
  {
    version: text('version').primaryKey(),
    pool: text('pool').notNull(),
    model: text('model').notNull(),
    inputPerMTok: doublePrecision('input_per_mtok').notNull(),
    outputPerMTok: doublePrecision('output_per_mtok').notNull(),
    basis: text('basis', { enum: ['list', 'derived-hourly'] }).notNull(),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull().defaultNow(),
  },
);

/**
 * Daily totals of model calls, kept by an insert trigger on model_attempts, so the analytics
 * views read thousands of rows instead of millions. Latencies are log-bucket histograms
 * (bucket i holds values up to 10 * 1.25^i ms) from which percentiles are interpolated.
 */
export const attemptRollups = pgTable(
  'attempt_rollups',
  {
    day: date('day').notNull(),
    pipeline: text('pipeline').notNull(),
    task: text('task').notNull(),
    pool: text('pool').notNull(),
    model: text('model').notNull(),
    kind: text('kind').notNull(),
    calls: bigint('calls', { mode: 'number' }).notNull().default(0),
    failedCalls: bigint('failed_calls', { mode: 'number' }).notNull().default(0),
    promptTokens: bigint('prompt_tokens', { mode: 'number' }).notNull().default(0),
    completionTokens: bigint('completion_tokens', { mode: 'number' }).notNull().default(0),
    estimatedTokenCalls: bigint('estimated_token_calls', { mode: 'number' }).notNull().default(0),
    costUsd: doublePrecision('cost_usd').notNull().default(0),
    referenceCostUsd: doublePrecision('reference_cost_usd').notNull().default(0),
    latencyHist: bigint('latency_hist', { mode: 'number' }).array().notNull(),
    ttftHist: bigint('ttft_hist', { mode: 'number' }).array().notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.pipeline, t.task, t.pool, t.model, t.kind] })],
);

/** What a pool's endpoint was found to do with a JSON schema, probed once per endpoint, model and kind. */
export const endpointProbes = pgTable(
  'endpoint_probes',
  {
    endpoint: text('endpoint').notNull(),
    model: text('model').notNull(),
    /** the pool's kind, which picks the request field the schema went in; rows from before kinds mattered were probed with OpenAI's response_format */
    kind: text('kind').notNull().default('openai'),
    declaredMode: text('declared_mode').notNull(),
    /** true when the endpoint held the output to the schema against the prompt's wish */
    schemaEnforced: boolean('schema_enforced').notNull(),
    effectiveMode: text('effective_mode').notNull(),
    detail: text('detail').notNull(),
    probedAt: timestamp('probed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.endpoint, t.model, t.kind, t.declaredMode] })],
);

/** One evaluation: a labelled dataset run through configurations side by side. */
export const evalRuns = pgTable('eval_runs', {
  id: text('id').primaryKey(),
  dataset: text('dataset').notNull(),
  pipeline: text('pipeline').notNull(),
  configs: jsonb('configs').notNull(),
  createdAt: createdAt(),
});

/**
 * One example under one configuration: the workflow that ran it and how its labelled fields
 * scored. Keyed by (evaluation, configuration, example), so a resumed evaluation repeats nothing.
 */
export const evalItems = pgTable(
  'eval_items',
  {
    evalId: text('eval_id').notNull(),
    config: text('config').notNull(),
    exampleId: text('example_id').notNull(),
    heldOut: boolean('held_out').notNull(),
    workflowId: text('workflow_id').notNull(),
    /** the labelled step's outcome: valid, partial, failed */
    status: text('status').notNull(),
    fieldsScored: integer('fields_scored').notNull(),
    fieldsCorrect: integer('fields_correct').notNull(),
    /** wrong fields in an output the contracts accepted */
    silentErrors: integer('silent_errors').notNull(),
    scores: jsonb('scores').notNull(),
    attempts: integer('attempts').notNull(),
    repairs: integer('repairs').notNull(),
    escalations: integer('escalations').notNull(),
    promptTokens: integer('prompt_tokens').notNull(),
    completionTokens: integer('completion_tokens').notNull(),
    costUsd: doublePrecision('cost_usd').notNull(),
    referenceCostUsd: doublePrecision('reference_cost_usd').notNull(),
    latencyMs: integer('latency_ms').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.evalId, t.config, t.exampleId] })],
);

/**
 * One shadow run: a sampled live micro-task run again on the shadow pool after its run settled,
 * and whether each field agreed. Keyed by the shadow's workflow id, so a retried write adds nothing.
 */
export const shadowResults = pgTable(
  'shadow_results',
  {
    shadowWorkflowId: text('shadow_workflow_id').primaryKey(),
    workflowId: text('workflow_id').notNull(),
    pipeline: text('pipeline').notNull(),
    step: text('step').notNull(),
    itemIndex: integer('item_index').notNull(),
    task: text('task').notNull(),
    taskVersion: integer('task_version').notNull(),
    livePool: text('live_pool').notNull(),
    shadowPool: text('shadow_pool').notNull(),
    /** the shadow's outcome: valid, partial, failed; agreement is only taken on valid ones */
    shadowStatus: text('shadow_status').notNull(),
    /** field -> agreed */
    fields: jsonb('fields').notNull(),
    agreed: boolean('agreed').notNull(),
    costUsd: doublePrecision('cost_usd').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('shadow_results_task_created_idx').on(t.task, t.createdAt)],
);

/** Exact decimal dollars for budgets, so reservations and their releases cancel out to the cent and below. */
const usd = (name: string) => numeric(name, { precision: 18, scale: 9, mode: 'number' });

/**
 * One row per API key. Only the SHA-256 of the key is kept; the key itself is shown once, when it
 * is created. `pipelines` lists what it may run (`task:<name>` for one micro-task, `*` for all).
 */
export const apiKeys = pgTable('api_keys', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  keyHash: text('key_hash').notNull(),
  pipelines: jsonb('pipelines').$type<string[]>().notNull(),
  dailyBudgetUsd: usd('daily_budget_usd').notNull(),
  /** the cost budget a run gets when the request names none, and the most one may ask for */
  runBudgetUsd: usd('run_budget_usd').notNull(),
  rateLimitPerMinute: integer('rate_limit_per_minute').notNull(),
  createdAt: createdAt(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

/** A key's spend per UTC day: what runs in flight have reserved and what settled runs spent. */
export const apiKeyDays = pgTable(
  'api_key_days',
  {
    keyId: text('key_id')
      .notNull()
      .references(() => apiKeys.id),
    day: date('day').notNull(),
    reservedUsd: usd('reserved_usd').notNull().default(0),
    spentUsd: usd('spent_usd').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.day] })],
);

/**
 * One row per run started through the API: its idempotency scope (the workflow id), a hash of
 * what was asked, and the budget reserved for it until it settles.
 */
export const apiRuns = pgTable(
  'api_runs',
  {
    workflowId: text('workflow_id').primaryKey(),
    keyId: text('key_id')
      .notNull()
      .references(() => apiKeys.id),
    kind: text('kind', { enum: ['pipeline', 'task'] }).notNull(),
    name: text('name').notNull(),
    /** SHA-256 of the canonical JSON of name, input and budgets: a reused idempotency key with another request is refused */
    requestHash: text('request_hash').notNull(),
    day: date('day').notNull(),
    reservedUsd: usd('reserved_usd').notNull(),
    spentUsd: usd('spent_usd'),
    settledAt: timestamp('settled_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index('api_runs_key_unsettled_idx').on(t.keyId).where(sql`${t.settledAt} is null`)],
);
