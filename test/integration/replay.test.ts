/**
 * Runs recorded before a change of the ladder replay on today's workflow code without a
 * nondeterminism error: each change that alters decisions is behind `patched()` (LADDER_PATCHES).
 *
 * The histories in test/fixtures/histories were recorded with the harness on commit a47f2b6,
 * before a failed repair went up the pools, loops were read as runaway, cross-field checks opened
 * their other fields and enum spellings were fixed without a call; each run made the decision
 * that today's code would make differently (the attempts are listed below). With the patches
 * forced on, the product-review one fails with a nondeterminism error; the Swiss invoice keeps
 * the same sequence of commands, and Temporal compares commands, not their arguments.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { FAN_OUT_POOL_PATCH } from '../../workflows/pipeline.js';
import { bundleWithPatchesForced } from '../support/patches-forced.js';

const DIR = path.join(import.meta.dirname, '..', 'fixtures', 'histories');
const historyOf = (name: string): unknown => JSON.parse(readFileSync(path.join(DIR, `${name}.json`), 'utf8'));

const RECORDED: Record<string, string> = {
  // today: generate, repair, then a targeted repair on large
  'product-review-failed-repair-regenerated': 'write-advice: generate@small repair@small regenerate@small escalate@large',
  // today: /tax opens with /total, and no regeneration on either pool
  'task-invoice-swiss-tax-rate-partial': 'generate@small repair@small regenerate@small escalate@large regenerate@large',
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

describe('runs recorded before the ladder changed', () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });

  for (const [name, attempts] of Object.entries(RECORDED)) {
    it(`replays ${name} (${attempts})`, async () => {
      const history: unknown = JSON.parse(readFileSync(path.join(DIR, `${name}.json`), 'utf8'));
      await expect(Worker.runReplayHistory({ workflowBundle: { code: inject('workflowBundle') } }, history, name)).resolves.toBeUndefined();
    });
  }

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
