/**
 * A pipeline run without Temporal, for the benchmark of Temporal's overhead (test/bench/suite.ts):
 * the same ladder machine (`step` from core/ladder/machine.ts), the same model-call activity
 * function (`createModelActivities(...).callModel`, run in a MockActivityEnvironment, which gives
 * it an activity Context and nothing else) and the same record functions
 * (`createRecordActivities`), driven by a plain async loop that makes the calls and writes the
 * rows that `executePipeline` and `runMicroTask` (workflows/) make and write, in the same order.
 *
 * What it leaves out is what only Temporal does: workflow and activity tasks, the history,
 * search attributes, the progress query, heartbeats reaching a server, timeouts and retries of a
 * failed call (a failed call goes straight to the ladder as a transport failure), and patches
 * (a new run has every patch, so the current rules). No shadow sampling: the bench registries have
 * no shadow rules.
 */
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type Logger } from '@temporalio/worker';
import type { ModelActivities } from '../../activities/model.js';
import type { RecordActivities } from '../../activities/records.js';
import type { AttemptOrigin, ModelCallRequest, ModelCallResult } from '../../activities/types.js';
import type { ContextBlock, MicroTask, Pipeline, StepState } from '../../core/contract.js';
import { pooled } from '../../core/fan-out.js';
import { budgetOf, type LadderBudget } from '../../core/ladder/budget.js';
import { callEstimate, initialState, readingOf, step, type Call, type LadderEnv, type Step, type Totals } from '../../core/ladder/machine.js';
import { CURRENT_RULES } from '../../core/ladder/rules.js';
import { routedRegistry, sizeProblem } from '../../core/routing.js';
import type { RegistrySnapshot } from '../../core/registry.js';
import { taskResultRecord } from '../../workflows/micro-task.js';
import { Spend } from '../../workflows/spend.js';

export interface InProcessDeps {
  /** the orchestration worker's activities */
  records: RecordActivities;
  /** each pool worker's activities, by pool */
  models: Record<string, ModelActivities>;
  /** where the activity functions log (the workers' runtime logger in the Temporal path) */
  logger?: Logger;
}

export interface InProcessResult {
  workflowId: string;
  status: 'completed' | 'partial';
  output: unknown;
  totals: Totals;
}

const ZERO: Totals = { attempts: 0, repairs: 0, escalations: 0, promptTokens: 0, completionTokens: 0, costUsd: 0, referenceCostUsd: 0 };

function addTotals(into: Totals, t: Totals): void {
  for (const k of Object.keys(ZERO) as (keyof Totals)[]) into[k] += t[k];
}

/** Runs a pipeline as `runPipeline` does, with the same activity functions, in this process. */
export async function runPipelineInProcess(deps: InProcessDeps, pipeline: Pipeline, rawInput: unknown, budgetOverrides?: Partial<LadderBudget>): Promise<InProcessResult> {
  const workflowId = `inproc-${pipeline.name}-${randomUUID()}`;
  const runId = randomUUID();
  const parsed = pipeline.input.safeParse(rawInput);
  if (!parsed.success) throw new Error(`input of pipeline ${pipeline.name} is invalid: ${parsed.error.message}`);
  const budget = budgetOf(budgetOverrides);
  const rules = { ...CURRENT_RULES };
  const registry = routedRegistry(await deps.records.loadRegistry(), undefined);
  const tooLarge = firstLayerSizeProblems(pipeline, parsed.data, registry);
  if (tooLarge.length > 0) throw new Error(`input of pipeline ${pipeline.name} is too large: ${tooLarge.join('; ')}`);
  await deps.records.recordRunStarted({ workflowId, runId, pipeline: pipeline.name, pipelineVersion: pipeline.version, registryVersion: registry.version, input: parsed.data, at: Date.now() });

  const state: StepState<unknown> = { input: parsed.data, results: {} };
  const totals: Totals = { ...ZERO };
  const downPools = new Set<string>();
  const spend = new Spend(undefined);
  const unresolved: Record<string, string[]> = {};
  const counter = { activity: 0 };
  try {
    for (const s of pipeline.steps) {
      const items = s.forEach ? s.forEach(state) : [undefined];
      const runOne = async (item: unknown, index: number) => {
        const context: ContextBlock[] = s.context ? s.context(state, item) : [];
        const input = s.forEach ? s.input(state, item, index) : s.input(state);
        const outcome = await runMicroTaskInProcess(deps, counter, {
          origin: { workflowId, runId, pipeline: pipeline.name, step: s.id, itemIndex: s.forEach ? index : -1 },
          task: s.task,
          input,
          context,
          registry,
          budget,
          rules,
          downPools,
          spend,
        });
        addTotals(totals, outcome);
        return outcome;
      };
      const width = Math.max(1, registry.pools[s.task.pool]?.concurrency ?? registry.pools[registry.defaultPool]!.concurrency);
      const { settled, failed } = await pooled(items, width, runOne);
      if (failed !== undefined) throw (settled[failed] as PromiseRejectedResult).reason;
      const outcomes = settled.map((x) => (x as PromiseFulfilledResult<Awaited<ReturnType<typeof runOne>>>).value);
      const partial = outcomes.filter((o) => o.status === 'partial');
      if (partial.length > 0) unresolved[s.id] = partial.flatMap((o) => o.unresolvedPaths);
      state.results[s.id] = s.forEach ? outcomes.map((o) => o.value) : outcomes[0]!.value;
    }
    const output = pipeline.assemble(state);
    const status = Object.keys(unresolved).length > 0 ? 'partial' : 'completed';
    await deps.records.recordRunFinished({ workflowId, runId, status, output, error: null, ...totals, at: Date.now() });
    return { workflowId, status, output, totals };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await deps.records.recordRunFinished({ workflowId, runId, status: 'failed', output: null, error: { type: 'InProcessFailure', message, details: [] }, ...totals, at: Date.now() });
    throw err;
  }
}

interface InProcessRun extends LadderEnv {
  origin: AttemptOrigin;
  downPools: Set<string>;
  spend: Spend;
}

const quiet = new DefaultLogger('ERROR');

/** `runMicroTask` (workflows/micro-task.ts) with the activities called directly. */
async function runMicroTaskInProcess(deps: InProcessDeps, counter: { activity: number }, run: InProcessRun) {
  const env: LadderEnv = run;
  // the same measure of the call against the pools' windows as the workflow's
  const tooLarge = sizeProblem(run.task, run.input, run.context, run.registry);
  if (tooLarge !== undefined) throw new Error(`micro-task ${run.task.name}: ${tooLarge}`);
  const reading = readingOf(env);
  let next: Step = step(env, initialState(), { type: 'start', downPools: [...run.downPools] }, reading);
  for (;;) {
    if (next.record) {
      await deps.records.recordValidation({ ...next.record, at: Date.now() });
      next = step(env, next.state, { type: 'recorded', spend: run.spend.view() }, reading);
      continue;
    }
    if (next.outcome) {
      const { outcome, state } = next;
      await deps.records.recordTaskResult(taskResultRecord(run, state.totals, outcome, Date.now()));
      if (outcome.status === 'failed') throw new Error(`micro-task ${run.task.name} failed: ${outcome.reason}`);
      (deps.logger ?? quiet).info('micro-task settled', { task: run.task.name, status: outcome.status, attempts: state.totals.attempts, reason: outcome.reason });
      return { ...state.totals, status: outcome.status, value: outcome.value, unresolvedPaths: outcome.unresolvedPaths, finalPool: outcome.finalPool };
    }
    const call = next.call;
    const estimate = callEstimate(env, call.pool, call.maxTokens);
    const reservation = run.spend.tryReserve(estimate);
    if (!reservation) throw new Error('the in-process driver runs without a cost budget; a reservation cannot wait');
    if ('spent' in reservation) {
      next = step(env, next.state, { type: 'budget', reason: reservation.spent }, reading);
      continue;
    }
    let result: ModelCallResult;
    try {
      result = await callModel(deps, ++counter.activity, run, call);
    } catch (err) {
      reservation.release();
      const error = err instanceof Error ? err.message : String(err);
      next = step(env, next.state, { type: 'transport', error, noWorker: false, downPools: [...run.downPools], spend: run.spend.view() }, reading);
      continue;
    }
    reservation.settle(result.costUsd);
    next = step(env, next.state, { type: 'result', result }, reading);
  }
}

/** The pool worker's activity function, in an activity Context of its own (the activity id is the attempt key's part). */
function callModel(deps: InProcessDeps, activityId: number, run: InProcessRun, call: Call) {
  const models = deps.models[call.pool];
  if (!models) throw new Error(`no activities for pool ${call.pool}`);
  const req: ModelCallRequest = {
    ...run.origin,
    task: run.task.name,
    taskVersion: run.task.version,
    attemptNo: call.n,
    spec: call.spec,
    pool: call.pool,
    routeReason: call.reason,
    maxTokens: call.maxTokens,
    input: run.input,
    context: run.context,
  };
  const activity = new MockActivityEnvironment({ activityId: String(activityId), attempt: 1, activityType: 'callModel' }, deps.logger ? { logger: deps.logger } : { logger: quiet });
  return activity.run<[ModelCallRequest], ModelCallResult, ModelActivities['callModel']>(models.callModel, req);
}

/** As `firstLayerSizeProblems` in workflows/pipeline.ts: the steps whose input the pipeline input alone decides. */
function firstLayerSizeProblems(pipeline: Pipeline, input: unknown, registry: RegistrySnapshot): string[] {
  const state: StepState<unknown> = { input, results: {} };
  const problems: string[] = [];
  for (const s of pipeline.steps) {
    let calls: { input: unknown; context: ContextBlock[] }[];
    try {
      const items = s.forEach ? s.forEach(state) : [undefined];
      calls = items.map((item, i) => ({ input: (s.task as MicroTask<any, any>).input.parse(s.forEach ? s.input(state, item, i) : s.input(state)), context: s.context ? s.context(state, item) : [] }));
    } catch {
      continue;
    }
    const problem = calls.map((c) => sizeProblem(s.task, c.input, c.context, registry)).find((p) => p !== undefined);
    if (problem) problems.push(`step ${s.id}: ${problem}`);
  }
  return problems;
}
