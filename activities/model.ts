import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import OpenAI from 'openai';
import type { MicroTask } from '../core/contract.js';
import { costUsd, estimateTokens } from '../core/cost.js';
import { chatRequestBody } from '../core/chat-request.js';
import type { FinishReason } from '../core/lenient-parse.js';
import { runawayIn, wordCounts } from '../core/loops.js';
import type { PoolConfig, RegistrySnapshot } from '../core/registry.js';
import { buildModelRequest } from '../core/request.js';
import { modelAttempts, type NewModelAttempt } from '../db/schema.js';
import type { Db } from '../db/client.js';
import { FailureTypes } from '../core/failures.js';
import type { ModelCallRequest, ModelCallResult } from './types.js';

/** The narrow slice of the openai client this activity uses. */
export interface ChatClient {
  chat: { completions: { create: OpenAI['chat']['completions']['create'] } };
}

export interface ModelActivityDeps {
  db: Db;
  poolName: string;
  pool: PoolConfig;
  client: ChatClient;
  registry: RegistrySnapshot;
  getTask: (name: string) => MicroTask<any, any>;
  /** test seam: runs after the attempt row is written, before the result is returned */
  afterRecorded?: (req: ModelCallRequest, activityAttempt: number) => void | Promise<void>;
}

/**
 * How long a call may take, from the request to the last byte: a little less than Temporal's
 * start-to-close timeout, so a call given up is still recorded (and retried) by its worker.
 */
export function callTimeoutMs(pool: Pick<PoolConfig, 'timeoutSeconds'>): number {
  return Math.max(1000, pool.timeoutSeconds * 1000 - 5000);
}

export function createOpenAIClient(pool: PoolConfig, apiKey: string | undefined): ChatClient {
  // maxRetries 0: Temporal's retry policy is the only transport retry loop.
  // The SDK's timeout ends only the wait for the response headers; the activity bounds the whole call (see callModel).
  return new OpenAI({ baseURL: pool.baseUrl, apiKey: apiKey ?? 'unused', maxRetries: 0, timeout: callTimeoutMs(pool) });
}

/**
 * A 200 that carried no completion: an empty body (the SDK returns nothing for a JSON body of
 * length 0) or a body that is no chat completion. Nothing was generated that could be read, so it
 * is a transport failure, retried.
 */
export class NoCompletionError extends Error {
  override name = 'NoCompletionError';
}

/**
 * A stream that ended, cleanly or by a reset, before any chunk carried a finish reason: the
 * server stopped sending, the model did not stop. Its text is a cut of unknown length, not an
 * output: read leniently, a cut after a complete item closes into a valid-looking answer with
 * items missing, and the continue rung is for a model that ran out of max_tokens. So it is a
 * transport failure, retried as the same call, and recorded with the text that came.
 */
export class StreamCutError extends Error {
  override name = 'StreamCutError';
  constructor(
    readonly text: string,
    readonly chunks: number,
    options?: { cause?: unknown },
  ) {
    super(`stream ended before its finish reason, after ${chunks} chunk(s) and ${text.length} character(s)`, options);
  }
}

/** What the activity needs of a completion, streamed or not. */
interface Completion {
  text: string;
  finishReason: string | null | undefined;
  usage: { prompt_tokens: number; completion_tokens: number } | undefined;
  model: string;
  ttftMs: number | null;
}

function toCompletion(c: OpenAI.Chat.Completions.ChatCompletion | undefined | string): Completion {
  if (c === undefined || c === null || c === '') throw new NoCompletionError('HTTP 200 with an empty body: no completion');
  if (typeof c !== 'object' || !Array.isArray(c.choices)) throw new NoCompletionError(`HTTP 200 with a body that is no chat completion: ${JSON.stringify(c).slice(0, 200)}`);
  const choice = c.choices[0];
  return { text: choice?.message?.content ?? '', finishReason: choice?.finish_reason, usage: c.usage ?? undefined, model: c.model, ttftMs: null };
}

/**
 * Heartbeats every few seconds while `work` runs: a slow first token on a CPU (or slow tokens
 * after it) is not a lost worker, and a cancelled run's call learns of the cancellation from the
 * heartbeat's answer. The beat comes at least three times per heartbeat timeout, so a pool with a
 * short one is not taken for lost between beats.
 */
async function withHeartbeat<T>(work: () => Promise<T>, heartbeat: () => void, heartbeatTimeoutMs: number | undefined): Promise<T> {
  heartbeat();
  const timer = setInterval(heartbeat, Math.max(100, Math.min(2000, (heartbeatTimeoutMs ?? Infinity) / 3)));
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** The error of a row written for a call whose worker was lost while the endpoint had the request. */
export const LOST_CALL_ERROR = 'worker lost during the call';
/** The error of a row written for a call that ended but whose own attempt did not write its row. */
export const LOST_RECORD_ERROR = 'row not written by the attempt that made the call';

/**
 * What a model call's heartbeats carry, from just before the request is sent until its row is
 * written. Temporal keeps the last heartbeat that reached it and hands it to the activity's next
 * attempt (info.heartbeatDetails), which writes the row a lost attempt could not.
 */
export interface CallHeartbeat {
  attemptKey: string;
  activityAttempt: number;
  /** epoch ms: the request was about to be sent */
  callStartedAt: number;
  /** epoch ms of this heartbeat: the call (or the write of its row) was still going on */
  at: number;
  /** set once the endpoint answered or failed, while the row is being written */
  ended?: {
    latencyMs: number;
    ttftMs: number | null;
    httpStatus: number | null;
    error: string | null;
    finishReason: string | null;
    promptTokens: number;
    completionTokens: number;
    tokensEstimated: boolean;
    costUsd: number;
    referenceCostUsd: number;
  };
}

/**
 * What a call's own row sets when it replaces a recovered no-result row: every column of the
 * row proposed for insertion (created_at too: the time the call's row was written), but the id,
 * which ids handed out before keep, and the attempt key, which is the same.
 */
const REPLACEMENT = Object.fromEntries(
  Object.entries(getTableColumns(modelAttempts))
    .filter(([key]) => key !== 'id' && key !== 'attemptKey')
    .map(([key, column]) => [key, sql`excluded.${sql.identifier(column.name)}`]),
) as Partial<Record<keyof NewModelAttempt, SQL>>;

/** The previous attempt's heartbeat, if it names an earlier attempt of this activity (same key up to the attempt number). */
function lostCallOf(details: unknown, attemptKey: string): CallHeartbeat | undefined {
  const d = details as Partial<CallHeartbeat> | null | undefined;
  if (!d || typeof d !== 'object' || typeof d.attemptKey !== 'string' || typeof d.activityAttempt !== 'number') return undefined;
  if (typeof d.callStartedAt !== 'number' || typeof d.at !== 'number') return undefined;
  const prefix = attemptKey.slice(0, attemptKey.lastIndexOf('/') + 1);
  if (d.attemptKey !== `${prefix}${d.activityAttempt}` || d.attemptKey === attemptKey) return undefined;
  return d as CallHeartbeat;
}

/** Streams a completion, noting when the first token arrived and heartbeating while tokens come. */
async function streamCompletion(
  client: ChatClient,
  params: OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming,
  signal: AbortSignal,
  started: number,
  heartbeat: () => void,
): Promise<Completion> {
  const source = wordCounts(params.messages.map((m) => (typeof m.content === 'string' ? m.content : '')).join('\n'));
  const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } }, { signal });
  let text = '';
  let finishReason: string | null | undefined;
  let usage: Completion['usage'];
  let model = '';
  let ttftMs: number | null = null;
  let checkedAt = 0;
  let chunks = 0;
  try {
    for await (const chunk of stream) {
      chunks++;
      model ||= chunk.model;
      const choice = chunk.choices[0];
      const delta = choice?.delta?.content;
      if (delta) {
        ttftMs ??= Math.round(performance.now() - started);
        text += delta;
        // a generation that has started looping is stopped here rather than paid for up to max_tokens;
        // leaving the loop aborts the request, which stops the server's generation too
        if (text.length - checkedAt >= 64) {
          checkedAt = text.length;
          if (runawayIn(text, source)) {
            finishReason = 'runaway';
            usage = undefined;
            break;
          }
        }
      }
      if (choice?.finish_reason) finishReason = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
      heartbeat();
    }
  } catch (err) {
    // a connection lost after the finish reason (before the usage chunk or [DONE]) lost nothing of the output
    if (!finishReason) throw new StreamCutError(text, chunks, { cause: err });
  }
  // the SDK ends a stream without an error when it is aborted, and when the connection closes cleanly
  if (!finishReason) throw new StreamCutError(text, chunks);
  return { text, finishReason, usage, model, ttftMs };
}

function toFinishReason(v: string | null | undefined): FinishReason {
  const known: FinishReason[] = ['stop', 'length', 'runaway', 'content_filter', 'tool_calls', 'function_call'];
  return known.includes(v as FinishReason) ? (v as FinishReason) : 'unknown';
}

function retryAfterMs(headers: Headers | undefined): number | undefined {
  const v = headers?.get('retry-after-ms') ?? undefined;
  if (v && Number.isFinite(Number(v))) return Number(v);
  const s = headers?.get('retry-after');
  if (!s) return undefined;
  if (Number.isFinite(Number(s))) return Number(s) * 1000;
  const at = Date.parse(s);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

/** An error and its causes, by class: "APIConnectionError: Connection error. (cause: TypeError: fetch failed; Error: read ECONNRESET [ECONNRESET])". */
function describeError(err: unknown): string {
  const one = (e: unknown) => {
    if (!(e instanceof Error)) return String(e);
    // the SDK's errors keep the name "Error"; their class says what they are
    const name = e.name === 'Error' && e.constructor.name ? e.constructor.name : e.name;
    const code = (e as { code?: unknown }).code;
    return `${name}: ${e.message}${typeof code === 'string' ? ` [${code}]` : ''}`;
  };
  const causes: string[] = [];
  for (let c = err instanceof Error ? err.cause : undefined; c !== undefined && causes.length < 3; c = c instanceof Error ? c.cause : undefined) causes.push(one(c));
  return causes.length > 0 ? `${one(err)} (cause: ${causes.join('; ')})` : one(err);
}

/**
 * Maps a failed model call to the failure Temporal's retry policy acts on. `timedOutAfterMs`: the
 * activity gave the call up at its deadline (whatever the SDK threw on the abort).
 */
export function classifyCallError(err: unknown, opts: { timedOutAfterMs?: number } = {}): { failure: ApplicationFailure; httpStatus: number | null; message: string } {
  if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
    const status = err.status;
    const message = `HTTP ${status}: ${err.message}`;
    if (status === 429) {
      const delay = retryAfterMs(err.headers);
      return {
        httpStatus: status,
        message,
        failure: ApplicationFailure.create({ type: FailureTypes.modelRateLimited, message, ...(delay !== undefined ? { nextRetryDelay: delay } : {}) }),
      };
    }
    if (status === 408 || status === 409 || status >= 500) {
      const delay = retryAfterMs(err.headers);
      return { httpStatus: status, message, failure: ApplicationFailure.create({ type: FailureTypes.modelUnavailable, message, ...(delay !== undefined ? { nextRetryDelay: delay } : {}) }) };
    }
    return { httpStatus: status, message, failure: ApplicationFailure.create({ type: FailureTypes.modelRequestRejected, message, nonRetryable: true }) };
  }
  // a cut stream and an empty 200 came with a 200's headers; every other failure here came before any status, or lost it
  const httpStatus = err instanceof StreamCutError || err instanceof NoCompletionError ? 200 : null;
  const message = opts.timedOutAfterMs !== undefined ? `timed out after ${opts.timedOutAfterMs} ms: ${describeError(err)}` : describeError(err);
  return { httpStatus, message, failure: ApplicationFailure.create({ type: FailureTypes.modelUnavailable, message }) };
}

export function createModelActivities(deps: ModelActivityDeps) {
  const { db, pool, poolName, registry } = deps;
  const poolInfo = registry.pools[poolName];
  if (!poolInfo) throw new Error(`pool "${poolName}" is not in registry ${registry.version}`);

  /**
   * A call that was made is recorded even if the database is down for a while: the write is
   * retried here, not by a new call, until shortly before the attempt's deadline (the caller
   * heartbeats meanwhile). Past it the activity fails, and the next attempt writes the row from
   * the heartbeat details (recordLostCall), so an outage longer than the timeout loses the output
   * but not the row.
   */
  async function record(row: NewModelAttempt, deadline: number, recovered = false): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await insertAttempt(row, recovered);
      } catch (err) {
        const wait = Math.min(2000, 100 * 2 ** attempt);
        if (Date.now() + wait >= deadline) throw err;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /**
   * The row of a call whose worker was lost before it wrote one (killed, out of memory, its host
   * gone): the activity timed out and Temporal handed this attempt the last heartbeat of that one.
   * Idempotent on the attempt key: a row the lost attempt did write stays as it is, and if that
   * attempt's worker was only cut off from Temporal, the row it writes later replaces this one.
   */
  async function recordLostCall(previous: unknown, base: Omit<NewModelAttempt, 'latencyMs'>, deadline: number, heartbeat: () => void): Promise<void> {
    const beat = lostCallOf(previous, base.attemptKey);
    if (!beat) return;
    const { ended } = beat;
    const row: NewModelAttempt = {
      ...base,
      attemptKey: beat.attemptKey,
      activityAttempt: beat.activityAttempt,
      valid: false,
      ...(ended
        ? {
            // the call ended, but its row was not written (the database stayed down past the deadline, or the worker was lost
            // while writing it): what it cost is known, its output is not
            latencyMs: ended.latencyMs,
            ttftMs: ended.ttftMs,
            httpStatus: ended.httpStatus,
            finishReason: ended.finishReason,
            promptTokens: ended.promptTokens,
            completionTokens: ended.completionTokens,
            tokensEstimated: ended.tokensEstimated,
            costUsd: ended.costUsd,
            referenceCostUsd: ended.referenceCostUsd,
            error: `${LOST_RECORD_ERROR}: ${ended.error ?? `HTTP ${ended.httpStatus} answered, the output is lost`}`,
          }
        : {
            // how long the call was known to run: until the last heartbeat that reached Temporal
            latencyMs: Math.max(0, beat.at - beat.callStartedAt),
            httpStatus: null,
            error: `${LOST_CALL_ERROR}: no result (heartbeat timeout)`,
          }),
    };
    // the previous attempt's details are sent again, so an attempt lost while writing this row leaves them to the next
    await withHeartbeat(() => record(row, deadline, true), heartbeat, Context.current().info.heartbeatTimeoutMs);
  }

  /**
   * Writes a call's row, idempotent on its attempt key. A recovered row (`recovered`, written by
   * recordLostCall) never changes a row that is there. The call's own row replaces a recovered
   * no-result row (LOST_CALL_ERROR), as when its worker was cut off from Temporal but not from
   * Postgres and its retry recovered the call before the call itself ended: in one statement, in
   * place (the id stays), and only while the row there is such a placeholder. The rollups follow
   * by the update trigger of migration 0009. A recovered row that knows the call's cost
   * (LOST_RECORD_ERROR) and a row the call wrote before stay as they are.
   */
  async function insertAttempt(row: NewModelAttempt, recovered = false): Promise<number> {
    const insert = db.insert(modelAttempts).values(row);
    const inserted = await (recovered
      ? insert.onConflictDoNothing({ target: modelAttempts.attemptKey })
      : insert.onConflictDoUpdate({ target: modelAttempts.attemptKey, set: REPLACEMENT, setWhere: sql`starts_with(${sql.identifier('model_attempts')}.${sql.identifier('error')}, ${LOST_CALL_ERROR})` })
    ).returning({ id: modelAttempts.id });
    if (inserted[0]) return inserted[0].id;
    const existing = await db.query.modelAttempts.findFirst({ where: (t, { eq }) => eq(t.attemptKey, row.attemptKey), columns: { id: true } });
    if (!existing) throw new Error(`attempt row ${row.attemptKey} neither inserted nor found`);
    return existing.id;
  }

  return {
    /** One model call for one attempt of a micro-task; records the call before returning. */
    async callModel(req: ModelCallRequest): Promise<ModelCallResult> {
      const entered = Date.now();
      const ctx = Context.current();
      const info = ctx.info;
      // recorded under the wrong pool, a call would be priced and routed on in analytics as that pool's
      if (req.pool !== poolName) {
        throw ApplicationFailure.create({
          type: FailureTypes.misroutedCall,
          message: `a call routed to pool ${req.pool} reached a worker of pool ${poolName} on task queue ${poolInfo.taskQueue}; the workflow's registry and this worker's disagree`,
          nonRetryable: true,
        });
      }
      let task: MicroTask<any, any>;
      try {
        task = deps.getTask(req.task);
      } catch (err) {
        throw ApplicationFailure.create({ type: FailureTypes.unknownTask, message: String(err), nonRetryable: true });
      }
      if (task.version !== req.taskVersion) {
        throw ApplicationFailure.create({
          type: FailureTypes.unknownTask,
          message: `micro-task ${req.task} is at version ${task.version} on this worker, the workflow asked for ${req.taskVersion}`,
          nonRetryable: true,
        });
      }
      const request = buildModelRequest(task, req.input, req.context, req.spec);
      const body = chatRequestBody(pool, request, { maxTokens: req.maxTokens, temperature: task.temperature ?? 0 });

      const base = {
        attemptKey: `${req.workflowId}/${req.runId}/${info.activityId}/${info.attempt}`,
        workflowId: req.workflowId,
        runId: req.runId,
        pipeline: req.pipeline,
        step: req.step,
        itemIndex: req.itemIndex,
        task: req.task,
        taskVersion: req.taskVersion,
        attemptNo: req.attemptNo,
        kind: req.spec.kind,
        activityAttempt: info.attempt,
        pool: poolName,
        model: pool.model,
        endpoint: poolInfo.endpoint,
        routeReason: req.routeReason,
        schemaMode: pool.schemaMode,
        maxTokens: req.maxTokens,
        repairedPaths: req.spec.repair?.paths ?? [],
        request: { messages: body.messages, schemaName: request.schemaName },
        priceVersion: poolInfo.price.version,
        referenceModel: registry.reference.model,
      } satisfies Partial<NewModelAttempt>;

      // the attempt's own deadline (start-to-close counts from a moment before this one); writes retry until shortly before it
      const deadline = entered + info.startToCloseTimeoutMs - 2000;
      if (info.attempt > 1) await recordLostCall(info.heartbeatDetails, base, deadline, () => ctx.heartbeat(info.heartbeatDetails));

      // every heartbeat from here on names this attempt's call, so the next attempt can record it if this worker is lost
      const beat: CallHeartbeat = { attemptKey: base.attemptKey, activityAttempt: info.attempt, callStartedAt: Date.now(), at: Date.now() };
      const heartbeat = () => ctx.heartbeat({ ...beat, at: Date.now() } satisfies CallHeartbeat);
      const recordEnded = (row: NewModelAttempt) => {
        beat.ended = {
          latencyMs: row.latencyMs,
          ttftMs: row.ttftMs ?? null,
          httpStatus: row.httpStatus ?? null,
          error: row.error ?? null,
          finishReason: row.finishReason ?? null,
          promptTokens: row.promptTokens ?? 0,
          completionTokens: row.completionTokens ?? 0,
          tokensEstimated: row.tokensEstimated ?? false,
          costUsd: row.costUsd ?? 0,
          referenceCostUsd: row.referenceCostUsd ?? 0,
        };
        return withHeartbeat(() => record(row, deadline), heartbeat, info.heartbeatTimeoutMs);
      };

      const started = performance.now();
      // vLLM's and llama.cpp's own schema fields are not in the SDK's types; it sends the body as given
      const params = body as OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;
      // The SDK's timeout ends only the wait for the headers: a body or a stream that stalls after
      // them (which heartbeats do not notice) would run into Temporal's start-to-close timeout, and
      // its row would say "cancelled" when the worker learned of it, or be missing. The whole call
      // ends at the deadline instead, and is recorded as timed out.
      // within the attempt's own deadline too: a retry that spent time writing an earlier call's row,
      // or a workflow whose registry snapshot gives a shorter timeout than this worker's, still ends
      // the call before Temporal's start-to-close does, so its row is written by this attempt
      // (bound only when the retry spent a second or more before the call; otherwise the pool's timeout stands as configured)
      const remainingMs = deadline - Date.now() - 3000;
      const timeoutMs = remainingMs < callTimeoutMs(pool) - 1000 ? Math.max(1000, remainingMs) : callTimeoutMs(pool);
      const callDeadline = AbortSignal.timeout(timeoutMs);
      const signal = AbortSignal.any([ctx.cancellationSignal, callDeadline]);
      let completion: Completion;
      try {
        // the first heartbeat goes out before the request does
        completion = pool.stream
          ? await withHeartbeat(() => streamCompletion(deps.client, params, signal, started, heartbeat), heartbeat, info.heartbeatTimeoutMs)
          : toCompletion(await withHeartbeat(() => deps.client.chat.completions.create(params, { signal }), heartbeat, info.heartbeatTimeoutMs));
      } catch (err) {
        const latencyMs = Math.round(performance.now() - started);
        const cancelled = ctx.cancellationSignal.aborted;
        const timedOut = !cancelled && (callDeadline.aborted || err instanceof OpenAI.APIConnectionTimeoutError);
        const { failure, httpStatus, message } = classifyCallError(err, timedOut ? { timedOutAfterMs: timeoutMs } : {});
        // a failed call is recorded too: operators see every 500 and 429, analysts can exclude them;
        // a cut stream keeps the text that came
        const rawOutput = err instanceof StreamCutError ? err.text : null;
        await recordEnded({ ...base, latencyMs, httpStatus, rawOutput, error: cancelled ? `cancelled: ${message}` : message, valid: false });
        // reported as cancelled, the call is not retried
        if (cancelled) throw new CancelledFailure(`the run was cancelled during the call (${message})`);
        throw failure;
      }
      const latencyMs = Math.round(performance.now() - started);
      const { text, usage, ttftMs } = completion;
      const finishReason = toFinishReason(completion.finishReason);
      const tokensEstimated = !usage || typeof usage.prompt_tokens !== 'number';
      const promptTokens = usage?.prompt_tokens ?? estimateTokens(body.messages.reduce((n, m) => n + m.content.length, 0));
      const completionTokens = usage?.completion_tokens ?? estimateTokens(text.length);
      const cost = costUsd(poolInfo.price, promptTokens, completionTokens);
      const referenceCost = costUsd(registry.reference.price, promptTokens, completionTokens);
      const attemptId = await recordEnded({
        ...base,
        rawOutput: text,
        finishReason,
        httpStatus: 200,
        promptTokens,
        completionTokens,
        tokensEstimated,
        latencyMs,
        ttftMs,
        costUsd: cost,
        referenceCostUsd: referenceCost,
      });
      await deps.afterRecorded?.(req, info.attempt);
      return {
        attemptId,
        text,
        finishReason,
        promptTokens,
        completionTokens,
        tokensEstimated,
        latencyMs,
        model: completion.model || pool.model,
        costUsd: cost,
        referenceCostUsd: referenceCost,
      };
    },
  };
}

export type ModelActivities = ReturnType<typeof createModelActivities>;
