import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { chunkText } from '../../pipelines/document-summary/chunk.js';
import { documentSummary, type DocumentSummaryInput } from '../../pipelines/document-summary/index.js';

vi.mock('../../pipelines/document-summary/chunk.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../pipelines/document-summary/chunk.js')>();
  return { ...real, chunkText: vi.fn(real.chunkText) };
});

const report = JSON.parse(readFileSync(new URL('../../pipelines/document-summary/samples/incident-report.json', import.meta.url), 'utf8')) as unknown;

describe('document-summary fan-out', () => {
  beforeEach(() => {
    vi.mocked(chunkText).mockClear();
  });

  it('chunks the document once for its parts step, however many parts it has', () => {
    const step = documentSummary.steps.find((s) => s.id === 'parts')!;
    const state = { input: documentSummary.input.parse(report) as DocumentSummaryInput, results: {} };
    // as the workflow calls a fan-out step: forEach once, then input and context once per item
    const items = step.forEach!(state);
    const calls = items.map((item, i) => ({ input: step.input(state, item, i), context: step.context!(state, item) }));
    expect(items.length).toBeGreaterThan(1);
    expect(chunkText).toHaveBeenCalledTimes(1);
    calls.forEach((c, i) => {
      expect(c.input).toEqual({ text: vi.mocked(chunkText).mock.results[0]!.value[i], part: i + 1, parts: items.length });
      expect(c.context).toEqual([{ title: 'Document', facts: { title: 'Post-incident report: EU large-file upload failures on 12 March', parts: items.length } }]);
    });
  });

  it('refuses to build a part input without its item', () => {
    const step = documentSummary.steps.find((s) => s.id === 'parts')!;
    expect(() => step.input({ input: documentSummary.input.parse(report), results: {} })).toThrow(/once per part/);
  });
});
