import { z } from 'zod';
import { definePipeline, type ContextBlock } from '../../core/contract.js';
import { resultOf } from '../shared/state.js';
import { chunkText } from './chunk.js';
import { CombineSummariesOutput, combineSummaries, type CombineSummariesInput } from './combine-summaries.js';
import { SummarizeChunkOutput, summarizeChunk, type SummarizeChunkInput } from './summarize-chunk.js';

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
}

function documentBlock(input: DocumentSummaryInput, parts: number): ContextBlock {
  return { title: 'Document', facts: { title: input.title, parts } };
}

export const documentSummary = definePipeline<DocumentSummaryInput, DocumentSummary>({
  name: 'document-summary',
  version: 1,
  description: 'Summarizes a long document: each part on its own, then one summary with key points.',
  input: DocumentSummaryInput,
  steps: [
    {
      id: 'parts',
      task: summarizeChunk,
      forEach: ({ input }) => chunkText(input.text, CHUNK_CHARS),
      input: ({ input }, item, index): SummarizeChunkInput => {
        if (typeof item !== 'string' || index === undefined) throw new Error('summarize-chunk runs once per chunk: needs the chunk and its index');
        return { text: item, part: index + 1, parts: chunkText(input.text, CHUNK_CHARS).length };
      },
      context: ({ input }) => [documentBlock(input, chunkText(input.text, CHUNK_CHARS).length)],
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
    };
  },
});
