/**
 * Fine-tuning export: micro-task results that ended valid, as chat pairs in the OpenAI
 * fine-tuning format (`{"messages": [system, user, assistant]}`): the first attempt's prompt and the
 * final validated output. A pair that passed only after a repair or an escalation is marked so
 * in a sidecar file, line for line, since the format itself has no place for it.
 *   tsx client/export.ts [--task t] [--since 2026-11-01] [--outcome valid,repaired,escalated] [--pool small] [--out pairs.jsonl]
 */
import fs from 'node:fs';
import type pg from 'pg';

export const OUTCOMES = ['valid', 'repaired', 'escalated'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface ExportFilters {
  task?: string;
  /** ISO date or timestamp */
  since?: string;
  outcomes: readonly Outcome[];
  /** the pool the result ended on */
  pool?: string;
}

export interface Pair {
  messages: { role: 'system' | 'user' | 'assistant'; content: string }[];
}

export interface PairMeta {
  task: string;
  taskVersion: number;
  workflowId: string;
  step: string;
  itemIndex: number;
  /** valid: the first answer passed; repaired: it passed after repairs on its pool; escalated: a larger pool made it pass */
  outcome: Outcome;
  pool: string | null;
  model: string;
}

/** The pairs the filters select, oldest first, with their marks. */
export async function fineTuningPairs(db: pg.Pool, f: ExportFilters): Promise<{ pair: Pair; meta: PairMeta }[]> {
  const { rows } = await db.query(
    `select r.task, r.task_version, r.workflow_id, r.step, r.item_index, r.output, r.repairs, r.escalations, r.final_pool,
            a.request, a.model
       from task_results r
       -- the first attempt's prompt, once: a retried activity (a 500, a lost worker) left a row per call it made
       join lateral (
         select a.request, a.model from model_attempts a
          where a.workflow_id = r.workflow_id and a.run_id = r.run_id and a.step = r.step and a.item_index = r.item_index and a.attempt_no = 1
          order by (a.error is null) desc, a.activity_attempt desc
          limit 1
       ) a on true
      where r.status = 'valid'
        and ($1::text is null or r.task = $1)
        and ($2::timestamptz is null or r.created_at >= $2)
        and ($3::text is null or r.final_pool = $3)
      order by r.created_at, r.id`,
    [f.task ?? null, f.since ?? null, f.pool ?? null],
  );
  const out: { pair: Pair; meta: PairMeta }[] = [];
  for (const r of rows as {
    task: string; task_version: number; workflow_id: string; step: string; item_index: number; output: unknown; repairs: number; escalations: number; final_pool: string | null;
    request: { messages?: { role: string; content: string }[] }; model: string;
  }[]) {
    const outcome: Outcome = r.escalations > 0 ? 'escalated' : r.repairs > 0 ? 'repaired' : 'valid';
    if (!f.outcomes.includes(outcome)) continue;
    const prompt = (r.request.messages ?? []).filter((m): m is { role: 'system' | 'user'; content: string } => m.role === 'system' || m.role === 'user');
    if (prompt.length === 0) continue;
    out.push({
      pair: { messages: [...prompt, { role: 'assistant', content: JSON.stringify(r.output) }] },
      meta: { task: r.task, taskVersion: r.task_version, workflowId: r.workflow_id, step: r.step, itemIndex: r.item_index, outcome, pool: r.final_pool, model: r.model },
    });
  }
  return out;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): ExportFilters & { out: string | undefined } {
  const v: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!['--task', '--since', '--outcome', '--pool', '--out'].includes(a)) throw new UsageError(`unknown argument ${a}; usage: export [--task t] [--since YYYY-MM-DD] [--outcome ${OUTCOMES.join(',')}] [--pool p] [--out file.jsonl]`);
    const value = argv[++i];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${a} needs a value`);
    v[a.slice(2)] = value;
  }
  const outcomes = (v.outcome ?? OUTCOMES.join(',')).split(',').filter(Boolean);
  const bad = outcomes.filter((o) => !(OUTCOMES as readonly string[]).includes(o));
  if (bad.length > 0) throw new UsageError(`--outcome: ${bad.join(', ')} is not one of ${OUTCOMES.join(', ')}`);
  if (v.since !== undefined && Number.isNaN(Date.parse(v.since))) throw new UsageError(`--since takes a date such as 2026-11-01 (got ${JSON.stringify(v.since)})`);
  return { ...(v.task ? { task: v.task } : {}), ...(v.since ? { since: v.since } : {}), ...(v.pool ? { pool: v.pool } : {}), outcomes: outcomes as Outcome[], out: v.out };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const [{ loadConfig }, { createPool }] = await Promise.all([import('../config/load.js'), import('../db/client.js')]);
  const pool = createPool(loadConfig().databaseUrl);
  try {
    const pairs = await fineTuningPairs(pool, args);
    const lines = pairs.map((p) => JSON.stringify(p.pair)).join('\n') + (pairs.length ? '\n' : '');
    const marks = pairs.map((p) => JSON.stringify(p.meta)).join('\n') + (pairs.length ? '\n' : '');
    if (args.out) {
      fs.writeFileSync(args.out, lines);
      fs.writeFileSync(args.out.replace(/(\.jsonl)?$/, '.meta.jsonl'), marks);
      const by = Object.fromEntries(OUTCOMES.map((o) => [o, pairs.filter((p) => p.meta.outcome === o).length]));
      console.error(`${pairs.length} pair(s) to ${args.out} (${Object.entries(by).map(([k, n]) => `${n} ${k}`).join(', ')}); marks in ${args.out.replace(/(\.jsonl)?$/, '.meta.jsonl')}`);
    } else process.stdout.write(lines);
  } finally {
    await pool.end();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(err instanceof UsageError ? 2 : 1);
  });
}
