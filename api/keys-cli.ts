/**
 * API keys: `npm run keys -- create --name billing --pipelines ticket-triage,task:classify-ticket --daily-budget-usd 5`
 * prints the new key once (only its hash is stored); `keys -- revoke <id>`; `keys -- list`.
 */
import { parseArgs } from 'node:util';
import { readEnv, withoutPassword } from '../config/env.js';
import { createDb, createPool } from '../db/client.js';
import { assertMigrated } from '../db/migrate.js';
import { createApiKey, listApiKeys, revokeApiKey } from './keys.js';

const USAGE = `usage:
  keys create --name <name> --pipelines <a,b,task:c | *> --daily-budget-usd <usd> [--run-budget-usd <usd>] [--rate-limit <per minute>]
  keys revoke <id>
  keys list`;

function positive(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
}

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  const env = readEnv();
  const pool = createPool(env.database.url);
  try {
    await assertMigrated(pool, withoutPassword(env.database.url));
    const db = createDb(pool);
    if (cmd === 'create') {
      const { values } = parseArgs({
        args: rest,
        options: { name: { type: 'string' }, pipelines: { type: 'string' }, 'daily-budget-usd': { type: 'string' }, 'run-budget-usd': { type: 'string' }, 'rate-limit': { type: 'string' } },
      });
      const daily = positive('daily-budget-usd', values['daily-budget-usd']);
      if (!values.name || !values.pipelines || daily === undefined) throw new Error(USAGE);
      const run = positive('run-budget-usd', values['run-budget-usd']);
      const rate = positive('rate-limit', values['rate-limit']);
      const { id, key } = await createApiKey(db, {
        name: values.name,
        pipelines: values.pipelines.split(',').map((p) => p.trim()).filter(Boolean),
        dailyBudgetUsd: daily,
        ...(run !== undefined ? { runBudgetUsd: run } : {}),
        ...(rate !== undefined ? { rateLimitPerMinute: Math.floor(rate) } : {}),
      });
      console.error(`key ${id} (${values.name}) created; it is shown once, only its hash is stored:`);
      console.log(key);
    } else if (cmd === 'revoke') {
      const id = rest[0];
      if (!id) throw new Error(USAGE);
      if (!(await revokeApiKey(db, id))) throw new Error(`no key ${id} that is not already revoked`);
      console.log(`key ${id} revoked`);
    } else if (cmd === 'list') {
      for (const k of await listApiKeys(db)) {
        console.log(`${k.id}  ${k.name.padEnd(16)} ${k.revokedAt ? 'revoked' : 'active '}  pipelines ${k.pipelines.join(',')}  daily $${k.dailyBudgetUsd}  run $${k.runBudgetUsd}  ${k.rateLimitPerMinute}/min`);
      }
    } else {
      throw new Error(USAGE);
    }
  } finally {
    await pool.end();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
