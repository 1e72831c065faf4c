import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { labelledSteps, type ContextBlock, type MicroTask } from '../../core/contract.js';
import { estimateTokens } from '../../core/cost.js';
import { buildModelRequest } from '../../core/request.js';
import { singlePromptTask } from '../../core/single-prompt.js';
import { validateValue } from '../../core/validate.js';
import { chunkText } from '../../pipelines/document-summary/chunk.js';
import { MAX_SUMMARIES, combineSummaries, type CombineSummariesInput } from '../../pipelines/document-summary/combine-summaries.js';
import { documentSummary, type DocumentSummaryInput } from '../../pipelines/document-summary/index.js';
import {
  CHUNK_CHARS,
  COMBINE_BUDGET_TOKENS,
  FINAL_SECTIONS,
  MAX_PARTS,
  MAX_TITLE_CHARS,
  PART_SUMMARY_CHARS,
  PLANNED_WINDOW_TOKENS,
  PROMPT_FRAME_TOKENS,
  SECTION_PARTS,
  leadSentences,
  maxPartsOf,
  sectionInputs,
  sectionRanges,
} from '../../pipelines/document-summary/sections.js';
import { summarizeChunk } from '../../pipelines/document-summary/summarize-chunk.js';
import { SECTION_SUMMARY_CHARS, SummarizeSectionInput, SummarizeSectionOutput, summarizeSection } from '../../pipelines/document-summary/summarize-section.js';
import { longDepotReview } from '../support/long-document.js';

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

describe('document-summary sections', () => {
  const summaries = (n: number) => Array.from({ length: n }, (_, i) => `Summary of part ${i + 1}.`);

  it('makes no section for a document one combine call reads whole', () => {
    for (const n of [1, 2, 5, SECTION_PARTS]) expect(sectionRanges(n), `${n} parts`).toEqual([]);
    expect(sectionInputs(summaries(SECTION_PARTS))).toEqual([]);
  });

  it('groups more parts into as few runs of consecutive parts as fit, of even sizes, in order', () => {
    for (const n of [SECTION_PARTS + 1, 40, 94, 100, MAX_PARTS]) {
      const ranges = sectionRanges(n);
      expect(ranges.length, `${n} parts`).toBe(Math.ceil(n / SECTION_PARTS));
      // consecutive, from the first part to the last, none left out or repeated
      expect(ranges[0]!.start).toBe(0);
      expect(ranges.at(-1)!.end).toBe(n);
      ranges.slice(1).forEach((r, i) => expect(r.start).toBe(ranges[i]!.end));
      const sizes = ranges.map((r) => r.end - r.start);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(SECTION_PARTS);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      expect([...sizes].sort((a, b) => b - a)).toEqual(sizes);
    }
    expect(sectionRanges(18, 17).map((r) => r.end - r.start)).toEqual([9, 9]);
    expect(sectionRanges(100, 17).map((r) => r.end - r.start)).toEqual([17, 17, 17, 17, 16, 16]);
  });

  it('gives each section its part summaries in order, where they start and how many parts and sections there are', () => {
    const parts = summaries(40);
    const sections = sectionInputs(parts, 17);
    expect(sections.map((s) => [s.firstPart, s.summaries.length, s.section, s.sections, s.parts])).toEqual([
      [1, 14, 1, 3, 40],
      [15, 13, 2, 3, 40],
      [28, 13, 3, 3, 40],
    ]);
    expect(sections.flatMap((s) => s.summaries)).toEqual(parts);
    for (const s of sections) expect(SummarizeSectionInput.safeParse(s).success).toBe(true);
  });

  it('bounds the parts of the longest document, however its paragraphs fall', () => {
    expect(MAX_PARTS).toBe(maxPartsOf(60_000, CHUNK_CHARS));
    // paragraphs just too long for two to share a part are the worst case
    for (const length of [1, 120, 399, 400, 401, 500, 799, 800, 801, 1700]) {
      const paragraph = Array.from({ length: Math.ceil(length / 5) }, () => 'word').join(' ').slice(0, length);
      const text = Array.from({ length: Math.ceil(60_000 / (length + 2)) }, () => paragraph).join('\n\n').slice(0, 60_000);
      expect(chunkText(text, CHUNK_CHARS).length, `paragraphs of ${length} characters`).toBeLessThanOrEqual(MAX_PARTS);
    }
  });

  it('fits every combine call of the longest document in the planned share of the window, the final one included', () => {
    const tokens = (task: MicroTask<any, any>, input: unknown, context: ContextBlock[]) =>
      estimateTokens(buildModelRequest(task, task.input.parse(input), context, { kind: 'generate' }).messages.reduce((n, m) => n + m.content.length, 0)) + task.maxTokens;
    const longest = (chars: number) => `${'Every depot reported its figures to the board. '.repeat(Math.ceil(chars / 47))}`.slice(0, chars - 1).trimEnd() + '.';
    const context = [{ title: 'Document', facts: { title: 'T'.repeat(MAX_TITLE_CHARS), parts: MAX_PARTS } }];
    const parts = Array.from({ length: MAX_PARTS }, () => longest(PART_SUMMARY_CHARS));
    const sections = sectionInputs(parts);
    expect(sections.length).toBe(Math.ceil(MAX_PARTS / SECTION_PARTS));
    for (const s of sections) expect(tokens(summarizeSection, s, context)).toBeLessThanOrEqual(COMBINE_BUDGET_TOKENS);
    // the final combine: the section summaries of the longest document, or the part summaries of one without sections
    expect(sections.length).toBeLessThanOrEqual(FINAL_SECTIONS);
    expect(sections.length).toBeLessThanOrEqual(MAX_SUMMARIES);
    const finalOfSections = { summaries: sections.map(() => longest(SECTION_SUMMARY_CHARS)), of: 'sections' };
    expect(tokens(combineSummaries, finalOfSections, context)).toBeLessThanOrEqual(COMBINE_BUDGET_TOKENS);
    expect(tokens(combineSummaries, { summaries: parts.slice(0, SECTION_PARTS) }, context)).toBeLessThanOrEqual(COMBINE_BUDGET_TOKENS);
    // what the prompts hold besides the summaries is within the frame the sizes are planned with
    const frame = (task: MicroTask<any, any>, input: { summaries: string[] }) =>
      buildModelRequest(task, task.input.parse(input), context, { kind: 'generate' }).messages.reduce((n, m) => n + m.content.length, 0) - input.summaries.join('').length;
    expect(estimateTokens(frame(summarizeSection, sections[0]!))).toBeLessThanOrEqual(PROMPT_FRAME_TOKENS);
    expect(estimateTokens(frame(combineSummaries, finalOfSections))).toBeLessThanOrEqual(PROMPT_FRAME_TOKENS);
    expect(COMBINE_BUDGET_TOKENS * 3).toBeLessThanOrEqual(PLANNED_WINDOW_TOKENS);
  });
});

describe('document-summary steps for a long document', () => {
  const long = documentSummary.input.parse(longDepotReview()) as DocumentSummaryInput;
  const short = documentSummary.input.parse(report) as DocumentSummaryInput;
  const step = (id: string) => documentSummary.steps.find((s) => s.id === id)!;
  const partResults = (input: DocumentSummaryInput) => chunkText(input.text, CHUNK_CHARS).map((_, i) => ({ summary: `Part ${i + 1} says what it says about the depots.` }));

  it('runs no section call for a short document, and combines its part summaries directly', () => {
    const state = { input: short, results: { parts: partResults(short) } as Record<string, unknown> };
    expect(step('sections').forEach!(state)).toEqual([]);
    state.results.sections = [];
    expect(step('combined').input(state)).toEqual({ summaries: partResults(short).map((p) => p.summary) });
  });

  it('summarizes a 60,000-character document in sections, and combines the section summaries', () => {
    expect(long.text.length).toBeGreaterThan(58_000);
    const parts = partResults(long);
    expect(parts.length).toBeGreaterThan(SECTION_PARTS);
    const state = { input: long, results: { parts } as Record<string, unknown> };
    const items = step('sections').forEach!(state);
    expect(items).toHaveLength(Math.ceil(parts.length / SECTION_PARTS));
    const calls = items.map((item, i) => ({ input: step('sections').input(state, item, i) as SummarizeSectionInput, context: step('sections').context!(state, item) }));
    expect(calls.flatMap((c) => c.input.summaries)).toEqual(parts.map((p) => p.summary));
    for (const c of calls) {
      expect(c.context).toEqual([{ title: 'Document', facts: { title: long.title, parts: parts.length } }]);
      expect(summarizeSection.prompt(c.input, c.context).user).toContain(`${c.input.firstPart}. ${c.input.summaries[0]}`);
    }
    state.results.sections = calls.map((c) => ({ summary: `Section ${c.input.section} covers parts ${c.input.firstPart} onwards of the review.` }));
    const combined = step('combined').input(state) as CombineSummariesInput;
    expect(combined).toEqual({ summaries: (state.results.sections as { summary: string }[]).map((s) => s.summary), of: 'sections' });
    expect(combineSummaries.prompt(combined, []).user).toContain('Summaries of the sections, in order:');
  });

  it("calibration's stand-in gives the combined step what it reads, for a short and a long document", () => {
    const combined = step('combined');
    const shortResults = labelledSteps(documentSummary.evaluation!)[0]!.upstream!(short);
    expect(shortResults.sections).toEqual([]);
    // a short document stands in as its whole text, as before sections
    expect(combined.input({ input: short, results: shortResults })).toEqual({ summaries: chunkText(short.text, PART_SUMMARY_CHARS) });

    const longResults = labelledSteps(documentSummary.evaluation!)[0]!.upstream!(long);
    const input = combineSummaries.input.parse(combined.input({ input: long, results: longResults })) as CombineSummariesInput;
    expect(input.of).toBe('sections');
    expect(input.summaries).toHaveLength(sectionRanges(chunkText(long.text, CHUNK_CHARS).length).length);
    expect(z.array(SummarizeSectionOutput).safeParse(longResults.sections).success).toBe(true);
    // each section's stand-in leads with its first part
    const ranges = sectionRanges(chunkText(long.text, CHUNK_CHARS).length);
    input.summaries.forEach((s, i) => expect(s.startsWith(chunkText(long.text, CHUNK_CHARS)[ranges[i]!.start]!.split(/(?<=[.!?])\s+/)[0]!)).toBe(true));
  });

  it('tells the single-prompt baseline when the sections list is empty', () => {
    const prompt = singlePromptTask(documentSummary).prompt(short, []).user;
    expect(prompt).toContain(`"sections": ${summarizeSection.description} One entry per section of at most ${SECTION_PARTS} consecutive parts, in order; an empty list for a document of at most ${SECTION_PARTS} parts.`);
    expect(prompt).toContain(`"parts": ${summarizeChunk.description} One entry per part of the input, in order.`);
  });
});

describe('lead sentences (the stand-in for a summary)', () => {
  it('is the text itself where it fits', () => {
    expect(leadSentences(['One. Two.', 'Three.'], 100)).toBe('One. Two. Three.');
  });

  it('takes sentences in turns from the start of each piece, in document order', () => {
    expect(leadSentences(['Alpha one. Alpha two. Alpha three.', 'Beta one. Beta two.', 'Gamma one.'], 50)).toBe('Alpha one. Alpha two. Beta one. Gamma one.');
  });

  it('falls back to the first words when no sentence fits', () => {
    expect(leadSentences(['a very long sentence without an end that goes on and on'], 20)).toBe('a very long sentence');
  });
});

describe('summarize-section checks', () => {
  const input: SummarizeSectionInput = {
    summaries: [
      'The Leeds depot handled 3.1 million parcels with 140 staff.',
      'Deliveries in Leeds arrived on time for 93 per cent of parcels.',
      'Electric vans made up 12 per cent of the Leeds fleet by December.',
      'Complaints in Leeds were mostly about parcels left with neighbours.',
    ],
    firstPart: 5,
    parts: 40,
    section: 1,
    sections: 3,
  };
  const check = (summary: string) => validateValue(summarizeSection, { summary }, { input, context: [] }).issues.map((i) => [i.check ?? i.kind, i.message]);

  it('accepts a summary of the whole section in its own words', () => {
    expect(check('The Leeds depot handled 3.1 million parcels and delivered 93 per cent on time. Electric vans were 12 per cent of its fleet, and most complaints were about parcels left with neighbours.')).toEqual([]);
  });

  it('flags a summary its parts do not support', () => {
    expect(check('Quarterly revenue at the Madrid bakery chain doubled after a television campaign about croissants and sourdough.')).toEqual([
      ['section-grounded', expect.stringMatching(/content words of the summary occur in the summaries of the parts/)],
      ['section-covers', expect.stringMatching(/parts 5-6/)],
      ['section-covers', expect.stringMatching(/parts 7-8/)],
    ]);
  });

  it('flags a summary drawn from the first parts only, naming the parts it leaves out', () => {
    expect(check('The Leeds depot handled 3.1 million parcels with 140 staff, and deliveries arrived on time for 93 per cent of parcels.')).toEqual([
      ['section-covers', 'the summary takes nothing from the summaries of parts 7-8; cover the whole section, parts 5-8'],
    ]);
  });
});
