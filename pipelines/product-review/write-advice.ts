import { z } from 'zod';
import { defineMicroTask, groundingText, renderContext, type Check } from '../../core/contract.js';
import type { Issue } from '../../core/issues.js';
import { moneyIn, numbersIn, sameAmount } from '../shared/numbers.js';
import { normalizeText, quote } from '../shared/text.js';

export const VERDICTS = ['strong-buy', 'buy', 'consider', 'skip'] as const;

export const WriteAdviceInput = z.object({
  productName: z.string().min(1),
  features: z.array(z.string().min(1)).min(1).max(8),
  scenarios: z.array(z.string().min(1)).max(4),
});
export type WriteAdviceInput = z.infer<typeof WriteAdviceInput>;

export const WriteAdviceOutput = z.object({
  buyIf: z.array(z.string().min(10).max(160)).min(1).max(3).describe('who should buy it, one kind of buyer per item'),
  skipIf: z.array(z.string().min(10).max(160)).min(1).max(3).describe('who should not buy it, one kind of buyer per item'),
  verdict: z.enum(VERDICTS).describe('strong-buy, buy, consider or skip'),
  summary: z.string().min(20).max(300).describe('two sentences of buying advice'),
});
export type WriteAdviceOutput = z.infer<typeof WriteAdviceOutput>;

/** Small models invent prices; any amount of money the advice quotes must be one the context states. */
export const quotedPricesGrounded: Check<WriteAdviceInput, WriteAdviceOutput> = (output, { context }) => {
  const known = numbersIn(groundingText(context));
  const fields: [string, string][] = [
    ['/summary', output.summary],
    ...output.buyIf.map((t, i): [string, string] => [`/buyIf/${i}`, t]),
    ...output.skipIf.map((t, i): [string, string] => [`/skipIf/${i}`, t]),
  ];
  const issues: Issue[] = [];
  for (const [path, text] of fields) {
    for (const money of moneyIn(text)) {
      if (!money.values.some((v) => known.some((k) => sameAmount(k, v)))) {
        issues.push({ kind: 'grounding', path, message: `the amount ${quote(money.written)} is not the product's price; quote only the price given in the context` });
      }
    }
  }
  return issues;
};

export const buyersNotContradictory: Check<WriteAdviceInput, WriteAdviceOutput> = (output) => {
  const buyers = new Set(output.buyIf.map(normalizeText));
  const issues: Issue[] = [];
  output.skipIf.forEach((t, i) => {
    if (buyers.has(normalizeText(t))) {
      issues.push({ kind: 'semantic', path: `/skipIf/${i}`, message: `${quote(t)} is also listed under buyIf; describe a buyer the product does not suit` });
    }
  });
  return issues;
};

export const writeAdvice = defineMicroTask<WriteAdviceInput, WriteAdviceOutput>({
  name: 'write-advice',
  version: 1,
  formatName: 'write_advice',
  description: 'Writes buying advice for a product: who should buy it, who should not, and a verdict.',
  input: WriteAdviceInput,
  output: WriteAdviceOutput,
  prompt: (input, context) => ({
    system: 'You write honest, balanced buying advice. Base it only on the product facts and customer notes given; do not invent prices or specs.',
    user: `${renderContext(context)}

Key features of ${input.productName}: ${input.features.join('; ')}.
${input.scenarios.length > 0 ? `Typical uses: ${input.scenarios.join('; ')}.\n` : ''}
Write buying advice:
- buyIf: 1-3 kinds of buyer it suits
- skipIf: 1-3 kinds of buyer it does not suit
- verdict: "strong-buy" (excellent for most buyers), "buy" (good value), "consider" (good for some), or "skip" (better options exist)
- summary: two sentences
Return JSON of this shape: {"buyIf":["..."],"skipIf":["..."],"verdict":"...","summary":"..."}`,
  }),
  checks: [quotedPricesGrounded, buyersNotContradictory],
  pool: 'small',
  maxTokens: 450,
  temperature: 0.2,
});
