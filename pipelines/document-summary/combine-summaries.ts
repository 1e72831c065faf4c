import { z } from 'zod';
import { defineMicroTask, renderContext, userTextBlock, type Check } from '../../core/contract.js';
import { resistsInjection } from '../../core/checks/injection.js';
import { completeSentences, distinctItems, distinctSentences, groundedNumbers } from '../../core/checks/index.js';
import type { Issue } from '../../core/issues.js';
import { contentWords, languageOf, quote, sharedWords } from '../../core/text.js';

/** the most summaries one combine call may be given; document-summary gives at most SECTION_PARTS */
export const MAX_SUMMARIES = 40;

export const CombineSummariesInput = z.object({
  summaries: z.array(z.string().min(1)).min(1).max(MAX_SUMMARIES),
  /** what the summaries are of: the document's parts (default), or, for a long document, its sections */
  of: z.enum(['parts', 'sections']).optional(),
});
export type CombineSummariesInput = z.infer<typeof CombineSummariesInput>;

export const CombineSummariesOutput = z.object({
  summary: z.string().min(40).max(900).describe('one paragraph summarizing the whole document'),
  keyPoints: z.array(z.string().min(10).max(200).describe('one fact or conclusion, one sentence')).min(3).max(6),
});
export type CombineSummariesOutput = z.infer<typeof CombineSummariesOutput>;

/** "part" or "section": what one of the summaries is of, for the prompt and messages */
function unit(input: CombineSummariesInput): string {
  return input.of === 'sections' ? 'section' : 'part';
}

/**
 * A key point must share content words with some part's (or section's) summary: two words, or one
 * for a point of at most three content words. Stems and five-letter prefixes keep paraphrase from
 * failing it.
 */
export const keyPointsGrounded: Check<CombineSummariesInput, CombineSummariesOutput> = (output, { input }) => {
  const lang = languageOf(...input.summaries, ...output.keyPoints);
  const sources = input.summaries.map((s) => contentWords(s, lang));
  const issues: Issue[] = [];
  output.keyPoints.forEach((point, i) => {
    const words = contentWords(point, lang);
    const needed = Math.min(words.length <= 3 ? 1 : 2, words.length);
    const best = Math.max(0, ...sources.map((s) => sharedWords(words, s).length));
    if (words.length === 0 || best < needed) {
      issues.push({ kind: 'grounding', path: `/keyPoints/${i}`, message: `key point ${quote(point)} matches none of the ${unit(input)} summaries; state a point the summaries make` });
    }
  });
  return issues;
};

const SYSTEM = "You combine summaries of the parts of one document into a single summary. Use only what the part summaries say.";

/** The part summaries are the document's words at one remove: an instruction carried into them is still not the combiner's to follow. */
export const combinedResistsInjection: Check<CombineSummariesInput, CombineSummariesOutput> = resistsInjection<CombineSummariesInput, CombineSummariesOutput>({
  userText: (input) => input.summaries,
  paths: ['/summary', '/keyPoints/*'],
  instructions: () => [SYSTEM],
  noun: 'summary',
});

export const combineSummaries = defineMicroTask<CombineSummariesInput, CombineSummariesOutput>({
  name: 'combine-summaries',
  version: 5,
  formatName: 'combine_summaries',
  description: 'Combines the summaries of a document\'s parts (of its sections, for a long one) into one summary with 3-6 key points.',
  input: CombineSummariesInput,
  output: CombineSummariesOutput,
  prompt: (input, context) => ({
    system: SYSTEM,
    user: `${renderContext(context)}

Summaries of the ${unit(input)}s, in order:
${userTextBlock('summaries', input.summaries.map((s, i) => `${i + 1}. ${s}`).join('\n'))}

Write one paragraph summarizing the whole document, and 3-6 key points, each one sentence taken from the summaries above.
Return JSON of this shape: {"summary":"...","keyPoints":["...","...","..."]}`,
  }),
  checks: [combinedResistsInjection, keyPointsGrounded, distinctItems({ list: '/keyPoints', noun: 'key point', dropWhileAtLeast: 3 }), distinctSentences({ paths: ['/summary'] }), completeSentences({ paths: ['/summary'] }), groundedNumbers()],
  pool: 'small',
  maxTokens: 600,
  temperature: 0,
});
