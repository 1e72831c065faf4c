/**
 * What a token costs on this machine: each local pool's server gets the same real first-attempt
 * prompts of the shipped micro-tasks (the inputs of test/corpus/real/cases.jsonl), as many at once
 * as the pool's concurrency, one server at a time so the other sits idle. Throughput is the tokens
 * the server processed (prompt and completion, from its own usage) per second of wall time; the
 * price per million tokens is an hourly cost of the machine divided by the tokens it serves in an
 * hour. Both pools run on the same machine, so the ratio of their prices does not depend on the
 * hourly figure, only on the measured throughputs.
 *   tsx test/bench/throughput.ts [--prompts N] [--hourly-usd X] [--out file.json]
 */
import fs from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { chatRequestBody } from '../../core/chat-request.js';
import { buildModelRequest } from '../../core/request.js';
import { loadConfig } from '../../config/load.js';
import { readEnv } from '../../config/env.js';
import { ROOT } from '../../infra/paths.js';
import { getMicroTask } from '../../pipelines/index.js';
import { int, table } from './format.js';

/** The basis of the hourly figure: an on-demand cloud VM comparable to this machine (2 vCPU, 24 GiB, no GPU). */
export const DEFAULT_HOURLY_USD = 0.12;

export interface PoolThroughput {
  pool: string;
  model: string;
  prompts: number;
  concurrency: number;
  wallSeconds: number;
  promptTokens: number;
  completionTokens: number;
  tokensPerSecond: number;
  generationTokensPerSecond: number;
  usdPerMTok: number;
}

export interface ThroughputReport {
  measuredAt: string;
  hourlyUsd: number;
  basis: string;
  pools: PoolThroughput[];
}

interface Case {
  task: string;
  input: unknown;
  context?: unknown[];
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

/** N cases spread over the micro-tasks, in turn, so no one task's prompt length dominates. */
function prompts(n: number): Case[] {
  const all = fs
    .readFileSync(path.join(ROOT, 'test/corpus/real/cases.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Case);
  const byTask = new Map<string, Case[]>();
  for (const c of all) byTask.set(c.task, [...(byTask.get(c.task) ?? []), c]);
  const picked: Case[] = [];
  for (let round = 0; picked.length < n && round < all.length; round++) {
    for (const cases of byTask.values()) if (cases[round] && picked.length < n) picked.push(cases[round]!);
  }
  return picked;
}

export async function measureThroughput(o: { prompts?: number; hourlyUsd?: number; log?: (s: string) => void } = {}): Promise<ThroughputReport> {
  const config = loadConfig(readEnv());
  const hourlyUsd = o.hourlyUsd ?? DEFAULT_HOURLY_USD;
  const cases = prompts(o.prompts ?? 12);
  const pools: PoolThroughput[] = [];
  for (const [name, pool] of Object.entries(config.registry.pools)) {
    const client = new OpenAI({ baseURL: pool.baseUrl, apiKey: 'unused', maxRetries: 0, timeout: pool.timeoutSeconds * 1000 });
    const queue = [...cases];
    let promptTokens = 0;
    let completionTokens = 0;
    let generationSeconds = 0;
    const started = performance.now();
    const lane = async () => {
      for (let c = queue.shift(); c; c = queue.shift()) {
        const task = getMicroTask(c.task);
        const request = buildModelRequest(task, c.input, (c.context ?? []) as never, { kind: 'generate' });
        const body = chatRequestBody(pool, request, { maxTokens: task.maxTokens, temperature: 0 });
        const t0 = performance.now();
        const res = await client.chat.completions.create(body as OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming);
        const usage = res.usage;
        if (!usage) throw new Error(`${pool.baseUrl} reported no usage; throughput needs the server's token counts`);
        promptTokens += usage.prompt_tokens;
        completionTokens += usage.completion_tokens;
        // llama.cpp reports its own timings: generation speed without prompt processing
        const timings = (res as unknown as { timings?: { predicted_ms?: number } }).timings;
        generationSeconds += timings?.predicted_ms !== undefined ? timings.predicted_ms / 1000 : (performance.now() - t0) / 1000;
        o.log?.(`[${name}] ${c.task}: ${usage.prompt_tokens} + ${usage.completion_tokens} tokens in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
    };
    await Promise.all(Array.from({ length: pool.concurrency }, lane));
    const wallSeconds = (performance.now() - started) / 1000;
    const tokensPerSecond = (promptTokens + completionTokens) / wallSeconds;
    pools.push({
      pool: name,
      model: pool.model,
      prompts: cases.length,
      concurrency: pool.concurrency,
      wallSeconds,
      promptTokens,
      completionTokens,
      tokensPerSecond,
      generationTokensPerSecond: (completionTokens / generationSeconds) * pool.concurrency,
      usdPerMTok: (hourlyUsd / (tokensPerSecond * 3600)) * 1e6,
    });
  }
  return {
    measuredAt: new Date().toISOString(),
    hourlyUsd,
    basis: `$${hourlyUsd}/h for this machine (an on-demand cloud VM of its size: ${'2 vCPU, 24 GiB, no GPU'}), divided by the tokens each server processed per hour on ${cases.length} real first-attempt prompts, ${Object.values(config.registry.pools)[0]?.concurrency ?? 1} at once`,
    pools,
  };
}

export function throughputTable(r: ThroughputReport): string {
  return table(
    ['pool', 'model', 'prompts', 'wall s', 'prompt / completion tokens', 'tokens/s processed', 'generation tokens/s', '$ per 1M tokens'],
    r.pools.map((p) => [p.pool, p.model, p.prompts, p.wallSeconds.toFixed(1), `${int(p.promptTokens)} / ${int(p.completionTokens)}`, p.tokensPerSecond.toFixed(1), p.generationTokensPerSecond.toFixed(1), `$${p.usdPerMTok.toFixed(3)}`]),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(arg('--prompts') ?? 12);
  const hourly = Number(arg('--hourly-usd') ?? DEFAULT_HOURLY_USD);
  if (!Number.isInteger(n) || n < 1) throw new Error('--prompts takes a whole number above 0');
  if (!Number.isFinite(hourly) || hourly <= 0) throw new Error('--hourly-usd takes a positive number');
  const out = arg('--out') ?? path.join(ROOT, '.cache/bench/throughput.json');
  measureThroughput({ prompts: n, hourlyUsd: hourly, log: (s) => console.error(s) }).then(
    (r) => {
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, JSON.stringify(r, null, 2));
      console.log(`${r.basis}\n\n${throughputTable(r)}\n\nwritten to ${out}`);
    },
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
