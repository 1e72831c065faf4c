import type { CallKind } from '../call-spec.js';
import type { Issue } from '../issues.js';
import { isWithin } from '../json-pointer.js';
import { repairTargets } from '../repair-targets.js';
import type { LadderBudget } from './budget.js';
import type { LadderRules } from './rules.js';

export interface AttemptSummary {
  n: number;
  kind: CallKind;
  pool: string;
  maxTokens: number;
  valid: boolean;
  issues: Issue[];
  promptTokens: number;
  completionTokens: number;
  /** set when the model call itself failed after its retries */
  error?: string;
  /** for a targeted repair: the paths it rewrote */
  paths?: string[];
  /** for a targeted repair: the paths whose answer repeated the value it was asked to fix */
  stalled?: string[];
}

export interface PlanInput {
  attempts: readonly AttemptSummary[];
  issues: readonly Issue[];
  /** whether the last output could be parsed into a value to repair */
  parsed: boolean;
  /** paths a targeted repair can address, or undefined if some issue has none */
  targetable: string[] | undefined;
  pool: string;
  /** the larger pool to escalate to, if any and not yet used */
  escalateTo: string | undefined;
  /** why escalation is not allowed now, e.g. the run's cost budget */
  escalationBlocked?: string;
  allowPartial: boolean;
  /** whether some attempt produced a readable output to return as a partial result */
  hasPartial?: boolean;
  budget: LadderBudget;
  rules: Pick<LadderRules, 'failedRepairGoesUp' | 'repairAgainOnNewIssue' | 'stalls'>;
}

export type Plan =
  | { action: 'call'; kind: CallKind; pool: string; maxTokens: number; paths: string[]; reason: string }
  | { action: 'partial'; reason: string }
  | { action: 'fail'; reason: string };

function count(attempts: readonly AttemptSummary[], pool: string, kind: CallKind): number {
  return attempts.filter((a) => a.pool === pool && a.kind === kind).length;
}

/** The next rung: the cheapest call that can fix these issues within the budget, or the end. */
export function planNextAttempt(s: PlanInput): Plan {
  const last = s.attempts[s.attempts.length - 1];
  const lastMax = last?.maxTokens ?? 0;
  const largestMax = s.attempts.reduce((m, a) => Math.max(m, a.maxTokens), 0);
  const used = s.attempts.reduce((t, a) => t + a.promptTokens + a.completionTokens, 0);
  const stop = (reason: string): Plan => (s.allowPartial && (s.hasPartial ?? s.parsed) ? { action: 'partial', reason } : { action: 'fail', reason });
  const reask = s.budget.strategy !== 'ladder';
  // the larger pool starts at the cheapest rung that fits: a readable output with targetable
  // issues gets a targeted repair there; anything else a whole new answer with the issues as feedback
  const targeted =
    !reask && s.parsed && !last?.error && s.targetable !== undefined && s.targetable.length > 0 && !s.issues.some((i) => i.kind === 'truncated' || i.kind === 'runaway' || i.kind === 'syntax');
  const escalate = (why: string): Plan =>
    s.escalateTo
      ? targeted
        ? {
            action: 'call',
            kind: 'escalate',
            pool: s.escalateTo,
            maxTokens: Math.min(largestMax, 1024),
            paths: s.targetable!,
            reason: `${why}; escalating from ${s.pool} to ${s.escalateTo} with a targeted repair of ${s.targetable!.join(', ')}`,
          }
        : { action: 'call', kind: 'escalate', pool: s.escalateTo, maxTokens: largestMax, paths: [], reason: `${why}; escalating from ${s.pool} to ${s.escalateTo}` }
      : stop(`${why}; ${s.escalationBlocked ?? 'no larger pool to escalate to'}`);

  if (s.attempts.length >= s.budget.maxAttempts) return stop(`attempt budget of ${s.budget.maxAttempts} spent`);
  if (used >= s.budget.maxTokens) return stop(`token budget of ${s.budget.maxTokens} spent (${used} used)`);

  if (last?.error) return escalate(`model call failed: ${last.error}`);

  if (s.budget.strategy === 'reask') {
    return { action: 'call', kind: 'regenerate', pool: s.pool, maxTokens: lastMax, paths: [], reason: 're-asking for the whole object with the errors appended' };
  }

  const kinds = new Set(s.issues.map((i) => i.kind));
  const onPool = (k: CallKind) => count(s.attempts, s.pool, k);
  // a whole-answer escalation is the larger pool's regeneration; a targeted one is its first repair
  const targetedEscalations = s.attempts.filter((a) => a.pool === s.pool && a.kind === 'escalate' && (a.paths?.length ?? 0) > 0).length;
  const regenerations = onPool('regenerate') + count(s.attempts, s.pool, 'escalate') - targetedEscalations;
  const repairs = onPool('repair') + targetedEscalations;

  if (kinds.has('truncated')) {
    if (onPool('continue') < s.budget.maxContinuations && lastMax < s.budget.maxTokensCeiling) {
      const next = Math.min(s.budget.maxTokensCeiling, Math.max(lastMax * 2, 256));
      return { action: 'call', kind: 'continue', pool: s.pool, maxTokens: next, paths: [], reason: `output cut at ${lastMax} tokens; retrying with max_tokens ${next}` };
    }
    return escalate('output still truncated at the token ceiling');
  }

  if (s.budget.strategy === 'reask-fair') {
    // the fair re-ask: as many whole re-asks on a pool as the ladder has repairs and regenerations there, then up the pools
    const reasks = regenerations + repairs;
    const allowed = s.budget.maxRepairs + s.budget.maxRegenerations;
    if (reasks < allowed) return { action: 'call', kind: 'regenerate', pool: s.pool, maxTokens: lastMax, paths: [], reason: 're-asking for the whole object with the errors appended' };
    return escalate(`issues remain after ${reasks} re-ask(s) on ${s.pool}`);
  }

  if (kinds.has('runaway') || kinds.has('syntax') || !s.parsed) {
    if (regenerations < s.budget.maxRegenerations) {
      return { action: 'call', kind: 'regenerate', pool: s.pool, maxTokens: lastMax, paths: [], reason: `output unreadable (${[...kinds].join(', ')}); regenerating with the issues as feedback` };
    }
    return escalate('output still unreadable after regeneration');
  }
  // a path a repair on this pool already rewrote and that is still wrong will not come out better a
  // second time: its second repair goes to a larger rung instead (a second repair is for paths the
  // first one revealed, e.g. a total that no longer adds up once a line amount was fixed)
  const repairedHere = s.attempts.filter((a) => a.pool === s.pool && (a.kind === 'repair' || a.kind === 'escalate')).flatMap((a) => a.paths ?? []);
  const stalledHere = s.attempts.filter((a) => a.pool === s.pool).flatMap((a) => a.stalled ?? []);
  const sign = (i: Issue) => `${i.path}\u0000${i.kind}\u0000${i.check ?? i.message}`;
  // the issues a path had before the last repair on this pool that rewrote it
  const under = (i: Issue, p: string) => isWithin(i.path, p) || repairTargets(i).some((t) => isWithin(t, p));
  const overlaps = (p: string, q: string) => isWithin(p, q) || isWithin(q, p);
  const before = (p: string): Set<string> => {
    const k = s.attempts.findLastIndex((a) => a.pool === s.pool && (a.kind === 'repair' || a.kind === 'escalate') && (a.paths ?? []).some((q) => overlaps(p, q)));
    return new Set((k > 0 ? s.attempts[k - 1]!.issues : []).filter((i) => under(i, p)).map(sign));
  };
  const stalled = (p: string) => {
    // an answer that repeated the value it was asked to fix: the same prompt would buy the same answer
    if (stalledHere.some((q) => overlaps(p, q))) return true;
    if (!s.rules.repairAgainOnNewIssue) return true;
    const was = before(p);
    // without a record of what the path failed before, its repair counts as failed, as it always did
    return was.size === 0 || s.issues.some((i) => under(i, p) && was.has(sign(i)));
  };
  // a path that made progress but has used the pool's repairs goes up the pools like a stalled one
  const repeated = (s.targetable ?? []).filter((p) => repairedHere.some((q) => overlaps(p, q)) && (stalled(p) || repairs >= s.budget.maxRepairs));
  if (s.targetable && s.targetable.length > 0 && repeated.length === 0 && repairs < s.budget.maxRepairs) {
    return {
      action: 'call',
      kind: 'repair',
      pool: s.pool,
      maxTokens: Math.min(lastMax, 1024),
      paths: s.targetable,
      reason: `${s.issues.length} issue(s) at ${s.targetable.length} path(s); repairing only those paths`,
    };
  }
  if (repeated.length > 0) {
    // the pool got these paths wrong twice, in its answer and in a repair of them alone
    const why = `a targeted repair of ${repeated.join(', ')} on ${s.pool} did not fix it`;
    if (!s.rules.failedRepairGoesUp) {
      if (regenerations < s.budget.maxRegenerations) {
        return { action: 'call', kind: 'regenerate', pool: s.pool, maxTokens: lastMax, paths: [], reason: `${why}; regenerating with the issues as feedback` };
      }
      return escalate(`issues remain after ${repairs} repair(s) and ${regenerations} regeneration(s)`);
    }
    if (s.escalateTo) return escalate(why);
    // a path the last pool answered again with the value it was to fix: a whole answer with the
    // issues as feedback is the one prompt not yet tried, once, where the budget leaves it
    const stalledNow = repeated.filter((p) => stalledHere.some((q) => overlaps(p, q)));
    if (s.rules.stalls && stalledNow.length > 0 && !s.escalationBlocked && regenerations < s.budget.maxRegenerations) {
      return {
        action: 'call',
        kind: 'regenerate',
        pool: s.pool,
        maxTokens: lastMax,
        paths: [],
        reason: `a repair of ${stalledNow.join(', ')} on ${s.pool} answered the value it was to fix again, and there is no larger pool; regenerating with the issues as feedback`,
      };
    }
    // nowhere to send them: paths the last repair revealed still get theirs, so fewer are left for review
    const fresh = (s.targetable ?? []).filter((p) => !repeated.includes(p));
    if (fresh.length > 0 && repairs < s.budget.maxRepairs) {
      return {
        action: 'call',
        kind: 'repair',
        pool: s.pool,
        maxTokens: Math.min(lastMax, 1024),
        paths: fresh,
        reason: `${why}, and there is no larger pool; repairing the paths no repair has touched yet: ${fresh.join(', ')}`,
      };
    }
    return escalate(why);
  }
  if (regenerations < s.budget.maxRegenerations) {
    const why = s.targetable && s.targetable.length > 0 ? `${repairs} repair(s) spent` : 'targeted repair cannot address these issues';
    return { action: 'call', kind: 'regenerate', pool: s.pool, maxTokens: lastMax, paths: [], reason: `${why}; regenerating with the issues as feedback` };
  }
  return escalate(`issues remain after ${repairs} repair(s) and ${regenerations} regeneration(s)`);
}
