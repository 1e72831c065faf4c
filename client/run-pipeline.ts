/**
 * Starts a pipeline from a JSON input file, shows which micro-task it is on, prints the result.
 *   tsx client/run-pipeline.ts <pipeline> <input.json> [--id <workflow-id>] [--quiet]
 * The workflow id is the idempotency key: the same --id attaches to the run that already has it.
 */
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { formatIssue, type Issue } from '../core/issues.js';
import { zodIssues } from '../core/validate.js';
import { getPipeline, pipelines } from '../pipelines/index.js';
import { loadConfig, ORCHESTRATION_QUEUE } from '../config/load.js';
import { progressQuery, runPipeline, type PipelineProgress, type PipelineResult } from '../workflows/pipeline.js';
import { PipelineKey } from '../workflows/search-attributes.js';

class UsageError extends Error {}

function parseArgs(argv: string[]): { pipeline: string; file: string; id: string | undefined; quiet: boolean } {
  const positional: string[] = [];
  let id: string | undefined;
  let quiet = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--id') id = argv[++i];
    else if (a === '--quiet') quiet = true;
    else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
    else positional.push(a);
  }
  const [pipeline, file] = positional;
  if (!pipeline || !file) throw new UsageError('usage: run-pipeline <pipeline> <input.json> [--id <workflow-id>] [--quiet]');
  return { pipeline, file, id, quiet };
}

function readInput(pipelineName: string, file: string): unknown {
  if (!(pipelineName in pipelines)) throw new UsageError(`unknown pipeline "${pipelineName}"; known pipelines: ${Object.keys(pipelines).join(', ')}`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read input file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`input file ${file} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = getPipeline(pipelineName).input.safeParse(json);
  if (!parsed.success) {
    const lines = zodIssues(parsed.error, json).map((i) => `  ${i.path || '(root)'}: ${i.message}`);
    throw new UsageError(`input file ${file} does not fit pipeline ${pipelineName}:\n${lines.join('\n')}`);
  }
  return json;
}

function describe(p: PipelineProgress): string {
  const idx = p.steps.findIndex((s) => s.id === p.currentStep);
  const s = p.steps[idx];
  if (!s) return `${p.status}`;
  const items = s.items > 1 ? ` (${s.done}/${s.items} items)` : '';
  const paths = s.paths.length ? ` ${s.paths.map((p) => p || '(root)').join(', ')}` : '';
  return `step ${idx + 1}/${p.steps.length} ${s.id}: ${s.task}${items}, attempt ${s.attempt} ${s.lastKind ?? ''}${paths} @${s.pool ?? '-'}`;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const input = readInput(args.pipeline, args.file);
  const config = loadConfig();
  const connection = await Connection.connect({ address: config.temporalAddress }).catch((err: unknown) => {
    throw new Error(`cannot reach Temporal at ${config.temporalAddress} (TEMPORAL_ADDRESS): ${err instanceof Error ? err.message : String(err)}; start it with: npm run infra -- up`);
  });
  const client = new Client({ connection, namespace: config.temporalNamespace });
  const workflowId = args.id ?? `${args.pipeline}-${randomUUID()}`;

  const pollers = await client.workflowService.describeTaskQueue({ namespace: config.temporalNamespace, taskQueue: { name: ORCHESTRATION_QUEUE }, taskQueueType: 1 });
  if ((pollers.pollers ?? []).length === 0) {
    // the run would wait in the queue with nothing to show; a business service may enqueue anyway, a person wants to know
    throw new UsageError(`no worker polls the "${ORCHESTRATION_QUEUE}" queue at ${config.temporalAddress}; start the stack with: npm run infra -- up`);
  }

  let handle;
  try {
    handle = await client.workflow.start(runPipeline, {
      taskQueue: ORCHESTRATION_QUEUE,
      workflowId,
      args: [{ pipeline: args.pipeline, input }],
      typedSearchAttributes: [{ key: PipelineKey, value: args.pipeline }],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    console.error(`a run with id ${workflowId} exists; attaching to it`);
    handle = client.workflow.getHandle<typeof runPipeline>(workflowId);
  }
  const desc = await handle.describe();
  const link = `${config.temporalUiUrl}/namespaces/${config.temporalNamespace}/workflows/${encodeURIComponent(workflowId)}/${desc.runId}/history`;
  console.error(`started ${args.pipeline} as ${workflowId}\n  ${link}`);

  let last = '';
  const started = Date.now();
  const timer = setInterval(() => {
    handle
      .query(progressQuery)
      .then((p) => {
        const line = describe(p);
        if (line !== last && !args.quiet) console.error(`  [${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);
        last = line;
      })
      .catch(() => undefined);
  }, 500);
  try {
    const result: PipelineResult = await handle.result();
    console.log(JSON.stringify(result.output, null, 2));
    const t = result.totals;
    console.error(
      `\n${result.status}: ${t.attempts} model call(s), ${t.repairs} repair(s), ${t.escalations} escalation(s), ${t.promptTokens}+${t.completionTokens} tokens, $${t.costUsd.toFixed(6)} (reference model: $${t.referenceCostUsd.toFixed(6)}) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    if (result.status === 'partial') console.error(`unresolved paths for review: ${JSON.stringify(result.unresolved)}`);
    console.error(`Temporal UI: ${link}`);
    return 0;
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      const cause = err.cause;
      console.error(`\npipeline failed: ${cause?.message ?? err.message}`);
      if (cause instanceof ApplicationFailure) {
        console.error(`failure type: ${cause.type}`);
        const d = cause.details?.[0] as
          | { task?: string; issues?: Issue[]; attempts?: { n: number; kind: string; pool: string; issues: Issue[]; error: string | null }[] }
          | undefined;
        for (const a of d?.attempts ?? []) {
          const what = a.error ?? (a.issues.map((i) => `${i.path || '(root)'} [${i.kind}]`).join(', ') || 'valid');
          console.error(`  attempt ${a.n} ${a.kind}@${a.pool}: ${what}`);
        }
        if (d?.issues?.length) {
          console.error(`what ${d.task ?? 'the micro-task'} still gets wrong after its last attempt:`);
          for (const i of d.issues) console.error(`  ${formatIssue(i)}`);
        }
      }
      const p = await handle.query(progressQuery).catch(() => undefined);
      if (p) console.error(`steps: ${p.steps.map((s) => `${s.id} ${s.status}`).join(', ')}`);
      console.error(`Temporal UI: ${link}`);
      return 1;
    }
    throw err;
  } finally {
    clearInterval(timer);
    await connection.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof UsageError || !(err instanceof Error) ? String(err instanceof Error ? err.message : err) : err.message);
    process.exit(2);
  },
);
