/**
 * The repair ladder as a pure state machine: `step(env, state, event)` reads what happened (a
 * model result, a transport failure, a budget decision) and says what to do next: make a call,
 * or end with an outcome. It does no I/O and keeps its state as plain JSON, so the workflow that
 * drives it is a short loop and every decision can be tested without Temporal.
 */
import type { CallKind, CallSpec } from '../call-spec.js';
import type { ContextBlock, MicroTask } from '../contract.js';
import { costUsd, estimateTokens } from '../cost.js';
import { FailureTypes } from '../failures.js';
import { issuePaths, isStructural, type Fix, type Issue } from '../issues.js';
import { getAt, isWithin, setAt } from '../json-pointer.js';
import type { FinishReason } from '../lenient-parse.js';
import { wordCounts } from '../loops.js';
import { mergeRepair } from '../merge-repair.js';
import type { RegistrySnapshot } from '../registry.js';
import { currentValues, issuesUnder, repairTargets, siblingValues, targetablePaths } from '../repair-targets.js';
import { choosePool, escalationTarget, promptChars } from '../routing.js';
import { subSchemaAt } from '../schema-walk.js';
import { validateOutput, validateValue, type Reading, type ValidationResult } from '../validate.js';
import type { LadderBudget } from './budget.js';
import { planNextAttempt, type AttemptSummary, type Plan } from './plan.js';
import type { LadderRules } from './rules.js';

/** What one micro-task run spent, summed over its attempts. */
export interface Totals {
  attempts: number;
  repairs: number;
  escalations: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  referenceCostUsd: number;
}

/** One attempt as an operator reads it in the failure details. */
export interface AttemptDetail {
  n: number;
  kind: CallKind;
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

/** What the ladder is fixed to for one micro-task run. */
export interface LadderEnv {
  task: MicroTask<any, any>;
  input: unknown;
  context: ContextBlock[];
  registry: RegistrySnapshot;
  budget: LadderBudget;
  rules: LadderRules;
}

/** A call the ladder asks for. */
export interface Call {
  n: number;
  kind: CallKind;
  pool: string;
  reason: string;
  maxTokens: number;
  spec: CallSpec;
}

/** The result of a model call as the ladder reads it. */
export interface CallResult {
  attemptId: number;
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  referenceCostUsd: number;
}

/** The run's spending as the ladder sees it when it decides on an escalation. */
export interface SpendView {
  costUsd: number;
  /** the estimated cost of the calls in flight elsewhere in the run */
  reservedUsd: number;
  limitUsd: number | undefined;
}

export type LadderEvent =
  | { type: 'start'; downPools: readonly string[] }
  /** the call returned; the step answers with the validation to record */
  | { type: 'result'; result: CallResult }
  /** the validation is recorded; the ladder decides, on the run's spending as it is now */
  | { type: 'recorded'; spend: SpendView }
  /** the call failed after its retries; `noWorker`: no worker picked it up within the pool wait */
  | { type: 'transport'; error: string; noWorker: boolean; downPools: readonly string[]; spend: SpendView }
  /** the run's cost budget cannot pay for the call asked for */
  | { type: 'budget'; reason: string };

export interface Outcome {
  status: 'valid' | 'partial' | 'failed';
  value: unknown;
  /** for a partial or failed outcome, the issues left; for a partial one flagged by null, the issues nulled */
  issues: Issue[];
  unresolvedPaths: string[];
  reason: string | null;
  /** the failure's type, for a failed outcome */
  failureType?: string;
  finalPool: string;
}

/** What the workflow records about a result before it acts on the next step. */
export interface Validation {
  attemptId: number;
  valid: boolean;
  issues: Issue[];
  fixes: Fix[];
}

export interface LadderState {
  /** the call asked for last, whose result the next event reports */
  call: Call | undefined;
  pool: string;
  reason: string;
  /** pools this run has called, in order */
  tried: string[];
  /** the latest readable value, which a targeted repair rewrites */
  current: unknown;
  /** the latest readable output with its issues, kept across escalation for a partial result */
  best: { value: unknown; issues: Issue[] } | undefined;
  lastIssues: Issue[];
  attempts: AttemptSummary[];
  details: AttemptDetail[];
  totals: Totals;
  /** the re-ask baselines' conversation so far */
  history: { output: string; issues: Issue[] }[];
  /** per path, the repair answers that repeated the value they were asked to fix */
  stalls: Record<string, unknown[]>;
  /** issues resolved by setting their path to null, for review, kept across attempts */
  flagged: Issue[];
  /** the last result read, waiting for its validation to be recorded before the ladder decides */
  read?: { parsed: boolean; valid: boolean; value: unknown; issues: Issue[]; text: string };
}

/** What the workflow does next: record a validation, make a call, or end. */
export type Step = { state: LadderState } & (
  | { record: Validation; call?: never; outcome?: never }
  | { call: Call; record?: never; outcome?: never }
  | { outcome: Outcome; record?: never; call?: never }
);

const ZERO: Totals = { attempts: 0, repairs: 0, escalations: 0, promptTokens: 0, completionTokens: 0, costUsd: 0, referenceCostUsd: 0 };

export function initialState(): LadderState {
  return { call: undefined, pool: '', reason: '', tried: [], current: undefined, best: undefined, lastIssues: [], attempts: [], details: [], totals: { ...ZERO }, history: [], stalls: {}, flagged: [] };
}

/** How this run reads outputs: the strategy's parser, the rules, and the prompt's words for loop detection. */
export function readingOf(env: LadderEnv): Reading {
  const prompt = env.task.prompt(env.input, env.context);
  return {
    lenient: env.budget.strategy !== 'reask',
    loopsAreRunaway: env.rules.loopsAreRunaway,
    enumSpelling: env.rules.enumSpelling,
    ungroundedToNull: env.rules.ungroundedToNull && env.budget.strategy !== 'reask',
    // what the model is given: a repetition in the output that the source holds as often is no loop
    source: wordCounts(`${prompt.system}\n${prompt.user}`),
  };
}

/** What a whole-prompt call of this micro-task costs on a pool at most, about: its input and context, and max_tokens. */
export function callEstimate(env: Pick<LadderEnv, 'input' | 'context' | 'registry'>, pool: string, maxTokens: number): number {
  const promptTokens = estimateTokens(JSON.stringify(env.input).length + JSON.stringify(env.context).length);
  return costUsd(env.registry.pools[pool]!.price, promptTokens, maxTokens);
}

/** The larger pool an escalation may go to now, or why the run's cost budget does not allow it. */
function escalationCheck(env: LadderEnv, s: LadderState, spend: SpendView): { escalateTo: string | undefined; escalationBlocked?: string } {
  const target = escalationTarget(env.registry, s.pool, s.tried);
  const limit = spend.limitUsd;
  if (!target || limit === undefined) return { escalateTo: target };
  const estimate = callEstimate(env, target, env.task.maxTokens);
  if (spend.costUsd + spend.reservedUsd + estimate <= limit) return { escalateTo: target };
  return {
    escalateTo: undefined,
    escalationBlocked: `escalation to ${target} (about $${estimate.toFixed(6)}) would exceed the run's cost budget of $${limit} ($${spend.costUsd.toFixed(6)} spent${spend.reservedUsd > 0 ? `, about $${spend.reservedUsd.toFixed(6)} in flight` : ''})`,
  };
}

/** The first pool: the route, away from pools that had no worker earlier in this run. */
function firstRoute(env: LadderEnv, downPools: readonly string[]): { pool: string; reason: string } {
  const { task, registry } = env;
  const down = new Set(downPools);
  const route = choosePool(task, promptChars(task, env.input, env.context), registry);
  let { pool, reason } = route;
  const rerouted = new Set<string>();
  // a pool the registry routed the task to that had no worker: back to the task's own pool first
  if (pool !== task.pool && down.has(pool) && Object.hasOwn(registry.pools, task.pool) && !down.has(task.pool)) {
    reason = `${reason}; ${pool} had no worker earlier in this run, back to ${task.name}'s own pool ${task.pool}`;
    pool = task.pool;
  }
  while (down.has(pool) && registry.pools[pool]?.escalateTo && !rerouted.has(pool)) {
    rerouted.add(pool);
    const next = registry.pools[pool]!.escalateTo!;
    reason = `${reason}; ${pool} had no worker earlier in this run, routed to ${next}`;
    pool = next;
  }
  return { pool, reason };
}

function ask(s: LadderState, kind: CallKind, maxTokens: number, spec: CallSpec): Step {
  const call: Call = { n: s.attempts.length + 1, kind, pool: s.pool, reason: s.reason, maxTokens, spec };
  s.call = call;
  return { state: s, call };
}

function end(s: LadderState, outcome: Omit<Outcome, 'finalPool'>): Step {
  s.call = undefined;
  return { state: s, outcome: { ...outcome, finalPool: s.pool } };
}

/** The issues nulled for review on the way whose paths are still null in the value returned. */
function stillFlagged(s: LadderState, value: unknown): Issue[] {
  const seen = new Set<string>();
  return s.flagged.filter((i) => getAt(value, i.path) === null && !seen.has(i.path) && seen.add(i.path));
}

/** A valid value: valid, or partial with the paths nulled for review on the way. */
function endValid(s: LadderState, value: unknown): Step {
  const flagged = stillFlagged(s, value);
  if (flagged.length === 0) return end(s, { status: 'valid', value, issues: [], unresolvedPaths: [], reason: null });
  const paths = issuePaths(flagged);
  return end(s, { status: 'partial', value, issues: flagged, unresolvedPaths: paths, reason: `${paths.join(', ')} set to null for review: not found in the input` });
}

const isCritical = (task: MicroTask<any, any>, path: string) => task.critical === undefined || task.critical.some((c) => isWithin(path, c) || isWithin(c, path));

/**
 * The end for fields the task does not need: when every issue left is at a non-critical path
 * that may be null, those paths become null and the output is returned flagged for review.
 */
function nullNonCritical(env: LadderEnv, s: LadderState, reading: Reading, why: string): Omit<Outcome, 'finalPool'> | undefined {
  if (!env.rules.nonCriticalToNull || env.budget.strategy === 'reask' || env.task.critical === undefined || !s.best || s.best.issues.length === 0) return undefined;
  if (s.best.issues.some(isStructural)) return undefined;
  const paths = [...new Set(s.best.issues.flatMap(repairTargets))];
  const nullable = (p: string) => p !== '' && subSchemaAt(env.task.output, p)?.safeParse(null).success === true;
  if (!paths.every((p) => !isCritical(env.task, p) && nullable(p))) return undefined;
  let value = s.best.value;
  for (const p of paths) value = setAt(value, p, null);
  const v = validateValue(env.task, value, { input: env.input, context: env.context }, reading);
  if (!v.valid) return undefined;
  const issues = [...s.best.issues, ...v.flagged, ...stillFlagged(s, v.value)];
  return { status: 'partial', value: v.value, issues, unresolvedPaths: issuePaths(issues), reason: `${why}; ${paths.join(', ')} set to null for review: not critical to ${env.task.name}` };
}

/** The end the plan says: the non-critical fields nulled, a partial result, or the failure with `failedValue` recorded. */
function stop(env: LadderEnv, s: LadderState, reading: Reading, plan: Extract<Plan, { action: 'partial' | 'fail' }>, failedValue: unknown): Step {
  const nulled = nullNonCritical(env, s, reading, plan.reason);
  if (nulled) return end(s, nulled);
  if (plan.action === 'partial' && s.best) {
    const issues = [...s.best.issues, ...stillFlagged(s, s.best.value)];
    return end(s, { status: 'partial', value: s.best.value, issues, unresolvedPaths: issuePaths(issues), reason: plan.reason });
  }
  return end(s, { status: 'failed', value: failedValue ?? null, issues: s.lastIssues, unresolvedPaths: issuePaths(s.lastIssues), reason: plan.reason, failureType: FailureTypes.microTaskFailed });
}

/** The call a plan asks for, with what its rung needs to know. */
function follow(env: LadderEnv, s: LadderState, plan: Extract<Plan, { action: 'call' }>, issues: Issue[], lastOutput: string): Step {
  const { task, budget, rules } = env;
  s.reason = plan.reason;
  const maxTokens = plan.maxTokens > 0 ? plan.maxTokens : task.maxTokens;
  const reask = budget.strategy !== 'ladder';
  if (plan.kind === 'escalate' || plan.kind === 'regenerate') {
    if (plan.pool !== s.pool) {
      s.pool = plan.pool;
      s.tried.push(plan.pool);
    }
    if (reask && plan.kind === 'regenerate') s.history.push({ output: lastOutput, issues });
    if (plan.kind === 'escalate' && budget.strategy === 'reask-fair') s.history.push({ output: lastOutput, issues });
  }
  const repairOf = (paths: string[]) => ({
    paths,
    current: currentValues(s.current, paths),
    issues: issuesUnder(issues, paths),
    siblings: siblingValues(s.current, paths),
    ...(rules.stalls ? stalledFor(s, paths) : {}),
    ...(rules.candidateSpans ? { candidates: true } : {}),
  });
  let spec: CallSpec;
  if (plan.kind === 'escalate' && plan.paths.length > 0) spec = { kind: 'escalate', feedback: issues, repair: repairOf(plan.paths) };
  else if (plan.kind === 'escalate') {
    spec = budget.strategy === 'reask-fair' && s.history.length > 0 ? { kind: 'escalate', feedback: issues, history: [...s.history] } : { kind: 'escalate', feedback: issues };
    s.current = undefined;
  } else if (plan.kind === 'repair') spec = { kind: 'repair', repair: repairOf(plan.paths) };
  else if (plan.kind === 'regenerate') spec = reask ? { kind: 'regenerate', feedback: issues, history: [...s.history] } : { kind: 'regenerate', feedback: issues };
  else spec = { kind: plan.kind };
  return ask(s, plan.kind, maxTokens, spec);
}

function stalledFor(s: LadderState, paths: readonly string[]): { stalled?: Record<string, unknown[]> } {
  const out: Record<string, unknown[]> = {};
  for (const p of paths) if (s.stalls[p]?.length) out[p] = s.stalls[p]!;
  return Object.keys(out).length > 0 ? { stalled: out } : {};
}

function plan(env: LadderEnv, s: LadderState, spend: SpendView, parsed: boolean, issues: readonly Issue[]): Plan {
  const structural = issues.some(isStructural);
  return planNextAttempt({
    attempts: s.attempts,
    issues,
    parsed,
    targetable: parsed && !structural ? targetablePaths(env.task.output, issues) : undefined,
    pool: s.pool,
    ...escalationCheck(env, s, spend),
    allowPartial: env.task.allowPartial ?? false,
    hasPartial: s.best !== undefined,
    budget: env.budget,
    rules: env.rules,
  });
}

function count(s: LadderState, call: Call, r: { promptTokens: number; completionTokens: number; costUsd: number; referenceCostUsd: number }): void {
  s.totals.attempts++;
  if (call.kind === 'repair') s.totals.repairs++;
  if (call.kind === 'escalate') s.totals.escalations++;
  s.totals.promptTokens += r.promptTokens;
  s.totals.completionTokens += r.completionTokens;
  s.totals.costUsd += r.costUsd;
  s.totals.referenceCostUsd += r.referenceCostUsd;
}

/** One step of the ladder. Pure: `state` is not changed; the step's own state is returned. */
export function step(env: LadderEnv, state: LadderState, event: LadderEvent, reading: Reading = readingOf(env)): Step {
  // the step's own copy of the state's lists; the values in it are never changed in place (setAt copies)
  const s: LadderState = {
    ...state,
    tried: [...state.tried],
    attempts: [...state.attempts],
    details: [...state.details],
    totals: { ...state.totals },
    history: [...state.history],
    stalls: { ...state.stalls },
    flagged: [...state.flagged],
    ...(state.call ? { call: { ...state.call } } : {}),
  };
  const { task } = env;
  const ctx = { input: env.input, context: env.context };

  if (event.type === 'start') {
    const route = firstRoute(env, event.downPools);
    s.pool = route.pool;
    s.reason = route.reason;
    s.tried = [route.pool];
    return ask(s, 'generate', task.maxTokens, { kind: 'generate' });
  }

  const call = s.call;
  if (!call) throw new Error(`ladder event ${event.type} without a call in flight`);

  if (event.type === 'budget') {
    return end(s, { status: 'failed', value: s.best?.value ?? null, issues: s.lastIssues, unresolvedPaths: issuePaths(s.lastIssues), reason: event.reason, failureType: FailureTypes.costBudgetExceeded });
  }

  if (event.type === 'transport') {
    count(s, call, { promptTokens: 0, completionTokens: 0, costUsd: 0, referenceCostUsd: 0 });
    s.attempts.push({ n: call.n, kind: call.kind, pool: call.pool, maxTokens: call.maxTokens, valid: false, issues: [], promptTokens: 0, completionTokens: 0, error: event.error });
    s.details.push({ n: call.n, kind: call.kind, pool: call.pool, reason: call.reason, attemptId: null, finishReason: null, rawOutput: null, repairedPaths: call.spec.repair?.paths ?? [], issues: [], fixes: [], error: event.error });
    const down = new Set(event.downPools);
    // routed away from its own pool, to one with no worker: the task's own pool takes it (only with registry routes)
    if (event.noWorker && s.pool !== task.pool && !s.tried.includes(task.pool) && Object.hasOwn(env.registry.pools, task.pool) && !down.has(task.pool)) {
      s.reason = `${s.pool} has no worker; back to ${task.name}'s own pool ${task.pool}`;
      s.pool = task.pool;
      s.tried.push(task.pool);
      return ask(s, call.kind, call.maxTokens, call.spec);
    }
    const next = plan(env, s, event.spend, s.best !== undefined, s.lastIssues);
    // after a failed call the plan is the larger pool, or the end
    if (next.action !== 'call' || next.kind !== 'escalate') return stop(env, s, reading, next.action === 'call' ? { action: 'fail', reason: next.reason } : next, s.best?.value);
    // a whole new answer on the next pool: the failed call's value is not repaired there
    s.pool = next.pool;
    s.tried.push(next.pool);
    s.reason = next.reason;
    s.current = undefined;
    return ask(s, 'escalate', task.maxTokens, { kind: 'escalate', feedback: s.lastIssues });
  }

  if (event.type === 'recorded') {
    const r = s.read;
    if (!r) throw new Error('ladder event recorded without a result read');
    delete s.read;
    if (r.valid) return endValid(s, r.value);
    const next = plan(env, s, event.spend, r.parsed, r.issues);
    if (next.action !== 'call') return stop(env, s, reading, next, s.current);
    return follow(env, s, next, r.issues, r.text);
  }

  // a model result
  const r = event.result;
  count(s, call, r);
  let v: ValidationResult;
  let stalled: string[] = [];
  if (call.spec.repair) {
    const paths = call.spec.repair.paths;
    const merged = mergeRepair(s.current, r.text, paths, r.finishReason, { closedCutsAndPartialObjects: env.rules.closedCutsAndPartialObjects });
    if (env.rules.stalls) {
      // asked to fix the value at the path itself (not only opened by a cross-field check), and answered it again
      const own = (p: string) => call.spec.repair!.issues.some((i) => isWithin(i.path, p));
      stalled = merged.answered.filter((p) => own(p) && getAt(s.current, p) !== undefined && JSON.stringify(getAt(merged.value, p)) === JSON.stringify(getAt(s.current, p)));
      for (const p of stalled) s.stalls[p] = [...(s.stalls[p] ?? []), getAt(s.current, p)];
    }
    v = validateValue(task, merged.value, ctx, reading);
  } else {
    v = validateOutput(task, r.text, r.finishReason, ctx, reading);
  }
  // runs started before cross-field issues opened their other fields target the issue's own path
  if (!env.rules.repairAt) for (const issue of v.issues) delete issue.repairAt;
  const validation: Validation = { attemptId: r.attemptId, valid: v.valid, issues: v.issues, fixes: v.fixes };
  s.attempts.push({
    n: call.n,
    kind: call.kind,
    pool: call.pool,
    maxTokens: call.maxTokens,
    valid: v.valid,
    issues: v.issues,
    promptTokens: r.promptTokens,
    completionTokens: r.completionTokens,
    paths: call.spec.repair?.paths ?? [],
    ...(stalled.length > 0 ? { stalled } : {}),
  });
  s.details.push({
    n: call.n,
    kind: call.kind,
    pool: call.pool,
    reason: call.reason,
    attemptId: r.attemptId,
    finishReason: r.finishReason,
    rawOutput: r.text.length > 2000 ? `${r.text.slice(0, 2000)}…` : r.text,
    repairedPaths: call.spec.repair?.paths ?? [],
    issues: v.issues,
    fixes: v.fixes,
    error: null,
  });

  s.flagged.push(...v.flagged);
  if (!v.valid) {
    if (v.parsed) {
      s.current = v.value;
      s.best = { value: v.value, issues: v.issues };
    }
    s.lastIssues = v.issues;
  }
  s.read = { parsed: v.valid || v.parsed, valid: v.valid, value: v.value, issues: v.issues, text: r.text };
  return { state: s, record: validation };
}
