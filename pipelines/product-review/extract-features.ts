import { z } from 'zod';
import { defineMicroTask, groundingText, renderContext, type Check, type ContextBlock } from '../../core/contract.js';
import type { Issue } from '../../core/issues.js';
import { distinctItems, groundedNumbers } from '../../core/checks/index.js';
import { repeatIssues } from '../../core/checks/repeats.js';
import { contentWords, languageOf, normalizeText, quote, sharedWords, stem } from '../../core/text.js';
import { SPEC_SHEET, blocksTitled } from './product.js';

export const ExtractFeaturesInput = z.object({
  productName: z.string().min(1),
  maxFeatures: z.number().int().min(2).max(8),
});
export type ExtractFeaturesInput = z.infer<typeof ExtractFeaturesInput>;

export const ExtractFeaturesOutput = z.object({
  features: z
    .array(
      z.object({
        name: z.string().min(2).max(60).describe('2-5 words taken from the spec sheet, e.g. "30-hour battery"'),
        benefit: z.string().min(10).max(160).describe('one sentence: what the feature does for the buyer'),
      }),
    )
    .min(2)
    .max(8)
    .describe('the most useful features, one per spec fact'),
});
export type ExtractFeaturesOutput = z.infer<typeof ExtractFeaturesOutput>;

/** The names of the spec sheet's facts, which are the only feature names the contract allows. */
function specFactNames(context: readonly ContextBlock[]): string[] {
  const facts = context.find((b) => b.title === SPEC_SHEET)?.facts;
  if (!facts || typeof facts === 'string' || Array.isArray(facts)) return [];
  return Object.keys(facts).filter((k) => k.length >= 2 && k.length <= 60);
}

/** With the spec sheet known, a feature name is one of its facts: guided decoding cannot invent one. */
function outputForSpec(input: ExtractFeaturesInput, context: readonly ContextBlock[]): z.ZodType<ExtractFeaturesOutput> {
  const names = specFactNames(context);
  if (names.length < 2) return ExtractFeaturesOutput;
  const item = ExtractFeaturesOutput.shape.features.element;
  return z.object({
    features: z
      .array(item.extend({ name: z.enum(names as [string, ...string[]]).describe(item.shape.name.description ?? 'a fact of the spec sheet') }))
      .min(2)
      .max(Math.max(2, Math.min(input.maxFeatures, names.length))),
  });
}

/** Most of a feature name's words must occur in the spec sheet; a single-word overlap of a two-word name is not enough. */
export const featureNamesGrounded: Check<ExtractFeaturesInput, ExtractFeaturesOutput> = (output, { context }) => {
  const spec = groundingText(blocksTitled(context, SPEC_SHEET));
  const lang = languageOf(spec, ...output.features.map((f) => f.name));
  const specWords = contentWords(spec, lang);
  // a fact's own name is grounded whatever its words: "OS", "Wt.", "容量"
  const factNames = new Set(specFactNames(context).map(normalizeText));
  const issues: Issue[] = [];
  output.features.forEach((f, i) => {
    if (factNames.has(normalizeText(f.name))) return;
    const words = contentWords(f.name, lang);
    const shared = sharedWords(words, specWords);
    if (words.length === 0 || shared.length * 2 <= words.length) {
      const unmatched = words.filter((w) => !shared.includes(w));
      // named as the feature writes them, not by their stems
      const missing = [...new Set(normalizeText(f.name).split(' ').filter((w) => unmatched.includes(stem(w, lang))))];
      issues.push({
        kind: 'grounding',
        path: `/features/${i}/name`,
        message: `feature ${quote(f.name)} is not in the spec sheet (${missing.length > 0 ? `no mention of ${missing.join(', ')}` : 'no content words'}); name a feature the spec sheet lists`,
      });
    }
  });
  return issues;
};

/**
 * Feature names are distinct. When at least two distinct features remain, the repeats are simply
 * dropped (a fix without a model call; the first of each name is kept); otherwise the later copy
 * is sent back to the model.
 */
export const featureNamesDistinct: Check<ExtractFeaturesInput, ExtractFeaturesOutput> = (output) =>
  repeatIssues(output.features, {
    key: (f) => normalizeText(f.name),
    text: (f) => f.name,
    noun: 'feature',
    listPath: '/features',
    itemSuffix: '/name',
    instead: 'name a different feature',
    min: 2,
  });

export const extractFeatures = defineMicroTask<ExtractFeaturesInput, ExtractFeaturesOutput>({
  name: 'extract-features',
  version: 5,
  formatName: 'extract_features',
  description: 'Lists the features of a product that its spec sheet states, each with its benefit to the buyer.',
  input: ExtractFeaturesInput,
  output: ExtractFeaturesOutput,
  guidedSchema: outputForSpec,
  prompt: (input, context) => ({
    system: 'You list product features from a spec sheet. Use only facts in the spec sheet; never add a feature it does not list.',
    user: `${renderContext(context)}

List up to ${input.maxFeatures} features of ${input.productName}, one per spec fact.
- name: 2-5 words, using the words of the spec sheet
- benefit: one sentence on what the feature does for the buyer
Return JSON of this shape: {"features":[{"name":"...","benefit":"..."}]}`,
  }),
  checks: [
    featureNamesGrounded,
    featureNamesDistinct,
    distinctItems({ list: '/features', field: '/benefit', noun: 'benefit', ignore: (input) => [input.productName] }),
    groundedNumbers({ paths: ['/features/*/benefit', '/features/*/name'] }),
  ],
  pool: 'small',
  maxTokens: 450,
  temperature: 0,
});
