import { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { ensureSearchAttributes } from '../../infra/temporal.js';

describe('a Temporal server the project did not start', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    // started without the project's search attributes, like an external server
    env = await TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: inject('temporalCli') }, extraArgs: ['--log-level', 'error'] } });
  });
  afterAll(async () => env?.teardown());

  it('gets the project search attributes registered, once', async () => {
    const address = env.connection.options.address;
    await ensureSearchAttributes(address, 'default');
    await ensureSearchAttributes(address, 'default');
    const { customAttributes } = await env.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(['Pipeline', 'Outcome', 'RepairCount', 'Escalations', 'CostUsd']));
  });
});
