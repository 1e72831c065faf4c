import { definePipeline } from '../../core/contract.js';
import { resultOf } from '../shared/state.js';
import { ClassifyTicketOutput, classifyTicket, type ClassifyTicketInput } from './classify-ticket.js';
import { DraftReplyOutput, draftReply, type DraftReplyInput } from './draft-reply.js';
import { ExtractTicketFieldsOutput, extractTicketFields, type ExtractTicketFieldsInput } from './extract-ticket-fields.js';
import { findInjection } from './injection.js';
import { categoriesBlock, fieldFormatsBlock, priorityRulesBlock, replyContext, TicketTriageInput, type Priority, type TicketCategory } from './ticket.js';

export { TicketTriageInput } from './ticket.js';

export interface TicketTriage {
  subject: string;
  customerName: string;
  tier: TicketTriageInput['ticket']['tier'];
  category: TicketCategory;
  priority: Priority;
  reason: string;
  fields: ExtractTicketFieldsOutput;
  reply: DraftReplyOutput & { text: string };
  /** set when the ticket carries instructions aimed at the model, for a human to look at */
  injectionSuspected: boolean;
}

export const ticketTriage = definePipeline<TicketTriageInput, TicketTriage>({
  name: 'ticket-triage',
  version: 1,
  description: 'Classifies a support ticket, extracts its fields, and drafts a reply that follows the reply policy.',
  input: TicketTriageInput,
  evaluation: {
    step: 'fields',
    comparators: { orderId: { kind: 'text' }, product: { kind: 'text' }, amount: { kind: 'text' }, requestedAction: { kind: 'overlap', threshold: 0.6 } },
  },
  steps: [
    {
      id: 'classification',
      task: classifyTicket,
      input: ({ input }): ClassifyTicketInput => ({ subject: input.ticket.subject, body: input.ticket.body, tier: input.ticket.tier }),
      context: ({ input }) => [categoriesBlock(input.catalog), priorityRulesBlock()],
    },
    {
      id: 'fields',
      task: extractTicketFields,
      input: ({ input }): ExtractTicketFieldsInput => ({ subject: input.ticket.subject, body: input.ticket.body }),
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
        };
      },
      context: (state) => replyContext(state.input.catalog, resultOf(state, 'classification', ClassifyTicketOutput).priority),
    },
  ],
  assemble: (state) => {
    const { ticket } = state.input;
    const classification = resultOf(state, 'classification', ClassifyTicketOutput);
    const reply = resultOf(state, 'reply', DraftReplyOutput);
    return {
      subject: ticket.subject,
      customerName: ticket.customerName,
      tier: ticket.tier,
      category: classification.category,
      priority: classification.priority,
      reason: classification.reason,
      fields: resultOf(state, 'fields', ExtractTicketFieldsOutput),
      reply: { ...reply, text: `${reply.greeting}\n\n${reply.body}\n\n${reply.signOff}` },
      injectionSuspected: findInjection(`${ticket.subject}\n${ticket.body}`) !== null,
    };
  },
});
