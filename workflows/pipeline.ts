import { ApplicationFailure, CancellationScope, defineQuery, isCancellation, log, ParentClosePolicy, setHandler, startChild, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Totals } from '../activities/types.js';
import { z } from 'zod';
import { labelledSteps, type ContextBlock, type MicroTask, type Pipeline, type StepState } from '../core/contract.js';
import { inBatches, pooled } from '../core/fan-out.js';
import { FailureTypes } from '../core/failures.js';
import { budgetOf, type LadderBudget } from '../core/ladder/budget.js';
import { rulesFrom, type LadderRules } from '../core/ladder/rules.js';
import { routedRegistry, sizeProblem, type RunRouting } from '../core/routing.js';
import { pipelineThrough, singlePromptPipeline } from '../core/single-prompt.js';
import { zodIssues } from '../core/validate.js';
import { getMicroTask, getPipeline, pipelines } from '../pipelines/index.js';
import { fieldAgreement, shadowRule } from '../core/shadow.js';
import { CANCEL_PATCH, records, runMicroTask, type MicroTaskOutcome } from './micro-task.js';
import { patchesOfRun, type PatchCheck } from './patches.js';
import { Spend } from './spend.js';
import { CostUsdKey, EscalationsKey, OutcomeKey, PipelineKey, RepairCountKey } from './search-attributes.js';

/** Sampled micro-task runs start a shadow run on another pool once the run has settled. */
export const SHADOW_PATCH = 'shadow-sampling';

/** An input too large for every pool its first steps can go to is refused before any call. */
export const SIZE_PATCH = 'refuse-inputs-too-large';

/**
 * A fan-out step runs its items on a pool, the next as soon as one ends, and starts none after an
 * item failed; runs started before it keep their fixed batches, which all run.
 */
export const FAN_OUT_POOL_PATCH = 'fan-out-pool';

/** The run's ladder budget, and its rules as the patches in this run's history say, less those the budget ablates. */
function ladderSetup(overrides: Partial<LadderBudget> | undefined, patched: PatchCheck): { budget: LadderBudget; rules: LadderRules } {
  let budget: LadderBudget;
  try {
    budget = budgetOf(overrides);
  } catch (err) {
    throw ApplicationFailure.create({ type: FailureTypes.invalidPipelineInput, nonRetryable: true, message: `budget: ${(err as Error).message}` });
  }
  const rules = rulesFrom(patched);
  for (const rule of budget.ablate ?? []) rules[rule] = false;
  return { budget, rules };
}

export interface RunPipelineInput {
  pipeline: string;
  input: unknown;
  /** overrides of the per-micro-task repair budget */
  budget?: Partial<LadderBudget>;
  /** the most this run may spend on model calls, in USD */
  costBudgetUsd?: number;
  /** routing other than the registry's for this run (evaluation configurations) */
  routing?: RunRouting;
  /**
   * `single-prompt`: the whole job in one call, held to no contract and never repaired (the
   * evaluation baseline); default `micro-tasks`
   */
  strategy?: 'micro-tasks' | 'single-prompt';
  /** run the steps only as far as this one (evaluation: the step its labels are for); the result is the steps' results */
  throughStep?: string;
}

export interface StepProgress {
  id: string;
  task: string;
  status: 'pending' | 'running' | 'valid' | 'partial' | 'failed';
  items: number;
  done: number;
  attempt: number;
  lastKind: string | null;
  pool: string | null;
  paths: string[];
}

export interface PipelineProgress {
  pipeline: string;
  status: 'running' | 'completed' | 'partial' | 'failed' | 'cancelled';
  currentStep: string | null;
  steps: StepProgress[];
  totals: Totals;
}

export interface PipelineResult {
  pipeline: string;
  status: 'completed' | 'partial';
  output: unknown;
  /** paths left for review, by step, when a micro-task allowed a partial result */
  unresolved: Record<string, string[]>;
  totals: Totals;
  /** the run's last progress, so that a closed run's is read from its history without a worker replaying it */
  progress?: PipelineProgress;
}

export const progressQuery = defineQuery<PipelineProgress>('progress');

function addTotals(into: Totals, t: Totals): void {
  into.attempts += t.attempts;
  into.repairs += t.repairs;
  into.escalations += t.escalations;
  into.promptTokens += t.promptTokens;
  into.completionTokens += t.completionTokens;
  into.costUsd += t.costUsd;
  into.referenceCostUsd += t.referenceCostUsd;
}

function invalid(err: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureTypes.invalidPipelineInput, nonRetryable: true, message: String(err instanceof Error ? err.message : err) });
}

/** Runs a business job as its chain of micro-tasks, each held to its contract. */
export async function runPipeline(req: RunPipelineInput): Promise<PipelineResult> {
  let pipeline: Pipeline;
  try {
    pipeline = getPipeline(req.pipeline);
  } catch (err) {
    throw invalid(err);
  }
  if (req.throughStep !== undefined && !pipeline.steps.some((s) => s.id === req.throughStep)) {
    throw invalid(`pipeline ${pipeline.name} has no step "${req.throughStep}"; its steps: ${pipeline.steps.map((s) => s.id).join(', ')}`);
  }
  if (req.strategy === 'single-prompt') {
    return executePipeline(singlePromptPipeline(pipeline, req.throughStep), req.input, { ...req.budget, maxAttempts: 1 }, req.costBudgetUsd, { ...req.routing, escalate: false });
  }
  return executePipeline(req.throughStep !== undefined ? pipelineThrough(pipeline, req.throughStep) : pipeline, req.input, req.budget, req.costBudgetUsd, req.routing);
}

export interface RunTaskInput {
  task: string;
  input: unknown;
  context?: ContextBlock[];
  budget?: Partial<LadderBudget>;
  costBudgetUsd?: number;
}

/** Runs one micro-task on its own, recorded as the one-step pipeline `task:<name>`. */
export async function runTask(req: RunTaskInput): Promise<PipelineResult> {
  let task: MicroTask<any, any>;
  try {
    task = getMicroTask(req.task);
  } catch (err) {
    throw invalid(err);
  }
  const pipeline: Pipeline<{ input: unknown; context: ContextBlock[] }> = {
    name: `task:${task.name}`,
    version: task.version,
    description: task.description,
    input: z.object({ input: task.input, context: z.array(z.any()).default([]) }) as z.ZodType<{ input: unknown; context: ContextBlock[] }>,
    steps: [{ id: task.name, task, input: (s) => s.input.input, context: (s) => s.input.context }],
    assemble: (s) => s.results[task.name],
  };
  return executePipeline(pipeline, { input: req.input, context: req.context ?? [] }, req.budget, req.costBudgetUsd);
}

async function executePipeline(
  pipeline: Pipeline,
  rawInput: unknown,
  budgetOverrides: Partial<LadderBudget> | undefined,
  costBudgetUsd: number | undefined,
  routing?: RunRouting,
): Promise<PipelineResult> {
  const info = workflowInfo();
  const patched = patchesOfRun();
  const req = { input: rawInput, budget: budgetOverrides, routing };
  const parsedInput = pipeline.input.safeParse(req.input);
  if (!parsedInput.success) {
    const issues = zodIssues(parsedInput.error, req.input);
    throw ApplicationFailure.create({
      type: FailureTypes.invalidPipelineInput,
      nonRetryable: true,
      message: `input of pipeline ${pipeline.name} is invalid: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`,
      details: [issues],
    });
  }
  const { budget, rules } = ladderSetup(req.budget, patched);
  const shadowing = patched(SHADOW_PATCH) && req.routing?.shadow !== false;
  const shadows: ShadowInput[] = [];
  const totals: Totals = { attempts: 0, repairs: 0, escalations: 0, promptTokens: 0, completionTokens: 0, costUsd: 0, referenceCostUsd: 0 };
  const progress: PipelineProgress = {
    pipeline: pipeline.name,
    status: 'running',
    currentStep: null,
    steps: pipeline.steps.map((s) => ({ id: s.id, task: s.task.name, status: 'pending', items: 1, done: 0, attempt: 0, lastKind: null, pool: null, paths: [] })),
    totals,
  };
  setHandler(progressQuery, () => progress);
  upsertSearchAttributes([
    { key: PipelineKey, value: pipeline.name },
    { key: OutcomeKey, value: 'running' },
  ]);

  const registry = routedRegistry(await records.loadRegistry(), req.routing);
  // an input too large for every pool a step can go to is refused before any call; steps fed by
  // earlier results are measured when they run
  const tooLarge = patched(SIZE_PATCH) ? firstLayerSizeProblems(pipeline, parsedInput.data, registry) : [];
  if (tooLarge.length > 0) {
    throw ApplicationFailure.create({ type: FailureTypes.inputTooLarge, nonRetryable: true, message: `input of pipeline ${pipeline.name} is too large: ${tooLarge.join('; ')}` });
  }
  await records.recordRunStarted({
    workflowId: info.workflowId,
    runId: info.runId,
    pipeline: pipeline.name,
    pipelineVersion: pipeline.version,
    registryVersion: registry.version,
    input: parsedInput.data,
    at: Date.now(),
  });

  const state: StepState<unknown> = { input: parsedInput.data, results: {} };
  const downPools = new Set<string>();
  const spend = new Spend(costBudgetUsd);
  const unresolved: Record<string, string[]> = {};
  const finishRun = async (status: 'completed' | 'partial' | 'failed' | 'cancelled', output: unknown, error: unknown) => {
    progress.status = status;
    upsertSearchAttributes([
      { key: OutcomeKey, value: status },
      { key: RepairCountKey, value: totals.repairs },
      { key: EscalationsKey, value: totals.escalations },
      { key: CostUsdKey, value: totals.costUsd },
    ]);
    await records.recordRunFinished({ workflowId: info.workflowId, runId: info.runId, status, output, error, ...totals, at: Date.now() });
  };

  try {
    for (const [i, step] of pipeline.steps.entries()) {
      const sp = progress.steps[i]!;
      progress.currentStep = step.id;
      sp.status = 'running';
      const items = step.forEach ? step.forEach(state) : [undefined];
      sp.items = items.length;
      const runOne = async (item: unknown, index: number): Promise<MicroTaskOutcome> => {
        const context: ContextBlock[] = step.context ? step.context(state, item) : [];
        const input = step.forEach ? step.input(state, item, index) : step.input(state);
        const itemIndex = step.forEach ? index : -1;
        const outcome = await runMicroTask({
          origin: { workflowId: info.workflowId, runId: info.runId, pipeline: pipeline.name, step: step.id, itemIndex },
          task: step.task,
          input,
          context,
          registry,
          budget,
          rules,
          downPools,
          spend,
          patched,
          onAttempt: (a) => {
            sp.attempt = a.n;
            sp.lastKind = a.kind;
            sp.pool = a.pool;
            sp.paths = a.paths;
          },
        });
        sp.done++;
        addTotals(totals, outcome);
        const rule = shadowing ? shadowRule(registry, step.task.name) : undefined;
        // Math.random is the workflow's seeded one: a replay samples the same runs
        if (rule && outcome.status === 'valid' && rule.pool !== outcome.finalPool && Math.random() < rule.share) {
          shadows.push({
            workflowId: info.workflowId,
            pipeline: pipeline.name,
            step: step.id,
            itemIndex,
            task: step.task.name,
            input,
            context,
            livePool: outcome.finalPool,
            liveValue: outcome.value,
            pool: rule.pool,
          });
        }
        return outcome;
      };
      // at most as many items at once as the pool serves, so queued calls are not mistaken for a pool with no worker;
      // the items in flight finish and are recorded before a failure ends the run
      const width = Math.max(1, registry.pools[step.task.pool]?.concurrency ?? registry.pools[registry.defaultPool]!.concurrency);
      // with no more items than the width both schedules start them all at once
      const schedule = items.length > width && !patched(FAN_OUT_POOL_PATCH) ? inBatches : pooled;
      const { settled, failed } = await schedule(items, width, runOne);
      if (failed !== undefined) {
        sp.status = 'failed';
        for (const s of settled) if (s?.status === 'rejected') addTotalsFromFailure(totals, s.reason);
        const notStarted = settled.filter((s) => s === undefined).length;
        if (notStarted > 0) log.warn('fan-out stopped after a failed item', { step: step.id, failedItem: failed, notStarted });
        throw (settled[failed] as PromiseRejectedResult).reason;
      }
      const outcomes = settled.map((s) => (s as PromiseFulfilledResult<MicroTaskOutcome>).value);
      const partial = outcomes.filter((o) => o.status === 'partial');
      sp.status = partial.length > 0 ? 'partial' : 'valid';
      if (partial.length > 0) unresolved[step.id] = partial.flatMap((o) => o.unresolvedPaths);
      state.results[step.id] = step.forEach ? outcomes.map((o) => o.value) : outcomes[0]!.value;
    }
    progress.currentStep = null;
    const output = pipeline.assemble(state);
    const status = Object.keys(unresolved).length > 0 ? 'partial' : 'completed';
    await finishRun(status, output, null);
    // the shadows outlive this run and are not waited for: only their start is
    await Promise.all(
      shadows.map((s) =>
        startChild(shadowMicroTask, {
          workflowId: `${info.workflowId}/shadow/${s.step}/${s.itemIndex}`,
          args: [s],
          parentClosePolicy: ParentClosePolicy.ABANDON,
        }),
      ),
    );
    return { pipeline: pipeline.name, status, output, unresolved, totals, progress };
  } catch (err) {
    if (isCancellation(err) && patched(CANCEL_PATCH)) {
      // the run's scope is cancelled: its end is recorded in a scope that is not
      await CancellationScope.nonCancellable(() => finishRun('cancelled', null, { type: 'Cancelled', message: `pipeline ${pipeline.name} was cancelled`, details: [] }));
      throw err;
    }
    // an error in a step's input builder or a check would otherwise retry the workflow task forever
    const failure =
      err instanceof ApplicationFailure
        ? err
        : ApplicationFailure.create({ type: FailureTypes.pipelineError, nonRetryable: true, message: `pipeline ${pipeline.name}: ${err instanceof Error ? err.message : String(err)}`, ...(err instanceof Error ? { cause: err } : {}) });
    await finishRun('failed', null, { type: failure.type, message: failure.message, details: failure.details ?? [] });
    throw failure;
  }
}

/** The size problems of the steps whose input the pipeline input alone decides. */
function firstLayerSizeProblems(pipeline: Pipeline, input: unknown, registry: ReturnType<typeof routedRegistry>): string[] {
  const state: StepState<unknown> = { input, results: {} };
  const problems: string[] = [];
  for (const step of pipeline.steps) {
    let calls: { input: unknown; context: ContextBlock[] }[];
    try {
      const items = step.forEach ? step.forEach(state) : [undefined];
      calls = items.map((item, i) => ({ input: step.task.input.parse(step.forEach ? step.input(state, item, i) : step.input(state)), context: step.context ? step.context(state, item) : [] }));
    } catch {
      continue; // built from earlier results
    }
    const problem = calls.map((c) => sizeProblem(step.task, c.input, c.context, registry)).find((p) => p !== undefined);
    if (problem) problems.push(`step ${step.id}: ${problem}`);
  }
  return problems;
}

/** A failed micro-task's spend still counts toward the run's totals. */
function addTotalsFromFailure(totals: Totals, reason: unknown): void {
  if (reason instanceof ApplicationFailure && (reason.type === FailureTypes.microTaskFailed || reason.type === FailureTypes.costBudgetExceeded)) {
    const d = (reason.details?.[0] ?? {}) as { totals?: Totals };
    if (d.totals) addTotals(totals, d.totals);
  }
}

export interface ShadowInput {
  /** the live run */
  workflowId: string;
  pipeline: string;
  step: string;
  itemIndex: number;
  task: string;
  input: unknown;
  context: ContextBlock[];
  livePool: string;
  liveValue: unknown;
  /** the pool the shadow runs on */
  pool: string;
}

/**
 * A sampled live micro-task run again on the shadow pool, with the full ladder there and no
 * escalation, and its answer compared with the live one field by field.
 */
export async function shadowMicroTask(req: ShadowInput): Promise<{ status: 'valid' | 'partial' | 'failed'; fields: Record<string, boolean> }> {
  const info = workflowInfo();
  const patched = patchesOfRun();
  const task = getMicroTask(req.task);
  const registry = routedRegistry(await records.loadRegistry(), { routes: { [task.name]: req.pool }, escalate: false });
  const { budget, rules } = ladderSetup(undefined, patched);
  let status: 'valid' | 'partial' | 'failed' = 'failed';
  let value: unknown;
  const totals: Totals = { attempts: 0, repairs: 0, escalations: 0, promptTokens: 0, completionTokens: 0, costUsd: 0, referenceCostUsd: 0 };
  try {
    const outcome = await runMicroTask({
      origin: { workflowId: info.workflowId, runId: info.runId, pipeline: `shadow:${req.pipeline}`, step: req.step, itemIndex: req.itemIndex },
      task,
      input: req.input,
      context: req.context,
      registry,
      budget,
      rules,
      downPools: new Set(),
      spend: new Spend(undefined),
      patched,
      onAttempt: () => undefined,
    });
    addTotals(totals, outcome);
    // a shadow that fell back to another pool (none polled the shadow pool) compares nothing
    status = outcome.finalPool === req.pool ? outcome.status : 'failed';
    value = outcome.value;
  } catch (err) {
    addTotalsFromFailure(totals, err);
  }
  const evaluation = Object.hasOwn(pipelines, req.pipeline) ? pipelines[req.pipeline]!.evaluation : undefined;
  const labelled = evaluation ? labelledSteps(evaluation).find((s) => s.step === req.step) : undefined;
  const fields = status === 'valid' ? fieldAgreement(req.liveValue, value, labelled?.comparators ?? {}) : {};
  await records.recordShadow({
    shadowWorkflowId: info.workflowId,
    workflowId: req.workflowId,
    pipeline: req.pipeline,
    step: req.step,
    itemIndex: req.itemIndex,
    task: task.name,
    taskVersion: task.version,
    livePool: req.livePool,
    shadowPool: req.pool,
    shadowStatus: status,
    fields,
    costUsd: totals.costUsd,
    at: Date.now(),
  });
  return { status, fields };
}
