/**
 * The HTTP API for business services: start a pipeline or one micro-task, follow its progress,
 * read its result, cancel it. Requests are checked with the pipelines' own zod schemas, and the
 * OpenAPI document is generated from the same schemas.
 */
import { randomUUID } from 'node:crypto';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { type Client, ServiceError, WorkflowNotFoundError } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { MicroTask, Pipeline } from '../core/contract.js';
import type { RegistrySnapshot } from '../core/registry.js';
import type { Db } from '../db/client.js';
import { ORCHESTRATION_QUEUE } from '../config/load.js';
import { pipelines as knownPipelines } from '../pipelines/index.js';
import { runPipeline, runTask, type PipelineProgress } from '../workflows/pipeline.js';
import { admitRun, apiRunOf, authenticate, canonicalJson, mayRun, settleEnded, sha256, type ApiKey } from './keys.js';
import { progressOf, viewOf, type View } from './runs.js';
import { ErrorBody, IdempotencyHeaders, PipelineInfo, PipelineList, pipelineRunRequest, Ready, RunAccepted, RunView, taskRunRequest } from './schemas.js';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey?: ApiKey;
    /** the body as sent, before zod's defaults and transforms: what the workflow is given */
    rawBody?: unknown;
  }
  interface FastifyContextConfig {
    /** the pipeline (or `task:<name>`) a route runs, checked against the key's scope */
    runs?: string;
  }
}

export interface ApiOptions {
  client: Client;
  db: Db;
  registry: RegistrySnapshot;
  /** default every pipeline registered in this process */
  pipelines?: Record<string, Pipeline>;
  /** the orchestration task queue; default `pipelines` */
  taskQueue?: string;
  temporalUiUrl: string;
  namespace?: string;
  /** the largest request body, in bytes; default 1 MiB */
  bodyLimit?: number;
  /** how often the event stream asks for progress; default 500 ms */
  pollMs?: number;
  /** how often ended runs are settled against their keys' budgets; default 30 s, 0 for never (tests settle on admission) */
  settleEveryMs?: number;
  logger?: FastifyServerOptions['logger'];
}

type Reply = FastifyReply;
const problem = (reply: Reply, status: number, error: string, message: string, extra: Record<string, unknown> = {}) => reply.code(status).send({ error, message, ...extra });

const secured = [{ apiKey: [] }];
/** requests per minute and address that carry no valid key */
const UNAUTHENTICATED_PER_MINUTE = 30;

export async function createApi(o: ApiOptions): Promise<FastifyInstance> {
  const pipelines = o.pipelines ?? knownPipelines;
  const tasks = tasksOf(pipelines);
  const taskQueue = o.taskQueue ?? ORCHESTRATION_QUEUE;
  const namespace = o.namespace ?? o.client.options.namespace;
  const pollMs = o.pollMs ?? 500;
  /** open event streams, ended when the server closes so that closing does not wait for their runs */
  const streams = new Set<() => void>();
  const app = Fastify({
    bodyLimit: o.bodyLimit ?? 1024 * 1024,
    // an API key is never logged, whatever the log level or serializer
    logger: o.logger === undefined ? { level: 'info', redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]'], censor: '[redacted]' } } : o.logger,
    genReqId: () => randomUUID(),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON only: a text body is refused with 415 rather than read as a string
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((err, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map((v) => ({ path: v.instancePath === '/' ? '' : v.instancePath, message: v.message ?? 'invalid', code: v.keyword }));
      return problem(reply, 400, 'invalid_request', `the request ${err.validationContext ?? 'body'} is invalid: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`, { issues });
    }
    const e = err as { statusCode?: number; code?: string; message?: string };
    const status = e.statusCode ?? 500;
    if (status === 413) return problem(reply, 413, 'body_too_large', `the request body is larger than ${o.bodyLimit ?? 1024 * 1024} bytes`);
    if (status === 415) return problem(reply, 415, 'unsupported_media_type', 'send the request body as application/json');
    if (status === 429) return problem(reply, 429, (err as { error?: string }).error ?? 'rate_limited', e.message ?? 'too many requests');
    if (status >= 400 && status < 500) return problem(reply, status, e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'invalid_json' : 'bad_request', e.message ?? 'bad request');
    if (err instanceof ServiceError) {
      req.log.error({ err }, 'Temporal did not answer');
      return problem(reply.header('retry-after', '5'), 503, 'temporal_unavailable', 'Temporal did not answer; nothing was started, retry with the same Idempotency-Key');
    }
    req.log.error({ err }, 'request failed');
    return problem(reply, 500, 'internal', 'the request failed; see the API log');
  });
  app.setNotFoundHandler((req, reply) => problem(reply, 404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`));

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'microtask-pipelines',
        version: '1',
        description: 'Start pipelines of micro-tasks held to zod contracts, follow their progress, read their validated results.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'an API key from `npm run keys -- create`' } } },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  // liveness and readiness are for the platform; they need no key
  app.get('/healthz', { schema: { response: { 200: z.object({ ok: z.literal(true) }) } } }, () => ({ ok: true as const }));
  app.get('/readyz', { schema: { response: { 200: Ready, 503: Ready } } }, async (_req, reply) => {
    const checks = await readiness(o, taskQueue, namespace);
    const ready = Object.values(checks).every((c) => c.ok);
    return reply.code(ready ? 200 : 503).send({ ready, checks });
  });

  await app.register(async (v1) => {
    v1.addHook('onRequest', async (req) => {
      const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      const key = m ? await authenticate(o.db, m[1]!) : undefined;
      if (key) req.apiKey = key;
    });
    // in-process counters: right for one API process; several behind a balancer would each allow the limit.
    // Requests without a valid key count per address, so they are refused before they cost more lookups.
    await v1.register(fastifyRateLimit, {
      global: true,
      timeWindow: '1 minute',
      max: (req) => req.apiKey?.rateLimitPerMinute ?? UNAUTHENTICATED_PER_MINUTE,
      keyGenerator: (req) => (req.apiKey ? `key:${req.apiKey.id}` : `ip:${req.ip}`),
      errorResponseBuilder: (_req, ctx) => ({ statusCode: 429, error: 'rate_limited', message: `at most ${ctx.max} requests per ${ctx.after} for this key; retry in ${Math.ceil(ctx.ttl / 1000)} s` }),
    });
    // before the body is read: a request without a valid key gets nothing more
    v1.addHook('preParsing', async (req, reply) => {
      if (req.apiKey) return;
      const presented = /^Bearer\s+\S+$/i.test(req.headers.authorization ?? '');
      return problem(reply.header('www-authenticate', 'Bearer'), 401, 'unauthorized', presented ? 'the API key is not valid (unknown or revoked)' : 'send an API key: Authorization: Bearer <key>');
    });
    v1.addHook('preValidation', async (req, reply) => {
      req.rawBody = req.body;
      const runs = req.routeOptions.config.runs;
      if (runs !== undefined && !mayRun(req.apiKey!, runs)) return problem(reply, 403, 'forbidden', `this key may not run ${runs}`);
    });

    const r = v1.withTypeProvider<ZodTypeProvider>();
    const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody, 415: ErrorBody, 429: ErrorBody };

    r.get('/v1/pipelines', { schema: { tags: ['pipelines'], summary: 'The pipelines and micro-tasks this API runs', security: secured, response: { 200: PipelineList, 401: ErrorBody } } }, () => ({
      pipelines: Object.values(pipelines).map(infoOfPipeline),
      tasks: Object.values(tasks).map(infoOfTask),
    }));
    r.get(
      '/v1/pipelines/:name',
      { schema: { tags: ['pipelines'], summary: 'One pipeline: its steps and its input schema', security: secured, params: z.object({ name: z.string() }), response: { 200: PipelineInfo, 401: ErrorBody, 404: ErrorBody } } },
      async (req, reply) => {
        const p = Object.hasOwn(pipelines, req.params.name) ? pipelines[req.params.name]! : undefined;
        return p ? infoOfPipeline(p) : problem(reply, 404, 'not_found', `no pipeline ${req.params.name}; known: ${Object.keys(pipelines).join(', ')}`);
      },
    );
    r.get(
      '/v1/tasks/:name',
      { schema: { tags: ['tasks'], summary: 'One micro-task: its input and output schemas', security: secured, params: z.object({ name: z.string() }), response: { 200: PipelineInfo, 401: ErrorBody, 404: ErrorBody } } },
      async (req, reply) => {
        const t = Object.hasOwn(tasks, req.params.name) ? tasks[req.params.name]! : undefined;
        return t ? infoOfTask(t) : problem(reply, 404, 'not_found', `no micro-task ${req.params.name}`);
      },
    );

    const start = async (req: FastifyRequest, reply: Reply, kind: 'pipeline' | 'task', name: string, args: Record<string, unknown>, requested: number | undefined) => {
      const key = req.apiKey!;
      if (requested !== undefined && requested > key.runBudgetUsd) {
        return problem(reply, 403, 'run_budget_exceeds_key', `costBudgetUsd ${requested} is more than this key allows a run (${key.runBudgetUsd})`, {
          issues: [{ path: '/costBudgetUsd', message: `at most ${key.runBudgetUsd}`, code: 'too_big' }],
        });
      }
      const idempotencyKey = req.headers['idempotency-key'];
      const scoped = typeof idempotencyKey === 'string' ? sha256(idempotencyKey).slice(0, 32) : randomUUID();
      const workflowId = `api-${key.id}-${scoped}`;
      const costBudgetUsd = requested ?? key.runBudgetUsd;
      const body = { ...args, costBudgetUsd };
      const admission = await admitRun(o.db, {
        key,
        workflowId,
        kind,
        name,
        // the request as sent: the key's run budget may change without making a repeat a different request
        requestHash: sha256(canonicalJson({ kind, name, ...args, costBudgetUsd: requested ?? null })),
        // the run can spend no more than its cost budget, so that is what it reserves
        reserveUsd: costBudgetUsd,
        start: async () => {
          const common = { taskQueue, workflowId, workflowIdReusePolicy: 'REJECT_DUPLICATE', workflowIdConflictPolicy: 'USE_EXISTING' } as const;
          if (kind === 'pipeline') await o.client.workflow.start(runPipeline, { ...common, args: [{ pipeline: name, ...body } as Parameters<typeof runPipeline>[0]] });
          else await o.client.workflow.start(runTask, { ...common, args: [{ task: name, ...body } as Parameters<typeof runTask>[0]] });
        },
      });
      if (admission.kind === 'conflict') return problem(reply, 409, 'idempotency_conflict', 'this Idempotency-Key was used with a different request; use a new key for a new request');
      if (admission.kind === 'budget') {
        const retry = secondsToUtcMidnight();
        return problem(reply.header('retry-after', String(retry)), 429, 'budget_exhausted', `this key's daily budget of $${admission.limitUsd} is taken ($${admission.spentUsd} spent, $${admission.reservedUsd} reserved by runs in flight); a run reserves $${costBudgetUsd}`);
      }
      return reply.code(admission.kind === 'started' ? 201 : 200).send({ id: workflowId, created: admission.kind === 'started', links: linksOf(workflowId) });
    };

    for (const p of Object.values(pipelines)) {
      r.post(
        `/v1/pipelines/${p.name}/runs`,
        {
          config: { runs: p.name },
          schema: {
            tags: ['pipelines'],
            operationId: `start_${p.name.replace(/-/g, '_')}`,
            summary: `Start ${p.name}`,
            description: p.description,
            security: secured,
            headers: IdempotencyHeaders,
            body: pipelineRunRequest(p.input),
            response: { 200: RunAccepted, 201: RunAccepted, ...errors },
          },
        },
        (req, reply) => {
          const b = req.body as { budget?: unknown; costBudgetUsd?: number };
          const raw = req.rawBody as { input: unknown };
          return start(req, reply, 'pipeline', p.name, { input: raw.input, ...(b.budget ? { budget: b.budget } : {}) }, b.costBudgetUsd);
        },
      );
    }
    for (const t of Object.values(tasks)) {
      r.post(
        `/v1/tasks/${t.name}/runs`,
        {
          config: { runs: `task:${t.name}` },
          schema: {
            tags: ['tasks'],
            operationId: `run_${t.name.replace(/-/g, '_')}`,
            summary: `Run the micro-task ${t.name} on its own`,
            description: t.description,
            security: secured,
            headers: IdempotencyHeaders,
            body: taskRunRequest(t.input),
            response: { 200: RunAccepted, 201: RunAccepted, ...errors },
          },
        },
        (req, reply) => {
          const b = req.body as { budget?: unknown; costBudgetUsd?: number; context?: unknown[] };
          const raw = req.rawBody as { input: unknown };
          return start(req, reply, 'task', t.name, { input: raw.input, ...(b.context ? { context: b.context } : {}), ...(b.budget ? { budget: b.budget } : {}) }, b.costBudgetUsd);
        },
      );
    }
    // a name with no route of its own
    r.post('/v1/pipelines/:name/runs', { schema: { hide: true } }, (req, reply) =>
      problem(reply, 404, 'not_found', `no pipeline ${(req.params as { name: string }).name}; known: ${Object.keys(pipelines).join(', ')}`),
    );
    r.post('/v1/tasks/:name/runs', { schema: { hide: true } }, (req, reply) => problem(reply, 404, 'not_found', `no micro-task ${(req.params as { name: string }).name}`));

    /** The run if this key started it; another key's run is as unknown as a run that never was. */
    const ownRun = async (req: FastifyRequest, id: string) => {
      const row = await apiRunOf(o.db, id);
      return row && row.keyId === req.apiKey!.id ? row : undefined;
    };
    const view = async (id: string, row: { kind: 'pipeline' | 'task'; name: string }): Promise<View> => {
      const v = await viewOf(id, { client: o.client, db: o.db, links: linksOf(id), kind: row.kind, name: row.name });
      if (v.status !== 'running') await settleEnded(o.db, undefined, id);
      return v;
    };
    const RunParams = z.object({ id: z.string().min(1) });

    r.get('/v1/runs/:id', { schema: { tags: ['runs'], summary: 'A run: status, progress, result or typed failure', security: secured, params: RunParams, response: { 200: RunView, 401: ErrorBody, 404: ErrorBody } } }, async (req, reply) => {
      const row = await ownRun(req, req.params.id);
      if (!row) return problem(reply, 404, 'not_found', `no run ${req.params.id}`);
      try {
        return await view(req.params.id, row);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return problem(reply, 404, 'not_found', `no run ${req.params.id}`);
        throw err;
      }
    });

    r.get(
      '/v1/runs/:id/events',
      {
        schema: {
          tags: ['runs'],
          summary: 'Progress as server-sent events until the run ends',
          description:
            'Events: `progress` (the whole progress, when it changed), `step` (one step whose status changed; every step is sent at least once with its final status), and a last `end` carrying the run as `GET /v1/runs/{id}` returns it.',
          security: secured,
          params: RunParams,
          response: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: z.string() } } }, 401: ErrorBody, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        const row = await ownRun(req, req.params.id);
        if (!row) return problem(reply, 404, 'not_found', `no run ${req.params.id}`);
        const id = req.params.id;
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
        res.write(': progress of run ' + id + '\n\n');
        let open = true;
        const stop = () => (open = false);
        req.raw.on('close', stop);
        streams.add(stop);
        const send = (event: string, data: unknown) => open && res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        let last = '';
        let quietSince = Date.now();
        const seen = new Map<string, string>();
        const emit = (p: PipelineProgress | null) => {
          if (!p) return;
          const json = JSON.stringify(p);
          if (json === last) return;
          last = json;
          quietSince = Date.now();
          send('progress', p);
          for (const s of p.steps) {
            if (seen.get(s.id) === s.status) continue;
            seen.set(s.id, s.status);
            send('step', s);
          }
        };
        try {
          while (open) {
            const status = await o.client.workflow
              .getHandle(id)
              .describe()
              .then((d) => d.status.name);
            if (status !== 'RUNNING') {
              const v = await view(id, row);
              emit(v.progress);
              send('end', v);
              break;
            }
            emit(await progressOf(o.client, id));
            // a comment now and then keeps proxies from closing a quiet stream
            if (Date.now() - quietSince > 15_000) {
              quietSince = Date.now();
              if (open) res.write(': keep-alive\n\n');
            }
            await new Promise((r) => setTimeout(r, pollMs));
          }
        } catch (err) {
          req.log.error({ err }, 'event stream failed');
          send('error', { error: 'internal', message: 'the event stream failed; GET the run for its state' });
        } finally {
          streams.delete(stop);
          res.end();
        }
      },
    );

    r.post(
      '/v1/runs/:id/cancel',
      {
        schema: {
          tags: ['runs'],
          summary: 'Cancel a run: the model call in flight is aborted and the run ends cancelled',
          security: secured,
          params: RunParams,
          response: { 202: z.object({ id: z.string(), status: z.literal('cancelling'), links: z.object({ self: z.string() }) }), 401: ErrorBody, 404: ErrorBody, 409: ErrorBody },
        },
      },
      async (req, reply) => {
        const row = await ownRun(req, req.params.id);
        if (!row) return problem(reply, 404, 'not_found', `no run ${req.params.id}`);
        const handle = o.client.workflow.getHandle(req.params.id);
        const d = await handle.describe().catch((err: unknown) => (err instanceof WorkflowNotFoundError ? undefined : Promise.reject(err)));
        if (!d || d.status.name !== 'RUNNING') return problem(reply, 409, 'run_ended', `run ${req.params.id} has already ended${d ? ` (${d.status.name.toLowerCase()})` : ''}`);
        await handle.cancel();
        return reply.code(202).send({ id: req.params.id, status: 'cancelling' as const, links: { self: `/v1/runs/${encodeURIComponent(req.params.id)}` } });
      },
    );
  });

  app.addHook('preClose', async () => {
    for (const stop of streams) stop();
  });
  if ((o.settleEveryMs ?? 30_000) > 0) {
    const timer = setInterval(() => void settleEnded(o.db).catch((err: unknown) => app.log.warn({ err }, 'settling ended runs failed')), o.settleEveryMs ?? 30_000);
    timer.unref();
    app.addHook('onClose', async () => clearInterval(timer));
  }

  function linksOf(id: string): View['links'] {
    const self = `/v1/runs/${encodeURIComponent(id)}`;
    return { self, events: `${self}/events`, cancel: `${self}/cancel`, ui: `${o.temporalUiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(id)}` };
  }
  return app;
}

function tasksOf(pipelines: Record<string, Pipeline>): Record<string, MicroTask<any, any>> {
  const tasks: Record<string, MicroTask<any, any>> = {};
  for (const p of Object.values(pipelines)) for (const s of p.steps) tasks[s.task.name] = s.task;
  return tasks;
}

const jsonSchema = (s: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(s, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;

function infoOfPipeline(p: Pipeline): z.infer<typeof PipelineInfo> {
  return {
    name: p.name,
    kind: 'pipeline',
    version: p.version,
    description: p.description,
    steps: p.steps.map((s) => ({ id: s.id, task: s.task.name })),
    inputSchema: jsonSchema(p.input, 'input'),
    outputSchema: p.output ? jsonSchema(p.output, 'output') : null,
    runs: `/v1/pipelines/${p.name}/runs`,
  };
}

function infoOfTask(t: MicroTask<any, any>): z.infer<typeof PipelineInfo> {
  return {
    name: t.name,
    kind: 'task',
    version: t.version,
    description: t.description,
    steps: [{ id: t.name, task: t.name }],
    inputSchema: jsonSchema(t.input, 'input'),
    outputSchema: jsonSchema(t.output, 'output'),
    runs: `/v1/tasks/${t.name}/runs`,
  };
}

function secondsToUtcMidnight(now = new Date()): number {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.max(1, Math.ceil((midnight - now.getTime()) / 1000));
}

/** Ready: Temporal answers, Postgres answers, and every pool (and the orchestration queue) has a worker polling. */
async function readiness(o: ApiOptions, taskQueue: string, namespace: string): Promise<Record<string, { ok: boolean; detail: string }>> {
  const checks: Record<string, { ok: boolean; detail: string }> = {};
  const service = o.client.connection.workflowService;
  try {
    await o.client.withDeadline(Date.now() + 3000, () => service.describeNamespace({ namespace }));
    checks.temporal = { ok: true, detail: `namespace ${namespace}` };
  } catch (err) {
    checks.temporal = { ok: false, detail: err instanceof Error ? err.message : String(err) };
  }
  try {
    await o.db.execute(sql`select 1`);
    checks.postgres = { ok: true, detail: 'answers' };
  } catch (err) {
    checks.postgres = { ok: false, detail: err instanceof Error ? err.message : String(err) };
  }
  const queues: [string, string, 1 | 2][] = [['orchestration', taskQueue, 1], ...Object.entries(o.registry.pools).map(([name, p]): [string, string, 1 | 2] => [`pool ${name}`, p.taskQueue, 2])];
  for (const [name, queue, type] of queues) {
    if (!checks.temporal.ok) {
      checks[name] = { ok: false, detail: 'Temporal does not answer' };
      continue;
    }
    try {
      const res = await o.client.withDeadline(Date.now() + 3000, () => service.describeTaskQueue({ namespace, taskQueue: { name: queue }, taskQueueType: type }));
      const n = res.pollers?.length ?? 0;
      checks[name] = { ok: n > 0, detail: `${n} worker(s) polling ${queue}` };
    } catch (err) {
      checks[name] = { ok: false, detail: err instanceof Error ? err.message : String(err) };
    }
  }
  return checks;
}
