import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fineTuningPairs, OUTCOMES } from '../../client/export.js';
import { answerProductReview, productReviewOutputs, sample } from '../support/fixtures.js';
import { startHarness, type Harness } from '../support/harness.js';

const review = sample('product-review', 'wireless-headphones');

describe('fine-tuning export', () => {
  let h: Harness;
  let clean: string;
  let escalated: string;
  let retried: string;
  beforeAll(async () => {
    h = await startHarness();
    answerProductReview(h.model);
    clean = (await h.run('product-review', review)).workflowId;
    // the small pool cannot write the advice; the large one can
    h.model.otherwise('write_advice', (body) =>
      body.model === 'scripted-small' ? { content: 'I would say it is a good buy.' } : { content: JSON.stringify(productReviewOutputs.write_advice) },
    );
    escalated = (await h.run('product-review', review)).workflowId;
    // the first features call fails with a 500 and is retried by Temporal: two rows of the same attempt, one pair
    answerProductReview(h.model);
    h.model.script('extract_features', { status: 500 });
    retried = (await h.run('product-review', review)).workflowId;
  });
  afterAll(async () => h?.stop());

  it('writes the first prompt and the validated output of each valid result, marked by how it passed', async () => {
    const pairs = await fineTuningPairs(h.pgPool, { outcomes: [...OUTCOMES] });
    const first = pairs.filter((p) => p.meta.workflowId === clean);
    expect(first.map((p) => [p.meta.task, p.meta.outcome])).toEqual([
      ['extract-features', 'valid'],
      ['write-scenarios', 'valid'],
      ['write-advice', 'valid'],
      ['generate-keywords', 'valid'],
    ]);
    for (const p of pairs) {
      expect(p.pair.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant']);
      expect(() => JSON.parse(p.pair.messages[2]!.content)).not.toThrow();
    }
    const advice = pairs.find((p) => p.meta.workflowId === escalated && p.meta.task === 'write-advice')!;
    expect(advice.meta).toMatchObject({ outcome: 'escalated', pool: 'large' });
    expect(JSON.parse(advice.pair.messages[2]!.content)).toEqual(productReviewOutputs.write_advice);
    // the prompt is the first attempt's, on the small pool, not the escalation's feedback
    expect(advice.pair.messages[1]!.content).not.toContain('previous answer');
  });

  it('filters by outcome, task and pool', async () => {
    // the test database holds other files' runs too: look at these two
    const mine = async (f: Parameters<typeof fineTuningPairs>[1]) => (await fineTuningPairs(h.pgPool, f)).filter((p) => p.meta.workflowId === clean || p.meta.workflowId === escalated);
    expect((await mine({ outcomes: ['escalated'] })).map((p) => [p.meta.workflowId, p.meta.task])).toEqual([[escalated, 'write-advice']]);
    expect((await mine({ task: 'write-advice', outcomes: ['valid'] })).map((p) => p.meta.workflowId)).toEqual([clean]);
    expect(await mine({ outcomes: [...OUTCOMES], pool: 'large' })).toHaveLength(1);
    expect(await fineTuningPairs(h.pgPool, { outcomes: [...OUTCOMES], since: '2999-01-01' })).toEqual([]);
  });

  it('writes one pair for a result whose first attempt was retried', async () => {
    const { attempts } = await h.rows(retried);
    expect(attempts.filter((a) => a.task === 'extract-features').map((a) => [a.attemptNo, a.activityAttempt, a.httpStatus])).toEqual([
      [1, 1, 500],
      [1, 2, 200],
    ]);
    const pairs = (await fineTuningPairs(h.pgPool, { outcomes: [...OUTCOMES] })).filter((p) => p.meta.workflowId === retried);
    expect(pairs.map((p) => p.meta.task)).toEqual(['extract-features', 'write-scenarios', 'write-advice', 'generate-keywords']);
  });
});
