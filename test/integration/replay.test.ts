/**
 * Runs recorded before a change of the ladder replay on today's workflow code without a
 * nondeterminism error: each change that alters decisions is behind `patched()` (LADDER_PATCHES).
 *
 * The histories in test/fixtures/histories were recorded with the harness on commit a47f2b6,
 * before a failed repair went up the pools, loops were read as runaway, cross-field checks opened
 * their other fields and enum spellings were fixed without a call; each run made the decision
 * that today's code would make differently (the attempts are listed below). The ticket
 * history was recorded on 8a2de64 (test/fixtures/record-ladder-history.ts), before an ungrounded
 * nullable field became null without a call: today's rules would issue one call where it has three.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { ContextBlock } from '../../core/contract.js';
import { budgetOf } from '../../core/ladder/budget.js';
import { initialState, step, type CallResult, type LadderEnv } from '../../core/ladder/machine.js';
import { CURRENT_RULES, LADDER_PATCHES, rulesFrom, type LadderRules } from '../../core/ladder/rules.js';
import type { RegistrySnapshot } from '../../core/registry.js';
import { getMicroTask } from '../../pipelines/index.js';
import { CANCEL_PATCH } from '../../workflows/micro-task.js';
import { FAN_OUT_POOL_PATCH } from '../../workflows/pipeline.js';
import { bundleWithPatchesForced } from '../support/patches-forced.js';

const DIR = path.join(import.meta.dirname, '..', 'fixtures', 'histories');
const historyOf = (name: string): unknown => JSON.parse(readFileSync(path.join(DIR, `${name}.json`), 'utf8'));

const RECORDED: Record<string, string> = {
  // today: generate, repair, then a targeted repair on large
  'product-review-failed-repair-regenerated': 'write-advice: generate@small repair@small regenerate@small escalate@large',
  // today: /tax opens with /total, and no regeneration on either pool
  'task-invoice-swiss-tax-rate-partial': 'generate@small repair@small regenerate@small escalate@large regenerate@large',
  // recorded on 8a2de64, before an ungrounded nullable field became null without a call; today: generate only
  'task-ticket-invented-product-repaired-twice': 'generate@small repair@small escalate@large',
};

/**
 * Histories recorded on a contract version that has since changed what it accepts: extract-invoice
 * v4 (no tax lines, no discount; v6 requires both) and classify-ticket v1 (no sentiment; v2
 * requires it). Their recorded outputs now fail the contract, so today's code would decide
 * otherwise: replay must stop with a nondeterminism error, never carry on with other decisions.
 * Such a change is deployed with Temporal's worker versioning, or after the runs in flight drain.
 */
const RETIRED_CONTRACTS: Record<string, string> = {
  'task-invoice-us-price-and-amount-swapped': 'extract-invoice v4',
  'task-invoice-us-truncated-twice': 'extract-invoice v4',
  'task-classify-billing-category-capitalized': 'classify-ticket v1',
};

interface RecordedEvent {
  eventType: string;
  markerRecordedEventAttributes?: { markerName: string; details: Record<string, { payloads: { data: string }[] }> };
  activityTaskScheduledEventAttributes?: { activityType: { name: string } };
  activityTaskCompletedEventAttributes?: { scheduledEventId: string; result: { payloads: { data: string }[] } };
  workflowExecutionStartedEventAttributes?: { input: { payloads: { data: string }[] } };
  eventId: string;
}
const decode = (p: { data: string }) => JSON.parse(Buffer.from(p.data, 'base64').toString('utf8')) as unknown;

/** What a recorded runTask history holds: its request, the patches it was started with, its registry and its model results in order. */
function recordedRun(events: RecordedEvent[]) {
  const request = decode(events[0]!.workflowExecutionStartedEventAttributes!.input.payloads[0]!) as { task: string; input: unknown; context?: ContextBlock[] };
  const markers = events.flatMap((e) => (e.markerRecordedEventAttributes ? [e.markerRecordedEventAttributes] : []));
  const patches = new Set(markers.filter((m) => m.markerName === 'core_patch').map((m) => (decode(m.details['patch-data']!.payloads[0]!) as { id: string }).id));
  const registry = markers
    .filter((m) => m.markerName === 'core_local_activity')
    .map((m) => ({ data: decode(m.details.data!.payloads[0]!) as { activity_type: string }, result: m.details.result }))
    .find((m) => m.data.activity_type === 'loadRegistry')!.result!.payloads[0]!;
  const scheduled = new Map(events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => [e.eventId, e.activityTaskScheduledEventAttributes!.activityType.name]));
  const results = events
    .filter((e) => e.activityTaskCompletedEventAttributes && scheduled.get(e.activityTaskCompletedEventAttributes.scheduledEventId) === 'callModel')
    .map((e) => decode(e.activityTaskCompletedEventAttributes!.result.payloads[0]!) as CallResult);
  return { request, patches, registry: decode(registry) as RegistrySnapshot, results };
}

/** The calls the ladder asks for when the recorded model results come back, under the given rules. */
function callsUnder(run: ReturnType<typeof recordedRun>, rules: LadderRules): string {
  const env: LadderEnv = { task: getMicroTask(run.request.task), input: run.request.input, context: run.request.context ?? [], registry: run.registry, budget: budgetOf(undefined), rules };
  let next = step(env, initialState(), { type: 'start', downPools: [] });
  const calls: string[] = [];
  for (const result of run.results) {
    if (!next.call) break;
    calls.push(`${next.call.kind}@${next.call.pool}`);
    next = step(env, next.state, { type: 'result', result });
    if (next.record) next = step(env, next.state, { type: 'recorded', spend: { costUsd: 0, reservedUsd: 0, limitUsd: undefined } });
  }
  return calls.join(' ');
}

describe('runs recorded before the ladder changed', () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });

  for (const [name, attempts] of Object.entries(RECORDED)) {
    it(`replays ${name} (${attempts})`, async () => {
      const history: unknown = JSON.parse(readFileSync(path.join(DIR, `${name}.json`), 'utf8'));
      await expect(Worker.runReplayHistory({ workflowBundle: { code: inject('workflowBundle') } }, history, name)).resolves.toBeUndefined();
    });
  }

  it('decides differently on the ticket history without its patches: the replay holds only because the rules come from patched()', () => {
    const run = recordedRun((JSON.parse(readFileSync(path.join(DIR, 'task-ticket-invented-product-repaired-twice.json'), 'utf8')) as { events: RecordedEvent[] }).events);
    // the rules as the history's markers say: the calls it recorded
    expect(callsUnder(run, rulesFrom((id) => run.patches.has(id)))).toBe(RECORDED['task-ticket-invented-product-repaired-twice']);
    // today's rules on the same answers: the invented product becomes null, and no repair is asked for
    expect(callsUnder(run, CURRENT_RULES)).toBe('generate@small');
  });

  for (const [name, contract] of Object.entries(RETIRED_CONTRACTS)) {
    it(`refuses to replay ${name}, recorded on ${contract}, with a nondeterminism error`, async () => {
      const history: unknown = JSON.parse(readFileSync(path.join(DIR, `${name}.json`), 'utf8'));
      await expect(Worker.runReplayHistory({ workflowBundle: { code: inject('workflowBundle') } }, history, name)).rejects.toThrow(/nondeterminism/i);
    });
  }
});

/**
 * document-summary-fanout-batches was recorded by test/fixtures/record-fanout-history.ts on commit
 * b17941d, when a fan-out ran in fixed batches: five parts on a pool of four, part 1 answering
 * last, so part 5 was scheduled in the workflow task after part 1 ended. On a pool it is scheduled
 * in the task after the first of parts 2-4 ends, as in document-summary-fanout-pool, recorded by the
 * same script on the pool. The code with FAN_OUT_POOL_PATCH forced on is today's code as it would
 * be without that guard.
 */
describe('a fan-out recorded in fixed batches, before the pool', () => {
  let forced: string;
  beforeAll(async () => {
    forced = (await bundleWithPatchesForced([FAN_OUT_POOL_PATCH])).code;
  });

  it('replays its batches on today\'s code, which finds no patch marker in it', async () => {
    await expect(Worker.runReplayHistory({ workflowBundle: { code: inject('workflowBundle') } }, historyOf('document-summary-fanout-batches'))).resolves.toBeUndefined();
  });

  it('replays the same run recorded on the pool on today\'s code', async () => {
    await expect(Worker.runReplayHistory({ workflowBundle: { code: inject('workflowBundle') } }, historyOf('document-summary-fanout-pool'))).resolves.toBeUndefined();
  });

  it('fails with a nondeterminism error on the code with the pool unguarded', async () => {
    await expect(Worker.runReplayHistory({ workflowBundle: { code: forced } }, historyOf('document-summary-fanout-batches'))).rejects.toThrow(/nondeterminism/i);
  });

  it('the code with the pool unguarded replays the run recorded on the pool: only the batches trip it', async () => {
    await expect(Worker.runReplayHistory({ workflowBundle: { code: forced } }, historyOf('document-summary-fanout-pool'))).resolves.toBeUndefined();
  });
});

/** The ticket history on the code with the null rule unguarded: its one call where the history has three trips the replay. */
describe('a ticket run recorded before an ungrounded nullable field became null', () => {
  let forced: string;
  beforeAll(async () => {
    forced = (await bundleWithPatchesForced([LADDER_PATCHES.ungroundedToNull])).code;
  });

  it('fails with a nondeterminism error on the code with the null rule unguarded', async () => {
    await expect(Worker.runReplayHistory({ workflowBundle: { code: forced } }, historyOf('task-ticket-invented-product-repaired-twice'))).rejects.toThrow(/nondeterminism/i);
  });
});

/**
 * Recorded by test/fixtures/record-cancel-history.ts: a product-review run cancelled while its
 * write-scenarios call hung, once on b1014d8, before CANCEL_PATCH (the cancellation was taken for a
 * transport error and the ladder went on; the run stayed `running` in pipeline_runs), and once
 * after it (the call aborted and waited for, the run recorded as cancelled).
 */
describe('a run cancelled mid-step', () => {
  let forced: string;
  beforeAll(async () => {
    forced = (await bundleWithPatchesForced([CANCEL_PATCH])).code;
  });

  it('replays on today\'s code as recorded before the patch, and as recorded after it', async () => {
    await expect(Worker.runReplayHistory({ workflowBundle: { code: inject('workflowBundle') } }, historyOf('product-review-cancelled-before-patch'))).resolves.toBeUndefined();
    await expect(Worker.runReplayHistory({ workflowBundle: { code: inject('workflowBundle') } }, historyOf('product-review-cancelled-mid-step'))).resolves.toBeUndefined();
  });

  it('fails with a nondeterminism error on the code with the cancellation unguarded', async () => {
    await expect(Worker.runReplayHistory({ workflowBundle: { code: forced } }, historyOf('product-review-cancelled-before-patch'))).rejects.toThrow(/nondeterminism/i);
  });
});
