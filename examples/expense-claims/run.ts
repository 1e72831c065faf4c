/**
 * End to end, as a user of microtask-pipelines runs it: the stack's services (Temporal, Postgres,
 * the local models) up, this package's workers on their own task queues, one claim through the
 * pipeline, the result printed. `npm start [claim.json]`.
 */
import fs from 'node:fs';
import { connectPipelines, createWorkers } from 'microtask-pipelines';
import { startServices } from 'microtask-pipelines/dev';
import { expenseClaims, type ExpenseClaimInput } from './pipelines.ts';

const file = process.argv[2] ?? new URL('./samples/hinglish-cab-claim.json', import.meta.url).pathname;
const input = JSON.parse(fs.readFileSync(file, 'utf8')) as ExpenseClaimInput;
const parsed = expenseClaims.input.safeParse(input);
if (!parsed.success) {
  console.error(`${file} is not an expense claim: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  process.exit(2);
}

const started = Date.now();
await startServices({ workers: false });
const workers = await createWorkers({ pipelinesModule: new URL('./pipelines.ts', import.meta.url), taskQueuePrefix: 'expense-claims-' });
const running = workers.run();
const client = await connectPipelines({ taskQueue: workers.taskQueue });
let status = 0;
try {
  const id = await client.start(expenseClaims, input);
  console.error(`started ${id}: ${client.uiUrl(id)}`);
  const result = await client.run(expenseClaims, input, { workflowId: id });
  console.log(JSON.stringify(result.output, null, 2));
  if (result.status === 'partial') console.error(`for a person to look at: ${Object.entries(result.unresolved).map(([step, paths]) => `${step} ${paths.join(', ')}`).join('; ')}`);
  console.error(`${result.status} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${result.totals.attempts} call(s), ${result.totals.repairs} repair(s), $${result.totals.costUsd.toFixed(6)}`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  status = 1;
} finally {
  await client.close();
  await workers.shutdown();
  await running.catch(() => undefined);
}
process.exit(status);
