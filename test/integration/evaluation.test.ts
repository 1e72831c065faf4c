import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { evaluate, loadConfigs } from '../../client/eval-run.js';
import { parseDataset } from '../../core/eval/dataset.js';
import { datasetSchemas, stepLabels } from '../../core/eval/labels.js';
import type { ConfigFigures, EvalItem } from '../../core/eval/report.js';
import { getPipeline } from '../../pipelines/index.js';
import { answerProductReview, invoiceOutputs, productReviewOutputs, sample } from '../support/fixtures.js';
import { startHarness, type Harness } from '../support/harness.js';

const invoice = sample('invoice-extraction', 'uk-office-supplies');
const right = invoiceOutputs.uk;

describe('shadow sampling', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ adjust: (r) => void (r.shadow = { 'extract-invoice': { pool: 'large', share: 1 } }) });
  });
  afterAll(async () => h?.stop());
  beforeEach(() => h.model.reset());

  /** The shadow rows of a live run, once its shadow has recorded (it is not waited for by the run). */
  async function shadowRows(workflowId: string, timeoutMs = 20_000) {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await h.pgPool.query(`select * from shadow_results where workflow_id = $1`, [workflowId]);
      if (rows.length > 0 || Date.now() > until) return rows;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it('runs a sampled micro-task again on the shadow pool after the result, and records field agreement', async () => {
    // the large pool reads the due date wrongly as absent, and answers slowly
    h.model.otherwise('extract_invoice', (body) =>
      body.model === 'scripted-large' ? { content: JSON.stringify({ ...right, dueDate: null }), delayMs: 2500 } : { content: JSON.stringify(right) },
    );
    const started = Date.now();
    const { workflowId, result } = await h.run('invoice-extraction', invoice);
    // the caller's result did not wait for the slow shadow call
    expect(result.status).toBe('completed');
    expect(Date.now() - started).toBeLessThan(2500);
    expect((await h.pgPool.query(`select 1 from shadow_results where workflow_id = $1`, [workflowId])).rowCount).toBe(0);

    const [row] = await shadowRows(workflowId);
    expect(row).toMatchObject({ task: 'extract-invoice', live_pool: 'small', shadow_pool: 'large', shadow_status: 'valid', agreed: false, step: 'invoice', item_index: -1 });
    expect(row.fields).toMatchObject({ vendor: true, invoiceNumber: true, total: true, lines: true, dueDate: false });
    expect(row.cost_usd).toBeGreaterThan(0);
    // the shadow's own call is recorded, under its own workflow and a pipeline name analysts can exclude
    const calls = await h.pgPool.query(`select pool, pipeline from model_attempts where workflow_id = $1`, [row.shadow_workflow_id]);
    expect(calls.rows).toEqual([{ pool: 'large', pipeline: 'shadow:invoice-extraction' }]);
    // the live run's totals hold only its own call
    const { run } = await h.rows(workflowId);
    expect(run!.attempts).toBe(1);
  });

  it('aggregates agreement per task, day and field in shadow_agreement', async () => {
    h.model.otherwise('extract_invoice', { content: JSON.stringify(right) });
    const { workflowId } = await h.run('invoice-extraction', invoice);
    await shadowRows(workflowId);
    const { rows } = await h.pgPool.query(
      `select field, samples, agreed, agreement::float as agreement from shadow_agreement where task = 'extract-invoice' and live_pool = 'small' and shadow_pool = 'large' and field in ('dueDate', 'vendor', '(whole output)') order by field`,
    );
    // this run agreed on everything; the first test's shadow disagreed on the due date
    expect(rows).toEqual([
      { field: '(whole output)', samples: 2, agreed: 1, agreement: 0.5 },
      { field: 'dueDate', samples: 2, agreed: 1, agreement: 0.5 },
      { field: 'vendor', samples: 2, agreed: 2, agreement: 1 },
    ]);
  });

  it('takes no sample from a run whose routing turns shadowing off, as evaluation runs do', async () => {
    h.model.otherwise('extract_invoice', { content: JSON.stringify(right) });
    const { workflowId } = await h.run('invoice-extraction', invoice, { routing: { shadow: false } });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await shadowRows(workflowId, 0)).toEqual([]);
    expect(h.model.requestsFor('extract_invoice').map((b) => b.model)).toEqual(['scripted-small']);
  });
});

describe('the single-prompt strategy (evaluation baseline)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.stop());

  it('does the whole job in one call on the small pool, takes what parses, and never repairs or escalates', async () => {
    // a wrong total and a vendor in capitals: the contracts would flag both; the baseline has none
    const answer = { invoice: { ...right, vendor: 'NORTHWIND', total: 1 } };
    h.model.otherwise('single_prompt_invoice_extraction', { content: '```json\n' + JSON.stringify(answer) + '\n```' });
    const { workflowId, result } = await h.run('invoice-extraction', invoice, { strategy: 'single-prompt', routing: { routes: { '*': 'small' } } });
    expect(result).toMatchObject({ status: 'completed', output: answer });
    const { attempts, tasks } = await h.rows(workflowId);
    expect(attempts.map((a) => [a.task, a.pool, a.kind])).toEqual([['single-prompt-invoice-extraction', 'small', 'generate']]);
    expect(tasks.map((t) => [t.step, t.status, t.repairs, t.escalations])).toEqual([['single-prompt', 'valid', 0, 0]]);
    const [req] = h.model.requestsFor('single_prompt_invoice_extraction');
    // the one prompt holds the input and every step's description and shape
    expect(req!.messages[1]!.content).toContain('NW-2024-0417');
    expect(req!.messages[1]!.content).toContain('"invoice":');
    expect(req!.response_format?.json_schema?.schema).toMatchObject({ properties: { invoice: { type: 'object' } } });
  });
});

describe('a run through one step (how evaluation runs a pipeline)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.stop());

  it('runs the steps as far as the named one and no further, its result the steps\' results', async () => {
    answerProductReview(h.model);
    const { workflowId, result } = await h.run('product-review', sample('product-review', 'wireless-headphones'), { throughStep: 'features' });
    expect(result).toMatchObject({ status: 'completed', output: { features: productReviewOutputs.extract_features } });
    expect((await h.rows(workflowId)).attempts.map((a) => a.task)).toEqual(['extract-features']);
  });

  it('refuses a step the pipeline does not have, before any call', async () => {
    const workflowId = await h.start('product-review', sample('product-review', 'wireless-headphones'), { throughStep: 'verdict' });
    await expect(h.env.client.workflow.getHandle(workflowId).result()).rejects.toThrow();
    const { attempts } = await h.rows(workflowId);
    expect(attempts).toEqual([]);
  });
});

describe('an evaluation of tickets on their classification and fields (what `npm run eval -- --configs` runs)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.stop());

  it('scores both steps in one run: a wrong category in a valid classification is a silent error, a right one is correct', async () => {
    const tickets = getPipeline('ticket-triage');
    const file = fileURLToPath(new URL('../../pipelines/ticket-triage/eval/tickets.jsonl', import.meta.url));
    const examples = parseDataset(file, fs.readFileSync(file, 'utf8'), datasetSchemas(tickets)).filter((e) => ['hinglish-double-charge', 'rm-amount-malay'].includes(e.id));
    expect(examples).toHaveLength(2);
    const labels = (id: string) => Object.fromEntries(stepLabels(tickets.evaluation!, examples.find((e) => e.id === id)!.expected).map((l) => [l.step, l.label]));
    // both are double charges, billing and urgent; the model calls the Malay one technical, which every contract accepts
    expect(labels('rm-amount-malay').classification).toEqual({ category: 'billing', priority: 'urgent' });
    const malay = (body: { messages: { content: string }[] }) => body.messages[1]!.content.includes('ORD-902344');
    h.model.otherwise('classify_ticket', (body) => ({
      content: JSON.stringify({ category: malay(body) ? 'technical' : 'billing', priority: 'urgent', sentiment: 'negative', reason: 'The customer was charged twice for one renewal.' }),
    }));
    h.model.otherwise('extract_ticket_fields', (body) => ({ content: JSON.stringify(labels(malay(body) ? 'rm-amount-malay' : 'hinglish-double-charge').fields) }));
    // the one-prompt baseline returns both steps in one object: right categories, a priority one step too low
    h.model.otherwise('single_prompt_ticket_triage_through_fields', (body) => {
      const l = labels(malay(body) ? 'rm-amount-malay' : 'hinglish-double-charge');
      return { content: JSON.stringify({ classification: { ...l.classification, priority: 'high', sentiment: 'negative', reason: 'The customer was charged twice.' }, fields: l.fields }) };
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eval-'));
    const evalId = `tickets-${randomUUID().slice(0, 8)}`;
    const status = await evaluate(
      { client: h.env.client, db: h.db, workflowUrl: (w) => `http://temporal.test/workflows/${w}` },
      {
        file,
        pipeline: tickets,
        evaluation: tickets.evaluation!,
        examples,
        configs: loadConfigs(['ladder', 'single-prompt'], undefined),
        concurrency: 2,
        id: evalId,
        out: path.join(dir, 'report.json'),
        html: path.join(dir, 'report.html'),
        compare: undefined,
        gate: { maxSilentErrors: 0.1 },
      },
    );
    // the baseline's silent errors (2 of 12 fields) are above the gate of 10%, the ladder's (1 of 12) are not
    expect(status).toBe(1);
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as { steps: string[]; figures: ConfigFigures[]; items: EvalItem[] };
    expect(report.steps).toEqual(['classification', 'fields']);
    const item = (id: string, config = 'ladder') => report.items.find((i) => i.exampleId === id && i.config === config)!;
    // the right classification: every field of both steps correct
    expect(item('hinglish-double-charge')).toMatchObject({ status: 'valid', fieldsScored: 6, fieldsCorrect: 6, silentErrors: 0 });
    // the wrong category: valid output, one wrong field, counted as a silent error and named by its step
    expect(item('rm-amount-malay')).toMatchObject({ status: 'valid', fieldsScored: 6, fieldsCorrect: 5, silentErrors: 1 });
    expect(item('rm-amount-malay').scores.filter((s) => !s.pass)).toEqual([expect.objectContaining({ step: 'classification', path: '/classification/category', expected: 'billing', actual: 'technical' })]);
    const [ladder, single] = report.figures;
    expect(ladder).toMatchObject({ config: 'ladder', examples: 2, valid: 2, silentErrors: 1, flagged: 0 });
    expect(ladder!.accuracy).toBeCloseTo(11 / 12, 10);
    expect(ladder!.perField).toMatchObject({ '/classification/category': 0.5, '/classification/priority': 1, '/fields/orderId': 1, '/fields/amount': 1 });
    // the single prompt's one answer is split per step, each part scored with its step's comparators
    expect(single).toMatchObject({ config: 'single-prompt', examples: 2, valid: 2, silentErrors: 2 });
    expect(single!.perField).toMatchObject({ '/classification/category': 1, '/classification/priority': 0, '/fields/orderId': 1 });
    expect(item('rm-amount-malay', 'single-prompt').scores.filter((s) => !s.pass).map((s) => s.path)).toEqual(['/classification/priority']);
    const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
    expect(html).toContain('labelled steps classification, fields');
    expect(html).toContain('<th scope="row">/classification/category</th><td>50.0%</td>');
    // the run went as far as the fields, the last labelled step: no reply was drafted
    expect(h.model.requestsFor('draft_reply')).toEqual([]);
    const rows = await h.pgPool.query(`select config, example_id, silent_errors from eval_items where eval_id = $1 order by config, example_id`, [evalId]);
    expect(rows.rows).toEqual([
      { config: 'ladder', example_id: 'hinglish-double-charge', silent_errors: 0 },
      { config: 'ladder', example_id: 'rm-amount-malay', silent_errors: 1 },
      { config: 'single-prompt', example_id: 'hinglish-double-charge', silent_errors: 1 },
      { config: 'single-prompt', example_id: 'rm-amount-malay', silent_errors: 1 },
    ]);
  });
});
