import { ActivityCancellationType, ActivityFailure, ApplicationFailure, isCancellation, log, proxyActivities, proxyLocalActivities, TimeoutFailure, type RetryPolicy } from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import type { ModelActivities } from '../activities/model.js';
import type { RecordActivities } from '../activities/records.js';
import type { AttemptOrigin, TaskResultRecord } from '../activities/types.js';
import { FailureTypes } from '../core/failures.js';
import { issuePaths, type Issue } from '../core/issues.js';
import { callEstimate, initialState, readingOf, step, type AttemptDetail, type Call, type LadderEnv, type Outcome, type Step, type Totals } from '../core/ladder/machine.js';
import type { PatchCheck } from './patches.js';
import { choosePool, promptChars, sizeProblem } from '../core/routing.js';
import type { Spend } from './spend.js';

/** Persistence runs next to the workflow on the orchestration worker. */
export const records = proxyLocalActivities<RecordActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 20 },
});

/** Asked only after a call was not picked up: a few tries, then the pool counts as having no worker. */
const pollers = proxyLocalActivities<RecordActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 3 },
});

const models = proxyActivities<ModelActivities>({ startToCloseTimeout: '5 minutes' });

/**
 * A cancelled run stops at once: the model call in flight is aborted (its worker learns of it by
 * heartbeat) and waited for, so its row is written, and the run is recorded as cancelled. Runs
 * before it took a cancellation for a transport error and went on up the ladder.
 */
export const CANCEL_PATCH = 'cancel-ends-run';

/**
 * A call no worker picked up within `poolWaitSeconds`, on a pool whose workers have polled within
 * its timeout, waits there again: the pool is busy, not down, and falling back would change who
 * answers because of load. Only a pool with no live worker, or one still full after
 * `poolBusyWaitSeconds`, falls back. Runs before it took every such call for a pool with no worker.
 */
export const BUSY_POOL_PATCH = 'busy-pool-waits';

/**
 * A micro-task whose call fits no pool it can be routed to ends before any call with
 * `InputTooLarge`, naming the sizes: a step fed by earlier results (the pipeline's start measures
 * only the steps its input alone decides). Runs before it made the call and failed at the endpoint.
 */
export const SIZE_AT_CALL_PATCH = 'refuse-calls-too-large';

const MODEL_RETRY: RetryPolicy = {
  initialInterval: '2 seconds',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  maximumAttempts: 4,
  nonRetryableErrorTypes: [FailureTypes.modelRequestRejected, FailureTypes.unknownTask],
};

export interface MicroTaskOutcome extends Totals {
  status: 'valid' | 'partial';
  value: unknown;
  unresolvedPaths: string[];
  finalPool: string;
}

/** One micro-task run: what the ladder is fixed to, and where the run records, reports and spends. */
export interface MicroTaskRun extends LadderEnv {
  origin: AttemptOrigin;
  onAttempt: (a: { n: number; kind: Call['kind']; pool: string; paths: string[] }) => void;
  /** pools no worker picked up a call for earlier in this run; routes skip them */
  downPools: Set<string>;
  /** the run's cost budget, shared by its micro-tasks */
  spend: Spend;
  /** the run's patch check (workflows/patches.ts) */
  patched: PatchCheck;
}

/**
 * Runs one micro-task up the repair ladder: the ladder (core/ladder) decides, this loop makes the
 * calls it asks for, records what it reads in each result and feeds both back to the next step.
 */
export async function runMicroTask(run: MicroTaskRun): Promise<MicroTaskOutcome> {
  const env: LadderEnv = run;
  const tooLarge = run.patched(SIZE_AT_CALL_PATCH) ? sizeProblem(run.task, run.input, run.context, run.registry) : undefined;
  if (tooLarge !== undefined) return refuseTooLarge(run, tooLarge);
  const reading = readingOf(env);
  let next: Step = step(env, initialState(), { type: 'start', downPools: [...run.downPools] }, reading);
  for (;;) {
    if (next.record) {
      await records.recordValidation({ ...next.record, at: Date.now() });
      // decided once the validation is recorded, on what the run has spent by then
      next = step(env, next.state, { type: 'recorded', spend: run.spend.view() }, reading);
      continue;
    }
    if (next.outcome) return finish(run, next);
    const call = next.call;
    const estimate = callEstimate(env, call.pool, call.maxTokens);
    // with room in the budget the call is reserved and scheduled in this workflow task
    const reservation = run.spend.tryReserve(estimate) ?? (await run.spend.reserve(estimate));
    if ('spent' in reservation) {
      next = step(env, next.state, { type: 'budget', reason: reservation.spent }, reading);
      continue;
    }
    run.onAttempt({ n: call.n, kind: call.kind, pool: call.pool, paths: call.spec.repair?.paths ?? [] });
    let result: Awaited<ReturnType<typeof callModel>>;
    try {
      result = await callWhileBusy(run, call);
    } catch (err) {
      reservation.release();
      if (isCancellation(err) && run.patched(CANCEL_PATCH)) throw err;
      const error = describeError(err);
      const noWorker = notPickedUp(err);
      if (noWorker) run.downPools.add(call.pool);
      log.warn('model call failed', { task: run.task.name, pool: call.pool, error });
      next = step(env, next.state, { type: 'transport', error, noWorker, downPools: [...run.downPools], spend: run.spend.view() }, reading);
      continue;
    }
    reservation.settle(result.costUsd);
    next = step(env, next.state, { type: 'result', result }, reading);
  }
}

function notPickedUp(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === TimeoutType.SCHEDULE_TO_START;
}

/** The call, scheduled again on its pool while no worker picked it up but the pool's workers are alive (BUSY_POOL_PATCH). */
async function callWhileBusy(run: MicroTaskRun, call: Call): ReturnType<typeof callModel> {
  const since = Date.now();
  for (let waits = 1; ; waits++) {
    try {
      return await callModel(run, call);
    } catch (err) {
      if (!notPickedUp(err) || !run.patched(BUSY_POOL_PATCH)) throw err;
      const pool = run.registry.pools[call.pool]!;
      if (Date.now() - since >= (run.registry.poolBusyWaitSeconds ?? 1800) * 1000) throw err;
      // a server that cannot say leaves the call as not picked up: the pool counts as having no worker
      const live = await pollers.livePollers({ taskQueue: pool.taskQueue, withinSeconds: pool.timeoutSeconds + run.registry.poolWaitSeconds }).catch((e: unknown) => {
        if (isCancellation(e)) throw e;
        return 0;
      });
      if (live === 0) throw err;
      log.info('pool busy: the call waits again', { task: run.task.name, pool: call.pool, attempt: call.n, waits, livePollers: live });
    }
  }
}

function callModel(run: MicroTaskRun, call: Call) {
  const pool = run.registry.pools[call.pool]!;
  const cancelAware = run.patched(CANCEL_PATCH);
  return models.callModel.executeWithOptions(
    {
      taskQueue: pool.taskQueue,
      summary: `${call.kind} ${run.task.name}${call.spec.repair ? `: ${call.spec.repair.paths.join(', ')}` : ''} @${call.pool}`.slice(0, 200),
      startToCloseTimeout: `${pool.timeoutSeconds} seconds`,
      // a call heartbeats while it waits (per chunk when streaming): a lost worker is noticed in seconds, not at the timeout,
      // and a cancelled run's call is aborted at the next heartbeat (the pool's heartbeatSeconds; 30 for snapshots taken
      // before it was configurable). Activity options are not part of what replay compares, so it can change under runs in flight.
      ...(pool.stream || cancelAware ? { heartbeatTimeout: `${pool.heartbeatSeconds ?? 30} seconds` } : {}),
      ...(cancelAware ? { cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED } : {}),
      // a pool with no worker polling is noticed after a bounded wait instead of a hang
      scheduleToStartTimeout: `${run.registry.poolWaitSeconds} seconds`,
      retry: MODEL_RETRY,
    },
    [
      {
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
      },
    ],
  );
}

/** The task_results row of a micro-task's end: what it settled on, with the run's totals. */
export function taskResultRecord(
  run: Pick<MicroTaskRun, 'origin' | 'task'>,
  totals: Totals,
  end: Pick<Outcome, 'status' | 'issues' | 'unresolvedPaths' | 'finalPool' | 'reason'> & { value?: unknown },
  at: number,
): TaskResultRecord {
  return {
    ...run.origin,
    ...totals,
    task: run.task.name,
    taskVersion: run.task.version,
    status: end.status,
    output: end.value ?? null,
    issues: end.issues,
    unresolvedPaths: end.unresolvedPaths,
    finalPool: end.finalPool,
    reason: end.reason ?? null,
    at,
  };
}

/** Records a micro-task refused before any call and throws its typed failure. */
async function refuseTooLarge(run: MicroTaskRun, why: string): Promise<never> {
  const { totals } = initialState();
  const finalPool = choosePool(run.task, promptChars(run.task, run.input, run.context), run.registry).pool;
  await records.recordTaskResult(taskResultRecord(run, totals, { status: 'failed', issues: [], unresolvedPaths: [], finalPool, reason: why }, Date.now()));
  throw failure(run, why, [], [], totals, FailureTypes.inputTooLarge);
}

/** Records the micro-task's end; a failure is thrown as its typed, non-retryable error. */
async function finish(run: MicroTaskRun, end: Step & { outcome: Outcome }): Promise<MicroTaskOutcome> {
  const { outcome, state } = end;
  await records.recordTaskResult(taskResultRecord(run, state.totals, outcome, Date.now()));
  if (outcome.status === 'failed') throw failure(run, outcome.reason ?? 'failed', outcome.issues, state.details, state.totals, outcome.failureType);
  log.info('micro-task settled', { task: run.task.name, status: outcome.status, attempts: state.totals.attempts, reason: outcome.reason });
  return { ...state.totals, status: outcome.status, value: outcome.value, unresolvedPaths: outcome.unresolvedPaths, finalPool: outcome.finalPool };
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
