import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { repairSchema } from '../../core/guided-schema.js';
import { buildModelRequest } from '../../core/request.js';
import { defineMicroTask, type Check } from '../../core/contract.js';
import { budgetOf } from '../../core/ladder/budget.js';
import { initialState, step, type CallResult, type LadderEnv, type LadderEvent, type Step } from '../../core/ladder/machine.js';
import { CURRENT_RULES, rulesFrom } from '../../core/ladder/rules.js';
import { RegistryConfig, snapshotOf } from '../../core/registry.js';

const registry = snapshotOf(
  RegistryConfig.parse({
    version: 'r1',
    defaultPool: 'small',
    pools: {
      small: { baseUrl: 'http://small:8000/v1', model: 's', contextWindow: 8000, escalateTo: 'large', price: { version: 's1', inputPerMTok: 0.1, outputPerMTok: 0.1 } },
      large: { baseUrl: 'http://large:8000/v1', model: 'l', contextWindow: 8000, price: { version: 'l1', inputPerMTok: 1, outputPerMTok: 1 } },
    },
    reference: { model: 'frontier', price: { version: 'ref1', inputPerMTok: 2.5, outputPerMTok: 10 } },
  }),
);

const Input = z.object({ text: z.string() });
const Output = z.object({ product: z.string().nullable(), qty: z.number().int().positive(), note: z.string().nullable() });
type O = z.infer<typeof Output>;

/** A product the text does not name: null is a right answer there. */
const productInText: Check<z.infer<typeof Input>, O> = (o, { input }) =>
  o.product !== null && !input.text.toLowerCase().includes(o.product.toLowerCase())
    ? [{ kind: 'grounding', path: '/product', message: `"${o.product}" is not in the text; copy it, or use null`, orNull: true }]
    : [];
/** A note that is not a sentence of the text: no null offered. */
const noteInText: Check<z.infer<typeof Input>, O> = (o, { input }) =>
  o.note !== null && !input.text.includes(o.note) ? [{ kind: 'grounding', path: '/note', message: `"${o.note}" is not in the text` }] : [];

const task = (over: Partial<Parameters<typeof defineMicroTask<z.infer<typeof Input>, O>>[0]> = {}) =>
  defineMicroTask<z.infer<typeof Input>, O>({
    name: 'read-order',
    version: 1,
    formatName: 'read_order',
    description: 'Reads the product, quantity and a note from an order text.',
    input: Input,
    output: Output,
    prompt: (i) => ({ system: 'Read the order.', user: `<order>\n${i.text}\n</order>` }),
    checks: [productInText, noteInText],
    pool: 'small',
    maxTokens: 200,
    ...over,
  });

const input = { text: 'Please send 3 units of Nimbus Pro.\nDeliver before Friday.' };
const env = (over: Partial<LadderEnv> = {}): LadderEnv => ({ task: task(), input, context: [], registry, budget: budgetOf(undefined), rules: CURRENT_RULES, ...over });
const spend = { costUsd: 0, reservedUsd: 0, limitUsd: undefined };
let id = 0;
const answer = (value: unknown, over: Partial<CallResult> = {}): LadderEvent => ({
  type: 'result',
  result: { attemptId: ++id, text: typeof value === 'string' ? value : JSON.stringify(value), finishReason: 'stop', promptTokens: 100, completionTokens: 20, costUsd: 0.001, referenceCostUsd: 0.01, ...over },
});

/** Drives the machine as the workflow does, with the answers in order and each validation recorded; returns every step. */
function run(e: LadderEnv, answers: LadderEvent[]): Step[] {
  const steps: Step[] = [step(e, initialState(), { type: 'start', downPools: [] })];
  const queue = [...answers];
  for (;;) {
    const last = steps[steps.length - 1]!;
    if (last.outcome) break;
    if (last.record) steps.push(step(e, last.state, { type: 'recorded', spend }));
    else if (queue.length > 0) steps.push(step(e, last.state, queue.shift()!));
    else break;
  }
  return steps;
}
const records = (steps: Step[]) => steps.filter((s) => s.record).map((s) => s.record!);
const calls = (steps: Step[]) => steps.filter((s) => s.call).map((s) => `${s.call!.kind}@${s.call!.pool}`);
const outcomeOf = (steps: Step[]) => steps[steps.length - 1]!.outcome;

describe('the ladder as a state machine', () => {
  it('starts with a generation on the routed pool and ends valid on a valid answer, asking for nothing more', () => {
    const steps = run(env(), [answer({ product: 'Nimbus Pro', qty: 3, note: null })]);
    expect(calls(steps)).toEqual(['generate@small']);
    expect(outcomeOf(steps)).toMatchObject({ status: 'valid', value: { product: 'Nimbus Pro', qty: 3 }, finalPool: 'small' });
    expect(records(steps)).toEqual([expect.objectContaining({ valid: true, issues: [] })]);
    expect(steps[steps.length - 1]!.state.totals).toMatchObject({ attempts: 1, promptTokens: 100, completionTokens: 20 });
  });

  it('is pure: a step leaves the state it was given as it was, and its state survives JSON', () => {
    const start = step(env(), initialState(), { type: 'start', downPools: [] });
    const frozen = JSON.stringify(start.state);
    const read = step(env(), start.state, answer({ product: 'Nimbus Ultra', qty: 3, note: 'x' }));
    expect(JSON.stringify(start.state)).toBe(frozen);
    const next = step(env(), read.state, { type: 'recorded', spend });
    const again = step(env(), JSON.parse(JSON.stringify(read.state)), { type: 'recorded', spend });
    expect(again.call).toEqual(next.call);
    expect(next.call).toMatchObject({ kind: 'repair', spec: { repair: { paths: ['/note'] } } });
  });

  it('sets an ungrounded field the check accepts null for to null without a call, and flags it', () => {
    const steps = run(env(), [answer({ product: 'Nimbus Ultra', qty: 3, note: null })]);
    expect(calls(steps)).toEqual(['generate@small']);
    expect(outcomeOf(steps)).toMatchObject({ status: 'partial', value: { product: null, qty: 3 }, unresolvedPaths: ['/product'] });
    expect(records(steps)[0]!.fixes).toEqual([expect.objectContaining({ kind: 'null-for-review', path: '/product' })]);
    // a run started before the rule repairs it with a call, as it did then
    const before = run(env({ rules: rulesFrom(() => false) }), [answer({ product: 'Nimbus Ultra', qty: 3, note: null })]);
    expect(calls(before)).toEqual(['generate@small', 'repair@small']);
  });

  it('detects a repair that repeats the value it was asked to fix, and asks the next pool without it and with the input spans', () => {
    const e = env({ task: task({ critical: ['/qty', '/note'] }) });
    const bad = { product: 'Nimbus Pro', qty: 3, note: 'Deliver on Friday' };
    const steps = run(e, [answer(bad), answer({ '/note': 'Deliver on Friday' }), answer({ '/note': 'Deliver on Friday' }), answer(bad)]);
    // stalled on the last pool too: the one prompt not tried there is a whole answer with the issues
    expect(calls(steps)).toEqual(['generate@small', 'repair@small', 'escalate@large', 'regenerate@large']);
    const escalated = steps.find((s) => s.call?.kind === 'escalate')!;
    expect(escalated.state.attempts[1]).toMatchObject({ kind: 'repair', stalled: ['/note'] });
    const escalation = escalated.call!;
    expect(escalation.spec.repair).toMatchObject({ paths: ['/note'], stalled: { '/note': ['Deliver on Friday'] }, candidates: true });
    const request = buildModelRequest(e.task, input, [], escalation.spec);
    const text = request.messages.map((m) => m.content).join('\n');
    expect(text).toContain('"Deliver before Friday"');
    expect(text).not.toContain('now "Deliver on Friday"');
    expect(text).toContain('answered the rejected value again');
    // and that no better: a critical field fails
    expect(outcomeOf(steps)).toMatchObject({ status: 'failed', unresolvedPaths: ['/note'] });
  });

  it('rules a stalled answer out of the next guided schema, null included', () => {
    const schema = repairSchema(z.object({ amount: z.enum(['RM 1,099', 'RM 20']).nullable(), product: z.string().nullable() }), ['/amount', '/product'], { '/amount': [null, 'RM 20'], '/product': [null] });
    const props = schema.properties as Record<string, unknown>;
    expect(props['/amount']).toEqual({ anyOf: [{ type: 'string', enum: ['RM 1,099'] }] });
    expect(props['/product']).toEqual({ type: 'string' });
  });

  it('ends a non-critical field that no rung fixed as null, flagged for review, instead of failing', () => {
    const e = env({ task: task({ critical: ['/qty'] }) });
    const bad = { product: 'Nimbus Pro', qty: 3, note: 'Deliver on Friday' };
    const answers = [answer(bad), answer({ '/note': 'Deliver on Friday' }), answer({ '/note': 'Deliver Friday' }), answer({ '/note': 'Deliver Friday' }), answer(bad)];
    const steps = run(e, answers);
    expect(calls(steps)).toEqual(['generate@small', 'repair@small', 'escalate@large', 'repair@large', 'regenerate@large']);
    expect(outcomeOf(steps)).toMatchObject({ status: 'partial', value: { note: null, qty: 3 }, unresolvedPaths: ['/note'], reason: expect.stringContaining('not critical') });
    // with every field critical (no declaration) the same run fails
    const strict = run(env(), answers);
    expect(outcomeOf(strict)).toMatchObject({ status: 'failed' });
  });

  it('re-asks fairly: lenient parsing and fixes, whole re-asks as a conversation, then the larger pool with the same budget', () => {
    const e = env({ budget: budgetOf({ strategy: 'reask-fair' }) });
    const bad = { product: 'Nimbus Pro', qty: 3, note: 'Deliver on Friday' };
    // fenced JSON is read as the ladder reads it; the ungrounded product becomes null as for the ladder
    const fenced = run(e, [answer('```json\n{"product":"Nimbus Ultra","qty":3,"note":null}\n```')]);
    expect(outcomeOf(fenced)).toMatchObject({ status: 'partial', value: { product: null } });
    const steps = run(e, [answer(bad), answer(bad), answer(bad), answer(bad), answer(bad), answer(bad)]);
    expect(calls(steps)).toEqual(['generate@small', 'regenerate@small', 'regenerate@small', 'regenerate@small', 'escalate@large', 'regenerate@large']);
    const escalation = steps.find((s) => s.call?.kind === 'escalate')!.call!;
    expect(escalation.spec.history).toHaveLength(4);
    expect(outcomeOf(steps)).toMatchObject({ status: 'failed', reason: expect.stringContaining('attempt budget of 6') });
  });

  it('re-asks strictly as instructor does: JSON.parse only, three attempts, one pool', () => {
    const e = env({ budget: budgetOf({ strategy: 'reask', maxAttempts: 3 }) });
    const fenced = '```json\n{"product":"Nimbus Pro","qty":3,"note":null}\n```';
    const steps = run(e, [answer(fenced), answer(fenced), answer(fenced)]);
    expect(calls(steps)).toEqual(['generate@small', 'regenerate@small', 'regenerate@small']);
    expect(outcomeOf(steps)).toMatchObject({ status: 'failed', reason: expect.stringContaining('attempt budget of 3') });
  });

  it('keeps a field nulled for review flagged when a later repair settles the rest', () => {
    const steps = run(env(), [answer({ product: 'Nimbus Ultra', qty: 3, note: 'Deliver on Friday' }), answer({ '/note': 'Deliver before Friday.' })]);
    expect(calls(steps)).toEqual(['generate@small', 'repair@small']);
    expect(outcomeOf(steps)).toMatchObject({ status: 'partial', value: { product: null, note: 'Deliver before Friday.' }, unresolvedPaths: ['/product'] });
  });

  it('does not read a value a cross-field check opened and the repair rightly kept as a stall', () => {
    const sum: Check<z.infer<typeof Input>, O> = (o) => (o.qty !== 3 ? [{ kind: 'semantic', check: 'qty', path: '/qty', message: 'the text orders 3', repairAt: ['/qty', '/note'] }] : []);
    const e = env({ task: task({ checks: [sum] }) });
    const steps = run(e, [answer({ product: 'Nimbus Pro', qty: 4, note: 'Deliver before Friday.' }), answer({ '/qty': 3, '/note': 'Deliver before Friday.' })]);
    expect(outcomeOf(steps)).toMatchObject({ status: 'valid' });
    expect(steps.flatMap((s) => s.state.attempts).some((a) => (a.stalled ?? []).length > 0)).toBe(false);
  });

  it('the strict re-ask ends as it always did: no field is nulled for it', () => {
    const e = env({ task: task({ critical: [] }), budget: budgetOf({ strategy: 'reask', maxAttempts: 2 }) });
    const bad = { product: 'Nimbus Pro', qty: 3, note: 'Deliver on Friday' };
    expect(outcomeOf(run(e, [answer(bad), answer(bad)]))).toMatchObject({ status: 'failed' });
  });

  it('ends with the typed cost-budget failure on a budget decision, and escalates past a pool with no worker', () => {
    const start = step(env(), initialState(), { type: 'start', downPools: [] });
    expect(step(env(), start.state, { type: 'budget', reason: 'spent' }).outcome).toMatchObject({ status: 'failed', failureType: 'CostBudgetExceeded', reason: 'spent' });
    const lost = step(env(), start.state, { type: 'transport', error: 'no worker picked the call up in time', noWorker: true, downPools: ['small'], spend });
    expect(lost.call).toMatchObject({ kind: 'escalate', pool: 'large', n: 2 });
    expect(lost.state.totals.attempts).toBe(1);
    // a later micro-task of the run starts on the pool that has a worker
    expect(step(env(), initialState(), { type: 'start', downPools: ['small'] }).call).toMatchObject({ pool: 'large' });
  });

  it('refuses an unknown strategy or rule by name', () => {
    expect(() => budgetOf({ strategy: 'retry' as never })).toThrow(/unknown ladder strategy "retry"; use one of ladder, reask, reask-fair/);
    expect(() => budgetOf({ ablate: ['stall' as never] })).toThrow(/unknown ladder rule\(s\) to ablate: stall/);
  });
});
