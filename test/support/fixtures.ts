import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../infra/paths.js';
import type { CombineSummariesOutput } from '../../pipelines/document-summary/combine-summaries.js';
import type { SummarizeChunkOutput } from '../../pipelines/document-summary/summarize-chunk.js';
import type { ExtractInvoiceOutput } from '../../pipelines/invoice-extraction/extract-invoice.js';
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

/** Correct extract-invoice outputs for the three invoice samples. */
export const invoiceOutputs: Record<'uk' | 'us' | 'swiss', ExtractInvoiceOutput> = {
  uk: {
    invoiceNumber: 'NW-2024-0417',
    issueDate: '2024-04-03',
    dueDate: '2024-05-03',
    vendor: 'Northwind Office Supply Ltd.',
    currency: 'GBP',
    lines: [
      { description: 'Ergonomic office chair, grey', qty: 4, unitPrice: 189, amount: 756 },
      { description: 'Height-adjustable desk 160x80', qty: 2, unitPrice: 425.5, amount: 851 },
      { description: 'Monitor arm, dual', qty: 4, unitPrice: 64.99, amount: 259.96 },
    ],
    subtotal: 1866.96,
    discount: null,
    taxes: [{ name: 'VAT', rate: 20, amount: 373.39 }],
    tax: 373.39,
    total: 2240.35,
  },
  us: {
    invoiceNumber: 'BL-88213',
    issueDate: '2025-03-15',
    dueDate: '2025-04-14',
    vendor: 'Brightline Software Inc.',
    currency: 'USD',
    lines: [
      { description: 'Brightline Analytics - annual seats', qty: 25, unitPrice: 480, amount: 12000 },
      { description: 'Onboarding workshop (half day)', qty: 1, unitPrice: 1500, amount: 1500 },
    ],
    subtotal: 13500,
    discount: null,
    taxes: [{ name: 'Sales tax', rate: 0, amount: 0 }],
    tax: 0,
    total: 13500,
  },
  swiss: {
    invoiceNumber: 'AHB-24-1193',
    issueDate: '2024-11-12',
    dueDate: '2024-12-12',
    vendor: 'Alpenblick Hotelbedarf GmbH',
    currency: 'CHF',
    lines: [
      { description: 'Bettwäsche-Set Satin 160x200', qty: 40, unitPrice: 89.5, amount: 3580 },
      { description: 'Frottee-Badetuch 70x140', qty: 120, unitPrice: 18.9, amount: 2268 },
      { description: 'Kissen Daune 65x65', qty: 40, unitPrice: 54, amount: 2160 },
    ],
    subtotal: 8008,
    discount: null,
    taxes: [{ name: 'MWST', rate: 8.1, amount: 648.65 }],
    tax: 648.65,
    total: 8656.65,
  },
};

/** Valid outputs of document-summary's micro-tasks for the incident-report sample: one summary per chunk, then the combination. */
export const documentSummaryOutputs: { incident: { parts: SummarizeChunkOutput[]; combined: CombineSummariesOutput } } = {
  incident: {
    parts: [
      { summary: 'On 12 March EU customers could not upload files larger than 20 MB for almost two hours. About 41,000 uploads failed with timeouts, but no data was lost.' },
      { summary: 'A load-balancer configuration change lowered the buffered request limit from 256 MB to 20 MB. Staging tests only used 5 MB files, so the problem was missed.' },
      { summary: 'Alerting flagged the upload timeouts after 17 minutes, but the on-call engineer first suspected the storage cluster. The change was rolled back at 10:52.' },
      { summary: 'Four fixes follow: larger files in staging tests, zone-by-zone load-balancer rollouts, failures by file size on the dashboard, and a runbook step for recent changes.' },
      { summary: 'Affected business customers will receive a service credit automatically. A follow-up report is expected by the end of April.' },
    ],
    combined: {
      summary:
        'On 12 March a load-balancer configuration change blocked EU uploads above 20 MB for almost two hours, failing about 41,000 uploads without losing data. Staging tests used small files and missed it; the change was rolled back at 10:52. Four fixes and service credits for business customers follow.',
      keyPoints: [
        'About 41,000 EU uploads larger than 20 MB failed on 12 March, but no data was lost.',
        'A load-balancer limit lowered to 20 MB caused the failures, and staging tests missed it.',
        'The change was rolled back at 10:52 after the team first suspected storage.',
        'Staging tests, rollouts, dashboards and the runbook are changing to prevent a repeat.',
      ],
    },
  },
};
