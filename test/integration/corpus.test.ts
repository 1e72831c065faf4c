/**
 * The failure corpus through the real workflow: each case's bad first output, then the simulated
 * model's answers on whatever rungs the ladder climbs, on a real Temporal dev server and Postgres.
 * The outcome and the rung that fixed it are read back from the recorded rows.
 */
import { isDeepStrictEqual } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { STRICT, validateOutput, validateValue } from '../../core/validate.js';
import { getMicroTask } from '../../pipelines/index.js';
import { corpus, currentExpectation, FAILURE_FORMS, fixedByOf, scriptCase, type CorpusCase } from '../corpus/cases.js';
import { startHarness, type Harness } from '../support/harness.js';

function title(c: CorpusCase): string {
  const by = (fixedBy: string | null, outcome: string) => (fixedBy ?? `nothing (${outcome})`);
  const base = `fixes ${c.id} by ${by(c.expected.fixedBy, c.expected.outcome)}`;
  if (!c.knownIssue) return base;
  const a = c.knownIssue.actual;
  return `${base} [known issue: today ${by(a.fixedBy, a.outcome)}${a.outcome === 'valid' && !a.outputIsGood ? ', with a wrong output' : ''}]`;
}

describe('the failure corpus', () => {
  it('has at least 60 cases over at least 4 micro-tasks, covering every failure form', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    expect(new Set(corpus.map((c) => c.task)).size).toBeGreaterThanOrEqual(4);
    for (const form of FAILURE_FORMS) expect(corpus.filter((c) => c.forms.includes(form)).length, form).toBeGreaterThan(0);
    expect(new Set(corpus.map((c) => c.id)).size).toBe(corpus.length);
    expect(corpus.some((c) => c.expected.outcome === 'failed')).toBe(true);
    expect(corpus.some((c) => c.task === 'extract-invoice' && c.expected.outcome === 'partial')).toBe(true);
  });

  it.each(corpus.map((c) => [c.id, c] as const))('%s: the good output meets the contract, the first output does not as written', (_, c) => {
    const task = getMicroTask(c.task);
    const ctx = { input: task.input.parse(c.input), context: c.context };
    const good = validateValue(task, c.good, ctx, STRICT);
    expect(good.issues).toEqual([]);
    expect(good.value).toEqual(c.good);
    expect(validateOutput(task, c.first.content, c.first.finishReason ?? 'stop', ctx, STRICT).valid).toBe(false);
  });
});

describe('the repair ladder on the failure corpus, on Temporal and Postgres', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.stop());
  beforeEach(() => h.model.reset());

  for (const c of corpus) {
    it(title(c), async () => {
      scriptCase(h.model, c, 'ladder');
      const { workflowId, result } = await h.runTask({ task: c.task, input: c.input, context: c.context, budget: { strategy: 'ladder' } });
      const { attempts, tasks, run } = await h.rows(workflowId);

      // every call the endpoint received has its row, in the same order, and was validated
      expect(attempts.map((a) => (a.request as { schemaName: string }).schemaName)).toEqual(h.model.received.map((r) => r.format));
      expect(attempts.filter((a) => a.valid === null)).toEqual([]);
      expect(attempts.filter((a) => a.httpStatus !== 200 && a.error === null)).toEqual([]);

      expect(tasks).toHaveLength(1);
      const outcome = tasks[0]!.status;
      const want = currentExpectation(c);
      const summary = attempts.map((a) => `${a.kind}@${a.pool}:${a.valid ? 'valid' : 'invalid'}`).join(' ');
      expect({ outcome, fixedBy: fixedByOf(outcome, attempts) }, summary).toEqual({ outcome: want.outcome, fixedBy: want.fixedBy });
      expect(tasks[0]!.attempts).toBe(attempts.length);

      if (outcome === 'failed') {
        expect(result.status).toBe('rejected');
        const err = (result as PromiseRejectedResult).reason as unknown;
        expect(err).toBeInstanceOf(WorkflowFailedError);
        expect((err as WorkflowFailedError).cause).toBeInstanceOf(ApplicationFailure);
        expect(((err as WorkflowFailedError).cause as ApplicationFailure).type).toBe('MicroTaskFailed');
        expect(run?.status).toBe('failed');
        return;
      }
      expect(result.status).toBe('fulfilled');
      const value = (result as PromiseFulfilledResult<{ status: string; output: unknown; unresolved: Record<string, string[]> }>).value;
      if (outcome === 'partial') {
        expect(value.status).toBe('partial');
        expect(run?.status).toBe('partial');
        expect(tasks[0]!.unresolvedPaths).not.toEqual([]);
        return;
      }
      expect(value.status).toBe('completed');
      expect(run?.status).toBe('completed');
      expect(isDeepStrictEqual(value.output, c.good), `output ${JSON.stringify(value.output)}`).toBe(want.outputIsGood);
    });
  }
});
