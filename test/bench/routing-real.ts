/**
 * Routing on the real local pair, priced by what this machine measures: every shipped labelled
 * set is evaluated (`npm run eval`, as a user runs it, on the stack's real workflows) under three
 * configurations — `routed` (the registry's routes and escalation), `ladder` (all-small: the full
 * ladder on the small pool, no escalation) and `large-only` (all-large) — and each run's tokens
 * are read per pool from `model_attempts` and priced by test/bench/throughput.ts: the machine's
 * hourly cost over the tokens each server processes in an hour.
 *   tsx test/bench/routing-real.ts [--sample N] [--sets tickets,invoices] [--reuse] [--throughput file.json] [--previous file.json] [--out file.json]
 * --reuse reads evaluations already run under the same ids (routing-real-<set>) instead of
 * finishing them; an evaluation id resumes, so an interrupted run repeats nothing. --previous
 * names an earlier output of this benchmark: a set whose evaluation rows are not in this
 * database (run on another stack) takes its calls and tokens per pool from there, priced again
 * at this run's prices.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { readEnv } from '../../config/env.js';
import { loadConfig } from '../../config/load.js';
import type { ConfigFigures, EvalItem } from '../../core/eval/report.js';
import { ROOT } from '../../infra/paths.js';
import { int, pct, table } from './format.js';
import { measureThroughput, throughputTable, type ThroughputReport } from './throughput.js';

const CONFIGS = ['routed', 'ladder', 'large-only'] as const;
const LABEL: Record<(typeof CONFIGS)[number], string> = { routed: 'routed', ladder: 'all-small', 'large-only': 'all-large' };
const SETS: Record<string, string> = {
  tickets: 'pipelines/ticket-triage/eval/tickets.jsonl',
  invoices: 'pipelines/invoice-extraction/eval/invoices.jsonl',
  products: 'pipelines/product-review/eval/products.jsonl',
  documents: 'pipelines/document-summary/eval/documents.jsonl',
};

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

interface EvalReport {
  evalId: string;
  pipeline: string;
  figures: ConfigFigures[];
  items: (EvalItem & { workflowId: string })[];
}

interface ConfigRow {
  set: string;
  config: string;
  examples: number;
  valid: number;
  accuracy: number;
  fieldsScored: number;
  fieldsCorrect: number;
  silentErrors: number;
  perField: Record<string, number>;
  byPool: Record<string, { calls: number; tokens: number }>;
  costUsd: number;
}

async function main(): Promise<void> {
  const sample = Number(arg('--sample') ?? 10);
  if (!Number.isInteger(sample) || sample < 1) throw new Error('--sample takes a whole number above 0');
  const sets = (arg('--sets') ?? Object.keys(SETS).join(',')).split(',');
  const unknown = sets.filter((s) => !(s in SETS));
  if (unknown.length) throw new Error(`unknown set(s) ${unknown.join(', ')}; known: ${Object.keys(SETS).join(', ')}`);
  const out = arg('--out') ?? path.join(ROOT, '.cache/bench/routing-real.json');
  const thrFile = arg('--throughput');
  // throughput first, on servers nothing else is using yet
  const throughput: ThroughputReport = thrFile ? (JSON.parse(fs.readFileSync(thrFile, 'utf8')) as ThroughputReport) : await measureThroughput({ log: (s) => console.error(s) });
  const price = Object.fromEntries(throughput.pools.map((p) => [p.pool, p.usdPerMTok]));

  const reports: Record<string, EvalReport> = {};
  for (const set of sets) {
    const file = path.join(ROOT, '.cache/bench', `routing-real-${set}.json`);
    if (!(process.argv.includes('--reuse') && fs.existsSync(file))) {
      console.error(`evaluating ${SETS[set]} (${sample} examples x ${CONFIGS.length} configurations)`);
      const r = spawnSync('node_modules/.bin/tsx', ['client/eval.ts', SETS[set]!, '--configs', CONFIGS.join(','), '--sample', String(sample), '--id', `routing-real-${set}`, '--out', file], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
      if (r.status !== 0 && !fs.existsSync(file)) throw new Error(`the evaluation of ${set} failed (exit ${r.status})`);
    }
    reports[set] = JSON.parse(fs.readFileSync(file, 'utf8')) as EvalReport;
  }

  const previousFile = arg('--previous');
  const previous = previousFile ? ((JSON.parse(fs.readFileSync(previousFile, 'utf8')) as { rows: ConfigRow[] }).rows ?? []) : [];
  const db = new pg.Pool({ connectionString: loadConfig(readEnv()).databaseUrl });
  const rows: ConfigRow[] = [];
  try {
    for (const [set, report] of Object.entries(reports)) {
      for (const config of CONFIGS) {
        const items = report.items.filter((i) => i.config === config);
        const f = report.figures.find((x) => x.config === config)!;
        const q = await db.query<{ pool: string; calls: string; tokens: string }>(
          `select pool, count(*) filter (where error is null) as calls, coalesce(sum(prompt_tokens + completion_tokens), 0) as tokens
             from model_attempts where workflow_id = any($1) group by pool`,
          [items.map((i) => i.workflowId)],
        );
        let byPool: ConfigRow['byPool'] = Object.fromEntries(q.rows.map((r) => [r.pool, { calls: Number(r.calls), tokens: Number(r.tokens) }]));
        const present = Number((await db.query<{ n: string }>(`select count(distinct workflow_id) as n from model_attempts where workflow_id = any($1)`, [items.map((i) => i.workflowId)])).rows[0]!.n);
        if (present > 0 && present < items.length) throw new Error(`only ${present} of the ${items.length} ${set} ${config} runs have rows in this database: their cost would be undercounted`);
        if (q.rows.length === 0 && items.length > 0) {
          const earlier = previous.find((r) => r.set === set && r.config === LABEL[config]);
          if (!earlier) throw new Error(`no model_attempts rows for the ${set} ${config} runs in this database; pass --previous with the output of the run that made them`);
          if (earlier.examples !== items.length) throw new Error(`${previousFile} has ${earlier.examples} ${set} ${config} examples, this evaluation ${items.length}: not the same runs`);
          console.error(`${set} ${LABEL[config]}: calls and tokens from ${previousFile} (its runs are not in this database)`);
          byPool = earlier.byPool;
        }
        const costUsd = Object.entries(byPool).reduce((s, [pool, v]) => s + (v.tokens * (price[pool] ?? NaN)) / 1e6, 0);
        rows.push({
          set,
          config: LABEL[config],
          examples: items.length,
          valid: f.valid,
          accuracy: f.accuracy,
          fieldsScored: items.reduce((s, i) => s + i.fieldsScored, 0),
          fieldsCorrect: items.reduce((s, i) => s + i.fieldsCorrect, 0),
          silentErrors: f.silentErrors,
          perField: f.perField,
          byPool,
          costUsd,
        });
      }
    }
  } finally {
    await db.end();
  }

  const total = (config: string): ConfigRow => {
    const mine = rows.filter((r) => r.config === config);
    const byPool: ConfigRow['byPool'] = {};
    for (const r of mine) for (const [p, v] of Object.entries(r.byPool)) byPool[p] = { calls: (byPool[p]?.calls ?? 0) + v.calls, tokens: (byPool[p]?.tokens ?? 0) + v.tokens };
    const fieldsScored = mine.reduce((s, r) => s + r.fieldsScored, 0);
    const fieldsCorrect = mine.reduce((s, r) => s + r.fieldsCorrect, 0);
    return {
      set: 'all',
      config,
      examples: mine.reduce((s, r) => s + r.examples, 0),
      valid: mine.reduce((s, r) => s + r.valid, 0),
      accuracy: fieldsScored ? fieldsCorrect / fieldsScored : 0,
      fieldsScored,
      fieldsCorrect,
      silentErrors: mine.reduce((s, r) => s + r.silentErrors, 0),
      perField: {},
      byPool,
      costUsd: mine.reduce((s, r) => s + r.costUsd, 0),
    };
  };
  const totals = Object.values(LABEL).map(total);
  const large = (set: string) => [...rows, ...totals].find((r) => r.set === set && r.config === 'all-large')!;
  const line = (r: ConfigRow) => [
    r.set,
    r.config,
    `${r.valid}/${r.examples}`,
    `${(100 * r.accuracy).toFixed(1)}% (${r.fieldsCorrect}/${r.fieldsScored})`,
    r.silentErrors,
    Object.entries(r.byPool).map(([p, v]) => `${p} ${v.calls}`).join(', '),
    Object.entries(r.byPool).map(([p, v]) => `${p} ${int(v.tokens)}`).join(', '),
    (r.costUsd * 1000).toFixed(3),
    r.config === 'all-large' ? '–' : `${((1 - r.costUsd / large(r.set).costUsd) * 100).toFixed(0)}%`,
  ];
  console.log(`prices: ${throughput.basis}`);
  console.log(`\n${throughputTable(throughput)}\n`);
  console.log(table(['set', 'config', 'valid', 'accuracy (fields right)', 'silent errors', 'calls', 'tokens', 'cost (thousandths of a dollar)', 'cheaper than all-large'], [...rows, ...totals].map(line)));

  // where routing lost accuracy against all-large, field by field
  const losses: string[] = [];
  for (const set of Object.keys(reports)) {
    const routed = rows.find((r) => r.set === set && r.config === 'routed')!;
    const big = large(set);
    for (const [field, acc] of Object.entries(big.perField)) {
      const mine = routed.perField[field] ?? 0;
      if (mine < acc) losses.push(`${set} ${field}: routed ${pct(mine * 100, 100)} against all-large ${pct(acc * 100, 100)}`);
    }
  }
  const [routedAll, , largeAll] = totals;
  console.log(`\nrouted: ${(100 * routedAll!.accuracy).toFixed(1)}% of fields right at ${((1 - routedAll!.costUsd / largeAll!.costUsd) * 100).toFixed(0)}% less than all-large (${(100 * largeAll!.accuracy).toFixed(1)}%)`);
  console.log(losses.length ? `where routed lost accuracy against all-large:\n${losses.map((l) => `  ${l}`).join('\n')}` : 'routed lost no field accuracy against all-large');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ measuredAt: new Date().toISOString(), sample, throughput, rows, totals, losses, evalIds: Object.fromEntries(Object.entries(reports).map(([s, r]) => [s, r.evalId])) }, null, 2));
  console.log(`\nwritten to ${out}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
