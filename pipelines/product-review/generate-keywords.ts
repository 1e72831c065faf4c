import { z } from 'zod';
import { defineMicroTask, renderContext, type Check } from '../../core/contract.js';
import type { Issue } from '../../core/issues.js';
import { repeatIssues } from '../../core/checks/repeats.js';
import { contentWords, languageOf, quote, sharedWords } from '../../core/text.js';

export const GenerateKeywordsInput = z.object({
  productName: z.string().min(1),
  features: z.array(z.string().min(1)).min(1).max(8),
});
export type GenerateKeywordsInput = z.infer<typeof GenerateKeywordsInput>;

const MIN_KEYWORDS = 5;

export const GenerateKeywordsOutput = z.object({
  keywords: z
    .array(z.string().min(2).max(40).describe('a lowercase search phrase of 1-4 words'))
    .min(MIN_KEYWORDS)
    .max(10)
    .describe('5-10 distinct lowercase SEO keywords'),
});
export type GenerateKeywordsOutput = z.infer<typeof GenerateKeywordsOutput>;

export const keywordsLowercase: Check<GenerateKeywordsInput, GenerateKeywordsOutput> = (output) =>
  output.keywords.flatMap((k, i): Issue[] =>
    k !== k.toLowerCase()
      ? [{ kind: 'semantic', path: `/keywords/${i}`, message: `keyword ${quote(k)} must be lowercase: ${quote(k.toLowerCase())}`, fix: { value: k.toLowerCase() } }]
      : [],
  );

const keyOf = (k: string) => k.trim().toLowerCase().replace(/\s+/g, ' ');

/**
 * A keyword is about this product: it shares a word with its name, its category or a feature, and
 * is not just numbers. When enough distinct relevant keywords remain, the others are simply
 * dropped (a fix without a model call); otherwise each is sent back to the model.
 */
export const keywordsRelevant: Check<GenerateKeywordsInput, GenerateKeywordsOutput> = (output, { input, context }) => {
  const about = [input.productName, ...input.features, renderContext(context)].join(' ');
  const lang = languageOf(about, ...output.keywords);
  const pool = contentWords(about, lang).filter((w) => /\p{L}/u.test(w));
  const relevant = (k: string) => {
    const words = contentWords(k, lang).filter((w) => /\p{L}/u.test(w));
    return words.length > 0 && sharedWords(words, pool).length > 0;
  };
  const issues = output.keywords.flatMap((k, i): Issue[] =>
    relevant(k) ? [] : [{ kind: 'grounding', path: `/keywords/${i}`, message: `keyword ${quote(k)} says nothing about the product; use words of its name, category or features` }],
  );
  if (issues.length === 0) return [];
  const kept = [...new Map(output.keywords.filter(relevant).map((k) => [keyOf(k), k.toLowerCase()] as const)).values()];
  if (kept.length >= MIN_KEYWORDS) {
    const dropped = output.keywords.filter((k) => !relevant(k)).map((k) => quote(k));
    return [{ kind: 'grounding', path: '/keywords', message: `${dropped.join(', ')} say(s) nothing about the product; drop or replace`, fix: { value: kept } }];
  }
  return issues;
};

/** "1. fast charging": a list number the model wrote into the keyword is stripped without a model call. */
export const keywordsUnnumbered: Check<GenerateKeywordsInput, GenerateKeywordsOutput> = (output) =>
  output.keywords.flatMap((k, i): Issue[] => {
    const bare = k.replace(/^\s*\d{1,2}\s*[.)]\s+/, '');
    return bare !== k && bare.length >= 2
      ? [{ kind: 'semantic', path: `/keywords/${i}`, message: `keyword ${quote(k)} carries a list number: ${quote(bare)}`, fix: { value: bare } }]
      : [];
  });

/**
 * Duplicates compare case- and space-insensitively. When enough distinct keywords remain, the
 * repeats are simply dropped (a fix without a model call); otherwise the later copy is replaced.
 */
export const keywordsDistinct: Check<GenerateKeywordsInput, GenerateKeywordsOutput> = (output) =>
  repeatIssues(output.keywords, { key: keyOf, text: (k) => k, noun: 'keyword', listPath: '/keywords', instead: 'give a different keyword', min: MIN_KEYWORDS });

export const generateKeywords = defineMicroTask<GenerateKeywordsInput, GenerateKeywordsOutput>({
  name: 'generate-keywords',
  version: 10,
  formatName: 'generate_keywords',
  description: 'Generates 5-10 distinct lowercase SEO keywords for a product review.',
  input: GenerateKeywordsInput,
  output: GenerateKeywordsOutput,
  // no capital letters by grammar where the endpoint enforces patterns, in any script: "kopfhörer",
  // "tai nghe" and "耳机" are keywords (a grammar builder knows no \p{Lu}, so the class excludes
  // A-Z, whitespace at the start, and what a JSON string would have to escape); the checks and their
  // fixes hold where it does not ("15 bar espresso machine" is a fine keyword, so a digit may lead;
  // the relevance check drops "1.1.1"). The length bound sits in the pattern because grammar
  // builders such as llama.cpp's use a string's pattern and then ignore its maxLength.
  guidedSchema: () => z.object({ keywords: z.array(z.string().min(2).max(40).regex(/^[^A-Z\s"\\][^A-Z"\\\n\r\t]{1,39}$/)).min(MIN_KEYWORDS).max(10) }),
  prompt: (input, context) => ({
    system: 'You write SEO keywords for a product review page: short lowercase search phrases that shoppers type.',
    user: `${renderContext(context)}

Features of ${input.productName}: ${input.features.join('; ')}.

Write 5-10 keywords. Each is lowercase, 1-4 words, and different from the others.
Return JSON of this shape: {"keywords":["...","..."]}`,
  }),
  checks: [keywordsUnnumbered, keywordsLowercase, keywordsDistinct, keywordsRelevant],
  pool: 'small',
  maxTokens: 256,
  temperature: 0,
});
