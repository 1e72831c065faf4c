/**
 * A typed client of the HTTP API (api/), for services that hold an API key rather than a
 * Temporal connection: start a pipeline or a micro-task, follow its progress, read its result,
 * cancel it. `connectPipelines` (client/api.ts) does the same directly on Temporal.
 */
import type { z } from 'zod';
import type { ContextBlock, MicroTask, Pipeline } from '../core/contract.js';
import type { BudgetOverrides, ErrorBody, RunAccepted, RunView, StepProgressSchema } from '../api/schemas.js';
import type { PipelineProgress } from '../workflows/pipeline.js';

export type ApiRun = z.infer<typeof RunView>;
export type ApiStepProgress = z.infer<typeof StepProgressSchema>;

export type RunEvent = { type: 'progress'; progress: PipelineProgress } | { type: 'step'; step: ApiStepProgress } | { type: 'end'; run: ApiRun };

/** A request the API refused: its status, its error code and, for a 400, every failing path. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: NonNullable<z.infer<typeof ErrorBody>['issues']> = [],
    /** seconds, from Retry-After on a 429 */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** A run that ended without a result: failed (with its typed failure), cancelled, terminated or timed out. */
export class RunEndedError extends Error {
  override name = 'RunEndedError';
  constructor(readonly run: ApiRun) {
    super(run.failure ? `run ${run.id} ${run.status}: ${run.failure.type}: ${run.failure.message}` : `run ${run.id} ended ${run.status}`);
  }
}

export interface RunOptions {
  /** the same key with the same request returns the run it started, however often it is sent */
  idempotencyKey?: string;
  budget?: z.input<typeof BudgetOverrides>;
  costBudgetUsd?: number;
}

export interface RunHandle<O> {
  id: string;
  /** false when the idempotency key named a run that already existed */
  created: boolean;
  get: () => Promise<ApiRun>;
  progress: () => Promise<PipelineProgress | null>;
  /** the run's events until it ends: progress, each step whose status changed, and the end */
  events: (o?: { signal?: AbortSignal }) => AsyncGenerator<RunEvent>;
  /** waits for the end; resolves with the result, rejects with RunEndedError otherwise */
  result: () => Promise<{ status: 'completed' | 'partial'; output: O; unresolved: Record<string, string[]>; totals: PipelineProgress['totals'] }>;
  cancel: () => Promise<void>;
}

export interface ApiClient {
  start: {
    <PI, PO>(pipeline: Pipeline<PI, PO>, input: PI, options?: RunOptions): Promise<RunHandle<PO>>;
    (pipeline: string, input: unknown, options?: RunOptions): Promise<RunHandle<unknown>>;
  };
  runTask: {
    <I, O>(task: MicroTask<I, O>, input: I, options?: RunOptions & { context?: ContextBlock[] }): Promise<RunHandle<O>>;
    (task: string, input: unknown, options?: RunOptions & { context?: ContextBlock[] }): Promise<RunHandle<unknown>>;
  };
  /** a run started before, by its id */
  run: (id: string) => RunHandle<unknown>;
}

export interface ApiClientOptions {
  /** e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  apiKey: string;
  fetch?: typeof fetch;
}

/** Parses a text/event-stream body into its events. */
async function* serverSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length > 0) yield { event, data: data.join('\n') };
    }
  }
}

export function connectApi(o: ApiClientOptions): ApiClient {
  const doFetch = o.fetch ?? fetch;
  const base = o.baseUrl.replace(/\/$/, '');
  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> => {
    const res = await doFetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${o.apiKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (res.status >= 400) {
      const e = (await res.json().catch(() => ({}))) as Partial<z.infer<typeof ErrorBody>>;
      const retry = res.headers.get('retry-after');
      throw new ApiError(res.status, e.error ?? 'error', e.message ?? `HTTP ${res.status}`, e.issues ?? [], retry !== null ? Number(retry) : undefined);
    }
    return res;
  };

  const handle = <O>(id: string, created: boolean): RunHandle<O> => {
    const path = `/v1/runs/${encodeURIComponent(id)}`;
    const get = async () => (await (await request('GET', path)).json()) as ApiRun;
    const events = async function* (opts: { signal?: AbortSignal } = {}): AsyncGenerator<RunEvent> {
      const res = await doFetch(`${base}${path}/events`, { headers: { authorization: `Bearer ${o.apiKey}`, accept: 'text/event-stream' }, ...(opts.signal ? { signal: opts.signal } : {}) });
      if (res.status >= 400 || !res.body) throw new ApiError(res.status, 'error', `event stream: HTTP ${res.status}`);
      for await (const e of serverSentEvents(res.body)) {
        const data = JSON.parse(e.data) as unknown;
        if (e.event === 'progress') yield { type: 'progress', progress: data as PipelineProgress };
        else if (e.event === 'step') yield { type: 'step', step: data as ApiStepProgress };
        else if (e.event === 'end') {
          yield { type: 'end', run: data as ApiRun };
          return;
        } else if (e.event === 'error') throw new ApiError(500, 'stream_failed', (data as { message?: string }).message ?? 'the event stream failed');
      }
    };
    return {
      id,
      created,
      get,
      progress: async () => (await get()).progress,
      events,
      result: async () => {
        for (;;) {
          let run: ApiRun | undefined;
          for await (const e of events()) if (e.type === 'end') run = e.run;
          // a stream cut before its end (a restart, a proxy) is opened again
          run ??= await get();
          if (run.status === 'running') {
            await new Promise((r) => setTimeout(r, 1000));
            continue;
          }
          if (run.result) return run.result as Awaited<ReturnType<RunHandle<O>['result']>>;
          throw new RunEndedError(run);
        }
      },
      cancel: async () => {
        await request('POST', `${path}/cancel`);
      },
    };
  };

  const startAt = async (path: string, body: Record<string, unknown>, options: RunOptions) => {
    const res = await request('POST', path, body, options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {});
    const accepted = (await res.json()) as z.infer<typeof RunAccepted>;
    return handle<never>(accepted.id, accepted.created);
  };
  const runOptions = (options: RunOptions) => ({ ...(options.budget ? { budget: options.budget } : {}), ...(options.costBudgetUsd !== undefined ? { costBudgetUsd: options.costBudgetUsd } : {}) });

  return {
    start: ((pipeline: Pipeline | string, input: unknown, options: RunOptions = {}) =>
      startAt(`/v1/pipelines/${encodeURIComponent(typeof pipeline === 'string' ? pipeline : pipeline.name)}/runs`, { input, ...runOptions(options) }, options)) as ApiClient['start'],
    runTask: ((task: MicroTask<unknown, unknown> | string, input: unknown, options: RunOptions & { context?: unknown[] } = {}) =>
      startAt(
        `/v1/tasks/${encodeURIComponent(typeof task === 'string' ? task : task.name)}/runs`,
        { input, ...(options.context ? { context: options.context } : {}), ...runOptions(options) },
        options,
      )) as ApiClient['runTask'],
    run: (id) => handle(id, false),
  };
}
