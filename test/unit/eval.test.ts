import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { calibrationExamples, goldAsModel, runMutants, type CalibrationExample } from '../../core/eval/calibrate.js';
import { compareValue, scoreOutput } from '../../core/eval/compare.js';
import { DatasetError, parseDataset } from '../../core/eval/dataset.js';
import { mutantsOf } from '../../core/eval/mutants.js';
import { comparison, figuresOf, figuresTable, gateFailures, type EvalItem } from '../../core/eval/report.js';
import { loadConfigs } from '../../client/eval-run.js';
import { getPipeline } from '../../pipelines/index.js';
import { validateValue } from '../../core/validate.js';
import { definePipeline, evaluationThrough, labelledSteps } from '../../core/contract.js';
import { datasetSchemas, examplesOfStep, scoreExample, stepLabels } from '../../core/eval/labels.js';
import { z } from 'zod';

const invoices = getPipeline('invoice-extraction');
const evaluation = labelledSteps(invoices.evaluation!)[0]!;
const schemas = { input: invoices.input, fields: Object.keys(evaluation.comparators) };
const DATASET = fileURLToPath(new URL('../../pipelines/invoice-extraction/eval/invoices.jsonl', import.meta.url));

function calibrationSet(): CalibrationExample[] {
  const step = invoices.steps.find((s) => s.id === evaluation.step)!;
  return calibrationExamples(invoices.input, step, parseDataset(DATASET, readFileSync(DATASET, 'utf8'), schemas));
}

describe('labelled datasets', () => {
  it('reads examples with their split', () => {
    const rows = parseDataset(DATASET, readFileSync(DATASET, 'utf8'), schemas);
    const raw = readFileSync(DATASET, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { id: string; split?: string; knownDefect?: string });
    expect(rows.length).toBe(raw.length);
    expect(rows.length).toBeGreaterThanOrEqual(25);
    expect(rows.filter((r) => r.heldOut).map((r) => r.id)).toEqual(raw.filter((r) => r.split === 'held-out').map((r) => r.id));
    expect(rows.filter((r) => r.heldOut).length).toBeGreaterThanOrEqual(5);
    expect(rows.filter((r) => r.knownDefect).map((r) => r.id)).toEqual(raw.filter((r) => r.knownDefect).map((r) => r.id));
  });

  it('refuses a file with any malformed line, naming every line and field', () => {
    const text = [
      '{"id":"a","input":{"text":"INVOICE 1 from Acme, total 10.00"},"expected":{"total":10}}',
      'not json',
      '{"id":"a","input":{"text":"short"},"expected":{"totl":10}}',
      '{"id":"c","expected":{}, "extra": 1}',
    ].join('\n');
    let err: unknown;
    try {
      parseDataset('x.jsonl', text, schemas);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DatasetError);
    const problems = (err as DatasetError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^line 2: not JSON/),
        'line 3: id: "a" is also the id of line 1',
        expect.stringMatching(/^line 3: input\.text: /),
        expect.stringMatching(/^line 3: expected\.totl: not a field of the output/),
        expect.stringMatching(/^line 4: (\(root\)|extra): /),
      ]),
    );
  });
});

describe('field comparators', () => {
  it('score each kind of field', () => {
    expect(compareValue('NW-2024-0417', 'nw 2024 0417', { kind: 'text' }).pass).toBe(true);
    expect(compareValue('Northwind Office Supply', 'Northwind Office Supply Ltd.', { kind: 'contains' }).pass).toBe(true);
    expect(compareValue(373.39, 373.4, { kind: 'number', tolerance: 0.01 }).pass).toBe(true);
    expect(compareValue(373.39, 373.5, { kind: 'number', tolerance: 0.01 }).pass).toBe(false);
    expect(compareValue('2024-04-03', '2024-03-04', { kind: 'date' }).pass).toBe(false);
    expect(compareValue(null, null, { kind: 'date' }).pass).toBe(true);
    expect(compareValue('the change was rolled back at 10:52', 'rolled back at 10:52 after an hour', { kind: 'overlap', threshold: 0.6 })).toMatchObject({ pass: true });
  });

  it('scores a list by precision and recall, matching items field by field', () => {
    const c = { kind: 'set' as const, fields: { description: { kind: 'text' as const }, amount: { kind: 'number' as const } } };
    const want = [{ description: 'Chair', amount: 10 }, { description: 'Desk', amount: 20 }];
    expect(compareValue(want, [{ description: 'chair', amount: 10 }, { description: 'Desk', amount: 20 }], c)).toMatchObject({ pass: true, precision: 1, recall: 1 });
    const r = compareValue(want, [{ description: 'Chair', amount: 10 }, { description: 'Desk', amount: 25 }, { description: 'Lamp', amount: 5 }], c);
    expect(r).toMatchObject({ pass: false, precision: 1 / 3, recall: 1 / 2 });
  });

  it('scores only the labelled fields', () => {
    const scores = scoreOutput({ vendor: 'Acme', total: 10 }, { vendor: 'ACME', total: 11, currency: 'USD' }, evaluation.comparators);
    expect(scores.map((s) => [s.path, s.pass])).toEqual([
      ['/vendor', true],
      ['/total', false],
    ]);
  });
});

describe('contract calibration on the shipped invoices', () => {
  it('accepts every correct answer but the known defects (gold as model)', () => {
    const known = parseDataset(DATASET, readFileSync(DATASET, 'utf8'), schemas)
      .filter((e) => e.knownDefect)
      .map((e) => e.id);
    expect(goldAsModel(invoices.steps[0]!.task, calibrationSet(), evaluation.comparators).map((d) => d.id)).toEqual(known);
  });

  it('makes each kind of mistake, and catches most of them; what it misses is listed', () => {
    const outcomes = runMutants(invoices.steps[0]!.task, calibrationSet());
    const kinds = new Set(outcomes.map((o) => o.mistake));
    expect([...kinds].sort()).toEqual(['day-month-swapped', 'item-copied', 'number-from-other-item', 'other-span-of-input', 'value-not-in-input']);
    // other spans of the invoice that fit a field are mostly undetectable by grounding (they are in
    // the text): what is left of them is what accuracy has to measure
    const caught = outcomes.filter((o) => o.caught).length / outcomes.length;
    expect(caught).toBeGreaterThan(0.7);
    // the buyer's name for the vendor is caught where the invoice labels the buyer's block
    const buyer = calibrationSet().find((e) => e.id === 'sg-it-services-usd-bill-to-first')!;
    const v = validateValue(invoices.steps[0]!.task, { ...(buyer.expected as object), vendor: 'Kaveri Analytics Pvt. Ltd.' }, { input: buyer.input, context: buyer.context });
    expect(v.issues.map((i) => [i.path, i.check])).toContainEqual(['/vendor', 'vendor-not-buyer']);
    // every invented value and every number taken from another line is caught
    expect(outcomes.filter((o) => o.mistake === 'value-not-in-input' || o.mistake === 'number-from-other-item').every((o) => o.caught)).toBe(true);
    // hundreds of mutants, each through the contracts and the guided schema
  }, 30_000);

  it('mutates a date only where day and month can be told apart', () => {
    expect(mutantsOf({ d: '2024-04-03' }, '').map((m) => m.value)).toContain('2024-03-04');
    expect(mutantsOf({ d: '2024-04-23' }, '').filter((m) => m.mistake === 'day-month-swapped')).toEqual([]);
  });
});

describe('contract calibration on the shipped tickets', () => {
  const tickets = getPipeline('ticket-triage');
  const ev = tickets.evaluation!;
  const file = fileURLToPath(new URL('../../pipelines/ticket-triage/eval/tickets.jsonl', import.meta.url));
  const examples = parseDataset(file, readFileSync(file, 'utf8'), datasetSchemas(tickets));
  const setOf = (id: string) => {
    const entry = labelledSteps(ev).find((s) => s.step === id)!;
    const step = tickets.steps.find((s) => s.id === id)!;
    return { entry, step, set: calibrationExamples(tickets.input, step, examplesOfStep(ev, id, examples), entry.upstream, entry.unlabelled) };
  };

  it('labels the classification and the fields of every ticket, in one run as far as the fields', () => {
    expect(labelledSteps(ev).map((s) => s.step)).toEqual(['classification', 'fields']);
    expect(evaluationThrough(tickets)).toBe('fields');
    expect(examples.length).toBe(29);
    for (const e of examples) {
      const labels = stepLabels(ev, e.expected);
      expect(labels.map((l) => [l.step, Object.keys(l.label).sort()])).toEqual([
        ['classification', ['category', 'priority']],
        ['fields', ['amount', 'orderId', 'product', 'requestedAction']],
      ]);
      // on the catalog's own taxonomy and scale (the shipped default scale where it brings none)
      const { catalog } = tickets.input.parse(e.input) as { catalog: { categories: object; priorities: object } };
      expect(Object.keys(catalog.categories)).toContain(labels[0]!.label.category);
      expect(Object.keys(catalog.priorities)).toContain(labels[0]!.label.priority);
    }
  });

  it('accepts every correct field answer, under the guided schema too (rupee, ringgit and Singapore-dollar amounts are offered)', () => {
    const { entry, step, set } = setOf('fields');
    expect(set.length).toBe(29);
    expect(goldAsModel(step.task, set, entry.comparators)).toEqual([]);
  });

  it('accepts every labelled category and priority under the taxonomy and the priority rules, and catches every other name', () => {
    const { entry, step, set } = setOf('classification');
    expect(set.length).toBe(29);
    // the unlabelled sentiment and reason are filled in; only the labels are mutated
    expect(set[0]!.expected).toMatchObject({ sentiment: 'neutral', category: 'billing', priority: 'urgent' });
    expect(set[0]!.labelled).toEqual(['category', 'priority']);
    expect(goldAsModel(step.task, set, entry.comparators)).toEqual([]);
    const outcomes = runMutants(step.task, set);
    expect(outcomes.length).toBeGreaterThanOrEqual(2 * 29);
    expect(new Set(outcomes.map((o) => o.path))).toEqual(new Set(['/category', '/priority']));
    expect(outcomes.filter((o) => !o.caught)).toEqual([]);
  });

  it('rejects a label the priority rules rule out: an enterprise ticket is never low', () => {
    const { step, set } = setOf('classification');
    const enterprise = set.find((e) => e.id === 'nimbus-forwarded-receipt-seats')!;
    const v = validateValue(step.task, { ...(enterprise.expected as object), priority: 'low' }, { input: enterprise.input, context: enterprise.context });
    expect(v.issues.map((i) => i.path)).toContain('/priority');
  });
});

describe('labels of several steps', () => {
  const two = {
    steps: [
      { step: 'classification', comparators: { category: { kind: 'exact' as const }, priority: { kind: 'exact' as const } } },
      { step: 'fields', comparators: { orderId: { kind: 'text' as const }, amount: { kind: 'text' as const } } },
    ],
  };
  const expected = { classification: { category: 'billing', priority: 'urgent' }, fields: { orderId: 'ORD-771203', amount: '₹1,299' } };
  const right = { classification: { category: 'billing', priority: 'urgent', sentiment: 'negative' }, fields: { orderId: 'ord-771203', amount: '₹1,299', product: 'Nimbus Pro' } };

  it('reads a label per step, and names a step, a field or a shape that is not one', () => {
    const schemas2 = datasetSchemas({ input: z.object({ text: z.string() }), evaluation: two });
    expect(schemas2).toMatchObject({ steps: { classification: ['category', 'priority'], fields: ['orderId', 'amount'] } });
    const ok = parseDataset('t.jsonl', JSON.stringify({ id: 'a', input: { text: 'x' }, expected }), schemas2);
    expect(stepLabels(two, ok[0]!.expected).map((l) => [l.step, l.label])).toEqual([
      ['classification', expected.classification],
      ['fields', expected.fields],
    ]);
    // an example may label some of the steps only
    expect(examplesOfStep(two, 'fields', [{ ...ok[0]!, expected: { fields: { amount: null } } }]).map((e) => e.expected)).toEqual([{ amount: null }]);
    expect(examplesOfStep(two, 'classification', [{ ...ok[0]!, expected: { fields: { amount: null } } }])).toEqual([]);
    const bad = [
      { id: 'b', input: { text: 'x' }, expected: { category: 'billing' } },
      { id: 'c', input: { text: 'x' }, expected: { classification: 'billing' } },
      { id: 'd', input: { text: 'x' }, expected: { classification: { categry: 'billing' } } },
      { id: 'e', input: { text: 'x' }, expected: {} },
    ];
    let err: unknown;
    try {
      parseDataset('t.jsonl', bad.map((r) => JSON.stringify(r)).join('\n'), schemas2);
    } catch (e) {
      err = e;
    }
    expect((err as DatasetError).problems).toEqual([
      'line 1: expected.category: not a labelled step (labels are per step: classification, fields)',
      'line 2: expected.classification: the labels of step classification are an object of its fields (category, priority)',
      "line 3: expected.classification.categry: not a field of step classification's output (fields: category, priority)",
      'line 4: expected: labels none of the labelled steps (classification, fields)',
    ]);
  });

  it('scores each step with its own comparators, its fields named by their step', () => {
    const s = scoreExample(two, expected, { classification: { status: 'valid', output: right.classification }, fields: { status: 'valid', output: right.fields } });
    expect(s).toMatchObject({ status: 'valid', fieldsScored: 4, fieldsCorrect: 4, silentErrors: 0 });
    expect(s.scores.map((x) => [x.step, x.path, x.pass])).toEqual([
      ['classification', '/classification/category', true],
      ['classification', '/classification/priority', true],
      ['fields', '/fields/orderId', true],
      ['fields', '/fields/amount', true],
    ]);
  });

  it('counts a wrong category in a valid classification as a silent error, and not where the step is flagged', () => {
    const wrong = { ...right.classification, category: 'technical' };
    const silent = scoreExample(two, expected, { classification: { status: 'valid', output: wrong }, fields: { status: 'valid', output: right.fields } });
    expect(silent).toMatchObject({ status: 'valid', fieldsCorrect: 3, silentErrors: 1 });
    expect(silent.scores.find((x) => !x.pass)).toMatchObject({ path: '/classification/category', expected: 'billing', actual: 'technical' });
    // the same wrong category in a classification left partial is flagged, not silent; the item is partial
    const flagged = scoreExample(two, expected, { classification: { status: 'partial', output: wrong }, fields: { status: 'valid', output: { ...right.fields, amount: '₹2,598' } } });
    expect(flagged).toMatchObject({ status: 'partial', fieldsCorrect: 2, silentErrors: 1 });
    // a step with no result (the run failed before it) is failed, its fields wrong and not silent
    const failed = scoreExample(two, expected, { classification: { status: 'valid', output: right.classification } });
    expect(failed).toMatchObject({ status: 'failed', fieldsScored: 4, fieldsCorrect: 2, silentErrors: 0 });
  });

  it('scores the one-step form as before: the label is the step\'s fields, paths without the step', () => {
    const one = { step: 'fields', comparators: { amount: { kind: 'text' as const } } };
    const s = scoreExample(one, { amount: '₹1,299' }, { fields: { status: 'valid', output: { amount: '₹1,298' } } });
    expect(s).toMatchObject({ status: 'valid', fieldsScored: 1, fieldsCorrect: 0, silentErrors: 1, scores: [{ path: '/amount', step: 'fields' }] });
    expect(datasetSchemas({ input: z.object({}), evaluation: one })).toMatchObject({ fields: ['amount'] });
  });

  it('gives accuracy per field by its path in the label, so classification and fields stay apart', () => {
    const items = [silentItem('valid', true), silentItem('valid', false), silentItem('partial', false)];
    const f = figuresOf(items, 'ladder');
    expect(Object.keys(f.perField)).toEqual(['/classification/category', '/classification/priority', '/fields/orderId']);
    expect(f.perField['/classification/category']).toBeCloseTo(1 / 3, 10);
    expect(f.perField['/fields/orderId']).toBe(1);
    expect(f).toMatchObject({ valid: 2, flagged: 1, silentErrors: 1 });
  });

  it('runs a pipeline as far as its last labelled step, in the pipeline\'s order, and refuses a step it does not have', () => {
    const task = getPipeline('ticket-triage').steps[0]!.task;
    const steps = ['a', 'b', 'c'].map((id) => ({ id, task, input: () => ({}) }));
    const base = { name: 'p-eval', version: 1, description: 'd', input: z.object({}), steps, assemble: () => ({}) };
    expect(evaluationThrough({ steps, evaluation: { steps: [{ step: 'b', comparators: {} }, { step: 'a', comparators: {} }] } })).toBe('b');
    expect(evaluationThrough({ steps, evaluation: { step: 'c', comparators: {} } })).toBe('c');
    expect(() => definePipeline({ ...base, evaluation: { steps: [{ step: 'a', comparators: {} }, { step: 'd', comparators: {} }] } })).toThrow(/labels step "d", which it does not have/);
    expect(() => definePipeline({ ...base, evaluation: { steps: [{ step: 'a', comparators: {} }, { step: 'a', comparators: {} }] } })).toThrow(/labels step a twice/);
    expect(() => definePipeline({ ...base, evaluation: { steps: [] } })).toThrow(/labels no step/);
  });

  it('fills in a step\'s unlabelled fields for calibration, and mutates the labelled ones only', () => {
    const tickets = getPipeline('ticket-triage');
    const step = tickets.steps[0]!;
    const input = { ticket: { subject: 'Charged twice', body: 'I was charged $20.00 twice for Nimbus Pro, order ORD-100200.', customerName: 'Ana Lim', tier: 'pro' }, catalog: { company: 'Nimbus Cloud', products: ['Nimbus Pro'], orderIdFormat: 'ORD- and 6 digits' } };
    const example = { id: 'x', input, expected: { category: 'billing', priority: 'urgent' }, heldOut: false, line: 1 };
    const [c] = calibrationExamples(tickets.input, step, [example], undefined, () => ({ sentiment: 'negative', reason: 'Stand-in reason for the test only.' }));
    expect(c!.expected).toEqual({ sentiment: 'negative', reason: 'Stand-in reason for the test only.', category: 'billing', priority: 'urgent' });
    expect(goldAsModel(step.task, [c!])).toEqual([]);
    expect(new Set(runMutants(step.task, [c!]).map((o) => o.path))).toEqual(new Set(['/category', '/priority']));
  });
});

function silentItem(status: string, categoryRight: boolean): EvalItem {
  const scores = [
    { step: 'classification', path: '/classification/category', pass: categoryRight },
    { step: 'classification', path: '/classification/priority', pass: true },
    { step: 'fields', path: '/fields/orderId', pass: true },
  ];
  const correct = scores.filter((s) => s.pass).length;
  return {
    config: 'ladder', exampleId: `${status}-${categoryRight}`, heldOut: false, status, fieldsScored: 3, fieldsCorrect: correct, silentErrors: status === 'valid' ? 3 - correct : 0, scores,
    repairs: 0, escalations: 0, promptTokens: 1, completionTokens: 1, costUsd: 0, referenceCostUsd: 0, latencyMs: 1,
  };
}

describe('evaluation figures', () => {
  const item = (over: Partial<EvalItem>): EvalItem => ({
    config: 'ladder', exampleId: 'a', heldOut: false, status: 'valid', fieldsScored: 4, fieldsCorrect: 4, silentErrors: 0,
    scores: [{ path: '/vendor', pass: true }, { path: '/total', pass: true }, { path: '/issueDate', pass: true }, { path: '/lines', pass: true }],
    repairs: 0, escalations: 0, promptTokens: 100, completionTokens: 50, costUsd: 0.001, referenceCostUsd: 0.01, latencyMs: 1000, ...over,
  });

  it('counts wrong fields of accepted outputs as silent errors, and partial or failed runs as flagged', () => {
    const items = [
      item({}),
      item({ exampleId: 'b', fieldsCorrect: 3, silentErrors: 1, scores: [{ path: '/vendor', pass: false }, { path: '/total', pass: true }, { path: '/issueDate', pass: true }, { path: '/lines', pass: true }] }),
      item({ exampleId: 'c', status: 'partial', fieldsCorrect: 2, scores: [{ path: '/vendor', pass: true }, { path: '/total', pass: false }, { path: '/issueDate', pass: false }, { path: '/lines', pass: true }], latencyMs: 5000 }),
      item({ config: 'large-only', costUsd: 0.01 }),
    ];
    const f = figuresOf(items, 'ladder');
    expect(f).toMatchObject({ examples: 3, valid: 2, silentErrors: 1, flagged: 1, latencyP50Ms: 1000, latencyP95Ms: 5000 });
    expect(f.accuracy).toBeCloseTo(9 / 12, 10);
    expect(f.perField['/vendor']).toBeCloseTo(2 / 3, 10);
    expect(f.accuracyPerUsd).toBeCloseTo((100 * 9) / 12 / 0.003, 6);
    expect(figuresTable([f])).toContain('| ladder | 3 | 2 | 75.0% | 1 (8.3%) | 1 |');
  });

  it('takes configurations as data, and names an unknown one', () => {
    expect(Object.keys(loadConfigs(['ladder', 'routed'], undefined))).toEqual(['ladder', 'routed']);
    expect(() => loadConfigs(['ladder', 'gpt-5'], undefined)).toThrow(/unknown configuration\(s\) gpt-5; known: single-prompt, micro-tasks, ladder, routed, large-only, reference/);
  });
});

describe('the evaluation gate and comparison', () => {
  const f = (config: string, accuracy: number, silentErrorRate: number) => ({ ...figuresOf([], config), config, accuracy, silentErrorRate });

  it('names each configuration below the gate, and passes the others', () => {
    const rows = [f('ladder', 0.75, 0.03), f('large-only', 0.92, 0.08)];
    expect(gateFailures(rows, { minAccuracy: 0.8, maxSilentErrors: 0.05 })).toEqual([
      'ladder: accuracy 75.0% is below 80.0%',
      'large-only: silent errors 8.0% of labelled fields are above 5.0%',
    ]);
    expect(gateFailures(rows, {})).toEqual([]);
  });

  it('says what changed against an earlier evaluation', () => {
    expect(comparison([f('ladder', 0.8, 0.02)], [f('ladder', 0.75, 0.03), f('routed', 0.7, 0)])).toEqual(['ladder: accuracy +5.0 pts, silent errors -1.0 pts, flagged +0, cost +$0.000000']);
  });
});
