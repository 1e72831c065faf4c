import { z } from 'zod';
import { definePipeline } from '../../core/contract.js';
import { ExtractInvoiceOutput, extractInvoice, invoiceContext, type ExtractInvoiceInput } from './extract-invoice.js';

export const InvoiceExtractionInput = z.object({
  text: z.string().min(20).max(20000).describe('the invoice as plain text'),
});
export type InvoiceExtractionInput = z.infer<typeof InvoiceExtractionInput>;

export interface InvoiceExtraction {
  /**
   * whether the invoice meets the output schema; a partial result can meet it and still fail a check,
   * so the run's unresolved paths, not this flag, say what awaits review
   */
  schemaValid: boolean;
  invoice: ExtractInvoiceOutput | Record<string, unknown> | null;
}

/** What a completed invoice-extraction run returns: the invoice as its contract reads it, or as far as it got. */
export const InvoiceExtractionOutput = z.discriminatedUnion('schemaValid', [
  z.object({ schemaValid: z.literal(true), invoice: ExtractInvoiceOutput }),
  z.object({ schemaValid: z.literal(false), invoice: z.record(z.string(), z.unknown()).nullable() }),
]);

export const invoiceExtraction = definePipeline<InvoiceExtractionInput, InvoiceExtraction>({
  name: 'invoice-extraction',
  version: 1,
  description: 'Extracts an invoice into a fixed schema whose values are grounded in the text and whose totals add up.',
  input: InvoiceExtractionInput,
  output: InvoiceExtractionOutput,
  steps: [
    {
      id: 'invoice',
      task: extractInvoice,
      input: ({ input }): ExtractInvoiceInput => ({ text: input.text }),
      context: ({ input }) => invoiceContext(input.text),
    },
  ],
  evaluation: {
    step: 'invoice',
    comparators: {
      invoiceNumber: { kind: 'text' },
      issueDate: { kind: 'date' },
      dueDate: { kind: 'date' },
      vendor: { kind: 'text' },
      currency: { kind: 'exact' },
      lines: { kind: 'set', fields: { description: { kind: 'text' }, qty: { kind: 'number' }, unitPrice: { kind: 'number', tolerance: 0.01 }, amount: { kind: 'number', tolerance: 0.01 } } },
      subtotal: { kind: 'number', tolerance: 0.01 },
      discount: { kind: 'number', tolerance: 0.01 },
      taxes: { kind: 'set', fields: { name: { kind: 'contains' }, rate: { kind: 'number', tolerance: 0.001 }, amount: { kind: 'number', tolerance: 0.01 } } },
      tax: { kind: 'number', tolerance: 0.01 },
      total: { kind: 'number', tolerance: 0.01 },
    },
  },
  // the task allows a partial result, so assemble keeps whatever came back instead of insisting on the contract
  assemble: ({ results }) => {
    const raw = results['invoice'];
    const parsed = ExtractInvoiceOutput.safeParse(raw);
    if (parsed.success) return { schemaValid: true, invoice: parsed.data };
    return { schemaValid: false, invoice: raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : null };
  },
});
