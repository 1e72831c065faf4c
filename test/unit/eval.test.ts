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

const invoices = getPipeline('invoice-extraction');
const evaluation = invoices.evaluation!;
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
  it('accepts every correct answer, under the guided schema too (rupee, ringgit and Singapore-dollar amounts are offered)', () => {
    const tickets = getPipeline('ticket-triage');
    const ev = tickets.evaluation!;
    const step = tickets.steps.find((s) => s.id === ev.step)!;
    const file = fileURLToPath(new URL('../../pipelines/ticket-triage/eval/tickets.jsonl', import.meta.url));
    const set = calibrationExamples(tickets.input, step, parseDataset(file, readFileSync(file, 'utf8'), { input: tickets.input, fields: Object.keys(ev.comparators) }));
    expect(set.length).toBeGreaterThanOrEqual(10);
    expect(goldAsModel(step.task, set, ev.comparators)).toEqual([]);
  });
});

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
