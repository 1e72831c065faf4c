import { z } from 'zod';
import { definePipeline, type ContextBlock, type StepState } from '../../core/contract.js';
import { resultOf } from '../shared/state.js';
import { findInjection } from '../../core/injection.js';
import { chunkText } from './chunk.js';
import { CombineSummariesOutput, MAX_SUMMARIES, combineSummaries, type CombineSummariesInput } from './combine-summaries.js';
import { CHUNK_CHARS, MAX_TEXT_CHARS, MAX_TITLE_CHARS, PART_SUMMARY_CHARS, SECTION_PARTS, leadSentences, sectionInputs, sectionRanges } from './sections.js';
import { SummarizeChunkInput, SummarizeChunkOutput, summarizeChunk } from './summarize-chunk.js';
import { SECTION_SUMMARY_CHARS, SummarizeSectionInput, SummarizeSectionOutput, summarizeSection } from './summarize-section.js';

export { chunkText } from './chunk.js';
export { CHUNK_CHARS, SECTION_PARTS } from './sections.js';

export const DocumentSummaryInput = z.object({
  title: z.string().min(1).max(MAX_TITLE_CHARS),
  text: z.string().min(200).max(MAX_TEXT_CHARS),
});
export type DocumentSummaryInput = z.infer<typeof DocumentSummaryInput>;

export interface DocumentSummary {
  title: string;
  summary: string;
  keyPoints: string[];
  /** one summary per part, in document order */
  parts: string[];
  /** set when the document carries instructions aimed at the model, for a human to look at */
  injectionSuspected: boolean;
}

/** What a completed document-summary run returns. */
export const DocumentSummaryOutput = z.object({
  title: z.string(),
  summary: CombineSummariesOutput.shape.summary,
  keyPoints: CombineSummariesOutput.shape.keyPoints,
  parts: z.array(SummarizeChunkOutput.shape.summary).describe('one summary per part, in document order'),
  injectionSuspected: z.boolean().describe('set when the document carries instructions aimed at the model'),
});

function documentBlock(input: DocumentSummaryInput, parts: number): ContextBlock {
  return { title: 'Document', facts: { title: input.title, parts } };
}

/** The document's parts as summarize-chunk takes them: chunked once, each knowing its place. */
function documentParts(text: string): SummarizeChunkInput[] {
  const chunks = chunkText(text, CHUNK_CHARS);
  return chunks.map((chunk, i) => ({ text: chunk, part: i + 1, parts: chunks.length }));
}

function partOf(item: unknown): SummarizeChunkInput {
  const part = SummarizeChunkInput.safeParse(item);
  if (!part.success) throw new Error('summarize-chunk runs once per part: needs the part');
  return part.data;
}

function sectionOf(item: unknown): SummarizeSectionInput {
  const section = SummarizeSectionInput.safeParse(item);
  if (!section.success) throw new Error('summarize-section runs once per section: needs the section');
  return section.data;
}

const partSummaries = (state: StepState<unknown>): string[] => resultOf(state, 'parts', z.array(SummarizeChunkOutput)).map((p) => p.summary);

/**
 * Calibration's stand-in for perfect part and section summaries, which it has no model to write:
 * the document's own sentences. A document without sections stands in as its whole text in pieces a
 * part summary may hold (where there are no more of them than a combine call takes), else each
 * part as the lead sentences of its paragraphs; a section as the lead sentences of its parts, as
 * many as a section summary holds.
 */
function standInResults(text: string): Record<string, unknown> {
  const parts = documentParts(text);
  const ranges = sectionRanges(parts.length);
  const pieces = chunkText(text, PART_SUMMARY_CHARS);
  const whole = ranges.length === 0 && pieces.length <= MAX_SUMMARIES;
  return {
    parts: whole ? pieces.map((summary) => ({ summary })) : parts.map((p) => ({ summary: leadSentences(p.text.split(/\n\s*\n/), PART_SUMMARY_CHARS) })),
    sections: ranges.map((r) => ({ summary: leadSentences(parts.slice(r.start, r.end).map((p) => p.text), SECTION_SUMMARY_CHARS) })),
  };
}

export const documentSummary = definePipeline<DocumentSummaryInput, DocumentSummary>({
  name: 'document-summary',
  version: 3,
  description: 'Summarizes a long document: each part on its own, the parts of a long one in sections, then one summary with key points.',
  input: DocumentSummaryInput,
  output: DocumentSummaryOutput,
  steps: [
    {
      id: 'parts',
      task: summarizeChunk,
      forEach: ({ input }) => documentParts(input.text),
      input: (_, item): SummarizeChunkInput => partOf(item),
      // without an item (the single prompt's shared facts) the parts are counted from the text
      context: ({ input }, item) => [documentBlock(input, item === undefined ? documentParts(input.text).length : partOf(item).parts)],
    },
    {
      // a document of more parts than one combine call reads is summarized in sections of
      // consecutive parts first; one of fewer has no section, and no call here
      id: 'sections',
      task: summarizeSection,
      forEach: (state) => sectionInputs(partSummaries(state)),
      input: (_, item): SummarizeSectionInput => sectionOf(item),
      context: ({ input }, item) => [documentBlock(input, item === undefined ? documentParts(input.text).length : sectionOf(item).parts)],
      itemsNote: `One entry per section of at most ${SECTION_PARTS} consecutive parts, in order; an empty list for a document of at most ${SECTION_PARTS} parts.`,
    },
    {
      id: 'combined',
      task: combineSummaries,
      // the section summaries where the document has sections, else the part summaries
      input: (state): CombineSummariesInput => {
        const sections = resultOf(state, 'sections', z.array(SummarizeSectionOutput));
        return sections.length > 0 ? { summaries: sections.map((s) => s.summary), of: 'sections' } : { summaries: partSummaries(state) };
      },
      context: ({ input }) => [documentBlock(input, chunkText(input.text, CHUNK_CHARS).length)],
    },
  ],
  // labels are for the combined summary: a reference paragraph and the facts a reader must get
  evaluation: {
    step: 'combined',
    comparators: {
      summary: { kind: 'overlap', threshold: 0.4 },
      keyPoints: { kind: 'set', item: { kind: 'overlap', threshold: 0.4 }, pass: 0.5 },
    },
    upstream: (input) => standInResults(input.text),
  },
  assemble: (state) => {
    const combined = resultOf(state, 'combined', CombineSummariesOutput);
    return {
      title: state.input.title,
      summary: combined.summary,
      keyPoints: combined.keyPoints,
      parts: resultOf(state, 'parts', z.array(SummarizeChunkOutput)).map((p) => p.summary),
      injectionSuspected: findInjection(`${state.input.title}\n${state.input.text}`) !== null,
    };
  },
});
