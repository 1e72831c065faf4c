import { describe, expect, it } from 'vitest';
import { parseLenient, parseStrict } from '../../core/lenient-parse.js';
import { loopAtEnd, runawayIn, wordCounts } from '../../core/loops.js';

describe('lenient parse', () => {
  it('reads plain JSON with no fixes', () => {
    const r = parseLenient('{"a": 1}');
    expect(r).toEqual({ success: true, value: { a: 1 }, fixes: [], issues: [] });
  });

  it('strips a markdown fence and records it', () => {
    const r = parseLenient('```json\n{"a": [1, 2]}\n```');
    expect(r.success && r.value).toEqual({ a: [1, 2] });
    expect(r.fixes.map((f) => f.kind)).toEqual(['strip-fences']);
  });

  it('strips prose around the object', () => {
    const r = parseLenient('Sure! Here is the JSON: {"a": "x"} Hope this helps.');
    expect(r.success && r.value).toEqual({ a: 'x' });
    expect(r.fixes.map((f) => f.kind)).toEqual(['strip-prose', 'strip-prose']);
  });

  it('repairs trailing commas, single quotes and comments with jsonrepair', () => {
    const r = parseLenient("{'a': 1, // count\n 'b': [1, 2,],}");
    expect(r.success && r.value).toEqual({ a: 1, b: [1, 2] });
    expect(r.fixes.map((f) => f.kind)).toContain('jsonrepair');
  });

  it('keeps the first of two JSON objects and records the drop', () => {
    const r = parseLenient('{"a": 1}\n{"a": 2}');
    expect(r.success && r.value).toEqual({ a: 1 });
    expect(r.fixes.map((f) => f.kind)).toEqual(['drop-extra-json']);
  });

  it('flags output cut at max_tokens as truncated even when it can be closed', () => {
    const r = parseLenient('{"items": ["a", "b", "c', 'length');
    expect(r.success).toBe(true);
    expect(r.issues).toEqual([expect.objectContaining({ kind: 'truncated', path: '' })]);
  });

  it('flags runaway whitespace', () => {
    const r = parseLenient('{"a": 1' + ' '.repeat(300), 'length');
    expect(r.issues.map((i) => i.kind)).toEqual(['runaway']);
  });

  it('reports empty output and text without JSON as syntax issues', () => {
    expect(parseLenient('   ').issues).toEqual([expect.objectContaining({ kind: 'syntax', message: 'output is empty' })]);
    const r = parseLenient('I cannot help with that.');
    expect(r.success).toBe(false);
    expect(r.issues[0]?.kind).toBe('syntax');
  });

  it('does not mistake braces inside strings for structure', () => {
    const r = parseLenient('{"a": "x } y", "b": "[z"} trailing');
    expect(r.success && r.value).toEqual({ a: 'x } y', b: '[z' });
  });
});

describe('lenient parse of prose and quotes', () => {
  it('keeps apostrophes inside single-quoted strings', () => {
    const r = parseLenient("{'greeting': 'Hi Ana,', 'body': 'We're sorry it didn't arrive.'}");
    expect(r.success && r.value).toEqual({ greeting: 'Hi Ana,', body: "We're sorry it didn't arrive." });
  });

  it('does not take a bracket in the prose for the answer', () => {
    const r = parseLenient('Classification for ticket [ORD-582214]: {"category": "billing"}');
    expect(r.success && r.value).toEqual({ category: 'billing' });
  });

  it('trims whitespace after a closed object without calling it runaway', () => {
    const r = parseLenient('{"a": 1}' + '\n'.repeat(200));
    expect(r).toMatchObject({ success: true, value: { a: 1 }, issues: [] });
    expect(r.fixes.map((f) => f.kind)).toEqual(['trim-whitespace']);
  });
});

describe('looping output', () => {
  const item = '{"description": "Analytics seats", "qty": 25, "unitPrice": 480, "amount": 12000}';
  const loop = (n: number) => `{"lines": [${Array.from({ length: n }, () => item).join(', ')}, {"description": "Analy`;
  /** the invoice the loop came from: the line written once */
  const source = wordCounts('Invoice BL-1\nAnalytics seats   25   $480.00   $12,000.00\nTotal $12,000.00');

  it('finds a block the text ends by repeating, also when the last copy is cut short', () => {
    const found = loopAtEnd(loop(3), 3);
    // the block is one item and its separator, in whatever phase the text ends
    expect(found?.block).toHaveLength(item.length + 2);
    expect(loopAtEnd(loop(7), 3)?.copies).toBe(7);
    expect(loopAtEnd(loop(2), 3)).toBeUndefined();
    // distinct items are a list, not a loop
    const list = `{"lines": [${[1, 2, 3, 4, 5, 6, 7].map((i) => item.replace('25', String(i))).join(', ')}, {"desc`;
    expect(loopAtEnd(list, 3)).toBeUndefined();
  });

  it('is no loop where the source holds the repeated content as often', () => {
    const day = '{"description": "Consulting, per day", "qty": 1, "unitPrice": 950, "amount": 950}';
    const lines = (n: number) => `{"lines": [${Array.from({ length: n }, () => day).join(', ')}, {"description": "Trav`;
    const invoice = wordCounts(`${'Consulting, per day    1    950.00    950.00\n'.repeat(7)}Travel   1   120.00   120.00`);
    expect(loopAtEnd(lines(7), 3, invoice)).toBeUndefined();
    expect(runawayIn(lines(7), invoice)).toBeUndefined();
    // more copies than the invoice has lines is a loop (the first copy, after "[", may not count)
    expect(loopAtEnd(lines(9), 3, invoice)?.copies).toBeGreaterThan(7);
    expect(loopAtEnd(loop(3), 3, source)?.copies).toBe(3);
  });

  it('takes an output cut while repeating an item for runaway, not for a longer answer', () => {
    const r = parseLenient(loop(4), 'length', { source });
    expect(r.issues).toEqual([expect.objectContaining({ kind: 'runaway', path: '', message: expect.stringContaining('repeats the same item') })]);
    // cut without a loop, it is a truncation: more room may finish it
    expect(parseLenient(loop(1), 'length', { source }).issues.map((i) => i.kind)).toEqual(['truncated']);
    // as runs started before loops were told apart read it
    expect(parseLenient(loop(4), 'length', { loopsAreRunaway: false }).issues.map((i) => i.kind)).toEqual(['truncated']);
  });

  it('stops a generation in progress on six copies of a block, long whitespace or a long run of a short unit, and not on less', () => {
    expect(runawayIn(loop(5), source)).toBeUndefined();
    expect(runawayIn(loop(6), source)).toBe('the same block written over and over');
    expect(runawayIn('{"a": "' + 'ha'.repeat(200), source)).toBe('runaway repetition');
    expect(runawayIn('{"a": 1' + ' '.repeat(300), source)).toBe('runaway whitespace');
    // a separator line, deep indentation and a short answer are no runaway
    expect(runawayIn('{"body": "Thanks\n' + '-'.repeat(120), source)).toBeUndefined();
    expect(runawayIn('{\n' + ' '.repeat(40), source)).toBeUndefined();
    expect(runawayIn('{"summary": "A short answer that ends well."}', source)).toBeUndefined();
  });

  it('reads a generation stopped as runaway as incomplete, strictly and leniently', () => {
    expect(parseStrict('{"a": 1}', 'runaway').issues.map((i) => i.kind)).toEqual(['truncated']);
    expect(parseLenient('{"a": [1, 2', 'runaway').issues.map((i) => i.kind)).toEqual(['runaway']);
  });
});
