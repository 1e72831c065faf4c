import { z } from 'zod';
import { defineMicroTask, renderContext, type Check } from '../../core/contract.js';
import type { Issue } from '../../core/issues.js';
import { moneySpans, referenceTokens } from '../../core/money.js';
import { appearsIn, quote } from '../../core/text.js';

export const ExtractTicketFieldsInput = z.object({
  subject: z.string().min(1),
  body: z.string().min(1),
  /** the catalog's order id pattern: only its matches are order id candidates */
  orderIdPattern: z.string().optional(),
});
export type ExtractTicketFieldsInput = z.infer<typeof ExtractTicketFieldsInput>;

export const ExtractTicketFieldsOutput = z.object({
  orderId: z.string().min(1).max(40).nullable().describe('the order id exactly as written in the ticket, or null'),
  product: z.string().min(1).max(80).nullable().describe('the product the ticket is about, as written in the ticket, or null'),
  amount: z.string().min(1).max(20).nullable().describe('a money amount as written in the ticket, e.g. "$49.99", or null'),
  requestedAction: z.string().min(3).max(120).nullable().describe('what the customer asks for, copied word for word from the ticket, or null'),
});
export type ExtractTicketFieldsOutput = z.infer<typeof ExtractTicketFieldsOutput>;

const FIELDS = ['orderId', 'product', 'amount', 'requestedAction'] as const;

/** The text's matches of a catalog's order id pattern, case aside, each once. */
function patternMatches(text: string, pattern: string): string[] {
  return [...new Set([...text.matchAll(new RegExp(pattern, 'giu'))].map((m) => m[0]).filter((m) => m.length > 0 && m.length <= 40))];
}

/** Order ids and amounts can only be what the ticket writes: guided decoding offers exactly those, or null. */
function ticketCandidates(input: ExtractTicketFieldsInput): z.ZodType<ExtractTicketFieldsOutput> {
  const text = `${input.subject}\n${input.body}`;
  const ids = input.orderIdPattern !== undefined ? patternMatches(text, input.orderIdPattern) : referenceTokens(text, 40);
  const amounts = moneySpans(text, 20);
  const oneOf = (values: string[]) => (values.length > 0 ? z.enum(values as [string, ...string[]]).nullable() : z.null());
  return ExtractTicketFieldsOutput.extend({ orderId: oneOf(ids), amount: oneOf(amounts) }) as z.ZodType<ExtractTicketFieldsOutput>;
}

/** Grounded in the ticket alone: the product list in the context would let an unmentioned product through. */
function appearsAsToken(value: string, text: string): boolean {
  const escaped = value.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return escaped !== '' && new RegExp(`(?<![\\w-])${escaped}(?![\\w-])`, 'i').test(text);
}

export const fieldsInTicket: Check<ExtractTicketFieldsInput, ExtractTicketFieldsOutput> = (output, { input }) => {
  const text = `${input.subject}\n${input.body}`;
  const issues: Issue[] = [];
  for (const field of FIELDS) {
    const value = output[field];
    // an id must appear whole: "582214" inside "ORD-582214" is not the order id
    const found = value !== null && (field === 'orderId' ? appearsAsToken(value, text) : appearsIn(value, text));
    if (value !== null && !found) {
      issues.push({ kind: 'grounding', path: `/${field}`, message: `${quote(value)} does not appear in the ticket; copy it exactly as written, or use null` });
    }
  }
  return issues;
};

export const extractTicketFields = defineMicroTask<ExtractTicketFieldsInput, ExtractTicketFieldsOutput>({
  name: 'extract-ticket-fields',
  version: 5,
  formatName: 'extract_ticket_fields',
  description: 'Copies the order id, product, amount and requested action out of a support ticket, null where absent.',
  input: ExtractTicketFieldsInput,
  output: ExtractTicketFieldsOutput,
  guidedSchema: ticketCandidates,
  prompt: (input, context) => ({
    system: 'You copy fields out of a support ticket. Copy values exactly as written in the ticket. Use null for anything the ticket does not say; never guess.',
    user: `${renderContext(context)}

<ticket>
Subject: ${input.subject}
${input.body}
</ticket>

Extract orderId, product, amount and requestedAction from the ticket, or null for each one it does not mention.
Return JSON of this shape, with null for any field the ticket lacks: {"orderId":"...","product":"...","amount":null,"requestedAction":"..."}`,
  }),
  checks: [fieldsInTicket],
  pool: 'small',
  maxTokens: 256,
  temperature: 0,
});
