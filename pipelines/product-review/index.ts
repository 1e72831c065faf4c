import { z } from 'zod';
import { definePipeline } from '../../core/contract.js';
import { resultOf } from '../shared/state.js';
import { injectionIn } from '../../core/checks/injection.js';
import { ExtractFeaturesOutput, extractFeatures, type ExtractFeaturesInput } from './extract-features.js';
import { GenerateKeywordsOutput, generateKeywords, type GenerateKeywordsInput } from './generate-keywords.js';
import { customerNotesBlock, productBlock, ProductReviewInput, specSheetBlock } from './product.js';
import { VERDICTS, WriteAdviceOutput, writeAdvice, type WriteAdviceInput } from './write-advice.js';
import { WriteScenariosOutput, writeScenarios, type WriteScenariosInput } from './write-scenarios.js';

export { ProductReviewInput } from './product.js';

export interface ProductReview {
  product: { name: string; category: string; price: number; currency: ProductReviewInput['currency'] };
  verdict: (typeof VERDICTS)[number];
  summary: string;
  features: ExtractFeaturesOutput['features'];
  scenarios: WriteScenariosOutput['scenarios'];
  buyIf: string[];
  skipIf: string[];
  keywords: string[];
  /** set when a customer note carries instructions aimed at the model, for a human to look at */
  injectionSuspected: boolean;
}

/** What a completed product-review run returns. */
export const ProductReviewOutput = z.object({
  product: z.object({ name: z.string(), category: z.string(), price: z.number(), currency: ProductReviewInput.shape.currency }),
  verdict: WriteAdviceOutput.shape.verdict,
  summary: WriteAdviceOutput.shape.summary,
  features: ExtractFeaturesOutput.shape.features,
  scenarios: WriteScenariosOutput.shape.scenarios,
  buyIf: WriteAdviceOutput.shape.buyIf,
  skipIf: WriteAdviceOutput.shape.skipIf,
  keywords: GenerateKeywordsOutput.shape.keywords,
  injectionSuspected: z.boolean().describe('set when a customer note carries instructions aimed at the model'),
});

export const productReview = definePipeline<ProductReviewInput, ProductReview>({
  name: 'product-review',
  version: 2,
  description: 'Writes a product review from a spec sheet: features, usage scenarios, buying advice and SEO keywords.',
  input: ProductReviewInput,
  output: ProductReviewOutput,
  steps: [
    {
      id: 'features',
      task: extractFeatures,
      input: ({ input }): ExtractFeaturesInput => ({ productName: input.name, maxFeatures: Math.min(6, Math.max(2, Object.keys(input.specs).length)) }),
      context: ({ input }) => [productBlock(input), specSheetBlock(input)],
    },
    {
      id: 'scenarios',
      task: writeScenarios,
      input: (state): WriteScenariosInput => {
        const { features } = resultOf(state, 'features', ExtractFeaturesOutput);
        return { productName: state.input.name, features, count: Math.min(3, Math.max(2, features.length)) };
      },
      context: ({ input }) => [productBlock(input), customerNotesBlock(input)],
    },
    {
      id: 'advice',
      task: writeAdvice,
      input: (state): WriteAdviceInput => ({
        productName: state.input.name,
        features: resultOf(state, 'features', ExtractFeaturesOutput).features.map((f) => f.name),
        scenarios: resultOf(state, 'scenarios', WriteScenariosOutput).scenarios.map((s) => s.title),
      }),
      context: ({ input }) => [productBlock(input), specSheetBlock(input), customerNotesBlock(input)],
    },
    {
      id: 'keywords',
      task: generateKeywords,
      input: (state): GenerateKeywordsInput => ({
        productName: state.input.name,
        features: resultOf(state, 'features', ExtractFeaturesOutput).features.map((f) => f.name),
      }),
      context: ({ input }) => [productBlock(input)],
    },
  ],
  // the features are the step with a right answer: which spec facts matter to a buyer; the names
  // are spec keys (guided decoding allows no other), so a name matches as text
  evaluation: {
    step: 'features',
    comparators: { features: { kind: 'set', fields: { name: { kind: 'text' } }, pass: 0.6 } },
  },
  assemble: (state) => {
    const { input } = state;
    const advice = resultOf(state, 'advice', WriteAdviceOutput);
    return {
      product: { name: input.name, category: input.category, price: input.price, currency: input.currency },
      verdict: advice.verdict,
      summary: advice.summary,
      features: resultOf(state, 'features', ExtractFeaturesOutput).features,
      scenarios: resultOf(state, 'scenarios', WriteScenariosOutput).scenarios,
      buyIf: advice.buyIf,
      skipIf: advice.skipIf,
      keywords: resultOf(state, 'keywords', GenerateKeywordsOutput).keywords,
      injectionSuspected: injectionIn(input.customerNotes) !== null,
    };
  },
});
