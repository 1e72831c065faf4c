/**
 * Cost and quality report from the analytics views, as terminal tables.
 *   tsx client/report.ts [--since YYYY-MM-DD | --since 7d] [--json]
 */
import pg from 'pg';
import { loadConfig } from '../config/load.js';

class UsageError extends Error {}

const SECTIONS = [
  { title: 'Cost per micro-task', fn: 'cost_per_task_since' },
  { title: 'Repairs and escalations per micro-task', fn: 'repair_rates_since' },
  { title: 'Cost per pipeline', fn: 'cost_per_pipeline_since' },
  { title: 'Cost and latency per pool and model', fn: 'cost_per_model_since' },
  { title: 'Latency per micro-task and pool', fn: 'latency_per_task_since' },
  { title: 'Savings against the reference model', fn: 'routing_savings_since' },
] as const;

export function parseSince(value: string | undefined, now = new Date()): string {
  if (value === undefined) return '-infinity';
  const rel = /^(\d+)d$/.exec(value);
  if (rel) return new Date(now.getTime() - Number(rel[1]) * 86_400_000).toISOString().slice(0, 10);
  if (/^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value))) return value;
  throw new UsageError(`--since takes a date (YYYY-MM-DD) or a number of days (7d), not "${value}"`);
}

function cell(v: unknown, column: string): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'number') {
    if (column.endsWith('_usd')) return `$${v.toFixed(6)}`;
    if (column.endsWith('_rate') || column.endsWith('_share')) return `${(v * 100).toFixed(1)}%`;
    return Number.isInteger(v) ? String(v) : v.toFixed(1);
  }
  return String(v);
}

export function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '  (no rows)';
  const cols = Object.keys(rows[0]!);
  const cells = rows.map((r) => cols.map((c) => cell(r[c], c)));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (vals: string[]) => '  ' + vals.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let sinceArg: string | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--since') sinceArg = args[++i];
    else if (args[i] === '--json') json = true;
    else throw new UsageError(`unknown argument ${args[i]}; usage: report [--since YYYY-MM-DD|7d] [--json]`);
  }
  const since = parseSince(sinceArg);
  const config = loadConfig();
  const client = new pg.Client({ connectionString: config.databaseUrl });
  await client.connect().catch((err: unknown) => {
    throw new Error(`cannot reach Postgres (DATABASE_URL): ${err instanceof Error ? err.message : String(err)}; start it with: npm run infra -- up`);
  });
  try {
    const out: Record<string, unknown[]> = {};
    for (const s of SECTIONS) {
      const res = await client.query(`select * from ${s.fn}($1::date)`, [since]);
      out[s.fn.replace(/_since$/, '')] = res.rows;
      if (!json) console.log(`\n${s.title}${since === '-infinity' ? '' : ` since ${since}`}\n${table(res.rows)}`);
    }
    if (json) console.log(JSON.stringify(out, null, 2));
  } finally {
    await client.end();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(err instanceof UsageError ? 2 : 1);
  });
}
