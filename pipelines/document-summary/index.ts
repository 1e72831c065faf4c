import { z } from 'zod';
import { definePipeline, type ContextBlock } from '../../core/contract.js';
import { resultOf } from '../shared/state.js';
import { findInjection } from '../../core/injection.js';
import { chunkText } from './chunk.js';
import { CombineSummariesOutput, combineSummaries, type CombineSummariesInput } from './combine-summaries.js';
import { SummarizeChunkInput, SummarizeChunkOutput, summarizeChunk } from './summarize-chunk.js';

export { chunkText } from './chunk.js';

export const CHUNK_CHARS = 800;
/** the longest part summary summarize-chunk may return */
const SUMMARY_PIECE_CHARS = 400;

export const DocumentSummaryInput = z.object({
  title: z.string().min(1).max(200),
  text: z.string().min(200).max(60000),
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

export const documentSummary = definePipeline<DocumentSummaryInput, DocumentSummary>({
  name: 'document-summary',
  version: 2,
  description: 'Summarizes a long document: each part on its own, then one summary with key points.',
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
      id: 'combined',
      task: combineSummaries,
      input: (state): CombineSummariesInput => ({ summaries: resultOf(state, 'parts', z.array(SummarizeChunkOutput)).map((p) => p.summary) }),
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
    // calibration has no model to summarize the parts: the document's own sentences, in pieces a
    // part summary may hold, stand in for perfect part summaries
    upstream: (input) => ({ parts: chunkText(input.text, SUMMARY_PIECE_CHARS).map((summary) => ({ summary })) }),
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
