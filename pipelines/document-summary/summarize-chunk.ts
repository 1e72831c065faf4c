import { z } from 'zod';
import { defineMicroTask, renderContext, userTextBlock, type Check } from '../../core/contract.js';
import { resistsInjection } from '../../core/checks/injection.js';
import { completeSentences, distinctSentences, groundedNumbers } from '../../core/checks/index.js';
import { contentWords, languageOf, sharedWords } from '../../core/text.js';

export const SummarizeChunkInput = z.object({
  text: z.string().min(1).max(1200),
  part: z.number().int().min(1),
  parts: z.number().int().min(1),
});
export type SummarizeChunkInput = z.infer<typeof SummarizeChunkInput>;

export const SummarizeChunkOutput = z.object({
  summary: z.string().min(20).max(400).describe('2-3 sentences stating the main points of this part in plain words'),
});
export type SummarizeChunkOutput = z.infer<typeof SummarizeChunkOutput>;

/** Tolerant on purpose: a summary paraphrases, but one that shares almost no words with its part was not written from it. */
export const summaryFromChunk: Check<SummarizeChunkInput, SummarizeChunkOutput> = (output, { input }) => {
  const lang = languageOf(input.text, output.summary);
  const words = contentWords(output.summary, lang);
  if (words.length < 4) return [];
  const shared = sharedWords(words, contentWords(input.text, lang));
  return shared.length / words.length >= 0.3
    ? []
    : [{ kind: 'grounding', path: '/summary', message: `only ${shared.length} of ${words.length} content words of the summary occur in the text; summarize what this part says` }];
};

const SYSTEM = 'You summarize one part of a document. State only what this part says, in plain words, without opinions.';

/** A summary that carries what an instruction in the part asks for (a link, a claim, the prompt), not what the part says. */
export const chunkSummaryResistsInjection: Check<SummarizeChunkInput, SummarizeChunkOutput> = resistsInjection<SummarizeChunkInput, SummarizeChunkOutput>({
  userText: (input) => [input.text],
  paths: ['/summary'],
  instructions: () => [SYSTEM],
  noun: 'summary',
});

export const summarizeChunk = defineMicroTask<SummarizeChunkInput, SummarizeChunkOutput>({
  name: 'summarize-chunk',
  version: 4,
  formatName: 'summarize_chunk',
  description: 'Summarizes one part of a longer document in 2-3 sentences.',
  input: SummarizeChunkInput,
  output: SummarizeChunkOutput,
  prompt: (input, context) => ({
    system: SYSTEM,
    user: `${renderContext(context)}

${userTextBlock('part', input.text, { number: input.part, of: input.parts })}

Summarize this part in 2-3 sentences.
Return JSON of this shape: {"summary":"..."}`,
  }),
  checks: [chunkSummaryResistsInjection, summaryFromChunk, distinctSentences({ paths: ['/summary'] }), completeSentences({ paths: ['/summary'] }), groundedNumbers()],
  pool: 'small',
  maxTokens: 256,
  temperature: 0,
});
