import { ActivityFailure, ApplicationFailure, condition, log, proxyActivities, proxyLocalActivities, TimeoutFailure, type RetryPolicy } from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import type { ModelActivities } from '../activities/model.js';
import type { RecordActivities } from '../activities/records.js';
import type { AttemptOrigin, ModelCallResult, Totals } from '../activities/types.js';
import type { CallSpec } from '../core/call-spec.js';
import type { ContextBlock, MicroTask } from '../core/contract.js';
import { FailureTypes } from '../core/failures.js';
import { issuePaths, isStructural, type Fix, type Issue } from '../core/issues.js';
import { planNextAttempt, type AttemptSummary, type LadderBudget } from '../core/ladder.js';
import type { RegistrySnapshot } from '../core/registry.js';
import { mergeRepair } from '../core/merge-repair.js';
import { currentValues, issuesUnder, siblingValues, targetablePaths } from '../core/repair-targets.js';
import { costUsd, estimateTokens } from '../core/cost.js';
import { choosePool, escalationTarget, promptChars } from '../core/routing.js';
import type { ParseOptions } from '../core/lenient-parse.js';
import { wordCounts } from '../core/loops.js';
import { validateOutput, validateValue, type ValidationResult } from '../core/validate.js';

/** Persistence runs next to the workflow on the orchestration worker. */
export const records = proxyLocalActivities<RecordActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 20 },
});

const models = proxyActivities<ModelActivities>({ startToCloseTimeout: '5 minutes' });

const MODEL_RETRY: RetryPolicy = {
  initialInterval: '2 seconds',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  maximumAttempts: 4,
  nonRetryableErrorTypes: [FailureTypes.modelRequestRejected, FailureTypes.unknownTask],
};

/** One attempt as an operator reads it in the failure details. */
export interface AttemptDetail {
  n: number;
  kind: CallSpec['kind'];
  pool: string;
  reason: string;
  attemptId: number | null;
  finishReason: string | null;
  rawOutput: string | null;
  repairedPaths: string[];
  issues: Issue[];
  fixes: Fix[];
  error: string | null;
}

export interface MicroTaskOutcome extends Totals {
  status: 'valid' | 'partial';
  value: unknown;
  unresolvedPaths: string[];
  finalPool: string;
}

/** Changes of how outputs are read and repaired, each on for runs started after it (see LADDER_PATCHES). */
export interface RunRules {
  /** an output cut while it repeated one item is runaway, not a truncation */
  loopsAreRunaway: boolean;
  /** a cross-field issue opens every path in its `repairAt`, not only its own */
  repairAt: boolean;
  /** a repair answer cut after its JSON closed still answers, and an object answer keeps the fields it left out */
  closedCutsAndPartialObjects: boolean;
  /** "Billing" is billing: an enum value spelled with another case or separators is fixed without a model call */
  enumSpelling: boolean;
}

export interface MicroTaskRun {
  origin: AttemptOrigin;
  task: MicroTask<any, any>;
  input: unknown;
  context: ContextBlock[];
  registry: RegistrySnapshot;
  budget: LadderBudget;
  /** how outputs are read and issues targeted; fixed at the run's start so that a replay decides as the run did */
  rules: RunRules;
  onAttempt: (a: { n: number; kind: CallSpec['kind']; pool: string; paths: string[] }) => void;
  /** pools no worker picked up a call for earlier in this run; routes skip them */
  downPools: Set<string>;
  /**
   * what the run has spent so far, shared by its micro-tasks, and its limit; `reservedUsd` is the
   * estimated cost of the calls in flight, which a call waits for when it might not fit beside them
   */
  spend: { costUsd: number; limitUsd: number | undefined; reservedUsd: number };
}

/** What a whole-prompt call of this micro-task costs on a pool at most, about: its input and context, and max_tokens. */
function callEstimate(run: MicroTaskRun, pool: string, maxTokens: number): number {
  const promptTokens = estimateTokens(JSON.stringify(run.input).length + JSON.stringify(run.context).length);
  return costUsd(run.registry.pools[pool]!.price, promptTokens, maxTokens);
}

function release(run: MicroTaskRun, reserved: number): void {
  run.spend.reservedUsd = Math.max(0, run.spend.reservedUsd - reserved);
}

/** The run's budget allows an escalation when its estimated cost fits in what is left. */
function escalationCheck(run: MicroTaskRun, target: string | undefined): { escalateTo: string | undefined; escalationBlocked?: string } {
  const limit = run.spend.limitUsd;
  if (!target || limit === undefined) return { escalateTo: target };
  const estimate = callEstimate(run, target, run.task.maxTokens);
  if (run.spend.costUsd + run.spend.reservedUsd + estimate <= limit) return { escalateTo: target };
  return {
    escalateTo: undefined,
    escalationBlocked: `escalation to ${target} (about $${estimate.toFixed(6)}) would exceed the run's cost budget of $${limit} ($${run.spend.costUsd.toFixed(6)} spent${run.spend.reservedUsd > 0 ? `, about $${run.spend.reservedUsd.toFixed(6)} in flight` : ''})`,
  };
}

function describeError(err: unknown): string {
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    if (cause instanceof TimeoutFailure) return `${cause.timeoutType === TimeoutType.SCHEDULE_TO_START ? 'no worker picked the call up in time' : 'timed out'} (${cause.message})`;
    if (cause instanceof ApplicationFailure) return `${cause.type ?? 'error'}: ${cause.message}`;
    return cause?.message ?? err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

function summaryOf(task: MicroTask<any, any>, spec: CallSpec, pool: string): string {
  const paths = spec.repair ? `: ${spec.repair.paths.join(', ')}` : '';
  return `${spec.kind} ${task.name}${paths} @${pool}`.slice(0, 200);
}

/**
 * Runs one micro-task up the repair ladder: generate, validate in workflow code, then the
 * cheapest rung that can fix what failed, until valid, partial, or a typed failure.
 */
export async function runMicroTask(run: MicroTaskRun): Promise<MicroTaskOutcome> {
  const { task, origin, registry, budget } = run;
  const checkCtx = { input: run.input, context: run.context };
  const lenient = budget.strategy === 'ladder';
  // what the model is given: a repetition in the output that the source holds as often is no loop
  const prompt = task.prompt(run.input, run.context);
  const parseOptions: ParseOptions = { loopsAreRunaway: run.rules.loopsAreRunaway, source: wordCounts(`${prompt.system}\n${prompt.user}`) };
  const route = choosePool(task, promptChars(task, run.input, run.context), registry);
  let pool = route.pool;
  let reason = route.reason;
  const rerouted = new Set<string>();
  // a pool the registry routed the task to that had no worker: back to the task's own pool first
  if (pool !== task.pool && run.downPools.has(pool) && Object.hasOwn(registry.pools, task.pool) && !run.downPools.has(task.pool)) {
    reason = `${reason}; ${pool} had no worker earlier in this run, back to ${task.name}'s own pool ${task.pool}`;
    pool = task.pool;
  }
  while (run.downPools.has(pool) && registry.pools[pool]?.escalateTo && !rerouted.has(pool)) {
    rerouted.add(pool);
    const next = registry.pools[pool]!.escalateTo!;
    reason = `${reason}; ${pool} had no worker earlier in this run, routed to ${next}`;
    pool = next;
  }
  let spec: CallSpec = { kind: 'generate' };
  let maxTokens = task.maxTokens;
  let current: unknown = undefined;
  const tried = [pool];
  const attempts: AttemptSummary[] = [];
  const details: AttemptDetail[] = [];
  const totals: Totals = { attempts: 0, repairs: 0, escalations: 0, promptTokens: 0, completionTokens: 0, costUsd: 0, referenceCostUsd: 0 };
  let lastIssues: Issue[] = [];
  /** the re-ask baseline's conversation so far */
  const reaskHistory: { output: string; issues: Issue[] }[] = [];
  /** the latest output that could be read, kept across escalation for a partial result */
  let best: { value: unknown; issues: Issue[] } | undefined;

  const finish = async (status: 'valid' | 'partial' | 'failed', value: unknown, issues: Issue[], why: string | null) => {
    await records.recordTaskResult({
      ...origin,
      ...totals,
      task: task.name,
      taskVersion: task.version,
      status,
      output: value ?? null,
      issues,
      unresolvedPaths: status === 'valid' ? [] : issuePaths(issues),
      finalPool: pool,
      reason: why,
      at: Date.now(),
    });
  };

  for (;;) {
    const n = attempts.length + 1;
    const poolInfo = registry.pools[pool]!;
    const limit = run.spend.limitUsd;
    // this call's cost at most, reserved while it is in flight
    const reserved = callEstimate(run, pool, maxTokens);
    if (limit !== undefined) {
      // the calls in flight elsewhere in the run (a fan-out's other items) may use up what is left:
      // wait for them instead of starting a call the budget may not cover, then decide on real spend
      const fits = () => run.spend.costUsd + run.spend.reservedUsd + reserved <= limit || run.spend.reservedUsd === 0;
      // re-checked after every wake-up, and no await between this check and the reservation below,
      // so items resumed together still see each other's reservations
      while (!fits()) await condition(fits);
      if (run.spend.costUsd >= limit) {
        const why = `the run's cost budget of $${limit} is spent ($${run.spend.costUsd.toFixed(6)})`;
        await finish('failed', best?.value, lastIssues, why);
        throw failure(run, why, lastIssues, details, totals, FailureTypes.costBudgetExceeded);
      }
    }
    run.onAttempt({ n, kind: spec.kind, pool, paths: spec.repair?.paths ?? [] });
    totals.attempts++;
    if (spec.kind === 'repair') totals.repairs++;
    if (spec.kind === 'escalate') totals.escalations++;

    let result: ModelCallResult;
    run.spend.reservedUsd += reserved;
    try {
      result = await models.callModel.executeWithOptions(
        {
          taskQueue: poolInfo.taskQueue,
          summary: summaryOf(task, spec, pool),
          startToCloseTimeout: `${poolInfo.timeoutSeconds} seconds`,
          // a streaming call heartbeats per chunk, so a lost worker is noticed in seconds, not at the timeout
          ...(poolInfo.stream ? { heartbeatTimeout: '30 seconds' } : {}),
          // a pool with no worker polling is noticed after a bounded wait instead of a hang
          scheduleToStartTimeout: `${registry.poolWaitSeconds} seconds`,
          retry: MODEL_RETRY,
        },
        [{ ...origin, task: task.name, taskVersion: task.version, attemptNo: n, spec, pool, routeReason: reason, maxTokens, input: run.input, context: run.context }],
      );
    } catch (err) {
      release(run, reserved);
      const error = describeError(err);
      const noWorker = err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === TimeoutType.SCHEDULE_TO_START;
      if (noWorker) run.downPools.add(pool);
      log.warn('model call failed', { task: task.name, pool, error });
      attempts.push({ n, kind: spec.kind, pool, maxTokens, valid: false, issues: [], promptTokens: 0, completionTokens: 0, error });
      details.push({ n, kind: spec.kind, pool, reason, attemptId: null, finishReason: null, rawOutput: null, repairedPaths: spec.repair?.paths ?? [], issues: [], fixes: [], error });
      // routed away from its own pool, to one with no worker: the task's own pool takes it (only with registry routes)
      if (noWorker && pool !== task.pool && !tried.includes(task.pool) && Object.hasOwn(registry.pools, task.pool) && !run.downPools.has(task.pool)) {
        reason = `${pool} has no worker; back to ${task.name}'s own pool ${task.pool}`;
        pool = task.pool;
        tried.push(pool);
        continue;
      }
      const plan = planNextAttempt({
        attempts,
        issues: lastIssues,
        parsed: best !== undefined,
        targetable: undefined,
        pool,
        ...escalationCheck(run, escalationTarget(registry, pool, tried)),
        allowPartial: task.allowPartial ?? false,
        hasPartial: best !== undefined,
        budget,
      });
      if (plan.action === 'call' && plan.kind === 'escalate') {
        pool = plan.pool;
        tried.push(pool);
        reason = plan.reason;
        spec = { kind: 'escalate', feedback: lastIssues };
        maxTokens = task.maxTokens;
        current = undefined;
        continue;
      }
      if (plan.action === 'partial' && best) {
        await finish('partial', best.value, best.issues, plan.reason);
        return { ...totals, status: 'partial', value: best.value, unresolvedPaths: issuePaths(best.issues), finalPool: pool };
      }
      await finish('failed', best?.value, lastIssues, plan.reason);
      throw failure(run, plan.reason, lastIssues, details, totals);
    }

    release(run, reserved);
    run.spend.costUsd += result.costUsd;
    totals.promptTokens += result.promptTokens;
    totals.completionTokens += result.completionTokens;
    totals.costUsd += result.costUsd;
    totals.referenceCostUsd += result.referenceCostUsd;

    let v: ValidationResult;
    if (spec.repair) {
      const merged = mergeRepair(current, result.text, spec.repair.paths, result.finishReason, { closedCutsAndPartialObjects: run.rules.closedCutsAndPartialObjects });
      v = validateValue(task, merged.value, checkCtx, lenient, { enumSpelling: run.rules.enumSpelling });
    } else {
      v = validateOutput(task, result.text, result.finishReason, checkCtx, lenient, parseOptions, { enumSpelling: run.rules.enumSpelling });
    }
    // runs started before cross-field issues opened their other fields target the issue's own path
    if (!run.rules.repairAt) for (const issue of v.issues) delete issue.repairAt;
    await records.recordValidation({ attemptId: result.attemptId, valid: v.valid, issues: v.issues, fixes: v.fixes, at: Date.now() });
    attempts.push({ n, kind: spec.kind, pool, maxTokens, valid: v.valid, issues: v.issues, promptTokens: result.promptTokens, completionTokens: result.completionTokens, paths: spec.repair?.paths ?? [] });
    details.push({
      n,
      kind: spec.kind,
      pool,
      reason,
      attemptId: result.attemptId,
      finishReason: result.finishReason,
      rawOutput: result.text.length > 2000 ? `${result.text.slice(0, 2000)}…` : result.text,
      repairedPaths: spec.repair?.paths ?? [],
      issues: v.issues,
      fixes: v.fixes,
      error: null,
    });

    if (v.valid) {
      await finish('valid', v.value, [], null);
      return { ...totals, status: 'valid', value: v.value, unresolvedPaths: [], finalPool: pool };
    }
    if (v.parsed) {
      current = v.value;
      best = { value: v.value, issues: v.issues };
    }
    lastIssues = v.issues;
    const structural = v.issues.some(isStructural);
    const plan = planNextAttempt({
      attempts,
      issues: v.issues,
      parsed: v.parsed,
      targetable: v.parsed && !structural ? targetablePaths(task.output, v.issues) : undefined,
      pool,
      ...escalationCheck(run, escalationTarget(registry, pool, tried)),
      allowPartial: task.allowPartial ?? false,
      hasPartial: best !== undefined,
      budget,
    });
    log.info('ladder decision', { task: task.name, attempt: n, issues: v.issues.length, plan });
    if (plan.action === 'partial' && best) {
      await finish('partial', best.value, best.issues, plan.reason);
      return { ...totals, status: 'partial', value: best.value, unresolvedPaths: issuePaths(best.issues), finalPool: pool };
    }
    if (plan.action !== 'call') {
      await finish('failed', current, v.issues, plan.reason);
      throw failure(run, plan.reason, v.issues, details, totals);
    }
    reason = plan.reason;
    maxTokens = plan.maxTokens > 0 ? plan.maxTokens : task.maxTokens;
    if (plan.kind === 'escalate' && plan.paths.length > 0) {
      pool = plan.pool;
      tried.push(pool);
      spec = {
        kind: 'escalate',
        feedback: v.issues,
        repair: { paths: plan.paths, current: currentValues(current, plan.paths), issues: issuesUnder(v.issues, plan.paths), siblings: siblingValues(current, plan.paths) },
      };
    } else if (plan.kind === 'escalate') {
      pool = plan.pool;
      tried.push(pool);
      spec = { kind: 'escalate', feedback: v.issues };
      current = undefined;
    } else if (plan.kind === 'repair') {
      spec = {
        kind: 'repair',
        repair: {
          paths: plan.paths,
          current: currentValues(current, plan.paths),
          issues: issuesUnder(v.issues, plan.paths),
          siblings: siblingValues(current, plan.paths),
        },
      };
    } else if (plan.kind === 'regenerate') {
      if (budget.strategy === 'reask') reaskHistory.push({ output: result.text, issues: v.issues });
      spec = budget.strategy === 'reask' ? { kind: 'regenerate', feedback: v.issues, history: [...reaskHistory] } : { kind: 'regenerate', feedback: v.issues };
    } else {
      spec = { kind: plan.kind };
    }
  }
}

/** The typed, non-retryable failure of a micro-task: names the pipeline, the task, the paths and every attempt. */
function failure(run: MicroTaskRun, why: string, issues: Issue[], attempts: AttemptDetail[], totals: Totals, type: string = FailureTypes.microTaskFailed): ApplicationFailure {
  const paths = issuePaths(issues);
  const where = run.origin.itemIndex >= 0 ? `${run.origin.step}[${run.origin.itemIndex}]` : run.origin.step;
  return ApplicationFailure.create({
    type,
    nonRetryable: true,
    message: `pipeline ${run.origin.pipeline}, step ${where}: micro-task ${run.task.name} v${run.task.version} failed after ${attempts.length} attempt(s) at ${paths.length ? paths.map((p) => p || '(root)').join(', ') : 'no path'}: ${why}`,
    details: [
      {
        pipeline: run.origin.pipeline,
        step: run.origin.step,
        itemIndex: run.origin.itemIndex,
        task: run.task.name,
        taskVersion: run.task.version,
        reason: why,
        paths,
        issues,
        totals,
        attempts,
      },
    ],
  });
}
