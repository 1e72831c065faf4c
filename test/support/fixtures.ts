import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../infra/paths.js';
import type { ScriptedModelServer } from './scripted-model.js';

export function sample(pipeline: string, name: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'pipelines', pipeline, 'samples', `${name}.json`), 'utf8'));
}

/** Valid outputs of each product-review micro-task for the wireless-headphones sample. */
export const productReviewOutputs = {
  extract_features: {
    features: [
      { name: 'battery life', benefit: 'Lasts 30 hours with noise cancelling on, enough for a week of commutes.' },
      { name: 'fast charging', benefit: 'Ten minutes of charging gives five hours of listening.' },
      { name: 'active noise cancellation', benefit: 'Blocks engine and train noise so you can focus or rest.' },
    ],
  },
  write_scenarios: {
    scenarios: [
      { title: 'Morning commute', description: 'A commuter rides the train for an hour and the noise cancelling keeps the carriage quiet.', feature: 'active noise cancellation' },
      { title: 'Long flight', description: 'A traveller crosses an ocean and the battery lasts the whole trip without a charge.', feature: 'battery life' },
    ],
  },
  write_advice: {
    buyIf: ['Commuters who want quiet trains and buses'],
    skipIf: ['Runners who need a secure fit at the gym'],
    verdict: 'buy',
    summary: 'Strong noise cancelling and long battery life make it a good choice for commuters and travellers.',
  },
  generate_keywords: {
    keywords: ['wireless headphones', 'noise cancelling headphones', 'long battery headphones', 'bluetooth 5.3 headphones', 'commuter headphones'],
  },
} as const;

export type ProductReviewFormat = keyof typeof productReviewOutputs;

/** Every product-review micro-task answers validly unless a test scripted something else first. */
export function answerProductReview(model: ScriptedModelServer): void {
  for (const [format, value] of Object.entries(productReviewOutputs)) model.otherwise(format, { content: JSON.stringify(value) });
}
