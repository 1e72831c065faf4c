import { z } from 'zod';
import { definePipeline } from '../../core/contract.js';
import { resultOf } from '../shared/state.js';
import { ClassifyTicketOutput, classifyTicket, type ClassifyTicketInput } from './classify-ticket.js';
import { DraftReplyOutput, draftReply, type DraftReplyInput } from './draft-reply.js';
import { ExtractTicketFieldsOutput, extractTicketFields, ownText, type ExtractTicketFieldsInput } from './extract-ticket-fields.js';
import { findInjection } from '../../core/injection.js';
import { moneySpans, readAmount, type MoneyAmount } from '../../core/money.js';
import { categoriesBlock, fieldFormatsBlock, priorityRulesBlock, refundCategories, replyContext, TicketTriageInput } from './ticket.js';

export { TicketTriageInput } from './ticket.js';

export interface TicketTriage {
  subject: string;
  customerName: string;
  tier: TicketTriageInput['ticket']['tier'];
  category: string;
  priority: string;
  sentiment: ClassifyTicketOutput['sentiment'];
  reason: string;
  fields: ExtractTicketFieldsOutput & {
    /** the amount's currency, ISO 4217, where its sign names one currency ("₹", "Rp", "USD") or the catalog's currency settles a shared one; else null */
    amountCurrency: string | null;
  };
  /** each amount the customer writes (quoted earlier messages and instructions to the model aside), once, in the order first written, with its currency and value where the text decides them */
  amounts: MoneyAmount[];
  /** whether a person must act before the reply goes out, and why */
  needsHuman: { required: boolean; reasons: string[] };
  reply: DraftReplyOutput & { text: string };
  /** set when the ticket carries instructions aimed at the model, for a human to look at */
  injectionSuspected: boolean;
}

/** What a completed ticket-triage run returns. */
export const TicketTriageOutput = z.object({
  subject: z.string(),
  customerName: z.string(),
  tier: TicketTriageInput.shape.ticket.shape.tier,
  category: z.string(),
  priority: z.string(),
  sentiment: ClassifyTicketOutput.shape.sentiment,
  reason: z.string(),
  fields: ExtractTicketFieldsOutput.extend({
    amountCurrency: z.string().nullable().describe('the amount\'s currency, ISO 4217, where its sign names one currency or the catalog\'s currency settles a shared one; else null'),
  }),
  amounts: z
    .array(z.object({ text: z.string(), currency: z.string().nullable(), value: z.number().nullable() }))
    .describe('each amount the customer writes, once (quoted earlier messages and instructions to the model aside), with its ISO 4217 currency and value where the text decides them'),
  needsHuman: z.object({ required: z.boolean(), reasons: z.array(z.string()) }).describe('whether a person must act before the reply goes out, and why'),
  reply: DraftReplyOutput.extend({ text: z.string() }),
  injectionSuspected: z.boolean().describe('set when the ticket carries instructions aimed at the model'),
});

export const ticketTriage = definePipeline<TicketTriageInput, TicketTriage>({
  name: 'ticket-triage',
  version: 3,
  description: "Classifies a support ticket in the team's own taxonomy, extracts its fields, and drafts a reply that follows the team's reply policy.",
  input: TicketTriageInput,
  output: TicketTriageOutput,
  // labels are for the classification on the team's own taxonomy and scale, and for the fields, scored in one run
  evaluation: {
    steps: [
      {
        step: 'classification',
        // names of the catalog's own categories and priorities (the guided enum; another spelling of one is fixed by the contract)
        comparators: { category: { kind: 'exact' }, priority: { kind: 'exact' } },
        // the sentiment and the reason have no label: calibration fills them in with a neutral tone and a fixed reason
        unlabelled: () => ({ sentiment: 'neutral', reason: 'Stand-in reason: calibration labels the category and priority only.' }),
      },
      {
        step: 'fields',
        comparators: { orderId: { kind: 'text' }, product: { kind: 'text' }, amount: { kind: 'text' }, requestedAction: { kind: 'overlap', threshold: 0.6 } },
      },
    ],
  },
  steps: [
    {
      id: 'classification',
      task: classifyTicket,
      input: ({ input }): ClassifyTicketInput => ({
        subject: input.ticket.subject,
        body: input.ticket.body,
        tier: input.ticket.tier,
        categories: Object.keys(input.catalog.categories),
        priorities: Object.keys(input.catalog.priorities),
      }),
      context: ({ input }) => [categoriesBlock(input.catalog), priorityRulesBlock(input.catalog)],
    },
    {
      id: 'fields',
      task: extractTicketFields,
      input: ({ input }): ExtractTicketFieldsInput => ({
        subject: input.ticket.subject,
        body: input.ticket.body,
        ...(input.catalog.orderIdPattern !== undefined ? { orderIdPattern: input.catalog.orderIdPattern } : {}),
      }),
      context: ({ input }) => [fieldFormatsBlock(input.catalog)],
    },
    {
      id: 'reply',
      task: draftReply,
      input: (state): DraftReplyInput => {
        const { ticket } = state.input;
        const classification = resultOf(state, 'classification', ClassifyTicketOutput);
        return {
          customerName: ticket.customerName,
          subject: ticket.subject,
          body: ticket.body,
          category: classification.category,
          priority: classification.priority,
          orderId: resultOf(state, 'fields', ExtractTicketFieldsOutput).orderId,
          refundCategories: refundCategories(state.input.catalog),
        };
      },
      context: (state) => replyContext(state.input.catalog, resultOf(state, 'classification', ClassifyTicketOutput).priority),
    },
  ],
  assemble: (state) => {
    const { ticket, catalog } = state.input;
    const classification = resultOf(state, 'classification', ClassifyTicketOutput);
    const reply = resultOf(state, 'reply', DraftReplyOutput);
    const fields = resultOf(state, 'fields', ExtractTicketFieldsOutput);
    const injection = findInjection(`${ticket.subject}\n${ticket.body}`) !== null;
    const amountOf = (text: string) => readAmount(text, catalog.currency);
    const reasons = [
      ...(injection ? ['the ticket carries instructions aimed at the model'] : []),
      ...(classification.priority === Object.keys(catalog.priorities)[0] ? [`${classification.priority} is the top of the priority scale`] : []),
      ...(refundCategories(catalog).includes(classification.category) && fields.amount !== null ? [`a ${classification.category} ticket about ${fields.amount}`] : []),
      ...(classification.sentiment === 'negative' && ticket.tier === 'enterprise' ? ['an unhappy enterprise customer'] : []),
    ];
    return {
      subject: ticket.subject,
      customerName: ticket.customerName,
      tier: ticket.tier,
      category: classification.category,
      priority: classification.priority,
      sentiment: classification.sentiment,
      reason: classification.reason,
      fields: { ...fields, amountCurrency: fields.amount === null ? null : amountOf(fields.amount).currency },
      amounts: moneySpans(ownText(`${ticket.subject}\n${ticket.body}`)).map(amountOf),
      needsHuman: { required: reasons.length > 0, reasons },
      reply: { ...reply, text: `${reply.greeting}\n\n${reply.body}\n\n${reply.signOff}` },
      injectionSuspected: injection,
    };
  },
});
