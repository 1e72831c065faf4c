/** What the API reads of a run from Temporal: its status, the progress query, its result or typed failure. */
import { ApplicationFailure, type Client, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import type { z } from 'zod';
import type { Db } from '../db/client.js';
import { pipelineRuns } from '../db/schema.js';
import { progressQuery, type PipelineProgress, type PipelineResult } from '../workflows/pipeline.js';
import type { RunStatus, RunView } from './schemas.js';

export type View = z.infer<typeof RunView>;

const STATUS: Record<string, z.infer<typeof RunStatus>> = {
  RUNNING: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed_out',
  CONTINUED_AS_NEW: 'running',
};

/** The progress query with a deadline: a run no worker can answer for yields null, not a hang. */
export async function progressOf(client: Client, id: string, ms = 3000): Promise<PipelineProgress | null> {
  try {
    return await client.withDeadline(Date.now() + ms, () => client.workflow.getHandle(id).query(progressQuery));
  } catch {
    return null;
  }
}

/** A closed run's final progress, as its result carries it; null for a failed run or one whose result predates it. */
function progressOfClosed(result: unknown): PipelineProgress | null {
  return (result as PipelineResult | undefined)?.progress ?? null;
}

/** The failure a failed run ended with: its type, message and the paths it left unresolved. */
export function failureOf(err: unknown): NonNullable<View['failure']> {
  const cause = err instanceof WorkflowFailedError ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const d = cause.details?.[0] as { step?: string; task?: string; paths?: string[] } | { path: string }[] | undefined;
    const paths = Array.isArray(d) ? d.map((i) => i.path) : (d?.paths ?? []);
    return {
      type: cause.type ?? 'Error',
      message: cause.message,
      paths,
      ...(!Array.isArray(d) && d?.step ? { step: d.step } : {}),
      ...(!Array.isArray(d) && d?.task ? { task: d.task } : {}),
    };
  }
  return { type: 'Error', message: err instanceof Error ? err.message : String(err), paths: [] };
}

export interface ViewContext {
  client: Client;
  db: Db;
  links: View['links'];
  kind: View['kind'];
  name: string;
}

/** The run as the API shows it; after the namespace's retention, from its pipeline_runs row. */
export async function viewOf(id: string, c: ViewContext): Promise<View> {
  const handle = c.client.workflow.getHandle(id);
  const base = { id, kind: c.kind, name: c.name, links: c.links };
  let description: Awaited<ReturnType<typeof handle.describe>>;
  try {
    description = await handle.describe();
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    return fromRow(id, base, c.db);
  }
  const status = STATUS[description.status.name] ?? 'running';
  const view: View = {
    ...base,
    status,
    // a closed run's progress is its last one, in its history: no worker is asked to replay it
    progress: status === 'running' ? await progressOf(c.client, id) : progressOfClosed(await handle.result().catch(() => undefined)),
    startedAt: description.startTime.toISOString(),
    closedAt: description.closeTime?.toISOString() ?? null,
  };
  if (status === 'completed') {
    const result = (await handle.result()) as PipelineResult;
    view.status = result.status;
    view.result = { status: result.status, output: result.output, unresolved: result.unresolved, totals: result.totals };
  } else if (status === 'failed') {
    view.failure = await handle.result().then(
      () => ({ type: 'Error', message: 'failed', paths: [] }),
      (err: unknown) => failureOf(err),
    );
  }
  return view;
}

async function fromRow(id: string, base: Pick<View, 'id' | 'kind' | 'name' | 'links'>, db: Db): Promise<View> {
  const [row] = await db.select().from(pipelineRuns).where(eq(pipelineRuns.workflowId, id));
  if (!row) throw new WorkflowNotFoundError(`run ${id} is neither in Temporal nor in pipeline_runs`, id, undefined);
  const totals = {
    attempts: row.attempts,
    repairs: row.repairs,
    escalations: row.escalations,
    promptTokens: row.promptTokens,
    completionTokens: row.completionTokens,
    costUsd: row.costUsd,
    referenceCostUsd: row.referenceCostUsd,
  };
  const error = row.error as { type?: string; message?: string; details?: { paths?: string[] }[] } | null;
  return {
    ...base,
    status: row.status,
    progress: null,
    ...(row.status === 'completed' || row.status === 'partial' ? { result: { status: row.status, output: row.output, unresolved: {}, totals } } : {}),
    ...(row.status === 'failed' ? { failure: { type: error?.type ?? 'Error', message: error?.message ?? 'failed', paths: error?.details?.[0]?.paths ?? [] } } : {}),
    startedAt: row.startedAt.toISOString(),
    closedAt: row.finishedAt?.toISOString() ?? null,
  };
}
