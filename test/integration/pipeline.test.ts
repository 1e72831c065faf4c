import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getMicroTask } from '../../pipelines/index.js';
import { answerProductReview, documentSummaryOutputs, productReviewOutputs, sample } from '../support/fixtures.js';
import { startHarness, type Harness } from '../support/harness.js';
import type { ChatBody } from '../support/scripted-model.js';
import { answerDocumentSummaryFromPrompts, longDepotReview } from '../support/long-document.js';
import { chunkText } from '../../pipelines/document-summary/chunk.js';
import { CHUNK_CHARS, SECTION_PARTS, sectionRanges } from '../../pipelines/document-summary/sections.js';

let h: Harness;
/** tasks whose model activity throws once after its call was recorded */
const crashAfterCall = new Set<string>();
const review = sample('product-review', 'wireless-headphones');

beforeAll(async () => {
  h = await startHarness({
    afterRecorded: (req, activityAttempt) => {
      if (crashAfterCall.has(req.task) && activityAttempt === 1) throw new Error(`worker lost after calling the model for ${req.task}`);
    },
  });
});
afterAll(async () => h?.stop());
beforeEach(() => {
  h.model.reset();
  crashAfterCall.clear();
  answerProductReview(h.model);
});

/** How many rows each step has. */
function callsPerStep(rows: readonly { step: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows) out[r.step] = (out[r.step] ?? 0) + 1;
  return out;
}

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

describe('product-review on the real Temporal server and Postgres', () => {
  it('runs end to end when every first output is valid, and records each call', async () => {
    const { workflowId, result } = await h.run('product-review', review);
    expect(result.status).toBe('completed');
    const output = result.output as { verdict: string; features: unknown[]; keywords: string[] };
    expect(output.verdict).toBe('buy');
    expect(output.features).toEqual(productReviewOutputs.extract_features.features);
    expect(output.keywords).toEqual(productReviewOutputs.generate_keywords.keywords);

    const { attempts, tasks, run } = await h.rows(workflowId);
    expect(attempts.map((a) => [a.task, a.kind, a.pool, a.valid])).toEqual([
      ['extract-features', 'generate', 'small', true],
      ['write-scenarios', 'generate', 'small', true],
      ['write-advice', 'generate', 'small', true],
      ['generate-keywords', 'generate', 'small', true],
    ]);
    for (const a of attempts) {
      expect(a.promptTokens).toBeGreaterThan(0);
      expect(a.completionTokens).toBeGreaterThan(0);
      expect(a.tokensEstimated).toBe(false);
      expect(a.costUsd).toBeGreaterThan(0);
      expect(a.referenceCostUsd).toBeGreaterThan(a.costUsd);
      expect(a.priceVersion).toBe('small-test-1');
      expect(a.model).toBe('scripted-small');
      expect(a.routeReason).toContain('default pool');
    }
    expect(tasks.map((t) => [t.step, t.status, t.attempts])).toEqual([
      ['features', 'valid', 1],
      ['scenarios', 'valid', 1],
      ['advice', 'valid', 1],
      ['keywords', 'valid', 1],
    ]);
    expect(run).toMatchObject({ status: 'completed', pipeline: 'product-review', attempts: 4, repairs: 0, escalations: 0 });
    expect(run!.promptTokens).toBe(attempts.reduce((t, a) => t + a.promptTokens, 0));
    expect(run!.costUsd).toBeCloseTo(attempts.reduce((t, a) => t + a.costUsd, 0), 12);

    // the endpoint was asked for guided decoding with the task's own schema
    const req = h.model.requestsFor('extract_features')[0]!;
    expect(req.response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'extract_features', strict: true } });
    expect(JSON.stringify(req.messages)).toContain('hybrid ANC with 3 levels');
  });

  it('reads almost-valid JSON without another model call and records the fixes', async () => {
    const almost = "Here you go:\n```json\n{'features': [{'name': 'battery life', 'benefit': 'Lasts 30 hours with noise cancelling on.',}, {'name': 'fast charging', 'benefit': 'Ten minutes of charging gives five hours.',}, {'name': 'active noise cancellation', 'benefit': 'Blocks engine and train noise.'},],}\n```";
    h.model.script('extract_features', { content: almost });
    const { workflowId, result } = await h.run('product-review', review);
    expect(result.status).toBe('completed');
    const { attempts } = await h.rows(workflowId);
    expect(attempts).toHaveLength(4);
    const features = attempts.find((a) => a.task === 'extract-features')!;
    expect(features.valid).toBe(true);
    expect((features.fixes as { kind: string }[]).map((f) => f.kind)).toEqual(expect.arrayContaining(['strip-fences', 'jsonrepair']));
    expect(features.rawOutput).toBe(almost);
  });

  it('repairs only the failing path and keeps the valid fields frozen', async () => {
    // a repeated keyword: no check can know the right replacement, so the model is asked for that one path
    const good = productReviewOutputs.generate_keywords.keywords;
    const bad = { keywords: [good[0], good[0], ...good.slice(2)] };
    h.model.script('generate_keywords', { content: JSON.stringify(bad) });
    h.model.script('generate_keywords_repair', { content: '{"/keywords/1": "over-ear headphones"}' });
    const { workflowId, result } = await h.run('product-review', review);
    expect((result.output as { keywords: string[] }).keywords).toEqual([good[0], 'over-ear headphones', ...good.slice(2)]);
    expect(result.totals.repairs).toBe(1);

    const repairReq = h.model.requestsFor('generate_keywords_repair')[0]!;
    const schema = repairReq.response_format!.json_schema!.schema as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(['/keywords/1']);
    expect(repairReq.messages.map((m) => m.content).join('\n')).toContain(`"/keywords/1": now "${good[0]}"`);

    const { attempts, tasks } = await h.rows(workflowId);
    const kw = attempts.filter((a) => a.task === 'generate-keywords');
    expect(kw.map((a) => [a.attemptNo, a.kind, a.valid, a.repairedPaths])).toEqual([
      [1, 'generate', false, []],
      [2, 'repair', true, ['/keywords/1']],
    ]);
    expect(kw[0]!.issues).toEqual([expect.objectContaining({ kind: 'semantic', path: '/keywords/1' })]);
    expect(tasks.find((t) => t.task === 'generate-keywords')).toMatchObject({ status: 'valid', attempts: 2, repairs: 1 });
  });

  it('routes one run as its input says, as an evaluation configuration does', async () => {
    const { workflowId, result } = await h.run('product-review', review, { routing: { routes: { '*': 'large' }, escalate: false } });
    expect(result.status).toBe('completed');
    const { attempts } = await h.rows(workflowId);
    expect(attempts.map((a) => a.pool)).toEqual(['large', 'large', 'large', 'large']);
    expect(attempts[0]!.routeReason).toBe('the registry routes extract-features to large');
  });

  it('fails with a typed, non-retryable error naming the pipeline, task, paths and attempts when nothing fixes the output', async () => {
    const wrong = { ...productReviewOutputs.write_advice, verdict: 'maybe' };
    h.model.otherwise('write_advice', { content: JSON.stringify(wrong) });
    h.model.otherwise('write_advice_repair', { content: '{"/verdict": "maybe"}' });
    const workflowId = await h.start('product-review', review, { budget: { maxAttempts: 4 } });
    const failure = await failureOf(h.env.client.workflow.getHandle(workflowId).result());
    expect(failure.type).toBe('MicroTaskFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`pipeline product-review, step advice: micro-task write-advice v${getMicroTask('write-advice').version} failed after 4 attempt(s) at /verdict`);
    const details = failure.details?.[0] as { paths: string[]; attempts: { kind: string; pool: string; rawOutput: string; issues: unknown[] }[] };
    expect(details.paths).toEqual(['/verdict']);
    // a path a repair failed to fix goes up to the larger pool as a targeted repair; answered
    // the same there too (a stall), the last pool regenerates once, and the ladder ends
    expect(details.attempts.map((a) => `${a.kind}@${a.pool}`)).toEqual(['generate@small', 'repair@small', 'escalate@large', 'regenerate@large']);
    expect(details.attempts[0]!.rawOutput).toContain('"maybe"');

    const { attempts, tasks, run } = await h.rows(workflowId);
    const advice = attempts.filter((a) => a.task === 'write-advice');
    expect(advice).toHaveLength(4);
    expect(advice.every((a) => a.valid === false)).toBe(true);
    expect(tasks.map((t) => [t.step, t.status])).toEqual([
      ['features', 'valid'],
      ['scenarios', 'valid'],
      ['advice', 'failed'],
    ]);
    expect(tasks[2]!.unresolvedPaths).toEqual(['/verdict']);
    expect(run).toMatchObject({ status: 'failed', attempts: 6 });
    expect((run!.error as { type: string }).type).toBe('MicroTaskFailed');
  });

  it('escalates to the large pool when the small pool cannot produce a valid output', async () => {
    h.model.otherwise('write_advice', (body) =>
      body.model === 'scripted-small' ? { content: 'I would say it is a good buy.' } : { content: JSON.stringify(productReviewOutputs.write_advice) },
    );
    const { workflowId, result } = await h.run('product-review', review);
    expect(result.totals.escalations).toBe(1);
    const { attempts } = await h.rows(workflowId);
    const advice = attempts.filter((a) => a.task === 'write-advice');
    expect(advice.map((a) => [a.kind, a.pool, a.valid])).toEqual([
      ['generate', 'small', false],
      ['regenerate', 'small', false],
      ['escalate', 'large', true],
    ]);
    expect(advice[2]!.routeReason).toContain('escalating from small to large');
    expect(advice[2]!.priceVersion).toBe('large-test-1');
  });

  it('leaves exactly the rows of the calls made when an activity fails after its model call and is retried', async () => {
    crashAfterCall.add('generate-keywords');
    const { workflowId, result } = await h.run('product-review', review);
    expect(result.status).toBe('completed');
    expect(h.model.requestsFor('generate_keywords')).toHaveLength(2);
    const { attempts } = await h.rows(workflowId);
    const kw = attempts.filter((a) => a.task === 'generate-keywords');
    expect(kw.map((a) => [a.attemptNo, a.activityAttempt])).toEqual([
      [1, 1],
      [1, 2],
    ]);
    // the first row's result never reached the workflow, so it was never validated
    expect(kw.map((a) => a.valid)).toEqual([null, true]);
    expect(attempts).toHaveLength(5);
  });

  it('retries 500 and 429 (honouring Retry-After) and records every call', async () => {
    h.model.script('extract_features', { status: 500 }, { status: 429, headers: { 'retry-after': '1' } });
    const { workflowId } = await h.run('product-review', review);
    const { attempts } = await h.rows(workflowId);
    const f = attempts.filter((a) => a.task === 'extract-features');
    expect(f.map((a) => [a.activityAttempt, a.httpStatus, a.valid])).toEqual([
      [1, 500, false],
      [2, 429, false],
      [3, 200, true],
    ]);
    expect(f[0]!.error).toContain('HTTP 500');
    expect(f[0]!.costUsd).toBe(0);
  });

  it('does not retry a 400 and moves to the larger pool', async () => {
    h.model.otherwise('extract_features', (body) =>
      body.model === 'scripted-small' ? { status: 400, message: 'bad request' } : { content: JSON.stringify(productReviewOutputs.extract_features) },
    );
    const { workflowId } = await h.run('product-review', review);
    const f = (await h.rows(workflowId)).attempts.filter((a) => a.task === 'extract-features');
    expect(f.map((a) => [a.pool, a.kind, a.httpStatus])).toEqual([
      ['small', 'generate', 400],
      ['large', 'escalate', 200],
    ]);
  });

  it('rejects invalid pipeline input with a typed error naming the field', async () => {
    const failure = await failureOf(h.run('product-review', { ...(review as object), price: 'cheap' }));
    expect(failure.type).toBe('InvalidPipelineInput');
    expect(failure.message).toContain('/price');
    expect(h.model.received).toHaveLength(0);
  });
});

describe('the cost budget of a run', () => {
  it('stops calling models once the run has spent its budget, with a typed failure', async () => {
    const workflowId = await h.start('product-review', review, { costBudgetUsd: 1e-7 });
    const failure = await failureOf(h.env.client.workflow.getHandle(workflowId).result());
    expect(failure.type).toBe('CostBudgetExceeded');
    expect(failure.message).toContain("the run's cost budget of $1e-7 is spent");
    const { attempts, run } = await h.rows(workflowId);
    expect(attempts).toHaveLength(1);
    expect(run).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('refuses an escalation that would overrun the budget, and says so', async () => {
    h.model.otherwise('extract_features', (body) =>
      body.model === 'scripted-small' ? { content: 'not JSON at all' } : { content: JSON.stringify(productReviewOutputs.extract_features) },
    );
    const workflowId = await h.start('product-review', review, { costBudgetUsd: 0.0005 });
    const failure = await failureOf(h.env.client.workflow.getHandle(workflowId).result());
    expect(failure.type).toBe('MicroTaskFailed');
    expect(failure.message).toContain("escalation to large (about $");
    expect(failure.message).toContain("would exceed the run's cost budget of $0.0005");
    expect((await h.rows(workflowId)).attempts.every((a) => a.pool === 'small')).toBe(true);
  });
});

describe('document-summary: chunks summarized in parallel, then combined', () => {
  const report = sample('document-summary', 'incident-report');
  const { parts, combined } = documentSummaryOutputs.incident;
  /** the part a summarize-chunk request is for, from 1 */
  const partOf = (body: ChatBody) => Number(/<part number="(\d+)"/.exec(body.messages[body.messages.length - 1]!.content)?.[1]);
  /** each part's valid summary, after a delay or replaced by an error where `reply` says, and the combination */
  const answerSummaries = (reply: (part: number) => { delayMs?: number } | { status: number; message: string } = () => ({})) => {
    h.model.otherwise('summarize_chunk', (body) => {
      const part = partOf(body);
      const r = reply(part);
      return 'status' in r ? r : { content: JSON.stringify(parts[part - 1] ?? { summary: `no part ${part}` }), ...r };
    });
    h.model.otherwise('combine_summaries', { content: JSON.stringify(combined) });
  };

  it('runs one micro-task per chunk and combines their summaries, with no section call for a short document', async () => {
    answerSummaries();
    const { workflowId, result } = await h.run('document-summary', report);
    expect(result.status).toBe('completed');
    expect((result.output as { summary: string }).summary).toBe(combined.summary);
    const { attempts, tasks } = await h.rows(workflowId);
    expect(attempts.filter((a) => a.task === 'summarize-chunk').map((a) => a.itemIndex).sort()).toEqual(parts.map((_, i) => i));
    expect(attempts[attempts.length - 1]!.task).toBe('combine-summaries');
    expect(tasks.every((t) => t.status === 'valid')).toBe(true);
    // the calls as before sections: one per part, then one combine of the part summaries
    expect(callsPerStep(attempts)).toEqual({ parts: parts.length, combined: 1 });
    expect(callsPerStep(tasks)).toEqual({ parts: parts.length, combined: 1 });
    expect(h.model.requestsFor('summarize_section')).toHaveLength(0);
    expect(h.model.requestsFor('combine_summaries')[0]!.messages.at(-1)!.content).toContain('Summaries of the parts, in order:');
    // the sections step ran no item and is done
    expect(result.progress?.steps.map((s) => [s.id, s.status, s.items, s.done])).toEqual([
      ['parts', 'valid', parts.length, parts.length],
      ['sections', 'valid', 0, 0],
      ['combined', 'valid', 1, 1],
    ]);
  });

  it('summarizes a 60,000-character document to its end: parts, sections of consecutive parts, then the sections combined', async () => {
    const doc = longDepotReview();
    expect(doc.text.length).toBeGreaterThan(58_000);
    expect(doc.text.length).toBeLessThanOrEqual(60_000);
    const partCount = chunkText(doc.text, CHUNK_CHARS).length;
    const sectionCount = Math.ceil(partCount / SECTION_PARTS);
    expect(sectionCount).toBeGreaterThan(1);
    answerDocumentSummaryFromPrompts(h.model);

    const { workflowId, result } = await h.run('document-summary', doc);
    expect(result.status).toBe('completed');
    const output = result.output as { summary: string; keyPoints: string[]; parts: string[] };
    expect(output.parts).toHaveLength(partCount);
    expect(output.keyPoints.length).toBeGreaterThanOrEqual(3);

    const { attempts, tasks, run } = await h.rows(workflowId);
    // every call valid at its first attempt on the small pool: one call per part, per section and the final one
    expect(callsPerStep(attempts)).toEqual({ parts: partCount, sections: sectionCount, combined: 1 });
    expect(attempts.every((a) => a.kind === 'generate' && a.valid && a.pool === 'small')).toBe(true);
    expect(callsPerStep(tasks)).toEqual({ parts: partCount, sections: sectionCount, combined: 1 });
    expect(tasks.every((t) => t.status === 'valid')).toBe(true);
    expect(tasks.filter((t) => t.step === 'sections').map((t) => [t.task, t.itemIndex]).sort((a, b) => Number(a[1]) - Number(b[1]))).toEqual(
      Array.from({ length: sectionCount }, (_, i) => ['summarize-section', i]),
    );
    expect(run).toMatchObject({ status: 'completed', attempts: partCount + sectionCount + 1 });

    // each section read its own consecutive part summaries; the final combine read the section summaries
    const sectionPrompts = h.model.requestsFor('summarize_section').map((b) => b.messages.at(-1)!.content);
    const firstParts = sectionPrompts.map((p) => Number(/Summaries of parts (\d+)-/.exec(p)?.[1])).sort((a, b) => a - b);
    expect(firstParts).toEqual(sectionRanges(partCount).map((r) => r.start + 1));
    const finalPrompt = h.model.requestsFor('combine_summaries')[0]!.messages.at(-1)!.content;
    expect(finalPrompt).toContain('Summaries of the sections, in order:');
    const sectionSummaries = tasks.filter((t) => t.step === 'sections').sort((a, b) => a.itemIndex - b.itemIndex).map((t) => (t.output as { summary: string }).summary);
    for (const [i, s] of sectionSummaries.entries()) expect(finalPrompt).toContain(`${i + 1}. ${s}`);
    expect(result.progress?.steps.map((s) => [s.id, s.status, s.items, s.done])).toEqual([
      ['parts', 'valid', partCount, partCount],
      ['sections', 'valid', sectionCount, sectionCount],
      ['combined', 'valid', 1, 1],
    ]);
  });

  it('lets parallel chunks wait for the calls in flight instead of overspending the cost budget', async () => {
    answerSummaries();
    const workflowId = await h.start('document-summary', report, { costBudgetUsd: 1e-7 });
    const failure = await failureOf(h.env.client.workflow.getHandle(workflowId).result());
    expect(failure.type).toBe('CostBudgetExceeded');
    const { attempts, tasks } = await h.rows(workflowId);
    // one chunk's call started; the others in flight waited for it, saw the budget spent and started
    // none; their failure kept part 5 from starting at all
    expect(attempts).toHaveLength(1);
    expect(tasks.filter((t) => t.status === 'failed').map((t) => t.itemIndex).sort()).toEqual([1, 2, 3]);
    expect(tasks.map((t) => t.itemIndex)).not.toContain(4);
  });

  // the test pool serves four calls at once, and the report has five parts
  it('starts the next part as soon as one ends: a slow part holds up none of the others', async () => {
    answerSummaries((part) => ({ delayMs: part === 1 ? 2000 : 100 }));
    const { workflowId, result } = await h.run('document-summary', report);
    expect(result.status).toBe('completed');
    const started = h.model.requestsFor('summarize_chunk').map(partOf);
    expect(started.slice(0, 4).sort()).toEqual([1, 2, 3, 4]);
    expect(started[4]).toBe(5);
    // part 5 started when one of parts 2-4 ended, so it was done long before part 1
    const done = (await h.rows(workflowId)).tasks.filter((t) => t.task === 'summarize-chunk').map((t) => t.itemIndex);
    expect(done.indexOf(4)).toBeLessThan(done.indexOf(0));
  });

  it('starts no part after one has failed; the parts in flight finish and keep their rows', async () => {
    answerSummaries((part) => (part === 2 ? { status: 400, message: 'scripted: part 2 refused' } : { delayMs: part === 1 ? 1500 : 600 }));
    const workflowId = await h.start('document-summary', report);
    const failure = await failureOf(h.env.client.workflow.getHandle(workflowId).result());
    expect(failure.type).toBe('MicroTaskFailed');
    expect(failure.message).toContain('step parts[1]');
    const { attempts, tasks, run } = await h.rows(workflowId);
    expect(tasks.map((t) => [t.itemIndex, t.status]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
      [0, 'valid'],
      [1, 'failed'],
      [2, 'valid'],
      [3, 'valid'],
    ]);
    expect(h.model.requestsFor('summarize_chunk').map(partOf)).not.toContain(5);
    expect(attempts.some((a) => a.task === 'combine-summaries')).toBe(false);
    // the failed part's calls count in the run's totals beside those of the parts that finished
    expect(run?.status).toBe('failed');
    expect(run?.attempts).toBe(attempts.length);
  });

  it('completes on a budget just above what the run really spends', async () => {
    answerSummaries();
    const free = await h.run('document-summary', report);
    const spent = free.result.totals.costUsd;
    expect(spent).toBeGreaterThan(0);
    const { result } = await h.run('document-summary', report, { costBudgetUsd: spent * 1.02 });
    expect(result.status).toBe('completed');
    expect(result.totals.costUsd).toBeCloseTo(spent, 10);
  });
});
