import { Context } from '@temporalio/activity';
import proto from '@temporalio/proto';
import { and, eq, inArray } from 'drizzle-orm';
import type { RegistrySnapshot } from '../core/registry.js';
import type { Db } from '../db/client.js';
import { modelAttempts, pipelineRuns, priceVersions, shadowResults, taskResults } from '../db/schema.js';
import type { RunFinishRecord, RunStartRecord, ShadowRecord, TaskResultRecord, ValidationRecord } from './types.js';

/**
 * Records each pool's current price under its version; a version seen before keeps its first
 * figures, so a changed price must come with a new version, and old rows keep theirs.
 */
export async function recordPrices(db: Db, registry: RegistrySnapshot): Promise<void> {
  const rows = Object.values(registry.pools).map((p) => ({
    version: p.price.version,
    pool: p.name,
    model: p.model,
    inputPerMTok: p.price.inputPerMTok,
    outputPerMTok: p.price.outputPerMTok,
    basis: p.price.basis,
  }));
  rows.push({
    version: registry.reference.price.version,
    pool: '(reference)',
    model: registry.reference.model,
    inputPerMTok: registry.reference.price.inputPerMTok,
    outputPerMTok: registry.reference.price.outputPerMTok,
    basis: registry.reference.price.basis,
  });
  await db.insert(priceVersions).values(rows).onConflictDoNothing();
  const stored = await db.select().from(priceVersions).where(inArray(priceVersions.version, rows.map((r) => r.version)));
  for (const r of rows) {
    const s = stored.find((x) => x.version === r.version);
    if (s && (Math.abs(s.inputPerMTok - r.inputPerMTok) > 1e-12 || Math.abs(s.outputPerMTok - r.outputPerMTok) > 1e-12)) {
      throw new Error(
        `price version "${r.version}" of ${r.pool} is already recorded as ${s.inputPerMTok}/${s.outputPerMTok} per 1M tokens, not ${r.inputPerMTok}/${r.outputPerMTok}: give a changed price a new version in the registry`,
      );
    }
  }
}

/** The partitions a task queue is served in unless the server is configured otherwise. */
const QUEUE_PARTITIONS = 4;

export interface RecordActivityDeps {
  db: Db;
  /** the registry as the orchestration worker read it at start */
  registry: () => RegistrySnapshot;
}

/** Persistence for the orchestration worker; every write is idempotent so a retried activity changes nothing. */
export function createRecordActivities(deps: RecordActivityDeps) {
  const { db } = deps;
  return {
    async loadRegistry(): Promise<RegistrySnapshot> {
      return deps.registry();
    },

    /**
     * How many workers polled a pool's task queue for calls within the last `withinSeconds`, as the
     * Temporal server saw them. A worker polls whenever one of its slots is free, and every call
     * ends within the pool's timeout, so a busy pool's workers have polled within that; a pool
     * whose workers are gone has none. A queue is served in partitions (4 by default) and a poll
     * answered on one is seen only there, so each is asked: the root by the queue's name, the
     * others by their `/_sys/<queue>/<n>` names. The server keeps a poller for 5 minutes.
     */
    async livePollers(r: { taskQueue: string; withinSeconds: number }): Promise<number> {
      const { client } = Context.current();
      const names = [r.taskQueue, ...Array.from({ length: QUEUE_PARTITIONS - 1 }, (_, i) => `/_sys/${r.taskQueue}/${i + 1}`)];
      const described = await Promise.allSettled(
        names.map((name) =>
          client.workflowService.describeTaskQueue({
            namespace: client.options.namespace,
            taskQueue: { name, kind: proto.temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
            taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
          }),
        ),
      );
      const root = described[0]!;
      if (root.status === 'rejected') throw root.reason;
      const since = Date.now() - r.withinSeconds * 1000;
      const live = new Set<string>();
      for (const d of described) {
        if (d.status !== 'fulfilled') continue;
        for (const p of d.value.pollers ?? []) {
          const at = p.lastAccessTime ? Number(p.lastAccessTime.seconds ?? 0) * 1000 + (p.lastAccessTime.nanos ?? 0) / 1e6 : 0;
          if (at >= since) live.add(p.identity ?? '');
        }
      }
      return live.size;
    },

    async recordRunStarted(r: RunStartRecord): Promise<void> {
      const row = {
        workflowId: r.workflowId,
        runId: r.runId,
        pipeline: r.pipeline,
        pipelineVersion: r.pipelineVersion,
        registryVersion: r.registryVersion,
        status: 'running' as const,
        input: r.input,
        startedAt: new Date(r.at),
      };
      await db
        .insert(pipelineRuns)
        .values(row)
        .onConflictDoUpdate({
          target: pipelineRuns.workflowId,
          // a new run under the same workflow id takes the row over
          set: { ...row, output: null, error: null, finishedAt: null },
        });
    },

    async recordValidation(v: ValidationRecord): Promise<void> {
      await db
        .update(modelAttempts)
        .set({ valid: v.valid, issues: v.issues, fixes: v.fixes, validatedAt: new Date(v.at) })
        .where(eq(modelAttempts.id, v.attemptId));
    },

    async recordTaskResult(r: TaskResultRecord): Promise<void> {
      await db
        .insert(taskResults)
        .values({
          workflowId: r.workflowId,
          runId: r.runId,
          pipeline: r.pipeline,
          step: r.step,
          itemIndex: r.itemIndex,
          task: r.task,
          taskVersion: r.taskVersion,
          status: r.status,
          output: r.output ?? null,
          issues: r.issues,
          unresolvedPaths: r.unresolvedPaths,
          attempts: r.attempts,
          repairs: r.repairs,
          escalations: r.escalations,
          finalPool: r.finalPool,
          promptTokens: r.promptTokens,
          completionTokens: r.completionTokens,
          costUsd: r.costUsd,
          referenceCostUsd: r.referenceCostUsd,
          reason: r.reason,
          createdAt: new Date(r.at),
        })
        .onConflictDoNothing();
    },

    async recordRunFinished(r: RunFinishRecord): Promise<void> {
      await db
        .update(pipelineRuns)
        .set({
          status: r.status,
          output: r.output ?? null,
          error: r.error ?? null,
          attempts: r.attempts,
          repairs: r.repairs,
          escalations: r.escalations,
          promptTokens: r.promptTokens,
          completionTokens: r.completionTokens,
          costUsd: r.costUsd,
          referenceCostUsd: r.referenceCostUsd,
          finishedAt: new Date(r.at),
        })
        .where(and(eq(pipelineRuns.workflowId, r.workflowId), eq(pipelineRuns.runId, r.runId)));
    },

    async recordShadow(r: ShadowRecord): Promise<void> {
      const { at, ...row } = r;
      await db
        .insert(shadowResults)
        .values({ ...row, agreed: r.shadowStatus === 'valid' && Object.values(r.fields).every(Boolean), createdAt: new Date(at) })
        .onConflictDoNothing();
    },
  };
}

export type RecordActivities = ReturnType<typeof createRecordActivities>;
