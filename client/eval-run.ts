/**
 * Runs a labelled dataset under configurations side by side, as real workflows on the stack, and
 * scores each example's labelled steps, each with its own comparators. Every item lands in eval_items; an item already there is
 * not run again, so the same evaluation id resumes.
 */
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { SingleBar } from 'cli-progress';
import { and, desc, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import { evaluationThrough, labelledSteps, type Pipeline, type PipelineEvaluation } from '../core/contract.js';
import type { Example } from '../core/eval/dataset.js';
import { scoreExample, type StepResult } from '../core/eval/labels.js';
import { reportHtml } from '../core/eval/html.js';
import { comparison, figuresOf, figuresTable, gateFailures, type EvalItem, type Gate } from '../core/eval/report.js';
import type { LadderBudget } from '../core/ladder/budget.js';
import type { RunRouting } from '../core/routing.js';
import { createDb, createPool, type Db } from '../db/client.js';
import { evalItems, evalRuns, pipelineRuns, taskResults } from '../db/schema.js';
import { SINGLE_PROMPT_STEP } from '../core/single-prompt.js';
import { ORCHESTRATION_QUEUE } from '../config/load.js';
import { runPipeline } from '../workflows/pipeline.js';

export class ConfigsError extends Error {
  override name = 'ConfigsError';
}

/** A configuration is data: how the job is run, how the runs are routed and what the ladder may do. */
export const EvalConfig = z.strictObject({
  description: z.string(),
  /** `single-prompt`: the whole job in one call, no contracts, no repairs */
  strategy: z.enum(['micro-tasks', 'single-prompt']).optional(),
  budget: z.record(z.string(), z.unknown()).optional(),
  routing: z.strictObject({ routes: z.record(z.string(), z.string()).optional(), escalate: z.boolean().optional() }).optional(),
});
export type EvalConfig = z.infer<typeof EvalConfig>;

/** The pool the `reference` configuration runs on, when the registry has one (a frontier model's endpoint, say). */
export const REFERENCE_POOL = 'reference';

/** The shipped configurations, for the shipped registry's pools `small` and `large`. */
export const BUILT_IN_CONFIGS: Record<string, EvalConfig> = {
  'single-prompt': { description: 'the whole job in one call to the small pool, parsed leniently, no contracts or repairs', strategy: 'single-prompt', routing: { routes: { '*': 'small' }, escalate: false } },
  'micro-tasks': { description: 'micro-tasks with contracts on the small pool, no repair', budget: { maxAttempts: 1 }, routing: { routes: { '*': 'small' }, escalate: false } },
  ladder: { description: 'the full repair ladder on the small pool, no escalation', routing: { routes: { '*': 'small' }, escalate: false } },
  routed: { description: "the registry's routes and escalation, as shipped" },
  'large-only': { description: 'every call on the large pool', routing: { routes: { '*': 'large' }, escalate: false } },
  reference: { description: `every call on the reference endpoint: the registry's pool named "${REFERENCE_POOL}"`, routing: { routes: { '*': REFERENCE_POOL }, escalate: false } },
};

export function loadConfigs(names: readonly string[], file: string | undefined): Record<string, EvalConfig> {
  let all: Record<string, EvalConfig> = { ...BUILT_IN_CONFIGS };
  if (file) {
    let json: unknown;
    try {
      json = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigsError(`cannot read the configurations file ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const parsed = z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/), EvalConfig).safeParse(json);
    if (!parsed.success) throw new ConfigsError(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    all = { ...all, ...parsed.data };
  }
  const unknown = names.filter((n) => !(n in all));
  if (unknown.length > 0) throw new ConfigsError(`unknown configuration(s) ${unknown.join(', ')}; known: ${Object.keys(all).join(', ')}`);
  return Object.fromEntries(names.map((n) => [n, all[n]!]));
}

export interface RunArgs {
  file: string;
  pipeline: Pipeline;
  evaluation: PipelineEvaluation<any>;
  examples: readonly Example[];
  configs: Record<string, EvalConfig>;
  concurrency: number;
  id: string | undefined;
  out: string | undefined;
  html: string | undefined;
  /** an earlier evaluation id to compare with */
  compare: string | undefined;
  gate: Gate;
}

export async function runConfigurations(args: RunArgs): Promise<number> {
  // dev tooling, loaded only when an evaluation runs: it brings the stack up as `npm start` does
  const { up } = await import('../infra/stack.js');
  const config = await up();
  for (const [name, c] of Object.entries(args.configs)) {
    for (const pool of Object.values(c.routing?.routes ?? {})) {
      if (!Object.hasOwn(config.registry.pools, pool)) {
        throw new ConfigsError(
          `configuration ${name} routes to pool "${pool}", which the registry (${config.registryPath}) does not have` +
            (pool === REFERENCE_POOL ? `; add a pool named "${REFERENCE_POOL}" with your reference endpoint's baseUrl and model to compare with it` : ''),
        );
      }
    }
  }
  const pg = createPool(config.databaseUrl);
  const db = createDb(pg);
  const connection = await Connection.connect({ address: config.temporalAddress });
  const client = new Client({ connection, namespace: config.temporalNamespace });
  try {
    return await evaluate({ client, db, workflowUrl: (wid) => `${config.temporalUiUrl}/namespaces/${config.temporalNamespace}/workflows/${encodeURIComponent(wid)}` }, args);
  } finally {
    await connection.close();
    await pg.end();
  }
}

/** Where an evaluation runs: a Temporal client whose orchestration workers serve the pipeline, and the database they record into. */
export interface EvalDeps {
  client: Client;
  db: Db;
  /** a run's page in the Temporal UI, for the report's worst items */
  workflowUrl: (workflowId: string) => string;
}

/**
 * Runs the examples under the configurations on running workers, records each item, and reports:
 * what `runConfigurations` does once the stack is up. Returns the exit status (1 below the gate).
 */
export async function evaluate(deps: EvalDeps, args: RunArgs): Promise<number> {
  const { client, db } = deps;
  const through = evaluationThrough({ steps: args.pipeline.steps, evaluation: args.evaluation });
  if (through === undefined) throw new ConfigsError(`pipeline ${args.pipeline.name}: its evaluation labels none of its steps`);
  const labelled = labelledSteps(args.evaluation).map((s) => s.step);
  const evalId = args.id ?? `${args.pipeline.name}-${new Date().toISOString().slice(0, 10)}-${randomUUID().slice(0, 8)}`;
  await db.insert(evalRuns).values({ id: evalId, dataset: args.file, pipeline: args.pipeline.name, configs: args.configs }).onConflictDoNothing();
  const done = new Set((await db.select({ c: evalItems.config, e: evalItems.exampleId }).from(evalItems).where(eq(evalItems.evalId, evalId))).map((r) => `${r.c}\u0000${r.e}`));
  const todo = Object.keys(args.configs).flatMap((c) => args.examples.filter((e) => !done.has(`${c}\u0000${e.id}`)).map((e) => ({ config: c, example: e })));
  console.error(`evaluation ${evalId}: ${args.examples.length} example(s) x ${Object.keys(args.configs).length} configuration(s); ${done.size} done before, ${todo.length} to run`);
  const bar = new SingleBar({ format: 'eval [{bar}] {value}/{total} runs | {last}', hideCursor: true, stream: process.stderr, barCompleteChar: '#', barIncompleteChar: '-', noTTYOutput: true, notTTYSchedule: 10_000 });
  bar.start(todo.length, 0, { last: '' });
  let next = 0;
  const lane = async () => {
    for (let k = next++; k < todo.length; k = next++) {
      const { config: name, example } = todo[k]!;
      const item = await runOne(client, db, evalId, name, args.configs[name]!, example, args, through);
      await db.insert(evalItems).values({ evalId, ...item, config: name, exampleId: example.id, workflowId: item.workflowId }).onConflictDoNothing();
      bar.increment(1, { last: `${name} ${example.id}: ${item.status}, ${item.fieldsCorrect}/${item.fieldsScored} fields right` });
    }
  };
  await Promise.all(Array.from({ length: args.concurrency }, lane));
  bar.stop();

  const rows = (await db.select().from(evalItems).where(eq(evalItems.evalId, evalId))) as unknown as EvalItem[];
  const all = Object.keys(args.configs).map((c) => figuresOf(rows, c));
  const heldOut = Object.keys(args.configs).map((c) => figuresOf(rows.filter((r) => r.heldOut), c));
  console.log(`\nevaluation ${evalId} of ${args.file} (${args.pipeline.name}, ${labelled.length === 1 ? 'step' : 'steps'} ${labelled.join(', ')})\n`);
  console.log(figuresTable(all));
  if (heldOut.some((f) => f.examples > 0)) {
    console.log('\nheld-out examples only:\n');
    console.log(figuresTable(heldOut));
  }
  console.log('\naccuracy per field:');
  for (const f of all) console.log(`  ${f.config}: ${Object.entries(f.perField).map(([k, v]) => `${k} ${(100 * v).toFixed(0)}%`).join(', ')}`);
  let compared: string[] | undefined;
  if (args.compare) {
    const before = (await db.select().from(evalItems).where(eq(evalItems.evalId, args.compare))) as unknown as EvalItem[];
    if (before.length === 0) console.log(`\nno evaluation ${args.compare} to compare with`);
    else {
      compared = comparison(all, Object.keys(args.configs).map((c) => figuresOf(before, c)));
      console.log(`\nagainst evaluation ${args.compare}:`);
      for (const line of compared) console.log(`  ${line}`);
    }
  }
  if (args.html) {
    const ui = deps.workflowUrl;
    const worst = [...(rows as unknown as (EvalItem & { workflowId: string })[])]
      .sort((a, b) => a.fieldsCorrect / Math.max(1, a.fieldsScored) - b.fieldsCorrect / Math.max(1, b.fieldsScored))
      .slice(0, 10)
      .map((r) => ({ config: r.config, exampleId: r.exampleId, status: r.status, fieldsCorrect: r.fieldsCorrect, fieldsScored: r.fieldsScored, link: ui(r.workflowId) }));
    fs.writeFileSync(
      args.html,
      reportHtml({
        evalId,
        dataset: args.file,
        pipeline: args.pipeline.name,
        steps: labelled,
        generatedAt: new Date().toISOString(),
        figures: all,
        heldOut,
        worst,
        ...(compared && args.compare ? { comparison: { against: args.compare, lines: compared } } : {}),
      }),
    );
    console.log(`\nreport page: ${args.html}`);
  }
  const failed = gateFailures(all, args.gate);
  for (const f of failed) console.error(`gate: ${f}`);
  if (args.out) fs.writeFileSync(args.out, JSON.stringify({ evalId, dataset: args.file, pipeline: args.pipeline.name, steps: labelled, configs: args.configs, figures: all, heldOut, items: rows }, null, 2));
  return failed.length > 0 ? 1 : 0;
}

async function runOne(client: Client, db: Db, evalId: string, name: string, c: EvalConfig, example: Example, args: RunArgs, through: string) {
  const workflowId = `eval-${evalId}-${name}-${example.id}`;
  try {
    await client.workflow.start(runPipeline, {
      taskQueue: ORCHESTRATION_QUEUE,
      workflowId,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      args: [
        {
          pipeline: args.pipeline.name,
          input: example.input,
          ...(c.budget ? { budget: c.budget as Partial<LadderBudget> } : {}),
          // an evaluation's runs are not live traffic: they take no shadow samples
          routing: { ...(c.routing as RunRouting | undefined), shadow: false },
          ...(c.strategy ? { strategy: c.strategy } : {}),
          // the steps after the last labelled one are not scored: they are not run
          throughStep: through,
        },
      ],
    });
  } catch (err) {
    // a resumed evaluation attaches to the run it started before
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  await client.workflow
    .getHandle(workflowId)
    .result()
    .catch(() => undefined);
  const [run] = await db.select().from(pipelineRuns).where(eq(pipelineRuns.workflowId, workflowId)).limit(1);
  const results = await stepResults(db, workflowId, args, c.strategy === 'single-prompt');
  const scored = scoreExample(args.evaluation, example.expected, results);
  const latencyMs = run?.finishedAt && run.startedAt ? run.finishedAt.getTime() - run.startedAt.getTime() : 0;
  return {
    workflowId,
    heldOut: example.heldOut,
    status: scored.status,
    fieldsScored: scored.fieldsScored,
    fieldsCorrect: scored.fieldsCorrect,
    silentErrors: scored.silentErrors,
    scores: scored.scores.map((s) => ({ step: s.step, path: s.path, pass: s.pass, score: s.score, expected: s.expected, actual: s.actual })),
    attempts: run?.attempts ?? 0,
    repairs: run?.repairs ?? 0,
    escalations: run?.escalations ?? 0,
    promptTokens: run?.promptTokens ?? 0,
    completionTokens: run?.completionTokens ?? 0,
    costUsd: run?.costUsd ?? 0,
    referenceCostUsd: run?.referenceCostUsd ?? 0,
    latencyMs,
  };
}

/**
 * Each labelled step's outcome and output in a finished run, from its recorded task results (the
 * latest per step). A single-prompt run has one result, its object holding a part per step: a
 * part is valid when its step's output schema alone accepts it, all a user with no contract
 * would have to go on.
 */
async function stepResults(db: Db, workflowId: string, args: RunArgs, single: boolean): Promise<Record<string, StepResult>> {
  const labelled = labelledSteps(args.evaluation).map((s) => s.step);
  const rows = await db
    .select({ step: taskResults.step, status: taskResults.status, output: taskResults.output })
    .from(taskResults)
    .where(and(eq(taskResults.workflowId, workflowId), inArray(taskResults.step, single ? [SINGLE_PROMPT_STEP] : labelled)))
    .orderBy(desc(taskResults.id));
  const latest = new Map<string, (typeof rows)[number]>();
  for (const r of rows) if (!latest.has(r.step)) latest.set(r.step, r);
  const out: Record<string, StepResult> = {};
  if (!single) {
    for (const [step, r] of latest) out[step] = { status: r.status, output: r.output ?? null };
    return out;
  }
  const whole = latest.get(SINGLE_PROMPT_STEP)?.output as Record<string, unknown> | null | undefined;
  if (!whole) return out;
  for (const id of labelled) {
    const part = whole[id] ?? null;
    const step = args.pipeline.steps.find((s) => s.id === id)!;
    out[id] = { status: step.task.output.safeParse(part).success ? 'valid' : 'failed', output: part };
  }
  return out;
}
