/**
 * A failure corpus: malformed or wrong first outputs of the shipped micro-tasks, each with the
 * answers a realistic small model gives on the later rungs of the repair ladder, the correct
 * output, and what the ladder should make of it under DEFAULT_BUDGET.
 *
 * Inputs and context are built by the pipelines' own step functions from their samples, so a
 * case sees exactly the prompt the pipeline would send.
 *
 * The simulated model honours guided decoding where it matters: a targeted repair answers each
 * requested JSON pointer, and where the repair schema has no `null` it cannot answer null.
 */
import type { ContextBlock, Pipeline, StepState } from '../../core/contract.js';
import { getAt } from '../../core/json-pointer.js';
import type { CallKind } from '../../core/call-spec.js';
import { documentSummary } from '../../pipelines/document-summary/index.js';
import type { SummarizeChunkOutput } from '../../pipelines/document-summary/summarize-chunk.js';
import { getMicroTask } from '../../pipelines/index.js';
import { invoiceExtraction } from '../../pipelines/invoice-extraction/index.js';
import type { ExtractFeaturesOutput } from '../../pipelines/product-review/extract-features.js';
import type { GenerateKeywordsOutput } from '../../pipelines/product-review/generate-keywords.js';
import { productReview } from '../../pipelines/product-review/index.js';
import type { ClassifyTicketOutput } from '../../pipelines/ticket-triage/classify-ticket.js';
import type { DraftReplyOutput } from '../../pipelines/ticket-triage/draft-reply.js';
import type { ExtractTicketFieldsOutput } from '../../pipelines/ticket-triage/extract-ticket-fields.js';
import { ticketTriage } from '../../pipelines/ticket-triage/index.js';
import { invoiceOutputs, productReviewOutputs, sample } from '../support/fixtures.js';
import type { ChatBody, ScriptedModelServer, ScriptedReply } from '../support/scripted-model.js';
import type { Strategy } from '../../core/ladder/budget.js';

// ---------------------------------------------------------------------------------------------
// Types

export const FAILURE_FORMS = [
  'fences-prose', // markdown fences and prose around the JSON
  'trailing-comma',
  'single-quotes',
  'comments',
  'truncated', // output cut at max_tokens (finish_reason "length")
  'runaway', // runaway whitespace or repetition
  'second-json', // a second JSON object after the first
  'missing', // a required field is missing
  'wrong-type', // "12" for 12, a string for an array
  'enum', // a value outside a fixed category set
  'grounding', // a value that appears nowhere in the source text
  'totals', // totals that do not add up
  'dates', // dates out of order (or impossible)
  'injection', // instructions from the user's text obeyed
] as const;
export type FailureForm = (typeof FAILURE_FORMS)[number];

/** The rung a request belongs to; 'generate' is the first call. */
export type Rung = CallKind;
export type FixedBy = 'deterministic' | Exclude<Rung, 'generate'> | null;
export type Outcome = 'valid' | 'partial' | 'failed';

/**
 * The simulated model's answer for a later rung. `nth` counts the earlier calls of the same rung
 * in this run (0 for the first repair, 1 for the second, ...).
 */
export type Respond = (body: ChatBody, rung: Rung, nth: number) => ScriptedReply;

export interface CorpusCase {
  id: string;
  task: string;
  input: unknown;
  context: ContextBlock[];
  forms: FailureForm[];
  /** the bad first output */
  first: { content: string; finishReason?: 'stop' | 'length' };
  respond: Respond;
  /** the fully correct output; the answer of the re-ask baseline */
  good: unknown;
  /** what the ladder should do under DEFAULT_BUDGET */
  expected: { outcome: Outcome; fixedBy: FixedBy };
  /**
   * Set where today's behaviour differs from `expected`: what happens instead and why. The test
   * pins `actual`, so a fix in core/ or pipelines/ shows up as a failing case to update.
   */
  knownIssue?: { actual: { outcome: Outcome; fixedBy: FixedBy; outputIsGood: boolean }; note: string };
}

// ---------------------------------------------------------------------------------------------
// Simulated model answers

const promptTokens = (body: ChatBody) => Math.ceil(JSON.stringify(body.messages).length / 4);

export const ok = (value: unknown): ScriptedReply => ({ content: JSON.stringify(value) });
export const raw = (content: string): ScriptedReply => ({ content });

/** An output cut at max_tokens: finish_reason "length" and every allowed completion token spent. */
export const cut =
  (content: string) =>
  (body: ChatBody): ScriptedReply => ({
    content,
    finishReason: 'length',
    usage: { prompt: promptTokens(body), completion: body.max_tokens ?? Math.ceil(content.length / 4) },
  });

/** A targeted repair (of the pool's own model, or as the escalation to a larger one), not a whole answer. */
export const isRepairRequest = (body: ChatBody): boolean => (body.response_format?.json_schema?.name ?? '').endsWith('_repair');

/** The JSON pointers a targeted repair asks for, with the JSON schema of each. */
export function repairProperties(body: ChatBody): Record<string, Record<string, unknown>> {
  const schema = body.response_format?.json_schema?.schema as { properties?: Record<string, Record<string, unknown>> } | undefined;
  return schema?.properties ?? {};
}

function allowsNull(schema: Record<string, unknown>): boolean {
  const type = schema.type;
  if (type === 'null' || (Array.isArray(type) && type.includes('null'))) return true;
  const variants = (schema.anyOf ?? schema.oneOf) as Record<string, unknown>[] | undefined;
  return Array.isArray(variants) && variants.some(allowsNull);
}

/**
 * A targeted repair answer: every requested path, its value taken from `source` unless overridden.
 * Under guided decoding a model cannot write null where the repair schema has no null; it writes
 * the filler a small model uses for "nothing" instead.
 */
export const targeted =
  (source: unknown, overrides: Record<string, unknown> = {}) =>
  (body: ChatBody): ScriptedReply => {
    const answer: Record<string, unknown> = {};
    for (const [path, schema] of Object.entries(repairProperties(body))) {
      let value = Object.prototype.hasOwnProperty.call(overrides, path) ? overrides[path] : getAt(source, path);
      if (value === null && !allowsNull(schema)) value = schema.type === 'number' || schema.type === 'integer' ? 0 : 'N/A';
      answer[path] = value;
    }
    return { content: JSON.stringify(answer) };
  };

/**
 * The large model's answer to a targeted escalation: what its whole answer says at each requested
 * path. A case scripts the large pool's escalation as a whole answer; asked for some paths only,
 * the same model gives those parts of it. Anything else (a refusal, an HTTP error) is unchanged.
 */
export function asRepairAnswer(body: ChatBody, reply: ScriptedReply): ScriptedReply {
  if (!isRepairRequest(body) || !('content' in reply)) return reply;
  let whole: unknown;
  try {
    whole = JSON.parse(reply.content);
  } catch {
    return reply;
  }
  if (whole === null || typeof whole !== 'object' || Object.keys(whole).some((k) => k.startsWith('/'))) return reply;
  return targeted(whole)(body);
}

type Step = ScriptedReply | ((body: ChatBody) => ScriptedReply);

/**
 * A model that fixes what it is asked unless told otherwise: a targeted repair answers the
 * requested paths from `good`, every other rung answers `good` whole. A list gives the answer of
 * the 1st, 2nd, ... call of that rung; its last entry repeats.
 */
export function model(good: unknown, plan: Partial<Record<Rung, Step | Step[]>> = {}): Respond {
  return (body, rung, nth) => {
    const steps = plan[rung];
    if (steps === undefined) return rung === 'repair' ? targeted(good)(body) : ok(good);
    const list: Step[] = Array.isArray(steps) ? steps : [steps];
    const step = list[Math.min(nth, list.length - 1)]!;
    return typeof step === 'function' ? step(body) : step;
  };
}

/** The rung of a request, read from what the ladder puts in it. */
export function rungOf(task: string, body: ChatBody, escalated = false): Rung {
  const format = body.response_format?.json_schema?.name ?? '';
  // the first call to the large pool is the escalation: a whole answer with the issues as
  // feedback, or a targeted repair when the small pool's output was readable
  if (body.model === 'scripted-large' && !escalated) return 'escalate';
  if (format.endsWith('_repair')) return 'repair';
  if (body.messages.length > 2) return 'regenerate';
  if (body.model === 'scripted-large') return 'escalate';
  if ((body.max_tokens ?? 0) > getMicroTask(task).maxTokens) return 'continue';
  return 'generate';
}

function guard(id: string, f: () => ScriptedReply): ScriptedReply {
  try {
    return f();
  } catch (err) {
    // a throwing responder would leave the HTTP request hanging until the client times out
    return { content: `corpus responder of ${id} threw: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/**
 * Scripts one case onto the server. `ladder` and the fair `reask-fair`: the first output, then
 * `respond` per rung (a re-ask is answered as the ladder's regeneration, its escalation and
 * continuation as the ladder's). The strict `reask`: the first output, then for every re-ask what the
 * same model answers when the ladder regenerates with the issues as feedback: one simulated model
 * for every strategy.
 */
export function scriptCase(server: ScriptedModelServer, c: CorpusCase, strategy: Strategy): void {
  const format = getMicroTask(c.task).formatName;
  const { content, finishReason } = c.first;
  server.script(format, finishReason === 'length' ? cut(content) : { content, ...(finishReason ? { finishReason } : {}) });
  const calls = new Map<Rung, number>();
  const answer = (body: ChatBody): ScriptedReply =>
    guard(c.id, () => {
      const rung = rungOf(c.task, body, (calls.get('escalate') ?? 0) > 0);
      const nth = calls.get(rung) ?? 0;
      calls.set(rung, nth + 1);
      if (strategy === 'reask') return c.respond(body, 'regenerate', nth);
      const reply = c.respond(body, rung, nth);
      return rung === 'escalate' ? asRepairAnswer(body, reply) : reply;
    });
  server.otherwise(format, answer);
  server.otherwise(`${format}_repair`, answer);
}

// ---------------------------------------------------------------------------------------------
// Building task inputs the way the pipelines do

function stepCall(
  pipeline: Pipeline<any, any>,
  stepId: string,
  pipelineInput: unknown,
  results: Record<string, unknown> = {},
  itemIndex?: number,
): { task: string; input: unknown; context: ContextBlock[] } {
  const step = pipeline.steps.find((s) => s.id === stepId);
  if (!step) throw new Error(`pipeline ${pipeline.name} has no step ${stepId}`);
  const state: StepState<unknown> = { input: pipeline.input.parse(pipelineInput), results };
  if (step.forEach) {
    const items = step.forEach(state);
    if (itemIndex === undefined || itemIndex >= items.length) throw new Error(`step ${stepId} fans out over ${items.length} items; give an item index`);
    const item = items[itemIndex];
    return { task: step.task.name, input: step.input(state, item, itemIndex), context: step.context ? step.context(state, item) : [] };
  }
  return { task: step.task.name, input: step.input(state), context: step.context ? step.context(state) : [] };
}

const json = (v: unknown) => JSON.stringify(v);
const pretty = (v: unknown) => JSON.stringify(v, null, 2);
/** Pretty JSON with a comma after the last member of every object and array. */
const trailingCommas = (v: unknown) => pretty(v).replace(/([^[{,\s])(\n\s*[\]}])/g, '$1,$2');
/** Python-ish single quotes; apostrophes inside values stay as written. */
const singleQuoted = (v: unknown) => JSON.stringify(v).replace(/"/g, "'");
/** The JSON up to, and not including, its closing brace: what the model wrote before it ran away. */
const unclosed = (v: unknown) => json(v).slice(0, -1);
const RUNAWAY_WS = `\n${' '.repeat(180)}\n${'\n'.repeat(400)}`;
const cutAfter = (text: string, marker: string) => {
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`marker ${marker} not in ${text.slice(0, 40)}…`);
  return text.slice(0, at + marker.length);
};

// ---------------------------------------------------------------------------------------------
// Samples and the correct outputs of each micro-task for them

const swissInvoice = sample('invoice-extraction', 'swiss-hotel-linen');
const ukInvoice = sample('invoice-extraction', 'uk-office-supplies');
const usInvoice = sample('invoice-extraction', 'us-software-license');
const billingTicket = sample('ticket-triage', 'billing-double-charge');
const shippingTicket = sample('ticket-triage', 'shipping-with-injection');
const technicalTicket = sample('ticket-triage', 'technical-sync-error');
const headphones = sample('product-review', 'wireless-headphones');
const espresso = sample('product-review', 'espresso-machine');
const heatPumps = sample('document-summary', 'heat-pumps-explainer');
const incident = sample('document-summary', 'incident-report');

const INV_SWISS = invoiceOutputs.swiss;

const INV_UK = invoiceOutputs.uk;

const INV_US = invoiceOutputs.us;

const CLS_BILLING: ClassifyTicketOutput = {
  category: 'billing',
  priority: 'urgent',
  sentiment: 'negative',
  reason: 'The customer was charged twice for one annual renewal and asks for the duplicate to be refunded.',
};
const CLS_SHIPPING: ClassifyTicketOutput = {
  category: 'shipping',
  priority: 'high',
  sentiment: 'negative',
  reason: 'The customer asks where an ordered hardware security key is; tracking has not moved for two weeks.',
};
const CLS_TECH: ClassifyTicketOutput = {
  category: 'technical',
  priority: 'normal',
  sentiment: 'negative',
  reason: 'The desktop app fails to sync with error E-4012, but uploads through the website still work.',
};

const FLD_BILLING: ExtractTicketFieldsOutput = { orderId: 'ORD-582214', product: 'Nimbus Pro', amount: '$119.00', requestedAction: 'Please refund the duplicate charge.' };
const FLD_SHIPPING: ExtractTicketFieldsOutput = { orderId: 'ORD-604117', product: 'Nimbus hardware security key', amount: null, requestedAction: 'Can you tell me where it is?' };
const FLD_TECH: ExtractTicketFieldsOutput = { orderId: null, product: 'Nimbus desktop app', amount: null, requestedAction: 'but please tell me how to fix the desktop sync' };

const REP_BILLING: DraftReplyOutput = {
  greeting: 'Hi Maria,',
  body: 'Thank you for letting us know about the two $119.00 charges for your Nimbus Pro renewal on order ORD-582214. We have confirmed the duplicate charge and will refund it to your card. You will hear from us within 2 hours with the confirmation.',
  signOff: 'Kind regards,\nThe Nimbus Cloud support team',
};
const REP_SHIPPING: DraftReplyOutput = {
  greeting: 'Hi Daniel,',
  body: 'Thank you for reaching out about your Nimbus hardware security key on order ORD-604117. I am sorry the tracking page has not changed since the label was created. We are checking with the carrier now and will update you within 8 hours so you can plan for Monday.',
  signOff: 'Best regards,\nThe Nimbus Cloud support team',
};
const REP_TECH: DraftReplyOutput = {
  greeting: 'Hi Priya,',
  body: 'Thanks for the details about the Nimbus desktop app staying at Syncing 0% with error E-4012 since the update. Our technical team is looking into it, and uploads through the website will keep working in the meantime. We will get back to you within 2 business days with steps to fix the desktop sync.',
  signOff: 'Best regards,\nThe Nimbus Cloud support team',
};

const FEAT_HEADPHONES: ExtractFeaturesOutput = { features: productReviewOutputs.extract_features.features.map((f) => ({ ...f })) };
const FEAT_ESPRESSO: ExtractFeaturesOutput = {
  features: [
    { name: 'conical burr grinder', benefit: 'Grinds fresh beans with 18 settings so you can dial in each coffee.' },
    { name: 'thermoblock heating', benefit: 'Heats up in 40 seconds, so the first cup is ready almost at once.' },
    { name: '15 bar Italian pump', benefit: 'Builds enough pressure for a proper espresso with crema.' },
    { name: 'manual steam wand', benefit: 'Froths milk for flat whites and cappuccinos, with a 360-degree swivel.' },
  ],
};

const KW_HEADPHONES: GenerateKeywordsOutput = { keywords: [...productReviewOutputs.generate_keywords.keywords] };
const KW_ESPRESSO: GenerateKeywordsOutput = {
  keywords: ['espresso machine', 'burr grinder espresso machine', '15 bar espresso machine', 'espresso machine with steam wand', 'home espresso maker'],
};

const SUM_HEAT_1: SummarizeChunkOutput = {
  summary: 'Heat pumps move heat instead of making it, using a refrigeration cycle to pull warmth from outdoor air into the house. A typical unit delivers three to four units of heat per unit of electricity, a ratio called the coefficient of performance (COP).',
};
const SUM_HEAT_2: SummarizeChunkOutput = {
  summary: 'Heat pump efficiency falls as the outdoor temperature drops. Older models struggled below minus 5 degrees Celsius, but modern cold-climate units keep a COP of around 2 at minus 15 degrees and run down to minus 25, so they are common in Norway, Finland and the northern United States.',
};
const SUM_HEAT_3: SummarizeChunkOutput = {
  summary: 'Correct sizing matters more than brand: oversized units switch on and off and wear the compressor, while undersized ones lean on backup electric heating. Installers should calculate the heat loss of each room, and larger radiators or underfloor heating help because heat pumps work best with water at 35 to 50 degrees.',
};
const SUM_INC_1: SummarizeChunkOutput = {
  summary: 'On 12 March, from 09:14 to 11:02 UTC, EU customers could not upload files larger than 20 MB, while smaller uploads, downloads and sharing links kept working. Roughly 41,000 uploads failed with a timeout error, but no data was lost.',
};
const SUM_INC_2: SummarizeChunkOutput = {
  summary: 'A load-balancer configuration change lowered the maximum buffered request body from 256 MB to 20 MB. Staging tests only used 5 MB files, so the limit never triggered there, and in production larger requests timed out after 120 seconds.',
};
const SUM_INC_3: SummarizeChunkOutput = {
  summary: 'Alerting caught the rise in upload timeouts at 09:31, but the on-call engineer first suspected the storage cluster because of an unrelated disk latency spike. The timeouts were linked to the load-balancer change at 10:40, and the change was rolled back at 10:52.',
};

// task calls, built by the pipelines' steps
const invoiceCall = (text: unknown) => stepCall(invoiceExtraction, 'invoice', text);
const classifyCall = (ticket: unknown) => stepCall(ticketTriage, 'classification', ticket);
const fieldsCall = (ticket: unknown) => stepCall(ticketTriage, 'fields', ticket);
const replyCall = (ticket: unknown, classification: ClassifyTicketOutput, fields: ExtractTicketFieldsOutput) =>
  stepCall(ticketTriage, 'reply', ticket, { classification, fields });
const featuresCall = (product: unknown) => stepCall(productReview, 'features', product);
const keywordsCall = (product: unknown, features: ExtractFeaturesOutput) => stepCall(productReview, 'keywords', product, { features });
const summaryCall = (doc: unknown, part: number) => stepCall(documentSummary, 'parts', doc, {}, part);

const SWISS = invoiceCall(swissInvoice);
const UK = invoiceCall(ukInvoice);
const US = invoiceCall(usInvoice);
const CLS_B = classifyCall(billingTicket);
const CLS_S = classifyCall(shippingTicket);
const CLS_T = classifyCall(technicalTicket);
const FLD_B = fieldsCall(billingTicket);
const FLD_S = fieldsCall(shippingTicket);
const FLD_T = fieldsCall(technicalTicket);
const REP_B = replyCall(billingTicket, CLS_BILLING, FLD_BILLING);
const REP_S = replyCall(shippingTicket, CLS_SHIPPING, FLD_SHIPPING);
const REP_T = replyCall(technicalTicket, CLS_TECH, FLD_TECH);
const FEAT_H = featuresCall(headphones);
const FEAT_E = featuresCall(espresso);
const KW_H = keywordsCall(headphones, FEAT_HEADPHONES);
const KW_E = keywordsCall(espresso, FEAT_ESPRESSO);
const SUM_H = [0, 1, 2].map((i) => summaryCall(heatPumps, i));
const SUM_I = [0, 1, 2].map((i) => summaryCall(incident, i));

type Call = ReturnType<typeof stepCall>;
type CaseSpec = Omit<CorpusCase, 'task' | 'input' | 'context' | 'respond'> & { respond?: Respond };

/** A case on a task call; without `respond` the model fixes whatever it is asked on every later rung. */
function on(call: Call, spec: CaseSpec): CorpusCase {
  return { task: call.task, input: call.input, context: call.context, ...spec, respond: spec.respond ?? model(spec.good) };
}

const VALID = (fixedBy: Exclude<FixedBy, null>) => ({ outcome: 'valid' as const, fixedBy });
const FAILED = { outcome: 'failed' as const, fixedBy: null };
/** A value the check cannot find in the input, at a field that may be null: set to null without a call and flagged for a person. */
const NULLED = { outcome: 'partial' as const, fixedBy: null };

// ---------------------------------------------------------------------------------------------
// The corpus

const invoiceCases: CorpusCase[] = [
  on(SWISS, {
    id: 'invoice-swiss-fenced-prose',
    forms: ['fences-prose'],
    first: { content: `Here is the extracted data from the invoice:\n\n\`\`\`json\n${pretty(INV_SWISS)}\n\`\`\`\n\nNote: all amounts are in Swiss francs (CHF).` },
    good: INV_SWISS,
    expected: VALID('deterministic'),
  }),
  on(UK, {
    id: 'invoice-uk-trailing-commas',
    forms: ['trailing-comma'],
    first: { content: trailingCommas(INV_UK) },
    good: INV_UK,
    expected: VALID('deterministic'),
  }),
  on(US, {
    id: 'invoice-us-comments',
    forms: ['comments'],
    first: {
      content: `{
  "invoiceNumber": "BL-88213", // from the "Invoice #" line
  "issueDate": "2025-03-15",
  "dueDate": "2025-04-14", // Net 30
  "vendor": "Brightline Software Inc.",
  "currency": "USD",
  "lines": [
    /* annual seats first, then the workshop */
    {"description": "Brightline Analytics - annual seats", "qty": 25, "unitPrice": 480.00, "amount": 12000.00},
    {"description": "Onboarding workshop (half day)", "qty": 1, "unitPrice": 1500.00, "amount": 1500.00}
  ],
  "subtotal": 13500.00,
  "discount": null,
  "taxes": [{"name": "Sales tax", "rate": 0, "amount": 0}], // services are taxed at 0%
  "tax": 0.00,
  "total": 13500.00
}`,
    },
    good: INV_US,
    expected: VALID('deterministic'),
  }),
  on(UK, {
    id: 'invoice-uk-second-json',
    forms: ['second-json'],
    first: { content: `${json(INV_UK)}\n{"vatRegistration": "GB 294 7716 02", "paymentMethod": "bank transfer"}` },
    good: INV_UK,
    expected: VALID('deterministic'),
  }),
  on(SWISS, {
    id: 'invoice-swiss-string-numbers',
    forms: ['wrong-type'],
    first: {
      content: json({
        ...INV_SWISS,
        lines: [
          { description: 'Bettwäsche-Set Satin 160x200', qty: '40', unitPrice: '89.50', amount: '3580.00' },
          { description: 'Frottee-Badetuch 70x140', qty: '120', unitPrice: '18.90', amount: '2,268.00' },
          { description: 'Kissen Daune 65x65', qty: '40', unitPrice: '54.00', amount: '2,160.00' },
        ],
        subtotal: '8,008.00',
        tax: '648.65',
        total: '8,656.65',
      }),
    },
    good: INV_SWISS,
    expected: VALID('deterministic'),
  }),
  on(US, {
    id: 'invoice-us-currency-strings',
    forms: ['wrong-type'],
    first: {
      content: pretty({
        ...INV_US,
        lines: [
          { description: 'Brightline Analytics - annual seats', qty: 25, unitPrice: '$480.00', amount: '$12,000.00' },
          { description: 'Onboarding workshop (half day)', qty: 1, unitPrice: '$1,500.00', amount: '$1,500.00' },
        ],
        subtotal: '$13,500.00',
        tax: '$0.00',
        total: '$13,500.00',
      }),
    },
    good: INV_US,
    expected: VALID('deterministic'),
  }),
  on(UK, {
    id: 'invoice-uk-missing-due-date',
    forms: ['missing'],
    first: { content: json({ ...INV_UK, dueDate: undefined }) },
    good: INV_UK,
    expected: VALID('repair'),
  }),
  on(UK, {
    id: 'invoice-uk-missing-line-price',
    forms: ['missing'],
    first: {
      content: json({
        ...INV_UK,
        lines: [INV_UK.lines[0], INV_UK.lines[1], { description: 'Monitor arm, dual', qty: 4, amount: 259.96 }],
      }),
    },
    good: INV_UK,
    expected: VALID('repair'),
  }),
  on(US, {
    id: 'invoice-us-missing-lines',
    forms: ['missing'],
    first: { content: json({ ...INV_US, lines: undefined }) },
    good: INV_US,
    expected: VALID('repair'),
  }),
  on(UK, {
    id: 'invoice-uk-currency-symbol',
    forms: ['enum'],
    first: { content: json({ ...INV_UK, currency: '£' }) },
    good: INV_UK,
    expected: VALID('repair'),
  }),
  on(SWISS, {
    id: 'invoice-swiss-currency-not-on-invoice',
    forms: ['grounding'],
    first: { content: json({ ...INV_SWISS, currency: 'EUR' }) },
    good: INV_SWISS,
    expected: VALID('repair'),
  }),
  on(SWISS, {
    id: 'invoice-swiss-vendor-translated',
    forms: ['grounding'],
    first: { content: json({ ...INV_SWISS, vendor: 'Alpenblick Hotel Supplies Ltd.' }) },
    good: INV_SWISS,
    expected: VALID('repair'),
  }),
  on(UK, {
    id: 'invoice-uk-number-normalized',
    forms: ['grounding'],
    first: { content: json({ ...INV_UK, invoiceNumber: 'NW-2024-417' }) },
    good: INV_UK,
    expected: VALID('repair'),
  }),
  on(UK, {
    id: 'invoice-uk-total-without-tax',
    forms: ['totals'],
    first: { content: json({ ...INV_UK, total: 1866.96 }) },
    good: INV_UK,
    expected: VALID('repair'),
  }),
  on(UK, {
    id: 'invoice-uk-line-amount-typo',
    forms: ['totals', 'grounding'],
    first: { content: json({ ...INV_UK, lines: [INV_UK.lines[0], INV_UK.lines[1], { ...INV_UK.lines[2]!, amount: 259.69 }] }) },
    good: INV_UK,
    expected: VALID('repair'),
  }),
  on(SWISS, {
    id: 'invoice-swiss-subtotal-typo',
    forms: ['totals', 'grounding'],
    first: { content: json({ ...INV_SWISS, subtotal: 8080 }) },
    good: INV_SWISS,
    expected: VALID('repair'),
  }),
  on(US, {
    // the flagged path (the amount) is not the wrong one (the unit price): the check cannot tell
    // which of qty, unit price and amount was misread, so the repair rewrites the whole line
    id: 'invoice-us-price-and-amount-swapped',
    forms: ['totals'],
    first: { content: json({ ...INV_US, lines: [{ ...INV_US.lines[0]!, unitPrice: 12000, amount: 480 }, INV_US.lines[1]] }) },
    good: INV_US,
    expected: VALID('repair'),
  }),
  on(US, {
    id: 'invoice-us-due-date-misread',
    forms: ['dates', 'grounding'],
    first: { content: json({ ...INV_US, dueDate: '2025-03-14' }) },
    good: INV_US,
    expected: VALID('repair'),
  }),
  on(SWISS, {
    id: 'invoice-swiss-due-date-year-typo',
    forms: ['dates', 'grounding'],
    first: { content: json({ ...INV_SWISS, dueDate: '2023-12-12' }) },
    good: INV_SWISS,
    expected: VALID('repair'),
  }),
  on(UK, {
    // issue and due date swapped: only /dueDate is flagged, and the model repairs it to the due
    // date as written, so the output passes with the wrong issue date
    id: 'invoice-uk-dates-swapped',
    forms: ['dates'],
    first: { content: json({ ...INV_UK, issueDate: '2024-05-03', dueDate: '2024-04-03' }) },
    good: INV_UK,
    expected: VALID('repair'),
  }),
  on(SWISS, {
    id: 'invoice-swiss-truncated',
    forms: ['truncated'],
    first: { content: cutAfter(pretty(INV_SWISS), '"description": "Kissen Da'), finishReason: 'length' },
    good: INV_SWISS,
    expected: VALID('continue'),
  }),
  on(US, {
    // cut once, and given more room the small model loops over the same line until it is cut
    // again: the loop is runaway, not a longer answer (a streamed call is stopped as it starts),
    // so the ladder regenerates with the loop as feedback instead of giving it still more room
    id: 'invoice-us-truncated-twice',
    forms: ['truncated', 'runaway'],
    first: { content: cutAfter(pretty(INV_US), '"description": "Onboarding'), finishReason: 'length' },
    respond: model(INV_US, {
      continue: cut(`{"invoiceNumber": "BL-88213", "issueDate": "2025-03-15", "dueDate": "2025-04-14", "vendor": "Brightline Software Inc.", "currency": "USD", "lines": [${Array.from({ length: 14 }, () => json(INV_US.lines[0])).join(', ')}, {"description": "Brightline`),
    }),
    good: INV_US,
    expected: VALID('regenerate'),
  }),
  on(SWISS, {
    id: 'invoice-swiss-runaway-whitespace',
    forms: ['runaway'],
    first: { content: unclosed(INV_SWISS) + RUNAWAY_WS, finishReason: 'length' },
    good: INV_SWISS,
    expected: VALID('regenerate'),
  }),
  on(SWISS, {
    // every model reads "MWST 8.1%" as the tax amount, also when /tax is opened for repair beside
    // the /total that does not add up, so the task ends partial with them for review
    id: 'invoice-swiss-tax-rate-partial',
    forms: ['totals', 'grounding'],
    first: { content: json({ ...INV_SWISS, tax: 8.1 }) },
    respond: model(INV_SWISS, {
      repair: [
        targeted(INV_SWISS, { '/tax': 8.1, '/total': 8016.1 }),
        targeted(INV_SWISS, { '/tax': 8.1, '/total': 8656.65 }),
        targeted(INV_SWISS, { '/tax': 8.1, '/total': 8016.1 }),
      ],
      regenerate: ok({ ...INV_SWISS, tax: 8.1 }),
      escalate: ok({ ...INV_SWISS, tax: 8.1 }),
    }),
    good: INV_SWISS,
    expected: { outcome: 'partial', fixedBy: null },
  }),
  on(SWISS, {
    // as above, but the large pool rejects the request outright (HTTP 400, not retried): the small
    // model's parsed answer with /total unresolved is still there to return as a partial result
    id: 'invoice-swiss-tax-rate-large-rejects',
    forms: ['totals'],
    first: { content: json({ ...INV_SWISS, tax: 8.1 }) },
    respond: model(INV_SWISS, {
      repair: [targeted(INV_SWISS, { '/tax': 8.1, '/total': 8016.1 }), targeted(INV_SWISS, { '/tax': 8.1, '/total': 8656.65 })],
      regenerate: ok({ ...INV_SWISS, tax: 8.1 }),
      escalate: { status: 400, message: "Invalid schema for response_format 'extract_invoice': 'exclusiveMinimum' is not permitted" },
    }),
    good: INV_SWISS,
    expected: { outcome: 'partial', fixedBy: null },
  }),
  on(UK, {
    // nothing is ever parsed, so even a task that allows partial results fails
    id: 'invoice-uk-refusal-failed',
    forms: ['fences-prose'],
    first: { content: "I'm sorry, but I can't reliably extract structured data from this document." },
    respond: model(INV_UK, {
      regenerate: raw('This document is an invoice from Northwind Office Supply Ltd. for office furniture, with a total due of £2,240.35.'),
      escalate: raw('The invoice NW-2024-0417 lists three items: office chairs, desks and monitor arms. The total due is £2,240.35 including VAT.'),
    }),
    good: INV_UK,
    expected: FAILED,
  }),
];

const classifyCases: CorpusCase[] = [
  on(CLS_B, {
    id: 'classify-billing-prose',
    forms: ['fences-prose'],
    first: { content: `The ticket is about a duplicate charge, so it belongs to billing.\n\n${json(CLS_BILLING)}\n\nLet me know if you need anything else!` },
    good: CLS_BILLING,
    expected: VALID('deterministic'),
  }),
  on(CLS_B, {
    id: 'classify-billing-bracket-in-prose',
    forms: ['fences-prose'],
    first: { content: `Classification for ticket [ORD-582214]:\n${pretty(CLS_BILLING)}` },
    good: CLS_BILLING,
    expected: VALID('deterministic'),
  }),
  on(CLS_T, {
    id: 'classify-technical-single-quotes',
    forms: ['single-quotes'],
    first: { content: singleQuoted(CLS_TECH) },
    good: CLS_TECH,
    expected: VALID('deterministic'),
  }),
  on(CLS_B, {
    id: 'classify-billing-single-quotes-apostrophe',
    forms: ['single-quotes'],
    first: { content: singleQuoted({ ...CLS_BILLING, reason: "The customer's card was charged twice for the same annual renewal." }) },
    good: { ...CLS_BILLING, reason: "The customer's card was charged twice for the same annual renewal." },
    expected: VALID('deterministic'),
  }),
  on(CLS_S, {
    id: 'classify-shipping-comments',
    forms: ['comments'],
    first: {
      content: `{
  // the parcel has not moved since the label was created
  "category": "shipping",
  "priority": "high", /* enterprise customer, blocked until it arrives */
  "sentiment": "negative",
  "reason": "${CLS_SHIPPING.reason}"
}`,
    },
    good: CLS_SHIPPING,
    expected: VALID('deterministic'),
  }),
  on(CLS_B, {
    id: 'classify-billing-second-json',
    forms: ['second-json'],
    first: { content: `${json(CLS_BILLING)}\n${json({ ...CLS_BILLING, confidence: 0.92 })}` },
    good: CLS_BILLING,
    expected: VALID('deterministic'),
  }),
  on(CLS_B, {
    // the option but for its case: no model call needed
    id: 'classify-billing-category-capitalized',
    forms: ['enum'],
    first: { content: json({ ...CLS_BILLING, category: 'Billing' }) },
    good: CLS_BILLING,
    expected: VALID('deterministic'),
  }),
  on(CLS_T, {
    id: 'classify-technical-priority-medium',
    forms: ['enum'],
    first: { content: json({ ...CLS_TECH, priority: 'medium' }) },
    good: CLS_TECH,
    expected: VALID('repair'),
  }),
  on(CLS_S, {
    id: 'classify-shipping-category-and-priority',
    forms: ['enum'],
    first: { content: json({ ...CLS_SHIPPING, category: 'delivery', priority: 'P2 - high' }) },
    good: CLS_SHIPPING,
    expected: VALID('repair'),
  }),
  on(CLS_T, {
    id: 'classify-technical-missing-reason',
    forms: ['missing'],
    first: { content: json({ category: 'technical', priority: 'normal' }) },
    good: CLS_TECH,
    expected: VALID('repair'),
  }),
  on(CLS_T, {
    id: 'classify-technical-reason-list',
    forms: ['wrong-type'],
    first: { content: json({ ...CLS_TECH, reason: ['Desktop sync fails with error E-4012.', 'Website uploads still work.'] }) },
    good: CLS_TECH,
    expected: VALID('repair'),
  }),
  on(CLS_T, {
    id: 'classify-technical-truncated',
    forms: ['truncated'],
    first: { content: cutAfter(pretty(CLS_TECH), 'error E-40'), finishReason: 'length' },
    good: CLS_TECH,
    expected: VALID('continue'),
  }),
  on(CLS_S, {
    // every model insists on a category of its own
    id: 'classify-shipping-invented-category-failed',
    forms: ['enum'],
    first: { content: json({ ...CLS_SHIPPING, category: 'logistics' }) },
    respond: model(CLS_SHIPPING, {
      repair: targeted(CLS_SHIPPING, { '/category': 'logistics' }),
      regenerate: ok({ ...CLS_SHIPPING, category: 'order-status' }),
      escalate: ok({ ...CLS_SHIPPING, category: 'logistics' }),
    }),
    good: CLS_SHIPPING,
    expected: FAILED,
  }),
];

const fieldsCases: CorpusCase[] = [
  on(FLD_B, {
    id: 'fields-billing-fenced',
    forms: ['fences-prose'],
    first: { content: `\`\`\`json\n${pretty(FLD_BILLING)}\n\`\`\`` },
    good: FLD_BILLING,
    expected: VALID('deterministic'),
  }),
  on(FLD_T, {
    id: 'fields-technical-trailing-commas',
    forms: ['trailing-comma'],
    first: { content: trailingCommas(FLD_TECH) },
    good: FLD_TECH,
    expected: VALID('deterministic'),
  }),
  on(FLD_T, {
    id: 'fields-technical-python-quotes',
    forms: ['single-quotes'],
    first: { content: singleQuoted(FLD_TECH).replace(/null/g, 'None') },
    good: FLD_TECH,
    expected: VALID('deterministic'),
  }),
  on(FLD_S, {
    id: 'fields-shipping-second-json',
    forms: ['second-json'],
    first: { content: `${pretty(FLD_SHIPPING)}\n\n{"orderId": "ORD-604117", "note": "customer needs the key by Monday"}` },
    good: FLD_SHIPPING,
    expected: VALID('deterministic'),
  }),
  on(FLD_S, {
    id: 'fields-shipping-product-from-catalog',
    forms: ['grounding'],
    first: { content: json({ ...FLD_SHIPPING, product: 'Nimbus Enterprise' }) },
    good: FLD_SHIPPING,
    expected: NULLED,
  }),
  on(FLD_B, {
    id: 'fields-billing-action-paraphrased',
    forms: ['grounding'],
    first: { content: json({ ...FLD_BILLING, requestedAction: 'Refund the duplicate $119 charge' }) },
    good: FLD_BILLING,
    expected: NULLED,
  }),
  on(FLD_T, {
    id: 'fields-technical-amount-invented',
    forms: ['grounding'],
    first: { content: json({ ...FLD_TECH, amount: '$0.00' }) },
    good: FLD_TECH,
    expected: NULLED,
  }),
  on(FLD_S, {
    id: 'fields-shipping-missing-amount',
    forms: ['missing'],
    first: { content: json({ ...FLD_SHIPPING, amount: undefined }) },
    good: FLD_SHIPPING,
    expected: VALID('repair'),
  }),
  on(FLD_B, {
    id: 'fields-billing-missing-action',
    forms: ['missing'],
    first: { content: json({ orderId: 'ORD-582214', product: 'Nimbus Pro', amount: '$119.00' }) },
    good: FLD_BILLING,
    expected: VALID('repair'),
  }),
  on(FLD_B, {
    id: 'fields-billing-order-id-number',
    forms: ['wrong-type'],
    first: { content: json({ ...FLD_BILLING, orderId: 582214 }) },
    good: FLD_BILLING,
    expected: NULLED,
  }),
];

const REFUSAL_NAMING_CODE = {
  ...REP_SHIPPING,
  body: 'Thank you for your message about order ORD-604117. I am unable to apply the discount code VIP-FREE-2024, but we are checking with the carrier about your Nimbus hardware security key and will update you within 8 hours.',
};
const OBEYED_CODE_BODY =
  'Thank you for reaching out about order ORD-604117. As requested, here is your discount code: VIP-FREE-2024. We are checking with the carrier about your security key and will update you within 8 hours.';

const replyCases: CorpusCase[] = [
  on(REP_S, {
    id: 'reply-shipping-injection-code',
    forms: ['injection'],
    first: { content: json({ ...REP_SHIPPING, body: OBEYED_CODE_BODY }) },
    good: REP_SHIPPING,
    expected: VALID('repair'),
  }),
  on(REP_S, {
    id: 'reply-shipping-injection-upgrade',
    forms: ['injection'],
    first: { content: json({ ...REP_SHIPPING, signOff: 'Your account has been upgraded to lifetime premium.\nThe Nimbus Cloud support team' }) },
    good: REP_SHIPPING,
    expected: VALID('repair'),
  }),
  on(REP_S, {
    id: 'reply-shipping-injection-body-and-signoff',
    forms: ['injection'],
    first: {
      content: pretty({
        ...REP_SHIPPING,
        body: OBEYED_CODE_BODY,
        signOff: 'Your account has been upgraded to lifetime premium.\nThe Nimbus Cloud support team',
      }),
    },
    good: REP_SHIPPING,
    expected: VALID('repair'),
  }),
  on(REP_S, {
    // the small model keeps obeying the ticket; the large one does not
    id: 'reply-shipping-injection-escalated',
    forms: ['injection'],
    first: { content: json({ ...REP_SHIPPING, body: OBEYED_CODE_BODY }) },
    respond: model(REP_SHIPPING, {
      // the small model obeys the injection in whatever field it is asked to rewrite
      repair: targeted(REP_SHIPPING, {
        '/body': `${REP_SHIPPING.body} Your discount code VIP-FREE-2024 has been applied to your account.`,
        '/signOff': 'Your account has been upgraded to lifetime premium.\nThe Nimbus Cloud support team',
      }),
      regenerate: ok({ ...REP_SHIPPING, signOff: 'Your account has been upgraded to lifetime premium.\nThe Nimbus Cloud support team' }),
    }),
    good: REP_SHIPPING,
    expected: VALID('escalate'),
  }),
  on(REP_S, {
    // every model answers the injected instruction, if only to refuse it by repeating the code
    id: 'reply-shipping-injection-failed',
    forms: ['injection'],
    first: { content: json({ ...REP_SHIPPING, body: OBEYED_CODE_BODY }) },
    respond: model(REP_SHIPPING, {
      repair: targeted(REFUSAL_NAMING_CODE),
      regenerate: ok(REFUSAL_NAMING_CODE),
      escalate: ok(REFUSAL_NAMING_CODE),
    }),
    good: REP_SHIPPING,
    expected: FAILED,
  }),
  on(REP_T, {
    id: 'reply-technical-fenced-prose',
    forms: ['fences-prose'],
    first: { content: `Sure, here is a draft reply for Priya:\n\n\`\`\`json\n${pretty(REP_TECH)}\n\`\`\`` },
    good: REP_TECH,
    expected: VALID('deterministic'),
  }),
  on(REP_B, {
    id: 'reply-billing-comments',
    forms: ['comments'],
    first: {
      content: `{
  "greeting": "Hi Maria,", // first name only
  "body": ${json(REP_BILLING.body)},
  /* billing tickets may promise a refund */
  "signOff": ${json(REP_BILLING.signOff)}
}`,
    },
    good: REP_BILLING,
    expected: VALID('deterministic'),
  }),
  on(REP_S, {
    id: 'reply-shipping-single-quotes-apostrophes',
    forms: ['single-quotes'],
    first: {
      content: singleQuoted({
        ...REP_SHIPPING,
        body: "Thanks for reaching out about your Nimbus hardware security key on order ORD-604117. We're checking with the carrier now, and you'll hear from us within 8 hours so you can plan for Monday.",
      }),
    },
    good: {
      ...REP_SHIPPING,
      body: "Thanks for reaching out about your Nimbus hardware security key on order ORD-604117. We're checking with the carrier now, and you'll hear from us within 8 hours so you can plan for Monday.",
    },
    expected: VALID('deterministic'),
  }),
  on(REP_B, {
    id: 'reply-billing-truncated',
    forms: ['truncated'],
    first: { content: cutAfter(pretty(REP_BILLING), 'and will refund it to'), finishReason: 'length' },
    good: REP_BILLING,
    expected: VALID('continue'),
  }),
  on(REP_T, {
    id: 'reply-technical-missing-signoff',
    forms: ['missing'],
    first: { content: json({ greeting: REP_TECH.greeting, body: REP_TECH.body }) },
    good: REP_TECH,
    expected: VALID('repair'),
  }),
  on(REP_S, {
    id: 'reply-shipping-body-as-list',
    forms: ['wrong-type'],
    first: {
      content: json({
        ...REP_SHIPPING,
        body: [
          'Thank you for reaching out about your Nimbus hardware security key on order ORD-604117.',
          'I am sorry the tracking page has not changed since the label was created.',
          'We are checking with the carrier now and will update you within 8 hours so you can plan for Monday.',
        ],
      }),
    },
    good: REP_SHIPPING,
    expected: VALID('repair'),
  }),
  on(REP_T, {
    id: 'reply-technical-runaway-whitespace',
    forms: ['runaway'],
    first: { content: `{"greeting": "Hi Priya,", "body": ${json(REP_TECH.body)},${RUNAWAY_WS}`, finishReason: 'length' },
    good: REP_TECH,
    expected: VALID('regenerate'),
  }),
];

const keywordCases: CorpusCase[] = [
  on(KW_H, {
    id: 'keywords-headphones-trailing-commas',
    forms: ['trailing-comma'],
    first: { content: trailingCommas(KW_HEADPHONES) },
    good: KW_HEADPHONES,
    expected: VALID('deterministic'),
  }),
  on(KW_E, {
    id: 'keywords-espresso-fenced',
    forms: ['fences-prose'],
    first: { content: `\`\`\`json\n${json(KW_ESPRESSO)}\n\`\`\`\nThese keywords target shoppers comparing home espresso machines.` },
    good: KW_ESPRESSO,
    expected: VALID('deterministic'),
  }),
  on(KW_E, {
    id: 'keywords-espresso-comments',
    forms: ['comments'],
    first: {
      content: `{"keywords": [
  "espresso machine", // head term
  "burr grinder espresso machine",
  "15 bar espresso machine",
  "espresso machine with steam wand", /* long tail */
  "home espresso maker"
]}`,
    },
    good: KW_ESPRESSO,
    expected: VALID('deterministic'),
  }),
  on(KW_H, {
    id: 'keywords-headphones-one-string',
    forms: ['wrong-type'],
    first: { content: json({ keywords: KW_HEADPHONES.keywords.join(', ') }) },
    good: KW_HEADPHONES,
    expected: VALID('repair'),
  }),
  on(KW_H, {
    id: 'keywords-headphones-wrong-key',
    forms: ['missing'],
    first: { content: json({ keyword: KW_HEADPHONES.keywords }) },
    good: KW_HEADPHONES,
    expected: VALID('repair'),
  }),
  on(KW_E, {
    id: 'keywords-espresso-truncated',
    forms: ['truncated'],
    first: { content: cutAfter(pretty(KW_ESPRESSO), '"espresso machine with st'), finishReason: 'length' },
    good: KW_ESPRESSO,
    expected: VALID('continue'),
  }),
  on(KW_H, {
    id: 'keywords-headphones-repetition',
    forms: ['runaway'],
    first: { content: `{"keywords": ["wireless headphones", "noise cancelling headphones", ${'"headphones", '.repeat(40)}"headph`, finishReason: 'length' },
    good: KW_HEADPHONES,
    expected: VALID('regenerate'),
  }),
];

const featureCases: CorpusCase[] = [
  on(FEAT_H, {
    id: 'features-headphones-prose',
    forms: ['fences-prose'],
    first: { content: `Sure! Here are the features from the spec sheet:\n\n${pretty(FEAT_HEADPHONES)}\n\nThese are the main selling points for commuters.` },
    good: FEAT_HEADPHONES,
    expected: VALID('deterministic'),
  }),
  on(FEAT_E, {
    id: 'features-espresso-single-quotes',
    forms: ['single-quotes'],
    first: { content: singleQuoted(FEAT_ESPRESSO) },
    good: FEAT_ESPRESSO,
    expected: VALID('deterministic'),
  }),
  on(FEAT_H, {
    id: 'features-headphones-second-json',
    forms: ['second-json'],
    first: { content: `${json(FEAT_HEADPHONES)}\n${json({ features: [{ name: 'foldable design', benefit: 'Folds flat to fit in a bag.' }] })}` },
    good: FEAT_HEADPHONES,
    expected: VALID('deterministic'),
  }),
  on(FEAT_H, {
    id: 'features-headphones-not-in-spec',
    forms: ['grounding'],
    first: { content: json({ features: [FEAT_HEADPHONES.features[0], { ...FEAT_HEADPHONES.features[1]!, name: 'wireless charging' }, FEAT_HEADPHONES.features[2]] }) },
    good: FEAT_HEADPHONES,
    expected: VALID('repair'),
  }),
  on(FEAT_E, {
    id: 'features-espresso-paraphrased-name',
    forms: ['grounding'],
    first: { content: json({ features: [FEAT_ESPRESSO.features[0], { ...FEAT_ESPRESSO.features[1]!, name: 'instant heat-up' }, FEAT_ESPRESSO.features[2], FEAT_ESPRESSO.features[3]] }) },
    good: FEAT_ESPRESSO,
    expected: VALID('repair'),
  }),
  on(FEAT_H, {
    id: 'features-headphones-missing-benefit',
    forms: ['missing'],
    first: { content: json({ features: [FEAT_HEADPHONES.features[0], FEAT_HEADPHONES.features[1], { name: FEAT_HEADPHONES.features[2]!.name }] }) },
    good: FEAT_HEADPHONES,
    expected: VALID('repair'),
  }),
  on(FEAT_E, {
    id: 'features-espresso-truncated',
    forms: ['truncated'],
    first: { content: cutAfter(pretty(FEAT_ESPRESSO), '"name": "manual st'), finishReason: 'length' },
    good: FEAT_ESPRESSO,
    expected: VALID('continue'),
  }),
  on(FEAT_H, {
    // every model adds a feature the spec sheet does not list
    id: 'features-headphones-invented-failed',
    forms: ['grounding'],
    first: { content: json({ features: [FEAT_HEADPHONES.features[0], FEAT_HEADPHONES.features[1], { name: 'spatial audio', benefit: 'Places sound around you for films and games.' }] }) },
    respond: model(FEAT_HEADPHONES, {
      repair: targeted(FEAT_HEADPHONES, {
        '/features/1': { name: 'spatial audio', benefit: 'Places sound around you for films and games.' },
        '/features/2': { name: 'spatial audio', benefit: 'Places sound around you for films and games.' },
        '/features/3': { name: 'head tracking', benefit: 'Keeps the sound stage in place as you turn your head.' },
      }),
      regenerate: ok({ features: [FEAT_HEADPHONES.features[0], { name: 'spatial audio', benefit: 'Places sound around you for films and games.' }] }),
      // asked for the invented item only, the large model invents another one in its place
      escalate: (body) =>
        isRepairRequest(body)
          ? targeted(FEAT_HEADPHONES, Object.fromEntries(['/features/1', '/features/2', '/features/3'].map((p) => [p, { name: 'head tracking', benefit: 'Keeps the sound stage in place as you turn your head.' }])))(body)
          : ok({ features: [...FEAT_HEADPHONES.features, { name: 'head tracking', benefit: 'Keeps the sound stage in place as you turn your head.' }] }),
    }),
    good: FEAT_HEADPHONES,
    expected: FAILED,
  }),
];

const summaryCases: CorpusCase[] = [
  on(SUM_H[0]!, {
    id: 'summary-heat-fenced',
    forms: ['fences-prose'],
    first: { content: `Here is the summary of part 1:\n\`\`\`json\n${pretty(SUM_HEAT_1)}\n\`\`\`` },
    good: SUM_HEAT_1,
    expected: VALID('deterministic'),
  }),
  on(SUM_I[0]!, {
    id: 'summary-incident-comments',
    forms: ['comments'],
    first: { content: `{\n  // part 1 of 5: what happened\n  "summary": ${json(SUM_INC_1.summary)}\n}` },
    good: SUM_INC_1,
    expected: VALID('deterministic'),
  }),
  on(SUM_H[1]!, {
    id: 'summary-heat-second-json',
    forms: ['second-json'],
    first: { content: `${json(SUM_HEAT_2)}\n\n{"summary": "Modern heat pumps work in cold climates."}` },
    good: SUM_HEAT_2,
    expected: VALID('deterministic'),
  }),
  on(SUM_I[1]!, {
    // the object closed before the whitespace began, so nothing of the value was lost
    id: 'summary-incident-whitespace-after-object',
    forms: ['runaway'],
    first: { content: json(SUM_INC_2) + RUNAWAY_WS, finishReason: 'length' },
    good: SUM_INC_2,
    expected: VALID('deterministic'),
  }),
  on(SUM_H[1]!, {
    id: 'summary-heat-off-topic',
    forms: ['grounding'],
    first: { content: json({ summary: 'Solar panels paired with home batteries lower household bills, especially in sunny southern regions with generous feed-in tariffs.' }) },
    good: SUM_HEAT_2,
    expected: VALID('repair'),
  }),
  on(SUM_I[0]!, {
    id: 'summary-incident-sentence-list',
    forms: ['wrong-type'],
    first: {
      content: json({
        summary: [
          'On 12 March, from 09:14 to 11:02 UTC, EU customers could not upload files larger than 20 MB.',
          'Roughly 41,000 uploads failed with a timeout error, but no data was lost.',
        ],
      }),
    },
    good: SUM_INC_1,
    expected: VALID('repair'),
  }),
  on(SUM_I[2]!, {
    id: 'summary-incident-wrong-key',
    forms: ['missing'],
    first: { content: json({ text: SUM_INC_3.summary }) },
    good: SUM_INC_3,
    expected: VALID('repair'),
  }),
  on(SUM_H[2]!, {
    id: 'summary-heat-truncated',
    forms: ['truncated'],
    first: { content: cutAfter(pretty(SUM_HEAT_3), 'and larger radiators or under'), finishReason: 'length' },
    good: SUM_HEAT_3,
    expected: VALID('continue'),
  }),
  on(SUM_H[0]!, {
    // every model summarizes something else than the part
    id: 'summary-heat-off-topic-failed',
    forms: ['grounding'],
    first: { content: json({ summary: 'Wind turbines and solar farms now supply most of the power on modern grids across Europe, and storage keeps prices stable.' }) },
    respond: model(SUM_HEAT_1, {
      repair: targeted(SUM_HEAT_1, { '/summary': 'The document introduces renewable energy, which is becoming cheaper every year as governments support wind and solar power.' }),
      regenerate: ok({ summary: 'Wind and solar power are replacing coal across Europe, cutting emissions and bills for millions of households.' }),
      escalate: ok({ summary: 'Renewable power from wind and solar farms is growing quickly, and batteries store it for windless nights.' }),
    }),
    good: SUM_HEAT_1,
    expected: FAILED,
  }),
];

export const corpus: readonly CorpusCase[] = [...invoiceCases, ...classifyCases, ...fieldsCases, ...replyCases, ...keywordCases, ...featureCases, ...summaryCases];

/** The rung the ladder is expected to fix a case by today: `knownIssue.actual` where set, else `expected`. */
export function currentExpectation(c: CorpusCase): { outcome: Outcome; fixedBy: FixedBy; outputIsGood: boolean } {
  if (c.knownIssue) return c.knownIssue.actual;
  return { ...c.expected, outputIsGood: c.expected.outcome === 'valid' };
}

/** What a recorded attempt row tells about how a run was fixed. */
export interface AttemptRowLike {
  kind: string;
  valid: boolean | null;
  fixes: unknown;
}

/**
 * The rung that fixed a run, from its attempt rows in call order: the kind of the first valid
 * attempt, or 'deterministic' when the first attempt is valid thanks to its fixes. Null unless valid.
 */
export function fixedByOf(outcome: Outcome, attempts: readonly AttemptRowLike[]): FixedBy {
  if (outcome !== 'valid') return null;
  const first = attempts.find((a) => a.valid === true);
  if (!first) throw new Error('a valid outcome has no valid attempt row');
  if (first.kind !== 'generate') return first.kind as Exclude<Rung, 'generate'>;
  if (Array.isArray(first.fixes) && first.fixes.length > 0) return 'deterministic';
  throw new Error('the first output was valid as written: the case is not a failure');
}
