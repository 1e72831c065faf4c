import { describe, expect, it } from 'vitest';
import { parseLenient } from '../../core/parse.js';

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
