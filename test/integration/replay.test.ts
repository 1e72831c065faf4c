/**
 * Runs recorded before a change of the ladder replay on today's workflow code without a
 * nondeterminism error: each change that alters decisions is behind `patched()` (LADDER_PATCHES).
 *
 * The histories in test/fixtures/histories were recorded with the harness on commit a47f2b6,
 * before a failed repair went up the pools, loops were read as runaway, cross-field checks opened
 * their other fields and enum spellings were fixed without a call; each run made the decision
 * that today's code would make differently (the attempts are listed below). With the patches
 * forced on, three of them fail with a nondeterminism error; the other two keep the same
 * sequence of commands, and Temporal compares commands, not their arguments.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';

const DIR = path.join(import.meta.dirname, '..', 'fixtures', 'histories');

const RECORDED: Record<string, string> = {
  // today: generate, repair, then a targeted repair on large
  'product-review-failed-repair-regenerated': 'write-advice: generate@small repair@small regenerate@small escalate@large',
  // today: one repair of the whole line
  'task-invoice-us-price-and-amount-swapped': 'generate@small repair@small regenerate@small',
  // today: the looping continuation is runaway, regenerated on small
  'task-invoice-us-truncated-twice': 'generate@small continue@small escalate@large',
  // today: /tax opens with /total, and no regeneration on either pool
  'task-invoice-swiss-tax-rate-partial': 'generate@small repair@small regenerate@small escalate@large regenerate@large',
  // today: "Billing" is billing without a call
  'task-classify-billing-category-capitalized': 'generate@small repair@small',
};

describe('runs recorded before the ladder changed', () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });

  for (const [name, attempts] of Object.entries(RECORDED)) {
    it(`replays ${name} (${attempts})`, async () => {
      const history: unknown = JSON.parse(readFileSync(path.join(DIR, `${name}.json`), 'utf8'));
      await expect(Worker.runReplayHistory({ workflowBundle: { code: inject('workflowBundle') } }, history, name)).resolves.toBeUndefined();
    });
  }
});
