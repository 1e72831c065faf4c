import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineMicroTask } from '../../core/contract.js';
import { fromPointer, getAt, setAt, toPointer } from '../../core/json-pointer.js';
import { relevantExcerpt } from '../../core/excerpt.js';
import { jsonSchemaOf, portablePattern, repairSchema } from '../../core/guided-schema.js';
import { mergeRepair } from '../../core/merge-repair.js';
import { currentValues, issuesUnder, targetablePaths } from '../../core/repair-targets.js';
import { buildModelRequest } from '../../core/request.js';
import { subSchemaAt } from '../../core/schema-walk.js';
import { LENIENT, STRICT, validateOutput } from '../../core/validate.js';

const Output = z.object({
  category: z.enum(['billing', 'bug', 'other']),
  items: z.array(z.object({ name: z.string().min(2), qty: z.number().int().positive() })).min(1),
  total: z.number(),
});

const task = defineMicroTask({
  name: 'extract-order',
  version: 1,
  formatName: 'extract_order',
  description: 'extract an order',
  input: z.object({ text: z.string() }),
  output: Output,
  prompt: (input) => ({ system: 'Extract the order.', user: input.text }),
  checks: [
    (o) => {
      const sum = o.items.reduce((t, i) => t + i.qty, 0);
      return sum === o.total ? [] : [{ kind: 'semantic', path: '/total', message: `total ${o.total} is not the sum of quantities ${sum}` }];
    },
  ],
  pool: 'small',
  maxTokens: 200,
});
const ctx = { input: { text: 'two apples' }, context: [] };

describe('json pointers', () => {
  it('round-trips escaped segments and array indexes', () => {
    expect(toPointer(['a/b', 'c~d', 3])).toBe('/a~1b/c~0d/3');
    expect(fromPointer('/a~1b/c~0d/3')).toEqual(['a/b', 'c~d', 3]);
  });

  it('sets values by path without touching the original', () => {
    const v = { items: [{ qty: 1 }] };
    const out = setAt(v, '/items/0/qty', 2);
    expect(getAt(out, '/items/0/qty')).toBe(2);
    expect(v.items[0]!.qty).toBe(1);
    expect(setAt({}, '/a/b', 1)).toEqual({ a: { b: 1 } });
  });
});

describe('validation', () => {
  it('accepts a valid output', () => {
    const r = validateOutput(task, '{"category":"bug","items":[{"name":"ab","qty":2}],"total":2}', 'stop', ctx);
    expect(r.valid).toBe(true);
  });

  it('names each failing path with its kind', () => {
    const r = validateOutput(task, '{"category":"refund","items":[{"name":"a","qty":1},{"qty":1}],"total":2}', 'stop', ctx);
    expect(r.valid).toBe(false);
    expect(r.issues.map((i) => [i.path, i.kind])).toEqual([
      ['/category', 'enum'],
      ['/items/0/name', 'constraint'],
      ['/items/1/name', 'missing'],
    ]);
  });

  it('coerces a numeric string where the schema wants a number, and records the change', () => {
    const r = validateOutput(task, '{"category":"bug","items":[{"name":"ab","qty":"2"}],"total":"2"}', 'stop', ctx);
    expect(r.valid).toBe(true);
    expect(r.fixes.filter((f) => f.kind === 'coerce').map((f) => f.path)).toEqual(['/items/0/qty', '/total']);
  });

  it('runs semantic checks only on outputs that pass the schema', () => {
    const r = validateOutput(task, '{"category":"bug","items":[{"name":"ab","qty":2}],"total":5}', 'stop', ctx);
    expect(r.valid).toBe(false);
    expect(r.issues).toEqual([expect.objectContaining({ kind: 'semantic', path: '/total' })]);
  });

  it('treats a truncated output as invalid even when it parses and passes the schema', () => {
    const r = validateOutput(task, '{"category":"bug","items":[{"name":"ab","qty":2}],"total":2', 'length', ctx);
    expect(r.valid).toBe(false);
    expect(r.issues.map((i) => i.kind)).toEqual(['truncated']);
  });
});

describe('targeted repair', () => {
  it('finds the sub-schema at a path through arrays and objects', () => {
    expect(subSchemaAt(Output, '/items/3/qty')).toBeDefined();
    expect(subSchemaAt(Output, '/items/x')).toBeUndefined();
    expect(subSchemaAt(Output, '/nope')).toBeUndefined();
  });

  it('builds a schema with exactly the failing paths as required keys', () => {
    const s = repairSchema(Output, ['/category', '/items/1/name']) as { properties: Record<string, { enum?: string[] }>; required: string[]; additionalProperties: boolean };
    expect(Object.keys(s.properties)).toEqual(['/category', '/items/1/name']);
    expect(s.properties['/category']!.enum).toEqual(['billing', 'bug', 'other']);
    expect(s.required).toEqual(['/category', '/items/1/name']);
    expect(s.additionalProperties).toBe(false);
  });

  it('merges the answer by path and leaves valid fields frozen', () => {
    const current = { category: 'refund', items: [{ name: 'ab', qty: 1 }], total: 1 };
    const merged = mergeRepair(current, '{"/category": "billing"}', ['/category']);
    expect(merged.value).toEqual({ category: 'billing', items: [{ name: 'ab', qty: 1 }], total: 1 });
    expect(merged.unanswered).toEqual([]);
  });

  it('reports paths the repair answer left out', () => {
    const merged = mergeRepair({ a: 1 }, '{"/x": 1}', ['/x', '/y']);
    expect(merged.answered).toEqual(['/x']);
    expect(merged.unanswered).toEqual(['/y']);
  });

  it('refuses root-level issues as targets', () => {
    expect(targetablePaths(Output, [{ kind: 'syntax', path: '', message: 'x' }])).toBeUndefined();
    expect(targetablePaths(Output, [{ kind: 'enum', path: '/category', message: 'x' }])).toEqual(['/category']);
  });

  it('asks the model for only the failing paths, with their current values and problems', () => {
    const issues = [{ kind: 'enum' as const, path: '/category', message: 'Invalid option' }];
    const req = buildModelRequest(task, { text: 'two apples' }, [], {
      kind: 'repair',
      repair: { paths: ['/category'], current: currentValues({ category: 'refund' }, ['/category']), issues },
    });
    expect(req.schemaName).toBe('extract_order_repair');
    const user = req.messages[1]!.content;
    expect(user).toContain('"/category": now "refund"; [enum] Invalid option');
    expect(user).toContain('two apples');
  });
});

describe('repair excerpts and re-asks', () => {
  const invoice = [
    'NORTHWIND OFFICE SUPPLY LTD.',
    '14 Harbour Road, Bristol BS1 5TY',
    'Invoice No: NW-2024-0417',
    'Invoice date: 3 April 2024',
    'Payment due: 3 May 2024',
    'Description                 Qty   Unit price   Amount',
    'Ergonomic office chair, grey  4    £189.00    £756.00',
    'Height-adjustable desk        2    £425.50    £851.00',
    'Monitor arm, dual             4     £64.99    £259.96',
    'Subtotal: £1,866.96',
    'VAT 20%: £373.39',
    'Total due: £2,240.35',
    'Payment by bank transfer to Northwind Office Supply Ltd., sort code 20-45-77, account 10392844.',
    'Please quote the invoice number with your payment.',
    'Goods remain the property of Northwind Office Supply Ltd. until paid in full.',
    'Questions about this invoice: accounts@northwind-office.example, 0117 496 0321.',
  ].join('\n');

  it('keeps only the lines that add a hint, in their order, with gaps marked', () => {
    const excerpt = relevantExcerpt(invoice, new Set(['desk', '425.50', 'amount']));
    expect(invoice.length).toBeGreaterThan(600);
    expect(excerpt.split('\n')).toEqual(['Description                 Qty   Unit price   Amount', '…', 'Height-adjustable desk        2    £425.50    £851.00']);
    expect(relevantExcerpt(invoice, new Set(['due', 'payment'])).split('\n')).toEqual(['Payment due: 3 May 2024']);
  });

  it('sends short inputs whole, and the whole input when no line matches', () => {
    expect(relevantExcerpt('Invoice No: 7', new Set(['desk']))).toBe('Invoice No: 7');
    expect(relevantExcerpt(invoice, new Set(['zebra']))).toBe(invoice);
  });

  it('sends the re-ask baseline the whole conversation so far, as instructor-style retries do', () => {
    const issue = { kind: 'enum' as const, path: '/category', message: 'Invalid option' };
    const req = buildModelRequest(task, { text: 'two apples' }, [], {
      kind: 'regenerate',
      history: [
        { output: '{"category":"refund"}', issues: [issue] },
        { output: '{"category":"refunds"}', issues: [issue] },
      ],
    });
    expect(req.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant', 'user']);
    expect(req.messages[4]!.content).toBe('{"category":"refunds"}');
    expect(req.messages[5]!.content).toContain('/category [enum] Invalid option');
  });
});

describe('guided-decoding schemas', () => {
  it('spells out regex shorthands that grammar builders misread, inside and outside character classes', () => {
    expect(portablePattern('^\\d{4}-\\d{2}$')).toBe('^[0-9]{4}-[0-9]{2}$');
    expect(portablePattern('^[\\d.]+\\s\\w$')).toBe('^[0-9.]+[ \\t\\n\\r][A-Za-z0-9_]$');
    expect(portablePattern('^a\\.b\\\\d$')).toBe('^a\\.b\\\\d$');
    const schema = jsonSchemaOf(z.object({ when: z.string().regex(/^\d{4}$/).nullable() }));
    expect(JSON.stringify(schema)).toContain('"pattern":"^[0-9]{4}$"');
    expect(new RegExp(portablePattern('^\\d{4}-\\d{2}-\\d{2}$')).test('2024-04-03')).toBe(true);
  });
});

describe('repair targets', () => {
  it('rewrites a whole array item when one of its fields is ungrounded, and a single field otherwise', () => {
    const issues = [
      { kind: 'grounding' as const, path: '/items/1/name', message: 'not in the source' },
      { kind: 'constraint' as const, path: '/items/1/qty', message: 'too small' },
      { kind: 'semantic' as const, path: '/total', message: 'does not add up' },
    ];
    expect(targetablePaths(Output, issues)).toEqual(['/items/1', '/total']);
  });

  it('opens every path a cross-field issue names for repair, and shows the issue with each', () => {
    const sum = { kind: 'semantic' as const, path: '/total', message: 'total is not the sum of the items', repairAt: ['/items/0/qty', '/total'] };
    const line = { kind: 'semantic' as const, path: '/items/1/qty', message: 'qty does not match the name', repairAt: ['/items/1'] };
    expect(targetablePaths(Output, [sum, line])).toEqual(['/items/0/qty', '/total', '/items/1']);
    expect(issuesUnder([sum, line], ['/items/0/qty'])).toEqual([sum]);
    expect(issuesUnder([sum, line], ['/items/1'])).toEqual([line]);
    const req = buildModelRequest(task, { text: 'x' }, [], {
      kind: 'repair',
      repair: { paths: ['/items/0/qty', '/total'], current: { '/items/0/qty': 2, '/total': 5 }, issues: [sum] },
    });
    const fix = req.messages[1]!.content.split('Fix:\n')[1]!;
    expect(fix).toBe('- "/items/0/qty": now 2; /total [semantic] total is not the sum of the items\n- "/total": now 5; [semantic] total is not the sum of the items');
  });
});

describe('safe coercions', () => {
  it('reads money written with a currency sign and thousands separators as a number', () => {
    const r = validateOutput(task, '{"category":"bug","items":[{"name":"ab","qty":2}],"total":"$2.00"}', 'stop', ctx);
    expect(r.valid).toBe(true);
    expect(r.fixes).toEqual([{ kind: 'coerce', path: '/total', detail: '"$2.00" -> 2' }]);
  });

  it('reads an option spelled with another case or separators as that option, and nothing else', () => {
    const r = validateOutput(task, '{"category":" BILLING","items":[{"name":"ab","qty":2}],"total":2}', 'stop', ctx);
    expect(r.valid).toBe(true);
    expect(r.fixes).toEqual([{ kind: 'coerce', path: '/category', detail: '" BILLING" -> "billing"' }]);
    expect(validateOutput(task, '{"category":"invoice","items":[{"name":"ab","qty":2}],"total":2}', 'stop', ctx).issues).toEqual([expect.objectContaining({ kind: 'enum', path: '/category' })]);
    // as runs started before it read it
    expect(validateOutput(task, '{"category":"Billing","items":[{"name":"ab","qty":2}],"total":2}', 'stop', ctx, { ...LENIENT, enumSpelling: false }).valid).toBe(false);
  });

  it('leaves text that is not a plain amount for the model', () => {
    const r = validateOutput(task, '{"category":"bug","items":[{"name":"ab","qty":2}],"total":"about 2"}', 'stop', ctx);
    expect(r.issues).toEqual([expect.objectContaining({ kind: 'type', path: '/total' })]);
  });
});

describe('reading repair answers', () => {
  it('takes a bare scalar as the answer for a single path', () => {
    expect(mergeRepair({ total: 1 }, '120', ['/total']).value).toEqual({ total: 120 });
    expect(mergeRepair({ v: 'x' }, 'null', ['/v']).value).toEqual({ v: null });
  });

  it('takes the field named by the last segment of the single path', () => {
    expect(mergeRepair({ total: 1 }, '{"total": 5}', ['/total']).value).toEqual({ total: 5 });
  });

  it('answers nothing when the repair was cut at max_tokens or stopped as runaway', () => {
    const merged = mergeRepair({ a: 1 }, '{"/a": 2', ['/a'], 'length');
    expect(merged).toEqual({ value: { a: 1 }, answered: [], unanswered: ['/a'] });
    expect(mergeRepair({ a: 1 }, '{"/a": 2', ['/a'], 'runaway').answered).toEqual([]);
    // one whose JSON closed before the cut is complete
    expect(mergeRepair({ a: 1 }, '{"/a": 2}' + ' '.repeat(300), ['/a'], 'runaway').value).toEqual({ a: 2 });
    expect(mergeRepair({ a: 1 }, '{"/a": 2}  ', ['/a'], 'length', { closedCutsAndPartialObjects: false }).answered).toEqual([]);
  });

  it('keeps the fields of a repaired object that its answer left out', () => {
    const current = { lines: [{ description: 'Seats', qty: 25, unitPrice: 12000, amount: 480 }] };
    expect(mergeRepair(current, '{"/lines/0": {"unitPrice": 480, "amount": 12000}}', ['/lines/0']).value).toEqual({
      lines: [{ description: 'Seats', qty: 25, unitPrice: 480, amount: 12000 }],
    });
    expect(mergeRepair(current, '{"/lines/0": {"unitPrice": 480, "amount": 12000}}', ['/lines/0'], 'stop', { closedCutsAndPartialObjects: false }).value).toEqual({
      lines: [{ unitPrice: 480, amount: 12000 }],
    });
  });
});

describe('fixes the checks are certain of', () => {
  const lower = defineMicroTask({
    ...task,
    checks: [
      (o) =>
        o.category === o.category.toLowerCase()
          ? []
          : [{ kind: 'semantic' as const, path: '/category', message: 'must be lowercase', fix: { value: o.category.toLowerCase() } }],
    ],
    output: z.object({ category: z.string(), items: z.array(z.object({ name: z.string(), qty: z.number() })), total: z.number() }),
  });

  it('applies them without a model call and records each', () => {
    const r = validateOutput(lower, '{"category":"BUG","items":[],"total":0}', 'stop', ctx);
    expect(r.valid).toBe(true);
    expect(r.value).toMatchObject({ category: 'bug' });
    expect(r.fixes).toEqual([{ kind: 'check-fix', path: '/category', detail: '"BUG" -> "bug"' }]);
  });

  it('does not apply them when reading strictly, as the baseline does', () => {
    const r = validateOutput(lower, '{"category":"BUG","items":[],"total":0}', 'stop', ctx, STRICT);
    expect(r.valid).toBe(false);
    expect(r.issues).toEqual([{ kind: 'semantic', path: '/category', message: 'must be lowercase' }]);
  });
});
