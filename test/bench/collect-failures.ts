/**
 * Collects the corpus of real failures: first attempts the local default models (qwen2.5, pools
 * small and large) answered and the contracts rejected, for the current version of each pipeline
 * step's micro-task, with the micro-task input and context read back from the run's Temporal
 * history (the callModel activity's scheduled input). Writes test/corpus/real/cases.jsonl.
 *
 *   node_modules/.bin/tsx test/bench/collect-failures.ts [--out file.jsonl]
 *
 * DATABASE_URL (default the dev stack's microtasks database) and TEMPORAL_ADDRESS (default
 * 127.0.0.1:7233, namespace TEMPORAL_NAMESPACE or default) name the stack the rows and histories
 * come from. Read only: nothing is written there.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { and, asc, eq, inArray, isNull, like } from 'drizzle-orm';
import type { ModelCallRequest } from '../../activities/types.js';
import { readEnv } from '../../config/env.js';
import { labelledSteps } from '../../core/contract.js';
import { parseDataset, type Example } from '../../core/eval/dataset.js';
import { datasetSchemas, stepLabels } from '../../core/eval/labels.js';
import { createDb, createPool } from '../../db/client.js';
import { evalRuns, modelAttempts, type ModelAttemptRow } from '../../db/schema.js';
import { ROOT } from '../../infra/paths.js';
import { SHIPPED_PIPELINES } from '../../pipelines/index.js';
import { canonicalJson, CASES_FILE, judgeToday, RealCase } from './real-cases.js';

const log = (line: string) => process.stdout.write(`${line}\n`);
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

interface History {
  /** the workflow's own input (a pipeline run's `{ pipeline, input, ... }`) */
  started: unknown;
  calls: ModelCallRequest[];
}

async function readHistory(client: Client, workflowId: string, runId: string): Promise<History | undefined> {
  let events;
  try {
    events = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
  } catch {
    return undefined;
  }
  const decode = (p: Payload | undefined | null) => (p ? defaultPayloadConverter.fromPayload(p) : undefined);
  let started: unknown;
  const calls: ModelCallRequest[] = [];
  for (const e of events) {
    const s = e.workflowExecutionStartedEventAttributes;
    if (s) started = decode(s.input?.payloads?.[0]);
    const a = e.activityTaskScheduledEventAttributes;
    if (a?.activityType?.name === 'callModel') calls.push(decode(a.input?.payloads?.[0]) as ModelCallRequest);
  }
  return { started, calls };
}

/** An evaluation's workflow id, `eval-<evalId>-<config>-<exampleId>`, read against the recorded evaluations. */
function evalSourceOf(workflowId: string, evals: readonly { id: string; dataset: string; configs: string[] }[]) {
  for (const e of [...evals].sort((a, b) => b.id.length - a.id.length)) {
    const prefix = `eval-${e.id}-`;
    if (!workflowId.startsWith(prefix)) continue;
    const rest = workflowId.slice(prefix.length);
    const config = [...e.configs].sort((a, b) => b.length - a.length).find((c) => rest.startsWith(`${c}-`));
    if (config) return { evalId: e.id, config, exampleId: rest.slice(config.length + 1), dataset: e.dataset };
  }
  return undefined;
}

/** The committed labelled datasets, pipelines/<pipeline>/eval/*.jsonl, by pipeline. */
function committedDatasets(): Map<string, { file: string; examples: Example[] }[]> {
  const out = new Map<string, { file: string; examples: Example[] }[]>();
  for (const p of SHIPPED_PIPELINES) {
    if (!p.evaluation) continue;
    const dir = path.join(ROOT, 'pipelines', p.name, 'eval');
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.jsonl'))) {
      const file = path.join(dir, f);
      const examples = parseDataset(file, fs.readFileSync(file, 'utf8'), datasetSchemas(p));
      out.set(p.name, [...(out.get(p.name) ?? []), { file: path.relative(ROOT, file), examples }]);
    }
  }
  return out;
}

function countBy<T>(items: readonly T[], keys: (t: T) => string[]): [string, number][] {
  const m = new Map<string, number>();
  for (const t of items) for (const k of keys(t)) m.set(k, (m.get(k) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string', default: CASES_FILE } } });
  const env = readEnv();
  const databaseUrl = env.database.url;
  const { address: temporalAddress, namespace } = env.temporal;

  // the steps' micro-tasks; single-prompt evaluation baselines are not pipeline steps
  const current = new Map<string, number>();
  const labelled = new Map<string, { step: string; task: string }[]>();
  for (const p of SHIPPED_PIPELINES) {
    for (const s of p.steps) current.set(s.task.name, s.task.version);
    if (p.evaluation) labelled.set(p.name, labelledSteps(p.evaluation).map((l) => ({ step: l.step, task: p.steps.find((s) => s.id === l.step)!.task.name })));
  }

  const pg = createPool(databaseUrl);
  const db = createDb(pg);
  const connection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection, namespace });
  try {
    const rows = await db
      .select()
      .from(modelAttempts)
      .where(and(eq(modelAttempts.attemptNo, 1), eq(modelAttempts.valid, false), isNull(modelAttempts.error), like(modelAttempts.model, 'qwen2.5%'), inArray(modelAttempts.pool, ['small', 'large'])))
      .orderBy(asc(modelAttempts.id));
    const skipped = new Map<string, number>();
    const skip = (why: string) => skipped.set(why, (skipped.get(why) ?? 0) + 1);
    const kept: ModelAttemptRow[] = [];
    for (const r of rows) {
      const v = current.get(r.task);
      if (v === undefined) skip(r.task.startsWith('single-prompt-') ? 'a single-prompt evaluation baseline, not a pipeline step' : 'not a step of a shipped pipeline');
      else if (v !== r.taskVersion) skip(`an older version of its task (now v${v})`);
      else kept.push(r);
    }
    log(`${rows.length} failed first attempts of qwen2.5 on small/large; ${kept.length} of a current task version`);

    const evals = (await db.select().from(evalRuns)).map((e) => ({ id: e.id, dataset: e.dataset, configs: Object.keys(e.configs as Record<string, unknown>) }));
    const datasets = committedDatasets();
    const histories = new Map<string, History | undefined>();
    const byKey = new Map<string, RealCase>();
    let labelsStale = 0;
    let merged = 0;
    for (const [i, r] of kept.entries()) {
      const hk = `${r.workflowId}\u0000${r.runId}`;
      if (!histories.has(hk)) histories.set(hk, await readHistory(client, r.workflowId, r.runId));
      const history = histories.get(hk);
      if (!history) {
        skip('its workflow history is gone');
        continue;
      }
      const call = history.calls.find((c) => c.task === r.task && c.step === r.step && c.itemIndex === r.itemIndex && c.attemptNo === 1);
      if (!call) {
        skip('no callModel for it in the history');
        continue;
      }
      const input = call.input;
      const context = call.context ?? [];
      const raw = r.rawOutput ?? '';
      const key = canonicalJson([r.task, input, context, raw]);
      const seen = byKey.get(key);
      const evalSource = evalSourceOf(r.workflowId, evals);

      let label: RealCase['label'];
      const step = labelled.get(r.pipeline)?.find((l) => l.step === r.step && l.task === r.task);
      const evaluation = SHIPPED_PIPELINES.find((p) => p.name === r.pipeline)?.evaluation;
      if (evalSource && step && evaluation) {
        const started = history.started as { input?: unknown } | undefined;
        for (const d of datasets.get(r.pipeline) ?? []) {
          const ex = d.examples.find((e) => e.id === evalSource.exampleId);
          if (!ex) continue;
          // a label stands for this run only if the example still is the input the run had
          const mine = stepLabels(evaluation, ex.expected).find((l) => l.step === r.step);
          if (!isDeepStrictEqual(ex.input, started?.input)) labelsStale++;
          else if (mine) label = { pipeline: r.pipeline, step: r.step, dataset: d.file, exampleId: ex.id, heldOut: ex.heldOut, expected: mine.label };
          break;
        }
      }
      if (seen) {
        seen.source.occurrences++;
        merged++;
        if (!seen.label && label) seen.label = label;
        continue;
      }
      const messages = (r.request as { messages?: { role: string; content: string }[] }).messages ?? [];
      const today = judgeToday({ task: r.task, input, context }, raw, r.finishReason ?? 'unknown', {
        system: messages.find((m) => m.role === 'system')?.content ?? '',
        user: messages.find((m) => m.role === 'user')?.content ?? '',
      });
      const c: RealCase = {
        id: `${r.task}-${sha(canonicalJson([input, context])).slice(0, 8)}-${sha(raw).slice(0, 4)}`,
        task: r.task,
        taskVersion: r.taskVersion,
        input,
        context,
        firstAttempt: {
          attemptId: r.id,
          rawOutput: raw,
          finishReason: r.finishReason ?? 'unknown',
          pool: r.pool as 'small' | 'large',
          model: r.model,
          maxTokens: r.maxTokens,
          schemaMode: r.schemaMode,
          promptTokens: r.promptTokens,
          completionTokens: r.completionTokens,
          tokensEstimated: r.tokensEstimated,
          latencyMs: r.latencyMs,
          ttftMs: r.ttftMs,
          issues: (r.issues as RealCase['firstAttempt']['issues'] | null) ?? [],
          fixes: (r.fixes as unknown[] | null) ?? [],
          recordedAt: r.createdAt.toISOString(),
        },
        source: {
          workflowId: r.workflowId,
          runId: r.runId,
          pipeline: r.pipeline,
          step: r.step,
          itemIndex: r.itemIndex,
          ...(evalSource ? { eval: evalSource } : {}),
          occurrences: 1,
        },
        ...(label ? { label } : {}),
        promptMatchesToday: today.promptMatches,
        failsToday: today.fails,
        failsTodayStrict: today.failsStrict,
        todayIssues: today.issues.map((x) => ({ ...x })),
      };
      if (!today.inputValid) skip('its input no longer satisfies the task');
      else byKey.set(key, RealCase.parse(c));
      if ((i + 1) % 25 === 0) log(`  ${i + 1}/${kept.length} rows read`);
    }

    const cases = [...byKey.values()].sort((a, b) => a.task.localeCompare(b.task) || a.id.localeCompare(b.id));
    const ids = new Set(cases.map((c) => c.id));
    if (ids.size !== cases.length) throw new Error('two cases share an id');
    fs.mkdirSync(path.dirname(values.out), { recursive: true });
    fs.writeFileSync(values.out, cases.map((c) => JSON.stringify(c)).join('\n') + '\n');

    log('');
    for (const [why, n] of skipped) log(`skipped ${n}: ${why}`);
    log(`${cases.length} cases (${merged} duplicate rows merged), ${cases.filter((c) => c.label).length} labelled${labelsStale ? ` (${labelsStale} rows' examples changed since their run: no label)` : ''}`);
    log(`${cases.filter((c) => c.failsToday).length} still fail today's contracts (${cases.filter((c) => !c.failsToday).length} pass now, kept with failsToday false); ${cases.filter((c) => c.failsTodayStrict).length} fail strict parsing`);
    log(`${cases.filter((c) => !c.promptMatchesToday).length} were asked with a prompt that differs from today's`);
    const show = (title: string, entries: [string, number][]) => log(`\n${title}\n${entries.map(([k, n]) => `  ${k.padEnd(28)} ${n}`).join('\n')}`);
    show('cases per task', countBy(cases, (c) => [c.task]));
    show('cases per pool', countBy(cases, (c) => [c.firstAttempt.pool]));
    show('cases per task and pool', countBy(cases, (c) => [`${c.task} @${c.firstAttempt.pool}`]));
    show('cases per issue kind (as recorded; a case counts once per kind)', countBy(cases, (c) => [...new Set(c.firstAttempt.issues.map((x) => x.kind))]));
    const size = fs.statSync(values.out).size;
    log(`\nwrote ${path.relative(process.cwd(), values.out)}: ${cases.length} lines, ${(size / 1024).toFixed(0)} KiB`);
  } finally {
    await connection.close();
    await pg.end();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
