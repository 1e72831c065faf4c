/**
 * API keys and their daily budgets. A key is `mtp_<id>_<secret>`: the id is public (it scopes
 * workflow ids and rate limits), the whole key is kept only as its SHA-256 and compared in
 * constant time. A run is admitted by reserving its cost ceiling against the key's day in one
 * conditional UPDATE, and settled from the calls it really made once it has ended.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { apiKeys, apiRuns } from '../db/schema.js';

export interface ApiKey {
  id: string;
  name: string;
  /** pipeline names, `task:<name>` for one micro-task, `*` for everything */
  pipelines: string[];
  dailyBudgetUsd: number;
  runBudgetUsd: number;
  rateLimitPerMinute: number;
}

export interface NewApiKey {
  name: string;
  pipelines: string[];
  dailyBudgetUsd: number;
  runBudgetUsd?: number;
  rateLimitPerMinute?: number;
}

const KEY = /^mtp_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Creates a key and returns it once; only its hash is stored. */
export async function createApiKey(db: Db, k: NewApiKey): Promise<{ id: string; key: string }> {
  const id = randomBytes(6).toString('hex');
  const key = `mtp_${id}_${randomBytes(32).toString('base64url')}`;
  await db.insert(apiKeys).values({
    id,
    name: k.name,
    keyHash: sha256(key),
    pipelines: k.pipelines,
    dailyBudgetUsd: k.dailyBudgetUsd,
    runBudgetUsd: k.runBudgetUsd ?? Math.min(k.dailyBudgetUsd, 0.05),
    rateLimitPerMinute: k.rateLimitPerMinute ?? 60,
  });
  return { id, key };
}

/** Revokes a key by its id; true when there was such a key not yet revoked. */
export async function revokeApiKey(db: Db, id: string): Promise<boolean> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(sql`${apiKeys.id} = ${id} and ${apiKeys.revokedAt} is null`)
    .returning({ id: apiKeys.id });
  return rows.length > 0;
}

export async function listApiKeys(db: Db): Promise<(ApiKey & { createdAt: Date; revokedAt: Date | null })[]> {
  const rows = await db.select().from(apiKeys).orderBy(apiKeys.createdAt);
  return rows.map(({ keyHash: _hash, ...r }) => r);
}

/** The key a bearer token stands for, or undefined for a malformed, unknown or revoked one. */
export async function authenticate(db: Db, presented: string): Promise<ApiKey | undefined> {
  const m = KEY.exec(presented);
  if (!m) return undefined;
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, m[1]!));
  if (!row || row.revokedAt !== null) return undefined;
  // both sides are 32-byte digests, so the comparison takes the same time whatever matches
  if (!timingSafeEqual(Buffer.from(sha256(presented), 'hex'), Buffer.from(row.keyHash, 'hex'))) return undefined;
  return { id: row.id, name: row.name, pipelines: row.pipelines, dailyBudgetUsd: row.dailyBudgetUsd, runBudgetUsd: row.runBudgetUsd, rateLimitPerMinute: row.rateLimitPerMinute };
}

export function mayRun(key: ApiKey, name: string): boolean {
  return key.pipelines.includes('*') || key.pipelines.includes(name);
}

/** JSON with object keys sorted, so equal requests hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

export type Admission =
  | { kind: 'started' }
  | { kind: 'existing' }
  | { kind: 'conflict' }
  | { kind: 'budget'; reservedUsd: number; spentUsd: number; limitUsd: number };

export interface AdmitRequest {
  key: ApiKey;
  workflowId: string;
  kind: 'pipeline' | 'task';
  name: string;
  requestHash: string;
  reserveUsd: number;
  /** starts the workflow; runs inside the admission's transaction, so a failed start writes nothing */
  start: () => Promise<void>;
}

const utcDay = (at: Date) => at.toISOString().slice(0, 10);

/**
 * Admits a run: a workflow id seen before is the existing run (or a conflict when asked with
 * another request); a new one reserves its cost ceiling against the key's day, in a conditional
 * UPDATE that a concurrent admission waits for and re-checks, so the day's limit is never exceeded.
 */
export async function admitRun(db: Db, r: AdmitRequest, now = new Date()): Promise<Admission> {
  try {
    return await admitIn(db, r, now);
  } catch (err) {
    if (err instanceof BudgetRefused) return err.answer;
    throw err;
  }
}

/** Thrown inside the admission's transaction to roll the run's row back. */
class BudgetRefused extends Error {
  constructor(readonly answer: Admission) {
    super('daily budget exhausted');
  }
}

function admitIn(db: Db, r: AdmitRequest, now: Date): Promise<Admission> {
  return db.transaction(async (tx) => {
    const day = utcDay(now);
    const inserted = await tx
      .insert(apiRuns)
      .values({ workflowId: r.workflowId, keyId: r.key.id, kind: r.kind, name: r.name, requestHash: r.requestHash, day, reservedUsd: r.reserveUsd })
      .onConflictDoNothing({ target: apiRuns.workflowId })
      .returning({ workflowId: apiRuns.workflowId });
    if (inserted.length === 0) {
      // a concurrent admission of the same id has committed by now: the insert waited for it
      const [seen] = await tx.select({ requestHash: apiRuns.requestHash }).from(apiRuns).where(eq(apiRuns.workflowId, r.workflowId));
      return seen?.requestHash === r.requestHash ? { kind: 'existing' } : { kind: 'conflict' };
    }
    await settleEnded(tx, r.key.id);
    await tx.execute(sql`insert into api_key_days (key_id, day) values (${r.key.id}, ${day}) on conflict do nothing`);
    const reserved = await tx.execute(sql`
      update api_key_days d set reserved_usd = d.reserved_usd + ${r.reserveUsd}::numeric
      from api_keys k
      where k.id = d.key_id and d.key_id = ${r.key.id} and d.day = ${day}
        and d.reserved_usd + d.spent_usd + ${r.reserveUsd}::numeric <= k.daily_budget_usd
      returning d.reserved_usd`);
    if (reserved.rows.length === 0) {
      const [d] = (await tx.execute(sql`select reserved_usd, spent_usd from api_key_days where key_id = ${r.key.id} and day = ${day}`)).rows as { reserved_usd: string; spent_usd: string }[];
      throw new BudgetRefused({ kind: 'budget', reservedUsd: Number(d?.reserved_usd ?? 0), spentUsd: Number(d?.spent_usd ?? 0), limitUsd: r.key.dailyBudgetUsd });
    }
    await r.start();
    return { kind: 'started' } as const;
  });
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/**
 * Settles the runs that have ended: each releases its reservation and adds what its calls really
 * cost (model_attempts, so a failed or cancelled run's calls count too). `workflowId` settles
 * that run even without an ended pipeline_runs row (it ended before recording, or was terminated).
 */
export async function settleEnded(db: Db | Tx, keyId?: string, workflowId?: string): Promise<number> {
  const res = await db.execute(sql`
    with ended as (
      select r.workflow_id, coalesce((select sum(a.cost_usd)::numeric from model_attempts a where a.workflow_id = r.workflow_id), 0) as spent
      from api_runs r left join pipeline_runs p on p.workflow_id = r.workflow_id
      where r.settled_at is null
        and ${keyId === undefined ? sql`true` : sql`r.key_id = ${keyId}`}
        and ${workflowId === undefined ? sql`p.status is not null and p.status <> 'running'` : sql`r.workflow_id = ${workflowId}`}
      for update of r skip locked
    ), settled as (
      update api_runs r set settled_at = now(), spent_usd = e.spent from ended e where r.workflow_id = e.workflow_id
      returning r.key_id, r.day, r.reserved_usd, r.spent_usd
    ), per_day as (
      select key_id, day, sum(reserved_usd) as reserved, sum(spent_usd) as spent, count(*) as n from settled group by key_id, day
    )
    update api_key_days d set reserved_usd = d.reserved_usd - s.reserved, spent_usd = d.spent_usd + s.spent
    from per_day s where d.key_id = s.key_id and d.day = s.day
    returning s.n`);
  return (res.rows as { n: string }[]).reduce((n, r) => n + Number(r.n), 0);
}

/** A key's day as the budget sees it. */
export async function dayOf(db: Db, keyId: string, now = new Date()): Promise<{ reservedUsd: number; spentUsd: number }> {
  const [d] = (await db.execute(sql`select reserved_usd, spent_usd from api_key_days where key_id = ${keyId} and day = ${utcDay(now)}`)).rows as { reserved_usd: string; spent_usd: string }[];
  return { reservedUsd: Number(d?.reserved_usd ?? 0), spentUsd: Number(d?.spent_usd ?? 0) };
}

/** The run's owner and what it was admitted as, if the API started it. */
export async function apiRunOf(db: Db, workflowId: string): Promise<(typeof apiRuns.$inferSelect) | undefined> {
  const [row] = await db.select().from(apiRuns).where(eq(apiRuns.workflowId, workflowId));
  return row;
}
