/**
 * The load benchmark's inputs and the scripted model's answers to them: real pipeline inputs
 * (the labelled sets and the samples) and, for every micro-task call their runs make, a valid
 * output of that micro-task for exactly that input. Each answer is held to its micro-task's
 * contract (schema and checks) here, before the benchmark starts, with the input and context the
 * workflow builds for it, so that every run goes through its contracts and ends valid at the
 * first call: the load is the pipelines' own, not repairs of answers the benchmark got wrong.
 *
 * The answers are keyed by the prompt of the first call (its schema name and user message), as
 * the pool worker builds it from the same input; a call the corpus has no answer for (a repair,
 * which a valid answer never needs) is counted by the benchmark and answered with a 500.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ContextBlock, MicroTask, Pipeline, StepState } from '../../core/contract.js';
import { buildModelRequest } from '../../core/request.js';
import { validateValue } from '../../core/validate.js';
import { ROOT } from '../../infra/paths.js';
import { getPipeline } from '../../pipelines/index.js';
import { ClassifyTicketInput } from '../../pipelines/ticket-triage/classify-ticket.js';
import { DraftReplyInput } from '../../pipelines/ticket-triage/draft-reply.js';
import { firstName } from '../../pipelines/ticket-triage/ticket.js';
import { documentSummaryOutputs, productReviewOutputs, sample } from '../support/fixtures.js';

export const LOAD_PIPELINES = ['ticket-triage', 'invoice-extraction', 'product-review', 'document-summary'] as const;
export type LoadPipeline = (typeof LOAD_PIPELINES)[number];

/** One input a pipeline runs on, and what its run will ask the model. */
export interface LoadInput {
  pipeline: LoadPipeline;
  /** the labelled example's id or the sample's name */
  name: string;
  input: unknown;
  /** micro-task executions one run of it makes (a fan-out's items each count) */
  microTasks: number;
  /** the characters of its answers, summed: what the model streams for one run */
  answerChars: number;
}

export interface LoadCorpus {
  inputs: Record<LoadPipeline, LoadInput[]>;
  /** `<schema name>\n<user message>` of a first call -> the answer's JSON */
  answers: Map<string, string>;
  /** inputs left out because an answer for them did not pass its contract (none expected) */
  skipped: { pipeline: LoadPipeline; name: string; reason: string }[];
}

export function answerKey(schemaName: string, userMessage: string): string {
  return `${schemaName}\n${userMessage}`;
}

function labelled(file: string): { id: string; input: any; expected: any }[] {
  return fs
    .readFileSync(path.join(ROOT, 'pipelines', file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { id: string; input: any; expected: any });
}

type Answerer = (step: string, task: MicroTask<any, any>, input: unknown, context: readonly ContextBlock[], index: number) => unknown;

/**
 * Walks one run of the pipeline as the workflow does (each step's input from the pipeline input
 * and the earlier results, a fan-out once per item), answering each call and holding the answer
 * to the micro-task's contract; the validated value feeds the later steps as it does in the run.
 */
function walk(pipeline: Pipeline, rawInput: unknown, answer: Answerer): { answers: [string, string][]; microTasks: number; answerChars: number } {
  const state: StepState<unknown> = { input: pipeline.input.parse(rawInput), results: {} };
  const answers: [string, string][] = [];
  let answerChars = 0;
  for (const step of pipeline.steps) {
    const items = step.forEach ? step.forEach(state) : [undefined];
    const values = items.map((item, index) => {
      const input = step.forEach ? step.input(state, item, index) : step.input(state);
      const context = step.context ? step.context(state, item) : [];
      const value = answer(step.id, step.task, input, context, index);
      const v = validateValue(step.task, value, { input, context });
      if (!v.valid) throw new Error(`${step.id}${step.forEach ? `[${index}]` : ''}: ${v.issues.map((i) => `${i.path || '(root)'} ${i.message}`).join('; ')}`);
      const content = JSON.stringify(value);
      const request = buildModelRequest(step.task, input, context, { kind: 'generate' });
      answers.push([answerKey(request.schemaName, request.messages.find((m) => m.role === 'user')!.content), content]);
      answerChars += content.length;
      return v.value;
    });
    state.results[step.id] = step.forEach ? values : values[0];
  }
  return { answers, microTasks: answers.length, answerChars };
}

/** A classification the ticket's own taxonomy allows and its priority rules accept. */
function classification(input: unknown) {
  const t = ClassifyTicketInput.parse(input);
  const text = `${t.subject}\n${t.body}`.toLowerCase();
  const pick = (...names: string[]) => names.find((n) => t.categories.includes(n));
  const category =
    (/refund|charge|paid|invoice|₹|rp|\$|rm|元|refund|kat|debit/.test(text) ? pick('billing', 'refund-request') : undefined) ??
    (/deliver|ship|parcel|courier|tracking|kirim|giao/.test(text) ? pick('shipping', 'delivery-delay') : undefined) ??
    pick('technical', 'account') ??
    t.categories[0]!;
  // the middle of the scale: never "urgent" for feedback, never "low" for enterprise
  const priority = t.priorities[Math.min(t.priorities.length - 1, Math.floor(t.priorities.length / 2))]!;
  return { category, priority, sentiment: 'neutral', reason: `The customer writes about "${t.subject.slice(0, 60)}", which fits ${category}.` };
}

/** A reply that follows the policy: the first name, no promise, no figure, the team's signature. */
function reply(input: unknown, context: readonly ContextBlock[]) {
  const r = DraftReplyInput.parse(input);
  const company = context.find((b) => b.title === 'Company')?.facts as { signature?: string } | undefined;
  return {
    greeting: `Hi ${firstName(r.customerName)},`,
    body: 'Thank you for writing to us about this. We have passed your message to the right team, who will look into it and get back to you with an update soon.',
    signOff: `Kind regards, ${company?.signature ?? 'the support team'}`,
  };
}

function tickets(): { name: string; input: unknown; answer: Answerer }[] {
  return labelled('ticket-triage/eval/tickets.jsonl').map((row) => ({
    name: row.id,
    input: row.input,
    answer: (step, _task, input, context) => (step === 'classification' ? classification(input) : step === 'fields' ? row.expected.fields : reply(input, context)),
  }));
}

function invoices(): { name: string; input: unknown; answer: Answerer }[] {
  return labelled('invoice-extraction/eval/invoices.jsonl').map((row) => ({ name: row.id, input: row.input, answer: () => row.expected }));
}

function products(): { name: string; input: unknown; answer: Answerer }[] {
  const by: Record<string, unknown> = { features: productReviewOutputs.extract_features, scenarios: productReviewOutputs.write_scenarios, advice: productReviewOutputs.write_advice, keywords: productReviewOutputs.generate_keywords };
  return [{ name: 'wireless-headphones', input: sample('product-review', 'wireless-headphones'), answer: (step) => by[step] }];
}

function documents(): { name: string; input: unknown; answer: Answerer }[] {
  const { parts, combined } = documentSummaryOutputs.incident;
  return [{ name: 'incident-report', input: sample('document-summary', 'incident-report'), answer: (step, _task, _input, _context, index) => (step === 'parts' ? parts[index] : combined) }];
}

/** Every input of the four pipelines the corpus can answer, each answer checked against its contract. */
export function loadCorpus(): LoadCorpus {
  const sources: Record<LoadPipeline, () => { name: string; input: unknown; answer: Answerer }[]> = {
    'ticket-triage': tickets,
    'invoice-extraction': invoices,
    'product-review': products,
    'document-summary': documents,
  };
  const corpus: LoadCorpus = { inputs: { 'ticket-triage': [], 'invoice-extraction': [], 'product-review': [], 'document-summary': [] }, answers: new Map(), skipped: [] };
  for (const name of LOAD_PIPELINES) {
    const pipeline = getPipeline(name);
    for (const source of sources[name]()) {
      try {
        const run = walk(pipeline, source.input, source.answer);
        for (const [key, content] of run.answers) {
          const seen = corpus.answers.get(key);
          if (seen !== undefined && seen !== content) throw new Error('two answers for one prompt');
          corpus.answers.set(key, content);
        }
        corpus.inputs[name].push({ pipeline: name, name: source.name, input: source.input, microTasks: run.microTasks, answerChars: run.answerChars });
      } catch (err) {
        corpus.skipped.push({ pipeline: name, name: source.name, reason: err instanceof Error ? err.message : String(err) });
      }
    }
  }
  return corpus;
}

/** `a=4,b=3`: the share of each pipeline in the load. */
export function parseMix(spec: string): Record<LoadPipeline, number> {
  const mix: Record<LoadPipeline, number> = { 'ticket-triage': 0, 'invoice-extraction': 0, 'product-review': 0, 'document-summary': 0 };
  for (const part of spec.split(',').filter(Boolean)) {
    const [name, weight] = part.split('=');
    if (!(LOAD_PIPELINES as readonly string[]).includes(name!)) throw new Error(`--mix: unknown pipeline "${name}"; known: ${LOAD_PIPELINES.join(', ')}`);
    const w = Number(weight ?? '1');
    if (!(w >= 0)) throw new Error(`--mix: ${part}: the weight must be a number of at least 0`);
    mix[name as LoadPipeline] = w;
  }
  if (Object.values(mix).every((w) => w === 0)) throw new Error('--mix: give at least one pipeline a weight above 0');
  return mix;
}

/**
 * `n` runs in the mix's shares (largest remainder), interleaved so that every pipeline is spread
 * over the whole start order; each pipeline's inputs are taken in turn.
 */
export function loadPlan(corpus: LoadCorpus, mix: Record<LoadPipeline, number>, n: number): LoadInput[] {
  const live = LOAD_PIPELINES.filter((p) => mix[p] > 0);
  for (const p of live) if (corpus.inputs[p].length === 0) throw new Error(`no input of ${p} could be answered validly: ${corpus.skipped.filter((s) => s.pipeline === p).map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
  const total = live.reduce((t, p) => t + mix[p], 0);
  const exact = live.map((p) => ({ p, x: (n * mix[p]) / total }));
  const counts = new Map(exact.map(({ p, x }) => [p, Math.floor(x)]));
  let left = n - [...counts.values()].reduce((a, b) => a + b, 0);
  for (const { p } of [...exact].sort((a, b) => b.x - Math.floor(b.x) - (a.x - Math.floor(a.x)))) {
    if (left-- <= 0) break;
    counts.set(p, counts.get(p)! + 1);
  }
  // interleave: each run goes to the pipeline furthest behind its share so far
  const taken = new Map(live.map((p) => [p, 0]));
  const plan: LoadInput[] = [];
  for (let i = 0; i < n; i++) {
    let best: LoadPipeline | undefined;
    let lag = -Infinity;
    for (const p of live) {
      const want = counts.get(p)!;
      if (taken.get(p)! >= want) continue;
      const behind = ((i + 1) * want) / n - taken.get(p)!;
      if (behind > lag) [best, lag] = [p, behind];
    }
    const inputs = corpus.inputs[best!];
    plan.push(inputs[taken.get(best!)! % inputs.length]!);
    taken.set(best!, taken.get(best!)! + 1);
  }
  return plan;
}
