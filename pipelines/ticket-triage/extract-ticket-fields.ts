import { z } from 'zod';
import { defineMicroTask, renderContext, userTextBlock, type Check } from '../../core/contract.js';
import type { Issue } from '../../core/issues.js';
import { moneySpans, referenceTokens } from '../../core/money.js';
import { appearsIn, escapeRegExp, quote, wordsOf } from '../../core/text.js';
import { findInjection, withoutInjection } from '../../core/injection.js';

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
  requestedAction: z.string().min(3).max(120).nullable().describe("the customer's sentence or clause that asks for something, copied word for word from the ticket, or null"),
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
  const clauses = clausesOf(text);
  return ExtractTicketFieldsOutput.extend({
    orderId: oneOf(ids),
    amount: oneOf(amounts),
    // copied, not paraphrased: one of the ticket's own sentences or clauses
    ...(clauses.length > 0 ? { requestedAction: oneOf(clauses) } : {}),
  }) as z.ZodType<ExtractTicketFieldsOutput>;
}

const SENTENCES = new Intl.Segmenter('und', { granularity: 'sentence' });

/** The ticket's sentences, in any script, and their clauses (split at , ; and the like), each also without its closing punctuation. */
export function clausesOf(text: string, max = 120): string[] {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    for (const { segment } of SENTENCES.segment(line)) {
      const sentence = segment.trim();
      // the sentence, and its clauses; a run-on clause too long for the field, as windows of words
      const clauses = sentence.split(/(?<=[,;:，；、])\s*/u).flatMap((p) => (p.length <= max ? [p] : wordWindows(p, max)));
      for (const p of [sentence, ...clauses]) {
        const t = p.trim();
        // as written, and without the punctuation that ends it
        for (const v of [t, t.replace(/[\s.,;:!?。！？，；、]+$/u, '')]) if (v.length >= 3 && v.length <= max && /\p{L}/u.test(v)) out.add(v);
      }
    }
  }
  return [...out];
}

/** A run-on clause with no punctuation, as overlapping windows of words that fit: every short request in it is one of them. */
function wordWindows(clause: string, max: number): string[] {
  const words = clause.split(/\s+/).filter(Boolean);
  const out: string[] = [];
  for (let i = 0; i < words.length; i += 4) {
    let w = '';
    for (let k = i; k < words.length && `${w} ${words[k]}`.trim().length <= max; k++) w = `${w} ${words[k]}`.trim();
    if (w) out.push(w);
    if (i + 8 >= words.length) break;
  }
  return out;
}

/** A line that opens a quoted earlier message: "On Mon, 3 Mar, X wrote:", "Pada ... menulis:", "在 ... 写道：". */
const QUOTE_HEADER = /^\s*(?:on\s.+\swrote|pada\s.+\smenulis|vào\s.+\sđã viết|在.+写道|el\s.+\sescribió)\s*[:：]?\s*$/iu;

/**
 * What the customer writes now: without an instruction aimed at the model, and without the quoted
 * earlier messages of a thread (lines opened with ">", and all after a "... wrote:" line).
 */
export function ownText(text: string): string {
  const finding = findInjection(text);
  const lines = (finding ? withoutInjection(text, finding) : text).split('\n');
  const header = lines.findIndex((l) => QUOTE_HEADER.test(l));
  return (header >= 0 ? lines.slice(0, header) : lines).filter((l) => !/^\s*>/.test(l)).join('\n');
}

/**
 * A field left null that the ticket has a value for: an amount where the customer writes one,
 * an order id where the catalog's pattern finds one (quoted earlier messages aside). The model is asked again; a ticket whose
 * amount is truly beside the point ends flagged for a person, not silently empty.
 */
export const mentionedNotNull: Check<ExtractTicketFieldsInput, ExtractTicketFieldsOutput> = (output, { input }) => {
  const text = ownText(`${input.subject}\n${input.body}`);
  const issues: Issue[] = [];
  const amounts = moneySpans(text, 20);
  if (output.amount === null && amounts.length > 0) {
    issues.push({ kind: 'semantic', check: 'mentioned-not-null', path: '/amount', message: `the ticket writes ${amounts.map((a) => quote(a)).join(', ')}; give the amount the request is about, as written` });
  }
  const ids = input.orderIdPattern !== undefined ? patternMatches(text, input.orderIdPattern) : [];
  if (output.orderId === null && ids.length > 0) {
    issues.push({ kind: 'semantic', check: 'mentioned-not-null', path: '/orderId', message: `the ticket writes the order id ${ids.map((a) => quote(a)).join(', ')}; give the one the request is about` });
  }
  return issues;
};

/** A requested action is a request in the customer's words, not one word: "refund" is a topic. */
export const actionIsARequest: Check<ExtractTicketFieldsInput, ExtractTicketFieldsOutput> = (output) =>
  output.requestedAction !== null && wordsOf(output.requestedAction).length < 3
    ? [{ kind: 'semantic', check: 'action-is-a-request', path: '/requestedAction', message: `${quote(output.requestedAction)} is a word, not the request; copy the customer's sentence that asks for it` }]
    : [];

/** Grounded in the ticket alone: the product list in the context would let an unmentioned product through. */
function appearsAsToken(value: string, text: string): boolean {
  const escaped = escapeRegExp(value.trim());
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
      issues.push({ kind: 'grounding', path: `/${field}`, message: `${quote(value)} does not appear in the ticket; copy it exactly as written, or use null`, orNull: true });
    }
  }
  return issues;
};

export const extractTicketFields = defineMicroTask<ExtractTicketFieldsInput, ExtractTicketFieldsOutput>({
  name: 'extract-ticket-fields',
  version: 7,
  formatName: 'extract_ticket_fields',
  description: 'Copies the order id, product, amount and requested action out of a support ticket, null where absent.',
  input: ExtractTicketFieldsInput,
  output: ExtractTicketFieldsOutput,
  guidedSchema: ticketCandidates,
  prompt: (input, context) => ({
    system: 'You copy fields out of a support ticket. Copy values exactly as written in the ticket. Use null for anything the ticket does not say; never guess.',
    user: `${renderContext(context)}

${userTextBlock('ticket', `Subject: ${input.subject}\n${input.body}`)}

Extract orderId, product, amount and requestedAction from the ticket, or null for each one it does not mention.
Return JSON of this shape, with null for any field the ticket lacks: {"orderId":"...","product":"...","amount":null,"requestedAction":"..."}`,
  }),
  checks: [fieldsInTicket, mentionedNotNull, actionIsARequest],
  pool: 'small',
  maxTokens: 256,
  temperature: 0,
  // a field the ladder cannot settle is flagged for a person; the ticket is still triaged and answered
  allowPartial: true,
  // none of the four is needed to triage the ticket: one no rung settles ends null, flagged for a person
  critical: [],
});
