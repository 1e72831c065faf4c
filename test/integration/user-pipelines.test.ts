import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerPipelines } from '../../pipelines/index.js';
import { bundleWorkflows } from '../../workers/factory.js';
import { loadPipelinesModule } from '../../workers/user-pipelines.js';
import { startHarness, type Harness } from '../support/harness.js';

const MODULE = fileURLToPath(new URL('../fixtures/user-package/pipelines.ts', import.meta.url));
const note = { note: 'Parcel TRK-88120455 arrives Friday. If nobody is home, leave it with the guard at Block C, Pak Joko.' };

describe("a user's own pipelines, from a module outside pipelines/", () => {
  let h: Harness;
  beforeAll(async () => {
    // the pool worker finds the module's micro-tasks in this process; the workflow bundle holds them too
    await loadPipelinesModule(MODULE);
    const bundle = await bundleWorkflows({ pipelinesModule: MODULE });
    h = await startHarness({ workflowBundle: bundle.code });
  }, 120_000);
  afterAll(async () => h?.stop());

  it('runs as a real workflow, its contract checked in workflow code, and its calls recorded', async () => {
    h.model.script(
      'read_parcel_note',
      // the model invents a tracking number first: the user's own check catches it and it is repaired
      { content: JSON.stringify({ trackingNumber: 'TRK-00000000', leaveWith: 'the guard at Block C, Pak Joko' }) },
    );
    h.model.otherwise('read_parcel_note_repair', { content: JSON.stringify({ trackingNumber: 'TRK-88120455' }) });
    const { workflowId, result } = await h.run('parcel-notes', note);
    expect(result).toMatchObject({ status: 'completed', output: { tracking: 'TRK-88120455', leaveWith: 'the guard at Block C, Pak Joko' } });
    const { attempts, run } = await h.rows(workflowId);
    expect(attempts.map((a) => [a.task, a.kind])).toEqual([
      ['read-parcel-note', 'generate'],
      ['read-parcel-note', 'repair'],
    ]);
    expect(run).toMatchObject({ pipeline: 'parcel-notes', status: 'completed' });
    // guided decoding offered the note's own tokens only
    const schema = h.model.requestsFor('read_parcel_note')[0]!.response_format!.json_schema!.schema as { properties: { trackingNumber: { enum: string[] } } };
    expect(schema.properties.trackingNumber.enum).toEqual(['TRK-88120455']);
  });

  it('refuses a module that exports no pipelines, naming what it must export', async () => {
    await expect(loadPipelinesModule(fileURLToPath(new URL('../fixtures/user-package/no-pipelines.ts', import.meta.url)))).rejects.toThrow(/must export `pipelines`/);
    await expect(loadPipelinesModule('/nowhere/pipelines.ts')).rejects.toThrow(/does not exist/);
  });

  it('refuses a pipeline that would replace a shipped one under the same name', () => {
    expect(() => registerPipelines([{ name: 'ticket-triage', version: 9, description: 'x', input: {} as never, steps: [], assemble: () => null }])).toThrow(/two different pipelines are named ticket-triage/);
  });
});
