import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ExtractInvoiceOutput } from '../../pipelines/invoice-extraction/extract-invoice.js';
import { sample } from '../support/fixtures.js';
import { startHarness, type Harness } from '../support/harness.js';

function labelled(file: string): { id: string; input: any; expected: any }[] {
  return readFileSync(fileURLToPath(new URL(`../../pipelines/${file}`, import.meta.url)), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}
const invoiceLabels = labelled('invoice-extraction/eval/invoices.jsonl');
const ticketLabels = labelled('ticket-triage/eval/tickets.jsonl');

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.stop());
beforeEach(() => h.model.reset());

describe('invoices as the markets write them, through the real workflow', () => {
  for (const name of ['india-gst-it-hardware', 'indonesia-faktur-stationery', 'vietnam-einvoice-coffee', 'malaysia-sst-cleaning']) {
    it(`${name}: the correct extraction passes every contract, and guided decoding offers its currency`, async () => {
      const input = sample('invoice-extraction', name) as { text: string };
      const label = invoiceLabels.find((r) => r.input.text === input.text)!.expected as ExtractInvoiceOutput;
      h.model.otherwise('extract_invoice', { content: JSON.stringify(label) });
      const { workflowId, result } = await h.run('invoice-extraction', input);
      expect(result).toMatchObject({ status: 'completed', output: { schemaValid: true, invoice: label } });
      const { attempts } = await h.rows(workflowId);
      expect(attempts.map((a) => [a.kind, a.valid])).toEqual([['generate', true]]);
      const schema = h.model.requestsFor('extract_invoice')[0]!.response_format!.json_schema!.schema as { properties: { currency: { enum: string[] } } };
      expect(schema.properties.currency.enum).toContain(label.currency);
      // the vendor's conventions are given to the model, not left to it
      expect(h.model.requestsFor('extract_invoice')[0]!.messages[1]!.content).toContain('day first');
    });
  }

  it('reads a day-first date the vendor writes as its country does: a month-first reading is fixed without a call', async () => {
    const input = sample('invoice-extraction', 'india-gst-it-hardware') as { text: string };
    const label = invoiceLabels.find((r) => r.input.text === input.text)!.expected as ExtractInvoiceOutput;
    // "03/04/2025" from Bengaluru read month first
    h.model.otherwise('extract_invoice', { content: JSON.stringify({ ...label, issueDate: '2025-03-04', dueDate: '2025-03-05' }) });
    const { workflowId, result } = await h.run('invoice-extraction', input);
    expect(result.output).toMatchObject({ invoice: { issueDate: label.issueDate, dueDate: label.dueDate } });
    const { attempts } = await h.rows(workflowId);
    expect(attempts).toHaveLength(1);
    expect(JSON.stringify(attempts[0]!.fixes)).toContain('2025-04-03');
  });

  it('flags a rupee invoice read as dollars, and repairs the currency alone', async () => {
    const input = sample('invoice-extraction', 'india-gst-it-hardware') as { text: string };
    const label = invoiceLabels.find((r) => r.input.text === input.text)!.expected as ExtractInvoiceOutput;
    h.model.script('extract_invoice', { content: JSON.stringify({ ...label, currency: 'USD' }) });
    h.model.otherwise('extract_invoice_repair', { content: JSON.stringify({ currency: 'INR' }) });
    const { workflowId, result } = await h.run('invoice-extraction', input);
    expect(result.output).toMatchObject({ invoice: { currency: 'INR' } });
    const { attempts } = await h.rows(workflowId);
    expect(attempts.map((a) => [a.kind, a.repairedPaths])).toEqual([
      ['generate', []],
      ['repair', ['/currency']],
    ]);
  });
});

describe("tickets in a taxonomy of the team's own", () => {
  const row = ticketLabels.find((r) => r.id === 'hinglish-double-charge')!;
  const catalog = {
    ...row.input.catalog,
    categories: {
      'refund-request': 'The customer wants money back for a charge: double charges, cancelled orders, failed deliveries.',
      'delivery-delay': 'A parcel or service has not arrived when promised.',
      'kyc-verification': 'Identity documents, PAN or Aadhaar checks, account verification.',
    },
    priorities: { p1: { rule: 'money taken twice or a security problem', responseTime: 'within 4 hours' }, p2: { rule: 'everything else', responseTime: 'within 2 days' } },
    refundCategories: ['refund-request'],
  };
  const reply = { greeting: 'Hi Rahul,', body: 'We are sorry about the double charge on your Nimbus Pro renewal. Our billing team will reverse one charge and you will hear from us within 4 hours.', signOff: 'Thanks, The Nimbus Cloud support team' };

  it('classifies into its categories only (its names are the guided enum) and says a person must act', async () => {
    h.model.script('classify_ticket', { content: JSON.stringify({ category: 'billing', priority: 'p1', sentiment: 'negative', reason: 'The customer was charged twice for a renewal.' }) });
    h.model.otherwise('classify_ticket_repair', { content: JSON.stringify({ category: 'refund-request' }) });
    h.model.otherwise('extract_ticket_fields', { content: JSON.stringify(row.expected.fields) });
    h.model.otherwise('draft_reply', { content: JSON.stringify(reply) });
    const { workflowId, result } = await h.run('ticket-triage', { ticket: row.input.ticket, catalog });
    expect(result.output).toMatchObject({
      category: 'refund-request',
      priority: 'p1',
      sentiment: 'negative',
      fields: { amount: '₹1,299', amountCurrency: 'INR' },
      amounts: [{ text: '₹1,299', currency: 'INR', value: 1299 }],
      needsHuman: { required: true },
    });
    const schema = h.model.requestsFor('classify_ticket')[0]!.response_format!.json_schema!.schema as { properties: { category: { enum: string[] }; priority: { enum: string[] } } };
    expect(schema.properties.category.enum).toEqual(['refund-request', 'delivery-delay', 'kyc-verification']);
    expect(schema.properties.priority.enum).toEqual(['p1', 'p2']);
    // "billing" is none of the team's categories: repaired, the boundaries in the prompt
    const { attempts } = await h.rows(workflowId);
    expect(attempts.filter((a) => a.task === 'classify-ticket').map((a) => a.kind)).toEqual(['generate', 'repair']);
    expect(h.model.requestsFor('classify_ticket')[0]!.messages[1]!.content).toContain('Identity documents, PAN or Aadhaar checks');
    // the reply is told the team's response time for p1
    expect(h.model.requestsFor('draft_reply')[0]!.messages[1]!.content).toContain('within 4 hours');
  });

  it('flags an amount the model keeps leaving out for a person, and still triages and answers the ticket', async () => {
    h.model.otherwise('classify_ticket', { content: JSON.stringify({ category: 'refund-request', priority: 'p1', sentiment: 'negative', reason: 'The customer was charged twice for a renewal.' }) });
    h.model.otherwise('extract_ticket_fields', { content: JSON.stringify({ ...row.expected.fields, amount: null }) });
    h.model.otherwise('extract_ticket_fields_repair', { content: JSON.stringify({ amount: null }) });
    h.model.otherwise('draft_reply', { content: JSON.stringify(reply) });
    const { result } = await h.run('ticket-triage', { ticket: row.input.ticket, catalog });
    expect(result.status).toBe('partial');
    expect(result.unresolved).toEqual({ fields: ['/amount'] });
    expect(result.output).toMatchObject({ fields: { amount: null, orderId: 'ORD-771203' }, reply: { greeting: 'Hi Rahul,' } });
  });

  it('an Indonesian ticket with several rupiah amounts: the catalog pattern finds the order id, the amount keeps its currency', async () => {
    const bahasa = ticketLabels.find((r) => r.id === 'serbamurah-bahasa-refund-several-amounts')!;
    h.model.otherwise('classify_ticket', { content: JSON.stringify({ category: 'billing', priority: 'high', sentiment: 'negative', reason: 'A broken coffee maker arrived and the customer wants a full refund.' }) });
    h.model.otherwise('extract_ticket_fields', { content: JSON.stringify(bahasa.expected.fields) });
    h.model.otherwise('draft_reply', {
      content: JSON.stringify({ greeting: 'Halo Rina,', body: 'We are sorry the coffee maker arrived broken. Our billing team will look at your refund and you will hear from us within 8 hours.', signOff: reply.signOff }),
    });
    const { result } = await h.run('ticket-triage', { ...bahasa.input, catalog: { ...bahasa.input.catalog, orderIdPattern: 'SBM-\\d{7}' } });
    expect(result.output).toMatchObject({ fields: { orderId: 'SBM-4418203', amount: 'Rp874.000', amountCurrency: 'IDR' } });
    // every amount of the ticket, read without a call: the rupiah writes no decimals, so "899.000" is 899000
    expect((result.output as { amounts: unknown[] }).amounts).toEqual(
      ['Rp899.000', 'Rp25.000', 'Rp50.000', 'Rp874.000'].map((text) => ({ text, currency: 'IDR', value: Number(text.slice(2).replace('.', '')) })),
    );
    const schema = h.model.requestsFor('extract_ticket_fields')[0]!.response_format!.json_schema!.schema as { properties: { orderId: { anyOf: { enum?: string[] }[] }; amount: { anyOf: { enum?: string[] }[] } } };
    expect(JSON.stringify(schema.properties.orderId)).toContain('SBM-4418203');
    // every rupiah amount of the ticket is a candidate, written as the ticket writes it
    for (const a of ['Rp899.000', 'Rp25.000', 'Rp50.000', 'Rp874.000']) expect(JSON.stringify(schema.properties.amount)).toContain(a);
  });

  it('refuses a taxonomy of one category, naming the field', async () => {
    const workflowId = await h.start('ticket-triage', { ticket: row.input.ticket, catalog: { ...catalog, categories: { only: 'Every ticket goes here.' } } });
    const err = (await h.env.client.workflow.getHandle(workflowId).result().catch((e: unknown) => e)) as { cause?: { message?: string; type?: string } };
    expect(err.cause).toMatchObject({ type: 'InvalidPipelineInput' });
    expect(err.cause!.message).toContain('/catalog/categories: between 2 and 30 categories');
    expect((await h.rows(workflowId)).attempts).toEqual([]);
  });
});
