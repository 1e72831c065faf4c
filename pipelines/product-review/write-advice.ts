import { z } from 'zod';
import { defineMicroTask, renderContext, trustedContext, type Check, type ContextBlock, type Prompt } from '../../core/contract.js';
import { resistsInjection } from '../../core/checks/injection.js';
import { completeSentences, distinctItems, distinctSentences, groundedNumbers, informative, notCopied } from '../../core/checks/index.js';
import type { Issue } from '../../core/issues.js';
import { normalizeText, quote } from '../../core/text.js';
import { CUSTOMER_NOTES, notesOf, PRODUCT } from './product.js';

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
  summary: z.string().min(20).max(600).describe('two sentences of buying advice'),
});
export type WriteAdviceOutput = z.infer<typeof WriteAdviceOutput>;

const SYSTEM = 'You write honest, balanced buying advice. Base it only on the product facts and customer notes given; do not invent prices or specs.';

function advicePrompt(input: WriteAdviceInput, context: readonly ContextBlock[]): Prompt {
  return {
    system: SYSTEM,
    user: `${renderContext(context)}

Key features of ${input.productName}: ${input.features.join('; ')}.
${input.scenarios.length > 0 ? `Typical uses: ${input.scenarios.join('; ')}.\n` : ''}
Write buying advice. In buyIf, name 1-3 kinds of people the product suits and why, in your own words. In skipIf, name 1-3 kinds of people it does not suit and why. The verdict is "strong-buy" (excellent for most buyers), "buy" (good value), "consider" (good for some) or "skip" (better options exist). The summary is two sentences.
Return JSON of this shape: {"buyIf":["..."],"skipIf":["..."],"verdict":"...","summary":"..."}`,
  };
}

/** Where an item may not be lifted from: the customer notes, and the instructions of the prompt itself. */
const notesAndInstructions = (input: WriteAdviceInput, context: readonly ContextBlock[]) => [
  ...context.filter((b) => b.title === CUSTOMER_NOTES).map((b) => renderContext([b])),
  advicePrompt(input, []).user,
];

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

/** Advice that carries what an instruction in a customer note asks for (a verdict, a link, a claim), or the prompt itself. */
export const adviceResistsInjection: Check<WriteAdviceInput, WriteAdviceOutput> = resistsInjection<WriteAdviceInput, WriteAdviceOutput>({
  userText: (_, context) => notesOf(context),
  paths: ['/summary', '/buyIf/*', '/skipIf/*'],
  choices: [{ path: '/verdict', scale: () => VERDICTS }],
  trusted: (input, context) => [renderContext(trustedContext(context)), ...input.features, ...input.scenarios],
  instructions: () => [SYSTEM],
  noun: 'advice',
});

export const writeAdvice = defineMicroTask<WriteAdviceInput, WriteAdviceOutput>({
  name: 'write-advice',
  version: 4,
  formatName: 'write_advice',
  description: 'Writes buying advice for a product: who should buy it, who should not, and a verdict.',
  input: WriteAdviceInput,
  output: WriteAdviceOutput,
  prompt: advicePrompt,
  checks: [
    adviceResistsInjection,
    buyersNotContradictory,
    distinctItems({ list: '/buyIf', noun: 'buyer', ignore: (input) => [input.productName], dropWhileAtLeast: 1 }),
    distinctItems({ list: '/skipIf', noun: 'buyer', ignore: (input) => [input.productName], dropWhileAtLeast: 1 }),
    informative({
      items: '/buyIf/*',
      subject: (input, context) => [input.productName, ...context.filter((b) => b.title === PRODUCT).map((b) => renderContext([b]))],
      noun: 'buyer',
      instead: 'describe a kind of buyer and why it suits them',
    }),
    informative({
      items: '/skipIf/*',
      subject: (input, context) => [input.productName, ...context.filter((b) => b.title === PRODUCT).map((b) => renderContext([b]))],
      noun: 'buyer',
      instead: 'describe a kind of buyer and why it does not suit them',
    }),
    notCopied({ items: '/buyIf/*', sources: notesAndInstructions, noun: 'buyer', instead: 'describe the kind of buyer in your own words' }),
    notCopied({ items: '/skipIf/*', sources: notesAndInstructions, noun: 'buyer', instead: 'describe the kind of buyer in your own words' }),
    distinctSentences({ paths: ['/summary'] }),
    completeSentences({ paths: ['/summary'] }),
    // prices and specs alike: a figure the facts do not state is invented
    groundedNumbers(),
  ],
  pool: 'small',
  maxTokens: 600,
  temperature: 0.2,
});
