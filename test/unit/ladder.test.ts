import { describe, expect, it } from 'vitest';
import type { Issue } from '../../core/issues.js';
import { DEFAULT_BUDGET } from '../../core/ladder/budget.js';
import { planNextAttempt, type AttemptSummary, type PlanInput } from '../../core/ladder/plan.js';
import { CURRENT_RULES } from '../../core/ladder/rules.js';

const attempt = (over: Partial<AttemptSummary>): AttemptSummary => ({
  n: 1, kind: 'generate', pool: 'small', maxTokens: 300, valid: false, issues: [], promptTokens: 100, completionTokens: 50, ...over,
});
const issue = (kind: Issue['kind'], path = '/a'): Issue => ({ kind, path, message: kind });
const base = (over: Partial<PlanInput>): PlanInput => ({
  attempts: [attempt({})], issues: [issue('enum')], parsed: true, targetable: ['/a'], pool: 'small', escalateTo: 'large', allowPartial: false, budget: DEFAULT_BUDGET, rules: CURRENT_RULES, ...over,
});

describe('repair ladder planning', () => {
  it('repairs only the failing paths when they are targetable', () => {
    const plan = planNextAttempt(base({}));
    expect(plan).toMatchObject({ action: 'call', kind: 'repair', pool: 'small', paths: ['/a'] });
  });

  it('retries a truncated output with a larger max_tokens instead of re-asking', () => {
    const plan = planNextAttempt(base({ issues: [issue('truncated', '')], targetable: undefined }));
    expect(plan).toMatchObject({ action: 'call', kind: 'continue', maxTokens: 600 });
  });

  it('regenerates unreadable output once, then escalates', () => {
    const first = planNextAttempt(base({ issues: [issue('syntax', '')], parsed: false, targetable: undefined }));
    expect(first).toMatchObject({ kind: 'regenerate' });
    const second = planNextAttempt(
      base({ attempts: [attempt({}), attempt({ n: 2, kind: 'regenerate' })], issues: [issue('syntax', '')], parsed: false, targetable: undefined }),
    );
    expect(second).toMatchObject({ kind: 'escalate', pool: 'large' });
  });

  it('moves from repair to regeneration to escalation as rungs are used up', () => {
    const used = [attempt({}), attempt({ n: 2, kind: 'repair' }), attempt({ n: 3, kind: 'repair' })];
    expect(planNextAttempt(base({ attempts: used }))).toMatchObject({ kind: 'regenerate' });
    const more = [...used, attempt({ n: 4, kind: 'regenerate' })];
    expect(planNextAttempt(base({ attempts: more }))).toMatchObject({ kind: 'escalate', pool: 'large', maxTokens: 300 });
  });

  it('repairs a path again on the same pool when the repair made it fail a different way, and not when it fails the same way', () => {
    const cut: Issue = { kind: 'constraint', path: '/a', message: 'stops mid-sentence' };
    const copied: Issue = { kind: 'semantic', path: '/a', message: 'copies a run of words from /b' };
    const used = [attempt({ issues: [cut] }), attempt({ n: 2, kind: 'repair', paths: ['/a'], issues: [copied] })];
    expect(planNextAttempt(base({ attempts: used, issues: [copied], pool: 'large', escalateTo: undefined }))).toMatchObject({ kind: 'repair', pool: 'large', paths: ['/a'] });
    // the same failure again is a stall: up the pools, or the end
    const stalled = [attempt({ issues: [cut] }), attempt({ n: 2, kind: 'repair', paths: ['/a'], issues: [cut] })];
    expect(planNextAttempt(base({ attempts: stalled, issues: [cut] }))).toMatchObject({ kind: 'escalate', pool: 'large' });
    // runs started before this rule keep the old decision
    const old = { ...CURRENT_RULES, repairAgainOnNewIssue: false };
    expect(planNextAttempt(base({ attempts: used, issues: [copied], rules: old }))).toMatchObject({ kind: 'escalate', pool: 'large' });
    // and the repairs per pool stay bounded
    const twice = [...used, attempt({ n: 3, kind: 'repair', paths: ['/a'], issues: [cut] })];
    expect(planNextAttempt(base({ attempts: twice, issues: [{ ...cut, message: 'another' }], pool: 'small' }))).not.toMatchObject({ kind: 'repair' });
  });

  it('sends a path a repair on a pool failed to fix up to the larger pool, not into a regeneration there', () => {
    const used = [attempt({}), attempt({ n: 2, kind: 'repair', paths: ['/a'] })];
    expect(planNextAttempt(base({ attempts: used }))).toMatchObject({ kind: 'escalate', pool: 'large', paths: ['/a'], reason: expect.stringContaining('targeted repair of /a on small') });
    // nor is a path inside it repaired again on that pool
    expect(planNextAttempt(base({ attempts: used, targetable: ['/a/0'] }))).toMatchObject({ kind: 'escalate', pool: 'large', paths: ['/a/0'] });
    // on the last pool the ladder ends there
    const escalated = [...used, attempt({ n: 3, kind: 'escalate', pool: 'large', paths: ['/a'] })];
    expect(planNextAttempt(base({ attempts: escalated, pool: 'large', escalateTo: undefined }))).toEqual({
      action: 'fail',
      reason: 'a targeted repair of /a on large did not fix it; no larger pool to escalate to',
    });
    expect(planNextAttempt(base({ attempts: escalated, pool: 'large', escalateTo: undefined, allowPartial: true }))).toMatchObject({ action: 'partial' });
    // a path the failed repair revealed still gets its repair there, so fewer are left for review
    expect(planNextAttempt(base({ attempts: escalated, pool: 'large', escalateTo: undefined, targetable: ['/a', '/total'] }))).toMatchObject({
      kind: 'repair',
      pool: 'large',
      paths: ['/total'],
    });
    // and with escalation blocked by the run's cost budget the ladder ends on the small pool
    expect(planNextAttempt(base({ attempts: used, escalateTo: undefined, escalationBlocked: 'over the cost budget' }))).toEqual({
      action: 'fail',
      reason: 'a targeted repair of /a on small did not fix it; over the cost budget',
    });
  });

  it('regenerates after a failed repair only in runs started before a failed repair went up the pools', () => {
    const rules = { ...CURRENT_RULES, failedRepairGoesUp: false };
    const used = [attempt({}), attempt({ n: 2, kind: 'repair', paths: ['/a'] })];
    expect(planNextAttempt(base({ attempts: used, rules }))).toMatchObject({ kind: 'regenerate', pool: 'small', reason: expect.stringContaining('/a') });
    const regenerated = [...used, attempt({ n: 3, kind: 'regenerate' })];
    expect(planNextAttempt(base({ attempts: regenerated, rules, targetable: ['/a/0'] }))).toMatchObject({ kind: 'escalate', pool: 'large' });
    const escalated = [...regenerated, attempt({ n: 4, kind: 'escalate', pool: 'large', paths: ['/a'] })];
    expect(planNextAttempt(base({ attempts: escalated, rules, pool: 'large', escalateTo: undefined }))).toMatchObject({ kind: 'regenerate', pool: 'large' });
  });

  it('repairs a path the first repair revealed, and repairs again on the pool it escalated to', () => {
    const used = [attempt({}), attempt({ n: 2, kind: 'repair', paths: ['/lines/1/amount'] })];
    expect(planNextAttempt(base({ attempts: used, targetable: ['/total'] }))).toMatchObject({ kind: 'repair', paths: ['/total'] });
    const escalated = [...used, attempt({ n: 3, kind: 'regenerate' }), attempt({ n: 4, kind: 'escalate', pool: 'large' })];
    expect(planNextAttempt(base({ attempts: escalated, pool: 'large', escalateTo: undefined, targetable: ['/lines/1/amount'] }))).toMatchObject({
      kind: 'repair',
      pool: 'large',
    });
  });

  it('counts the escalation as the larger pool\'s regeneration', () => {
    const used = [
      attempt({}),
      attempt({ n: 2, kind: 'regenerate' }),
      attempt({ n: 3, kind: 'escalate', pool: 'large' }),
      attempt({ n: 4, kind: 'repair', pool: 'large', paths: ['/b'] }),
      attempt({ n: 5, kind: 'repair', pool: 'large', paths: ['/c'] }),
    ];
    // a path no repair touched yet, but the large pool's repairs and its one regeneration are spent
    expect(planNextAttempt(base({ attempts: used, pool: 'large', escalateTo: undefined }))).toEqual({ action: 'fail', reason: expect.stringContaining('2 repair(s) and 1 regeneration') });
  });

  it('escalates with a targeted repair when the output is readable, and with a whole new answer when it is not', () => {
    const used = [attempt({}), attempt({ n: 2, kind: 'repair', paths: ['/a'] }), attempt({ n: 3, kind: 'regenerate' })];
    expect(planNextAttempt(base({ attempts: used }))).toMatchObject({ kind: 'escalate', pool: 'large', paths: ['/a'], reason: expect.stringContaining('targeted repair of /a') });
    const unreadable = [attempt({}), attempt({ n: 2, kind: 'regenerate' })];
    expect(planNextAttempt(base({ attempts: unreadable, issues: [issue('syntax', '')], parsed: false, targetable: undefined }))).toMatchObject({ kind: 'escalate', paths: [] });
  });

  it('fails with a reason when nothing is left to try', () => {
    const used = [attempt({}), attempt({ n: 2, kind: 'repair' }), attempt({ n: 3, kind: 'repair' }), attempt({ n: 4, kind: 'regenerate' })];
    const plan = planNextAttempt(base({ attempts: used, escalateTo: undefined }));
    expect(plan).toEqual({ action: 'fail', reason: expect.stringContaining('no larger pool') });
  });

  it('returns a partial result instead of failing when the task allows it', () => {
    const plan = planNextAttempt(base({ attempts: Array.from({ length: 6 }, (_, i) => attempt({ n: i + 1 })), allowPartial: true }));
    expect(plan.action).toBe('partial');
  });

  it('stops when the token budget is spent', () => {
    const plan = planNextAttempt(base({ attempts: [attempt({ promptTokens: 39_000, completionTokens: 2000 })] }));
    expect(plan).toEqual({ action: 'fail', reason: expect.stringContaining('token budget') });
  });

  it('escalates when the model call itself failed', () => {
    const plan = planNextAttempt(base({ attempts: [attempt({ error: 'no worker picked the call up in time' })] }));
    expect(plan).toMatchObject({ action: 'call', kind: 'escalate', pool: 'large' });
  });
});

describe('partial results', () => {
  it('returns a partial result when an earlier output was readable, though the last was not', () => {
    const used = Array.from({ length: 6 }, (_, i) => attempt({ n: i + 1 }));
    const plan = planNextAttempt(base({ attempts: used, issues: [issue('syntax', '')], parsed: false, targetable: undefined, allowPartial: true, hasPartial: true }));
    expect(plan.action).toBe('partial');
  });
});
