import { z } from 'zod';
import { defineMicroTask, renderContext, userTextBlock, type Check } from '../../core/contract.js';
import { resistsInjection } from '../../core/checks/injection.js';
import { completeSentences, distinctSentences, groundedNumbers } from '../../core/checks/index.js';
import type { Issue } from '../../core/issues.js';
import { contentWords, languageOf, sharedWords } from '../../core/text.js';

/** the most summaries one section call may be given; document-summary gives far fewer (SECTION_PARTS) */
export const MAX_SECTION_SUMMARIES = 40;
/** the longest section summary: the final combine reads a few of them where it would read many part summaries */
export const SECTION_SUMMARY_CHARS = 700;

export const SummarizeSectionInput = z.object({
  /** the summaries of the section's parts, in document order */
  summaries: z.array(z.string().min(1)).min(2).max(MAX_SECTION_SUMMARIES),
  /** the number of the section's first part, from 1 */
  firstPart: z.number().int().min(1),
  /** the parts of the whole document */
  parts: z.number().int().min(1),
  section: z.number().int().min(1),
  sections: z.number().int().min(1),
});
export type SummarizeSectionInput = z.infer<typeof SummarizeSectionInput>;

export const SummarizeSectionOutput = z.object({
  summary: z.string().min(40).max(SECTION_SUMMARY_CHARS).describe('one paragraph stating what this section of the document says, in order'),
});
export type SummarizeSectionOutput = z.infer<typeof SummarizeSectionOutput>;

/** the share of a section summary's content words its parts' summaries must hold: it condenses them, it does not add to them */
const GROUNDED_SHARE = 0.4;
/**
 * A section summary is written from its parts' summaries: a good share of its content words occur
 * in them (stems and five-letter prefixes keep paraphrase from failing it).
 */
export const sectionSummaryGrounded: Check<SummarizeSectionInput, SummarizeSectionOutput> = (output, { input }) => {
  const lang = languageOf(output.summary, ...input.summaries);
  const words = contentWords(output.summary, lang);
  if (words.length < 4) return [];
  const shared = sharedWords(words, input.summaries.flatMap((s) => contentWords(s, lang)));
  return shared.length / words.length >= GROUNDED_SHARE
    ? []
    : [{ kind: 'grounding', check: 'section-grounded', path: '/summary', message: `only ${shared.length} of ${words.length} content words of the summary occur in the summaries of the parts; summarize what the parts say` }];
};

/**
 * A section summary covers the whole section: one drawn from the first parts alone (a small model's
 * habit with a long prompt) leaves the rest of the section out of the document's summary. Each
 * half of the section must lend it a content word of its own, one the other half's summaries do
 * not have (the depot or product both halves name proves nothing); a half with fewer than two such
 * words cannot be told apart and is not held to it.
 */
export const sectionSummaryCovers: Check<SummarizeSectionInput, SummarizeSectionOutput> = (output, { input }) => {
  const lang = languageOf(output.summary, ...input.summaries);
  const words = contentWords(output.summary, lang);
  const half = Math.ceil(input.summaries.length / 2);
  const halves = [
    { from: 0, to: half },
    { from: half, to: input.summaries.length },
  ];
  const wordsIn = (from: number, to: number) => [...new Set(input.summaries.slice(from, to).flatMap((s) => contentWords(s, lang)))];
  const issues: Issue[] = [];
  for (const [k, { from, to }] of halves.entries()) {
    const other = halves[1 - k]!;
    const theirs = wordsIn(other.from, other.to);
    const own = wordsIn(from, to).filter((w) => sharedWords([w], theirs).length === 0);
    if (own.length < 2 || sharedWords(words, own).length > 0) continue;
    issues.push({
      kind: 'semantic',
      check: 'section-covers',
      path: '/summary',
      message: `the summary takes nothing from the summaries of parts ${input.firstPart + from}-${input.firstPart + to - 1}; cover the whole section, parts ${input.firstPart}-${input.firstPart + input.summaries.length - 1}`,
    });
  }
  return issues;
};

const SYSTEM = 'You summarize one section of a long document from the summaries of its parts. Use only what the part summaries say.';

/** The part summaries carry the document's words: an instruction in them is not the summarizer's to follow. */
export const sectionResistsInjection: Check<SummarizeSectionInput, SummarizeSectionOutput> = resistsInjection<SummarizeSectionInput, SummarizeSectionOutput>({
  userText: (input) => input.summaries,
  paths: ['/summary'],
  instructions: () => [SYSTEM],
  noun: 'summary',
});

export const summarizeSection = defineMicroTask<SummarizeSectionInput, SummarizeSectionOutput>({
  name: 'summarize-section',
  version: 1,
  formatName: 'summarize_section',
  description: 'Summarizes a section of a long document (consecutive parts) in one paragraph, from the summaries of its parts.',
  input: SummarizeSectionInput,
  output: SummarizeSectionOutput,
  prompt: (input, context) => {
    const last = input.firstPart + input.summaries.length - 1;
    return {
      system: SYSTEM,
      user: `${renderContext(context)}

Summaries of parts ${input.firstPart}-${last} of ${input.parts}, in order (section ${input.section} of ${input.sections}):
${userTextBlock('summaries', input.summaries.map((s, i) => `${input.firstPart + i}. ${s}`).join('\n'), { section: input.section, of: input.sections })}

Write one paragraph of 3-5 sentences summarizing this section, from its first part to its last, using only what the summaries above say.
Return JSON of this shape: {"summary":"..."}`,
    };
  },
  checks: [sectionResistsInjection, sectionSummaryGrounded, sectionSummaryCovers, distinctSentences({ paths: ['/summary'] }), completeSentences({ paths: ['/summary'] }), groundedNumbers()],
  pool: 'small',
  maxTokens: 384,
  temperature: 0,
});
