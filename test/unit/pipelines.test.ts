import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { evaluationThrough, guidedSchemaOf, renderContext, type ContextBlock, type MicroTask, type Pipeline, type Prompt, type StepState } from '../../core/contract.js';
import type { Issue } from '../../core/issues.js';
import { getAt } from '../../core/json-pointer.js';
import { subSchemaAt } from '../../core/schema-walk.js';
import { singlePromptTaskName } from '../../core/single-prompt.js';
import { LENIENT, validateValue } from '../../core/validate.js';
import { chunkText } from '../../pipelines/document-summary/chunk.js';
import { getMicroTask, getPipeline, microTasks, pipelines } from '../../pipelines/index.js';
import { idTokensIn, type ExtractInvoiceOutput } from '../../pipelines/invoice-extraction/extract-invoice.js';
import type { ExtractFeaturesOutput } from '../../pipelines/product-review/extract-features.js';
import type { GenerateKeywordsOutput } from '../../pipelines/product-review/generate-keywords.js';
import type { WriteAdviceOutput } from '../../pipelines/product-review/write-advice.js';
import type { WriteScenariosOutput } from '../../pipelines/product-review/write-scenarios.js';
import { moneySpans } from '../../core/money.js';
import { numbersIn } from '../../core/numbers.js';
import { appearsIn } from '../../core/text.js';
import type { ClassifyTicketOutput } from '../../pipelines/ticket-triage/classify-ticket.js';
import type { DraftReplyOutput } from '../../pipelines/ticket-triage/draft-reply.js';
import type { ExtractTicketFieldsOutput } from '../../pipelines/ticket-triage/extract-ticket-fields.js';
import { findInjection } from '../../core/injection.js';
import { documentSummaryOutputs, invoiceOutputs } from '../support/fixtures.js';
import { corpus } from '../corpus/cases.js';

const PIPELINES_DIR = fileURLToPath(new URL('../../pipelines/', import.meta.url));

function sampleNames(pipeline: string): string[] {
  return readdirSync(`${PIPELINES_DIR}${pipeline}/samples`)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

function loadSample(pipeline: string, sample: string): unknown {
  return JSON.parse(readFileSync(`${PIPELINES_DIR}${pipeline}/samples/${sample}.json`, 'utf8'));
}

// ---------------------------------------------------------------------------------------------
// Hand-written good outputs, per pipeline, per sample, per step id (a fan-out step has a list).

const features: ExtractFeaturesOutput = {
  features: [
    { name: 'Active noise cancellation', benefit: 'Blocks out train and office noise so you can focus or relax.' },
    { name: '30-hour battery life', benefit: 'Lasts a full week of commuting between charges.' },
    { name: 'Fast USB-C charging', benefit: 'Ten minutes on the charger gives five hours of listening.' },
    { name: 'Multipoint Bluetooth pairing', benefit: 'Moves between laptop and phone without pairing again.' },
    { name: 'Beamforming microphones', benefit: 'Keeps your voice clear on calls in noisy places.' },
  ],
};
const scenarios: WriteScenariosOutput = {
  scenarios: [
    {
      title: 'Daily train commute',
      description: 'A commuter rides the train for 50 minutes each way. Noise cancellation mutes the rumble so podcasts stay clear at low volume.',
      feature: 'Active noise cancellation',
    },
    {
      title: 'Long-haul flight',
      description: 'A traveller on a ten-hour flight watches films and listens to music. The battery covers the flight and the layover without a charger.',
      feature: '30-hour battery life',
    },
    {
      title: 'From laptop call to phone call',
      description: 'A remote worker ends a video call on the laptop and answers the phone. Multipoint pairing moves the audio across at once.',
      feature: 'multipoint bluetooth pairing',
    },
  ],
};
const advice: WriteAdviceOutput = {
  buyIf: ['Commuters who want quiet on trains and buses', 'Frequent flyers who need a battery that lasts a long trip'],
  skipIf: ['Runners and gym-goers who need a secure fit', 'Anyone who needs headphones that survive rain'],
  verdict: 'buy',
  summary: 'At $249 the Aurora ANC 700 is a strong pick for commuters and travellers thanks to its noise cancellation and long battery life. Skip it for workouts.',
};
const keywords: GenerateKeywordsOutput = {
  keywords: ['noise cancelling headphones', 'wireless headphones', 'aurora anc 700', 'multipoint bluetooth headphones', 'long battery headphones', 'travel headphones'],
};

const billingClassification: ClassifyTicketOutput = { category: 'billing', priority: 'urgent', sentiment: 'negative', reason: 'The customer was charged twice for the same annual renewal.' };
const billingFields: ExtractTicketFieldsOutput = { orderId: 'ORD-582214', product: 'Nimbus Pro', amount: '$119.00', requestedAction: 'refund the duplicate charge' };
const billingReply: DraftReplyOutput = {
  greeting: 'Hi Maria,',
  body: 'Thank you for letting us know about the two $119.00 charges for order ORD-582214. I have passed this to our billing team, and we will refund the duplicate charge once it is confirmed. You will hear from us within 2 hours.',
  signOff: 'Kind regards,\nThe Nimbus Cloud support team',
};
const shippingClassification: ClassifyTicketOutput = { category: 'shipping', priority: 'high', sentiment: 'negative', reason: 'The tracking of a hardware key has not moved for two weeks.' };
const shippingFields: ExtractTicketFieldsOutput = { orderId: 'ORD-604117', product: 'Nimbus hardware security key', amount: null, requestedAction: 'Can you tell me where it is?' };
const shippingReply: DraftReplyOutput = {
  greeting: 'Hello Daniel,',
  body: 'Thanks for your message about order ORD-604117. I have asked our shipping partner why the tracking still shows the label as created, and I will do everything I can to get your security key to you before Monday. We will update you within 8 hours.',
  signOff: 'Best regards,\nThe Nimbus Cloud support team',
};

const ukInvoice = invoiceOutputs.uk;
const usInvoice = invoiceOutputs.us;
const swissInvoice = invoiceOutputs.swiss;

const incidentParts = documentSummaryOutputs.incident.parts;
const incidentCombined = documentSummaryOutputs.incident.combined;

const FIXTURES: Record<string, Record<string, Record<string, unknown>>> = {
  'product-review': { 'wireless-headphones': { features, scenarios, advice, keywords } },
  'ticket-triage': {
    'billing-double-charge': { classification: billingClassification, fields: billingFields, reply: billingReply },
    'shipping-with-injection': { classification: shippingClassification, fields: shippingFields, reply: shippingReply },
  },
  'invoice-extraction': {
    'uk-office-supplies': { invoice: ukInvoice },
    'us-software-license': { invoice: usInvoice },
    'swiss-hotel-linen': { invoice: swissInvoice },
  },
  // a document of few parts has no sections: the workflow's result of a fan-out of no items
  'document-summary': { 'incident-report': { parts: incidentParts, sections: [], combined: incidentCombined } },
};

// an invoice sample that is also a labelled example has its label as its fixture
{
  const file = fileURLToPath(new URL('../../pipelines/invoice-extraction/eval/invoices.jsonl', import.meta.url));
  const labelled = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { input: { text: string }; expected: ExtractInvoiceOutput });
  for (const sample of readdirSync(fileURLToPath(new URL('../../pipelines/invoice-extraction/samples/', import.meta.url)))) {
    const name = sample.replace(/\.json$/, '');
    const { text } = JSON.parse(readFileSync(fileURLToPath(new URL(`../../pipelines/invoice-extraction/samples/${sample}`, import.meta.url)), 'utf8')) as { text: string };
    const row = labelled.find((r) => r.input.text === text);
    if (row && !FIXTURES['invoice-extraction']![name]) FIXTURES['invoice-extraction']![name] = { invoice: row.expected };
  }
}

/** Any sample's fixtures stand in for the earlier results of another sample of the same pipeline. */
function anyResults(pipeline: string): Record<string, unknown> {
  const first = Object.values(FIXTURES[pipeline] ?? {})[0];
  if (!first) throw new Error(`no fixtures for ${pipeline}`);
  return first;
}

// ---------------------------------------------------------------------------------------------
// A dry run: every step's input, context and prompt as the workflow builds them, with fixtures as results.

interface Call {
  stepId: string;
  index: number;
  task: MicroTask<any, any>;
  input: unknown;
  context: ContextBlock[];
  prompt: Prompt;
  /** the fixture output of this call */
  output: unknown;
}

function dryRun(pipeline: Pipeline, rawInput: unknown, results: Record<string, unknown>): { calls: Call[]; state: StepState<unknown> } {
  const state: StepState<unknown> = { input: pipeline.input.parse(rawInput), results: {} };
  const calls: Call[] = [];
  for (const step of pipeline.steps) {
    const items = step.forEach ? step.forEach(state) : [undefined];
    items.forEach((item, index) => {
      const input = step.task.input.parse(step.forEach ? step.input(state, item, index) : step.input(state));
      const context = step.context ? step.context(state, item) : [];
      const result = results[step.id];
      const output = step.forEach ? (Array.isArray(result) ? result[index] : undefined) : result;
      calls.push({ stepId: step.id, index, task: step.task, input, context, prompt: step.task.prompt(input, context), output });
    });
    state.results[step.id] = results[step.id];
  }
  return { calls, state };
}

function callOf(pipeline: string, sample: string, stepId: string, index = 0): Call {
  const results = FIXTURES[pipeline]?.[sample] ?? anyResults(pipeline);
  const call = dryRun(getPipeline(pipeline), loadSample(pipeline, sample), results).calls.find((c) => c.stepId === stepId && c.index === index);
  if (!call) throw new Error(`no call ${pipeline}/${stepId}[${index}]`);
  return call;
}

/** The issues a micro-task's contract finds in an output, as the workflow would validate it, before ungrounded values are set to null. */
function validate(call: Call, output: unknown): Issue[] {
  const v = validateValue(call.task, output, { input: call.input, context: call.context }, { ...LENIENT, ungroundedToNull: false });
  return v.issues;
}

function edited<T>(value: T, edit: (copy: T) => void): T {
  const copy = structuredClone(value);
  edit(copy);
  return copy;
}

/** Asserts the bad output is caught at exactly these (kind, path) pairs, each a repairable path that exists in it. */
function expectCaught(call: Call, bad: unknown, expected: readonly [Issue['kind'], string][]): Issue[] {
  expect(call.task.output.safeParse(bad).success, 'a bad output for a check must still meet the schema').toBe(true);
  const issues = validate(call, bad);
  expect(issues.map((i) => [i.kind, i.path]).sort()).toEqual([...expected].sort());
  for (const issue of issues) {
    expect(getAt(bad, issue.path), `${issue.path} points at a value`).toBeDefined();
    expect(subSchemaAt(call.task.output, issue.path), `${issue.path} is in the output schema`).toBeDefined();
    expect(issue.message.length).toBeGreaterThan(10);
  }
  return issues;
}

// ---------------------------------------------------------------------------------------------

describe('pipeline registry', () => {
  it('lists the four pipelines by name', () => {
    expect(Object.keys(pipelines).sort()).toEqual(['document-summary', 'invoice-extraction', 'product-review', 'ticket-triage']);
    for (const [name, p] of Object.entries(pipelines)) expect(p.name).toBe(name);
  });

  it('lists every micro-task of every pipeline by name', () => {
    const used = Object.values(pipelines).flatMap((p) => p.steps.map((s) => s.task));
    // and each pipeline's single-prompt baseline, which evaluation runs on the pool workers
    const baselines = Object.values(pipelines).flatMap((p) => {
      const last = p.steps[p.steps.length - 1]!.id;
      const through = evaluationThrough(p);
      return [singlePromptTaskName(p.name), ...(through !== undefined && through !== last ? [singlePromptTaskName(p.name, through)] : [])];
    });
    expect(Object.keys(microTasks).sort()).toEqual([...new Set(used.map((t) => t.name)), ...baselines].sort());
    for (const task of used) expect(getMicroTask(task.name)).toBe(task);
  });

  it('names the unknown pipeline and the known ones when asked for a missing pipeline', () => {
    expect(() => getPipeline('sales-forecast')).toThrowError(/unknown pipeline "sales-forecast".*product-review.*ticket-triage/);
  });

  it('names the unknown micro-task and the known ones when asked for a missing micro-task', () => {
    expect(() => getMicroTask('write-poem')).toThrowError(/unknown micro-task "write-poem".*extract-features.*extract-invoice/);
  });
});

describe('sample inputs', () => {
  for (const name of Object.keys(pipelines)) {
    it(`${name} has at least two samples, each a valid input`, () => {
      const samples = sampleNames(name);
      expect(samples.length).toBeGreaterThanOrEqual(2);
      for (const sample of samples) {
        const parsed = getPipeline(name).input.safeParse(loadSample(name, sample));
        expect(parsed.success, `${name}/samples/${sample}.json: ${parsed.success ? '' : parsed.error.message}`).toBe(true);
      }
    });
  }

  it('invoice samples have two to four lines each', () => {
    for (const sample of sampleNames('invoice-extraction')) {
      const fixture = FIXTURES['invoice-extraction']?.[sample]?.['invoice'] as ExtractInvoiceOutput | undefined;
      expect(fixture, `a fixture for ${sample}`).toBeDefined();
      expect(fixture!.lines.length).toBeGreaterThanOrEqual(2);
      expect(fixture!.lines.length).toBeLessThanOrEqual(4);
    }
  });

  it('document samples are between 1500 and 3000 characters', () => {
    for (const sample of sampleNames('document-summary')) {
      const { text } = loadSample('document-summary', sample) as { text: string };
      expect(text.length).toBeGreaterThanOrEqual(1500);
      expect(text.length).toBeLessThanOrEqual(3000);
    }
  });
});

describe('micro-task contracts', () => {
  const tasks = [...new Set(Object.values(pipelines).flatMap((p) => p.steps.map((s) => s.task)))];

  it('every output schema converts to JSON schema', () => {
    for (const task of tasks) {
      expect(() => z.toJSONSchema(task.output), task.name).not.toThrow();
      expect(() => z.toJSONSchema(task.output, { target: 'draft-7' }), task.name).not.toThrow();
    }
  });

  it('every formatName is unique', () => {
    const names = tasks.map((t) => t.formatName);
    expect(new Set(names).size).toBe(names.length);
  });

  it('every formatName is the snake_case form of the task name', () => {
    for (const task of tasks) expect(task.formatName).toBe(task.name.replace(/-/g, '_'));
  });

  it('every task has a version on the small pool with a small token budget', () => {
    for (const task of tasks) {
      expect(task.version, task.name).toBeGreaterThanOrEqual(1);
      expect(task.pool, task.name).toBe('small');
      expect(task.maxTokens, task.name).toBeGreaterThanOrEqual(256);
      expect(task.maxTokens, task.name).toBeLessThanOrEqual(700);
      expect(task.temperature ?? 0, task.name).toBeLessThanOrEqual(0.3);
    }
  });

});

describe('prompts', () => {
  for (const name of Object.keys(pipelines)) {
    it(`${name} builds a prompt with its injected context for every step of every sample`, () => {
      for (const sample of sampleNames(name)) {
        const results = FIXTURES[name]?.[sample] ?? anyResults(name);
        const { calls } = dryRun(getPipeline(name), loadSample(name, sample), results);
        expect(calls.length).toBeGreaterThanOrEqual(getPipeline(name).steps.length);
        for (const call of calls) {
          const where = `${name}/${sample} ${call.stepId}[${call.index}]`;
          expect(call.context.length, where).toBeGreaterThan(0);
          expect(call.prompt.user, where).toContain(renderContext(call.context));
          expect(call.prompt.user, where).toMatch(/Return JSON of this shape[^{\n]*: \{/);
          expect(call.prompt.system.length, where).toBeGreaterThan(20);
        }
      }
    });
  }

  it('puts each part of a document in its own summarize-chunk prompt', () => {
    const sample = loadSample('document-summary', 'incident-report') as { text: string };
    const { calls } = dryRun(getPipeline('document-summary'), sample, anyResults('document-summary'));
    const parts = calls.filter((c) => c.stepId === 'parts');
    const chunks = chunkText(sample.text, 800);
    expect(parts).toHaveLength(chunks.length);
    parts.forEach((c, i) => {
      expect(c.prompt.user).toContain(chunks[i]);
      expect(c.input).toMatchObject({ part: i + 1, parts: chunks.length });
    });
  });

  it('gives the draft-reply prompt the response time of the classified priority', () => {
    const call = callOf('ticket-triage', 'shipping-with-injection', 'reply');
    expect(call.prompt.user).toContain('within 8 hours');
    expect(call.prompt.user).not.toContain('within 2 hours');
  });
});

describe('good outputs', () => {
  for (const [name, bySample] of Object.entries(FIXTURES)) {
    for (const [sample, results] of Object.entries(bySample)) {
      it(`${name} accepts the hand-written outputs for ${sample} and assembles them`, () => {
        const pipeline = getPipeline(name);
        const { calls, state } = dryRun(pipeline, loadSample(name, sample), results);
        for (const call of calls) expect(validate(call, call.output), `${call.stepId}[${call.index}]`).toEqual([]);
        expect(() => pipeline.assemble(state)).not.toThrow();
      });
    }
  }

  it('product-review assembles a review with the verdict, features and keywords', () => {
    const { state } = dryRun(getPipeline('product-review'), loadSample('product-review', 'wireless-headphones'), anyResults('product-review'));
    const review = getPipeline('product-review').assemble(state);
    expect(review).toMatchObject({ product: { name: 'Aurora ANC 700 Wireless Headphones', price: 249, currency: 'USD' }, verdict: 'buy' });
    expect(review.features).toHaveLength(5);
    expect(review.keywords).toEqual(keywords.keywords);
  });

  it('ticket-triage assembles the reply text and flags the injected ticket', () => {
    const pipeline = getPipeline('ticket-triage');
    const injected = pipeline.assemble(dryRun(pipeline, loadSample('ticket-triage', 'shipping-with-injection'), FIXTURES['ticket-triage']!['shipping-with-injection']!).state);
    expect(injected.injectionSuspected).toBe(true);
    expect(injected.reply.text).toBe(`${shippingReply.greeting}\n\n${shippingReply.body}\n\n${shippingReply.signOff}`);
    const clean = pipeline.assemble(dryRun(pipeline, loadSample('ticket-triage', 'billing-double-charge'), FIXTURES['ticket-triage']!['billing-double-charge']!).state);
    expect(clean.injectionSuspected).toBe(false);
    expect(clean.category).toBe('billing');
  });

  it('invoice-extraction keeps a partial invoice instead of failing', () => {
    const pipeline = getPipeline('invoice-extraction');
    const partial = { ...ukInvoice, total: undefined };
    const out = pipeline.assemble({ input: loadSample('invoice-extraction', 'uk-office-supplies'), results: { invoice: partial } });
    expect(out).toEqual({ schemaValid: false, invoice: partial });
    const full = pipeline.assemble({ input: loadSample('invoice-extraction', 'uk-office-supplies'), results: { invoice: ukInvoice } });
    expect(full).toEqual({ schemaValid: true, invoice: ukInvoice });
  });

  it('document-summary assembles one part summary per chunk with the key points', () => {
    const pipeline = getPipeline('document-summary');
    const out = pipeline.assemble(dryRun(pipeline, loadSample('document-summary', 'incident-report'), anyResults('document-summary')).state);
    expect(out.parts).toEqual(incidentParts.map((p) => p.summary));
    expect(out.keyPoints).toEqual(incidentCombined.keyPoints);
  });

  it('a later step fails loudly when an earlier result is missing', () => {
    const pipeline = getPipeline('product-review');
    const state: StepState<unknown> = { input: loadSample('product-review', 'espresso-machine'), results: {} };
    expect(() => pipeline.steps[1]!.input(state)).toThrowError(/step "features" has no valid result/);
  });
});

describe('product-review checks', () => {
  const pr = (stepId: string) => callOf('product-review', 'wireless-headphones', stepId);

  it('extract-features flags a feature name the spec sheet does not state', () => {
    const bad = edited(features, (o) => (o.features[1]!.name = 'Waterproof design'));
    const [issue] = expectCaught(pr('features'), bad, [['grounding', '/features/1/name']]);
    expect(issue!.message).toMatch(/waterproof/);
  });

  it('extract-features accepts a feature name worded differently from the spec key', () => {
    const ok = edited(features, (o) => (o.features[0]!.name = 'Noise cancelling with transparency mode'));
    expect(validate(pr('features'), ok)).toEqual([]);
  });

  it('extract-features drops a repeated feature when two distinct ones remain', () => {
    const bad = edited(features, (o) => (o.features[4]!.name = o.features[0]!.name));
    const call = pr('features');
    const r = validateValue(call.task, bad, { input: call.input, context: call.context });
    expect(r.valid).toBe(true);
    expect((r.value as typeof features).features).toEqual(features.features.filter((_, i) => i !== 4));
    expect(r.fixes.map((f) => [f.kind, f.path])).toEqual([['check-fix', '/features']]);
  });

  it('extract-features flags a repeated feature name when dropping it would leave too few', () => {
    const two = { features: features.features.slice(0, 2) };
    const bad = edited(two, (o) => (o.features[1]!.name = o.features[0]!.name));
    expectCaught(pr('features'), bad, [['semantic', '/features/1/name']]);
  });

  it('write-scenarios flags a scenario built on a feature that was not extracted', () => {
    const bad = edited(scenarios, (o) => (o.scenarios[2]!.feature = 'Wireless charging'));
    const [issue] = expectCaught(pr('scenarios'), bad, [['grounding', '/scenarios/2/feature']]);
    expect(issue!.message).toContain('"Active noise cancellation"');
  });

  it('write-advice flags a price the product does not have', () => {
    const bad = edited(advice, (o) => (o.summary = 'At just $199 the Aurora ANC 700 is a bargain for commuters and travellers.'));
    expectCaught(pr('advice'), bad, [['grounding', '/summary']]);
  });

  it('write-advice flags a buyer listed under both buyIf and skipIf', () => {
    const bad = edited(advice, (o) => (o.skipIf[1] = o.buyIf[0]!));
    expectCaught(pr('advice'), bad, [['semantic', '/skipIf/1']]);
  });

  it('write-advice catches the buyers a 0.5B model wrote: the category three times, a label three times', () => {
    // the label stays (a two-word kind of buyer is often right); only its repeats go
    const bad = edited(advice, (o) => {
      o.buyIf = ['headphones', 'headphones', 'headphones'];
      o.skipIf = ['laptop phones', 'laptop phones', 'laptop phones'];
    });
    const call = pr('advice');
    const r = validateValue(call.task, bad, { input: call.input, context: call.context });
    expect(r.valid).toBe(false);
    // the repeats go without a model call; what is left is sent back, path by path
    expect(r.fixes.map((f) => f.path).sort()).toEqual(['/buyIf', '/skipIf']);
    expect(r.valid ? [] : r.issues.map((i) => [i.kind, i.path])).toEqual([['semantic', '/buyIf/0']]);
  });

  it('write-advice flags a customer note or a line of its own instructions pasted in as a buyer, and a repeated sentence', () => {
    const bad = edited(advice, (o) => {
      o.buyIf[1] = 'Comfortable for long flights, but my ears get warm after about 3 hours';
      o.skipIf[0] = 'name 1-3 kinds of people it does not suit and why';
      o.summary = 'It is a good value for most buyers. It is a good value for most buyers.';
    });
    const issues = expectCaught(pr('advice'), bad, [
      ['semantic', '/buyIf/1'],
      ['semantic', '/skipIf/0'],
      ['semantic', '/summary'],
    ]);
    expect(issues.every((i) => i.rewrite !== undefined)).toBe(true);
  });

  it('write-advice flags a figure the facts do not state', () => {
    const bad = edited(advice, (o) => (o.summary = 'With 45 hours of battery and 40 mm drivers it suits long trips and daily commutes.'));
    const [issue] = expectCaught(pr('advice'), bad, [['grounding', '/summary']]);
    expect(issue!.message).toContain('"45 hours"');
  });

  it('write-scenarios flags two scenarios with one description', () => {
    const bad = edited(scenarios, (o) => (o.scenarios[1]!.description = o.scenarios[0]!.description));
    expectCaught(pr('scenarios'), bad, [['semantic', '/scenarios/1/description']]);
  });

  it('extract-features flags a benefit that gives a spec number another unit', () => {
    const bad = edited(features, (o) => (o.features[0]!.benefit = 'Weighs 254 g with 254 mm dynamic drivers for rich sound.'));
    const [issue] = expectCaught(pr('features'), bad, [['grounding', '/features/0/benefit']]);
    expect(issue!.message).toContain('"254 mm" is not a figure the facts state');
  });

  it('generate-keywords lowercases a keyword with capitals without a model call', () => {
    const bad = edited(keywords, (o) => (o.keywords[2] = 'Aurora ANC 700'));
    const call = pr('keywords');
    const r = validateValue(call.task, bad, { input: call.input, context: call.context });
    expect(r.valid).toBe(true);
    expect(getAt(r.value, '/keywords/2')).toBe('aurora anc 700');
    expect(r.fixes).toEqual([{ kind: 'check-fix', path: '/keywords/2', detail: '"Aurora ANC 700" -> "aurora anc 700"' }]);
  });

  it('generate-keywords flags a keyword that says nothing about the product when dropping it would leave too few', () => {
    const five = { keywords: keywords.keywords.slice(0, 5) };
    const bad = edited(five, (o) => (o.keywords[3] = '1.1.1'));
    expectCaught(pr('keywords'), bad, [['grounding', '/keywords/3']]);
  });

  it('generate-keywords drops keywords that say nothing about the product, and repeats, when five good ones remain', () => {
    const bad = { keywords: [...keywords.keywords.slice(0, 5), 'movies', 'cute', 'cute', keywords.keywords[1]!.toUpperCase()] };
    const call = pr('keywords');
    const r = validateValue(call.task, bad, { input: call.input, context: call.context });
    expect(r.valid).toBe(true);
    expect((r.value as GenerateKeywordsOutput).keywords).toEqual(keywords.keywords.slice(0, 5));
    expect(r.fixes.map((f) => f.path)).toContain('/keywords');
  });

  it('generate-keywords drops a repeated keyword when five distinct ones remain', () => {
    const bad = edited(keywords, (o) => (o.keywords[5] = 'wireless  headphones'));
    const call = pr('keywords');
    const r = validateValue(call.task, bad, { input: call.input, context: call.context });
    expect(r.valid).toBe(true);
    expect((r.value as GenerateKeywordsOutput).keywords).toEqual(keywords.keywords.slice(0, 5));
    expect(r.fixes.map((f) => [f.kind, f.path])).toEqual([['check-fix', '/keywords']]);
  });

  it('generate-keywords strips list numbers, then drops the repeats that reveals, without a model call', () => {
    const numbered = [...keywords.keywords.slice(0, 5), keywords.keywords[0]!].map((k, i) => `${i + 1}. ${k}`);
    const call = pr('keywords');
    const r = validateValue(call.task, { keywords: numbered }, { input: call.input, context: call.context });
    expect(r.valid).toBe(true);
    expect((r.value as GenerateKeywordsOutput).keywords).toEqual(keywords.keywords.slice(0, 5));
    // "15 bar espresso machine" is a keyword, not a numbered one
    const plain = { keywords: ['15 bar espresso machine', ...keywords.keywords.slice(1, 5)] };
    expect(validateValue(call.task, plain, { input: call.input, context: call.context }).fixes.filter((f) => f.path === '/keywords/0')).toEqual([]);
  });

  it('generate-keywords flags the later copy of a duplicated keyword when dropping it would leave too few', () => {
    const five = { keywords: keywords.keywords.slice(0, 5) };
    const bad = edited(five, (o) => (o.keywords[4] = 'wireless  headphones'));
    expectCaught(pr('keywords'), bad, [['semantic', '/keywords/4']]);
  });
});

describe('ticket-triage checks', () => {
  const billing = (stepId: string) => callOf('ticket-triage', 'billing-double-charge', stepId);
  const shipping = (stepId: string) => callOf('ticket-triage', 'shipping-with-injection', stepId);

  it('classify-ticket flags an urgent priority on feedback', () => {
    const bad: ClassifyTicketOutput = { category: 'feedback', priority: 'urgent', sentiment: 'negative', reason: 'The customer is unhappy about being charged twice.' };
    expectCaught(billing('classification'), bad, [['semantic', '/priority']]);
  });

  it('classify-ticket flags a low priority for an enterprise customer', () => {
    expectCaught(shipping('classification'), { ...shippingClassification, priority: 'low' }, [['semantic', '/priority']]);
  });

  it('extract-ticket-fields flags values that are not in the ticket', () => {
    const bad: ExtractTicketFieldsOutput = { ...billingFields, orderId: 'ORD-582241', product: 'Nimbus Enterprise' };
    expectCaught(billing('fields'), bad, [
      ['grounding', '/orderId'],
      ['grounding', '/product'],
    ]);
    // null is a right answer for both: they are set to null without a call, and flagged for a person
    const v = validateValue(billing('fields').task, bad, { input: billing('fields').input, context: billing('fields').context });
    expect(v).toMatchObject({ valid: true, value: { orderId: null, product: null }, flagged: [{ path: '/orderId' }, { path: '/product' }] });
  });

  it('extract-ticket-fields accepts nulls and values copied with different case', () => {
    const ok: ExtractTicketFieldsOutput = { orderId: 'ord-582214', product: null, amount: '$119.00', requestedAction: null };
    expect(validate(billing('fields'), ok)).toEqual([]);
  });

  it('extract-ticket-fields flags an amount left null that the customer writes, and a one-word action', () => {
    const empty: ExtractTicketFieldsOutput = { orderId: 'ORD-582214', product: null, amount: null, requestedAction: 'refund' };
    expect(validate(billing('fields'), empty).map((i) => [i.path, i.check])).toEqual([
      ['/amount', 'mentioned-not-null'],
      ['/requestedAction', 'action-is-a-request'],
    ]);
  });

  it('draft-reply flags a greeting that does not name the customer', () => {
    expectCaught(billing('reply'), { ...billingReply, greeting: 'Dear customer,' }, [['semantic', '/greeting']]);
  });

  it('draft-reply flags a refund promise on a shipping ticket but allows one on a billing ticket', () => {
    const body = 'Sorry for the wait on order ORD-604117. If the key does not arrive by Monday, we will refund your order in full. Expect an update within 8 hours.';
    expectCaught(shipping('reply'), { ...shippingReply, body }, [['semantic', '/body']]);
    expect(validate(billing('reply'), { ...billingReply, body: `${billingReply.body} We will refund the $119.00 today.` })).toEqual([]);
  });

  it('draft-reply allows a mention of refunds that promises none', () => {
    const body = `${shippingReply.body} We cannot refund shipping costs, but the billing team can answer questions about charges.`;
    expect(validate(shipping('reply'), { ...shippingReply, body })).toEqual([]);
  });

  it('draft-reply flags a reply that hands out the discount code an injected instruction asked for', () => {
    const body = `${shippingReply.body} Here is your discount code VIP-FREE-2024.`;
    const [issue] = expectCaught(shipping('reply'), { ...shippingReply, body }, [['injection', '/body']]);
    // named by its kind, not quoted: the message goes back to the model, which copies what it is shown
    expect(issue!.message).toContain('a code');
    expect(issue!.message).not.toContain('VIP-FREE-2024');
  });

  it('draft-reply flags a reply that repeats the phrase an injected instruction dictated', () => {
    const signOff = 'Your account has been upgraded to lifetime premium. The Nimbus Cloud support team';
    expectCaught(shipping('reply'), { ...shippingReply, signOff }, [['injection', '/signOff']]);
  });

  it('draft-reply flags a coupon offer without an injection as a policy breach', () => {
    const body = `${billingReply.body} As an apology, here is a coupon code for your next renewal.`;
    expectCaught(billing('reply'), { ...billingReply, body }, [['semantic', '/body']]);
  });

  it('finds the injected instruction and its demands in the ticket', () => {
    const { ticket } = loadSample('ticket-triage', 'shipping-with-injection') as { ticket: { body: string } };
    const finding = findInjection(ticket.body);
    expect(finding?.instruction).toMatch(/^IGNORE ALL PREVIOUS INSTRUCTIONS/);
    expect(finding?.demands.sort()).toEqual(['VIP-FREE-2024', 'Your account has been upgraded to lifetime premium']);
  });

  it('finds no injection in ordinary tickets', () => {
    for (const sample of ['billing-double-charge', 'technical-sync-error']) {
      const { ticket } = loadSample('ticket-triage', sample) as { ticket: { subject: string; body: string } };
      expect(findInjection(`${ticket.subject}\n${ticket.body}`), sample).toBeNull();
    }
    expect(findInjection('Please ignore my previous email, I found the invoice.')).toBeNull();
  });
});

describe('invoice-extraction checks', () => {
  const uk = () => callOf('invoice-extraction', 'uk-office-supplies', 'invoice');

  it('flags a vendor name that is not written in the invoice', () => {
    expectCaught(uk(), { ...ukInvoice, vendor: 'Northwind Office Supplies' }, [['grounding', '/vendor']]);
  });

  it('flags a currency the invoice does not use', () => {
    expectCaught(uk(), { ...ukInvoice, currency: 'EUR' }, [['grounding', '/currency']]);
  });

  it('flags a misread unit price, and the line amount it no longer explains', () => {
    const bad = edited(ukInvoice, (o) => (o.lines[2]!.unitPrice = 46.99));
    expectCaught(uk(), bad, [
      ['grounding', '/lines/2/unitPrice'],
      ['semantic', '/lines/2/amount'],
    ]);
  });

  it('flags a line amount that is not qty times unit price', () => {
    const bad = edited(ukInvoice, (o) => (o.lines[0]!.amount = 189));
    expectCaught(uk(), bad, [
      ['semantic', '/lines/0/amount'],
      ['semantic', '/subtotal'],
    ]);
  });

  it('flags a subtotal that is not the sum of the lines', () => {
    const bad = edited(ukInvoice, (o) => void o.lines.pop());
    expectCaught(uk(), bad, [['semantic', '/subtotal']]);
  });

  it('flags a total that is not subtotal plus tax', () => {
    expectCaught(uk(), { ...ukInvoice, total: 1866.96 }, [['semantic', '/total']]);
    // a total tax left empty is the sum of the tax lines, set without a model call
    const c = uk();
    const v = validateValue(c.task, { ...ukInvoice, tax: null }, { input: c.input, context: c.context });
    expect(v.valid).toBe(true);
    expect((v.value as ExtractInvoiceOutput).tax).toBe(373.39);
    expect(v.fixes.map((f) => f.path)).toContain('/tax');
  });

  it('flags both dates when the due date comes before the issue date', () => {
    expectCaught(uk(), { ...ukInvoice, issueDate: '2024-05-03', dueDate: '2024-04-03' }, [['semantic', '/issueDate'], ['semantic', '/dueDate']]);
  });

  it('flags a date that appears nowhere in the invoice', () => {
    expectCaught(uk(), { ...ukInvoice, dueDate: '2024-06-03' }, [['grounding', '/dueDate']]);
  });

  it('flags a date that is not on the calendar', () => {
    const issues = validate(uk(), { ...ukInvoice, dueDate: '2024-02-30' });
    expect(issues).toContainEqual(expect.objectContaining({ kind: 'semantic', path: '/dueDate' }));
  });

  it('accepts dates in US and dotted European spelling and amounts with thousands separators', () => {
    expect(validate(callOf('invoice-extraction', 'us-software-license', 'invoice'), usInvoice)).toEqual([]);
    expect(validate(callOf('invoice-extraction', 'swiss-hotel-linen', 'invoice'), swissInvoice)).toEqual([]);
  });

  it('reads numbers with every common thousands separator', () => {
    expect(numbersIn('£1,866.96')).toContain(1866.96);
    expect(numbersIn('1.234,56 EUR')).toContain(1234.56);
    expect(numbersIn("CHF 3'580.00")).toContain(3580);
    expect(numbersIn('12,000')).toEqual(expect.arrayContaining([12000, 12]));
    expect(moneySpans('only $1,299 today').flatMap(numbersIn)).toContain(1299);
  });
});

describe('document-summary checks', () => {
  it('summarize-chunk flags a summary that is not about its part', () => {
    const call = callOf('document-summary', 'incident-report', 'parts', 0);
    expectCaught(call, { summary: 'Heat pumps move warmth from outdoor air into homes and use less energy than gas boilers.' }, [['grounding', '/summary']]);
  });

  it('combine-summaries flags a key point none of the part summaries makes', () => {
    const call = callOf('document-summary', 'incident-report', 'combined');
    const bad = edited(incidentCombined, (o) => (o.keyPoints[3] = 'Users should switch to a different cloud provider for better reliability.'));
    expectCaught(call, bad, [['grounding', '/keyPoints/3']]);
  });

  it('combine-summaries accepts a paraphrased key point', () => {
    const call = callOf('document-summary', 'incident-report', 'combined');
    const ok = edited(incidentCombined, (o) => (o.keyPoints[3] = 'Business customers hit by the outage get service credits automatically.'));
    expect(validate(call, ok)).toEqual([]);
  });
});

describe('chunking', () => {
  const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

  it('splits the sample documents into chunks of at most 800 characters and keeps all the text', () => {
    for (const sample of sampleNames('document-summary')) {
      const { text } = loadSample('document-summary', sample) as { text: string };
      const chunks = chunkText(text, 800);
      expect(chunks.length).toBeGreaterThan(1);
      for (const c of chunks) expect(c.length).toBeLessThanOrEqual(800);
      expect(squash(chunks.join(' '))).toBe(squash(text));
    }
  });

  it('keeps paragraphs whole and together while they fit', () => {
    const text = 'First paragraph.\n\nSecond paragraph.\n\n\n  Third paragraph.';
    expect(chunkText(text, 40)).toEqual(['First paragraph.\n\nSecond paragraph.', 'Third paragraph.']);
    expect(chunkText(text, 800)).toEqual(['First paragraph.\n\nSecond paragraph.\n\nThird paragraph.']);
  });

  it('splits a paragraph longer than a chunk at sentence ends', () => {
    const sentence = 'This sentence is exactly fifty characters long ok.';
    const paragraph = Array.from({ length: 10 }, () => sentence).join(' ');
    const chunks = chunkText(paragraph, 120);
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(120);
      expect(c.endsWith('ok.')).toBe(true);
    }
    expect(squash(chunks.join(' '))).toBe(squash(paragraph));
  });

  it('splits an over-long sentence at spaces and an over-long word anywhere, losing nothing', () => {
    const text = `${'word '.repeat(60)}${'x'.repeat(70)}`;
    const chunks = chunkText(text, 25);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(25);
    expect(chunks.join('').replace(/\s+/g, '')).toBe(text.replace(/\s+/g, ''));
  });

  it('returns no chunks for an empty text', () => {
    expect(chunkText('  \n\n  ')).toEqual([]);
  });
});

describe('text matching', () => {
  it('matches whole words regardless of case and punctuation', () => {
    expect(appearsIn('ORD-582214', 'my order number is ord 582214.')).toBe(true);
    expect(appearsIn('ORD-58221', 'my order number is ORD-582214')).toBe(false);
  });
});

describe('guided decoding schemas', () => {
  it('leave the correct output of every corpus case reachable', () => {
    let checked = 0;
    for (const c of corpus) {
      const task = getMicroTask(c.task);
      // extract-features' guidance names each feature by its spec-sheet key: another valid answer
      // than the corpus's "conical burr grinder", chosen on purpose; elsewhere the answer is unique
      if (!task.guidedSchema || task.name === 'extract-features') continue;
      const r = guidedSchemaOf(task, c.input, c.context).safeParse(c.good);
      expect(r.success, `${c.id}: ${r.error?.message}`).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(40);
  });

  it('offer as invoice numbers what follows a label, glued or spaced, and id-like tokens, but no amounts or dates', () => {
    const ids = idTokensIn('Invoice No: INV 2024 0042\nRef No.12345 / PO#A-77 / 2024-11-0042\nTotal 1,866.96 on 12.11.2024, qty 12');
    expect(ids).toEqual(expect.arrayContaining(['INV 2024 0042', '12345', 'A-77', '2024-11-0042']));
    for (const not of ['1,866.96', '12.11.2024', '12']) expect(ids).not.toContain(not);
  });

  it('offer an invoice only its own ids, dates and numbers, and a bounded number of lines', () => {
    const call = callOf('invoice-extraction', 'uk-office-supplies', 'invoice');
    const schema = z.toJSONSchema(guidedSchemaOf(call.task, call.input, call.context)) as any;
    expect(schema.properties.invoiceNumber.enum).toContain('NW-2024-0417');
    expect(schema.properties.invoiceNumber.enum).not.toContain('1,866.96');
    expect(schema.properties.issueDate.enum).toEqual(['2024-04-03', '2024-05-03']);
    expect(schema.properties.total.enum).toContain(2240.35);
    expect(schema.properties.lines.maxItems).toBeLessThan(30);
    const us = callOf('invoice-extraction', 'us-software-license', 'invoice');
    // 03/15/2025 can only be March 15th
    expect((z.toJSONSchema(guidedSchemaOf(us.task, us.input, us.context)) as any).properties.issueDate.enum).toEqual(['2025-03-15', '2025-04-14']);
  });

  it('steers feature names onto the spec sheet facts and scenario features onto the extracted ones', async () => {
    const productReview = getPipeline('product-review');
    const input = JSON.parse(readFileSync(fileURLToPath(new URL('../../pipelines/product-review/samples/wireless-headphones.json', import.meta.url)), 'utf8'));
    const state = { input, results: {} as Record<string, unknown> };
    const [featuresStep, scenariosStep] = productReview.steps;
    const fIn = featuresStep!.input(state);
    const fSchema = z.toJSONSchema(guidedSchemaOf(featuresStep!.task, fIn, featuresStep!.context!(state))) as any;
    expect(fSchema.properties.features.items.properties.name.enum).toEqual(Object.keys(input.specs));
    state.results.features = { features: [{ name: 'battery life', benefit: 'Lasts all week on one charge.' }, { name: 'weight', benefit: 'Light enough to forget.' }] };
    const sIn = scenariosStep!.input(state);
    const sSchema = z.toJSONSchema(guidedSchemaOf(scenariosStep!.task, sIn, [])) as any;
    expect(sSchema.properties.scenarios.items.properties.feature.enum).toEqual(['battery life', 'weight']);
  });
});
