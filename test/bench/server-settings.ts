/**
 * Server settings for the two local model servers sharing this machine's cores, measured:
 * start-up, prompt and generation tokens/s and time to first token for each model alone and for
 * both under load at once, then whole product-review and ticket-triage pipelines at once through
 * the real workflows. Each setting runs on its own ports, so a running stack is left alone.
 *   tsx test/bench/server-settings.ts [--settings name,name] [--pipelines N]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { z } from 'zod';
import { ROOT } from '../../infra/paths.js';
import { ensureTemporalCli } from '../../infra/temporal.js';
import { extractFeatures } from '../../pipelines/product-review/extract-features.js';
import { customerNotesBlock, productBlock, ProductReviewInput, specSheetBlock } from '../../pipelines/product-review/product.js';
import { writeAdvice } from '../../pipelines/product-review/write-advice.js';
import { bundleWorkflows } from '../../workers/factory.js';
import { freshDatabase } from '../support/database.js';
import { startHarness } from '../support/harness.js';

interface Setting {
  name: string;
  /** prompt-processing threads and generation threads per server */
  threads: number;
  genThreads: number;
  parallel: number;
  ctx: number;
  batch: number;
}

const SETTINGS: Setting[] = [
  { name: 't2g1-p2', threads: 2, genThreads: 1, parallel: 2, ctx: 8192, batch: 512 },
  { name: 't1g1-p2', threads: 1, genThreads: 1, parallel: 2, ctx: 8192, batch: 512 },
  { name: 't2g2-p2', threads: 2, genThreads: 2, parallel: 2, ctx: 8192, batch: 512 },
  { name: 't2g1-p1', threads: 2, genThreads: 1, parallel: 1, ctx: 8192, batch: 512 },
  { name: 't2g1-p2-b128', threads: 2, genThreads: 1, parallel: 2, ctx: 8192, batch: 128 },
];
const PORTS = { small: 8188, large: 8189 } as const;
const SCRIPT = path.join(ROOT, 'infra', 'model-server.sh');

function parseArgs(argv: string[]): { settings: Setting[]; pipelines: number } {
  let settings = SETTINGS;
  let pipelines = 2;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--settings') {
      const names = (argv[++i] ?? '').split(',').filter(Boolean);
      settings = names.map((n) => SETTINGS.find((s) => s.name === n) ?? fail(`unknown setting ${JSON.stringify(n)}; one of ${SETTINGS.map((s) => s.name).join(', ')}`));
    } else if (a === '--pipelines') pipelines = Number(argv[++i]);
    else fail(`unknown argument ${JSON.stringify(a)}; usage: server-settings.ts [--settings a,b] [--pipelines N]`);
  }
  if (!Number.isInteger(pipelines) || pipelines < 0) fail('--pipelines takes a whole number');
  return { settings, pipelines };
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

function server(cmd: 'start' | 'stop', pool: 'small' | 'large', s: Setting): void {
  execFileSync('bash', [SCRIPT, cmd], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      MODEL_NAME: pool,
      MODEL_PORT: String(PORTS[pool]),
      MODEL_THREADS: String(s.threads),
      MODEL_GEN_THREADS: String(s.genThreads),
      MODEL_PARALLEL: String(s.parallel),
      MODEL_CTX: String(s.ctx),
      MODEL_BATCH: String(s.batch),
    },
  });
}

const sample = ProductReviewInput.parse(JSON.parse(fs.readFileSync(path.join(ROOT, 'pipelines/product-review/samples/wireless-headphones.json'), 'utf8')));

/** Two real prompts of the shipped pipeline: a short-answer and a long-answer one, each with its JSON schema. */
function requests(nonce: number): { messages: { role: string; content: string }[]; schema: unknown; maxTokens: number }[] {
  const context = [productBlock(sample), specSheetBlock(sample), customerNotesBlock(sample)];
  const features = extractFeatures.prompt({ productName: sample.name, maxFeatures: 4 }, context.slice(0, 2));
  const advice = writeAdvice.prompt({ productName: sample.name, features: Object.keys(sample.specs).slice(0, 4), scenarios: ['Train commute', 'Long flights'] }, context);
  // a nonce up front defeats the server's prompt cache, so every call processes its whole prompt
  return [
    { messages: [{ role: 'system', content: `[run ${nonce}] ${features.system}` }, { role: 'user', content: features.user }], schema: z.toJSONSchema(extractFeatures.output), maxTokens: 300 },
    { messages: [{ role: 'system', content: `[run ${nonce}] ${advice.system}` }, { role: 'user', content: advice.user }], schema: z.toJSONSchema(writeAdvice.output), maxTokens: 300 },
  ];
}

interface CallFigures {
  promptTokens: number;
  promptMs: number;
  genTokens: number;
  genMs: number;
  ttftMs: number;
  wallMs: number;
}

async function call(pool: 'small' | 'large', r: ReturnType<typeof requests>[number]): Promise<CallFigures> {
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${PORTS[pool]}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      messages: r.messages,
      max_tokens: r.maxTokens,
      temperature: 0,
      stream: true,
      response_format: { type: 'json_schema', json_schema: { name: 'bench', schema: r.schema, strict: true } },
    }),
  });
  if (!res.ok || !res.body) throw new Error(`${pool}: HTTP ${res.status}`);
  let ttft = -1;
  let timings: { prompt_n: number; prompt_ms: number; predicted_n: number; predicted_ms: number } | undefined;
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (!line.startsWith('data:') || line === 'data: [DONE]') continue;
      const ev = JSON.parse(line.slice(5)) as { choices?: { delta?: { content?: string } }[]; timings?: typeof timings };
      if (ttft < 0 && ev.choices?.[0]?.delta?.content) ttft = performance.now() - t0;
      if (ev.timings) timings = ev.timings;
    }
  }
  if (!timings) throw new Error(`${pool}: the stream carried no timings`);
  return { promptTokens: timings.prompt_n, promptMs: timings.prompt_ms, genTokens: timings.predicted_n, genMs: timings.predicted_ms, ttftMs: ttft, wallMs: performance.now() - t0 };
}

function summarize(calls: CallFigures[]): { pp: number; gen: number; ttft: number } {
  const sum = (f: (c: CallFigures) => number) => calls.reduce((a, c) => a + f(c), 0);
  const ttfts = calls.map((c) => c.ttftMs).sort((a, b) => a - b);
  return { pp: (sum((c) => c.promptTokens) / sum((c) => c.promptMs)) * 1000, gen: (sum((c) => c.genTokens) / sum((c) => c.genMs)) * 1000, ttft: ttfts[Math.floor(ttfts.length / 2)] ?? 0 };
}

async function main(): Promise<void> {
  const { settings, pipelines } = parseArgs(process.argv.slice(2));
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const temporalCli = pipelines > 0 ? ensureTemporalCli() : '';
  const workflowBundle = pipelines > 0 ? (await bundleWorkflows()).code : '';
  const out: string[] = [];
  let nonce = Date.now();
  for (const s of settings) {
    const startup: Record<string, number> = {};
    for (const pool of ['small', 'large'] as const) {
      server('stop', pool, s);
      const t0 = performance.now();
      server('start', pool, s);
      startup[pool] = (performance.now() - t0) / 1000;
    }
    const alone: Record<string, ReturnType<typeof summarize>> = {};
    for (const pool of ['small', 'large'] as const) {
      await call(pool, requests(nonce++)[0]!); // warm-up
      const figures: CallFigures[] = [];
      for (const r of requests(nonce++)) figures.push(await call(pool, r));
      alone[pool] = summarize(figures);
    }
    // both servers at once, each with as many requests in flight as it has slots (two rounds)
    const loadT0 = performance.now();
    const loaded: Record<'small' | 'large', CallFigures[]> = { small: [], large: [] };
    await Promise.all(
      (['small', 'large'] as const).flatMap((pool) =>
        Array.from({ length: s.parallel }, async () => {
          for (const r of requests(nonce++)) loaded[pool].push(await call(pool, r));
        }),
      ),
    );
    const loadS = (performance.now() - loadT0) / 1000;
    const genTotal = [...loaded.small, ...loaded.large].reduce((a, c) => a + c.genTokens, 0);
    const underLoad = { small: summarize(loaded.small), large: summarize(loaded.large) };

    let pipelineFigure = '-';
    if (pipelines > 0) {
      const databaseUrl = await freshDatabase(`microtasks_bench_settings_${s.name.replace(/-/g, '_')}`);
      const h = await startHarness({
        temporalCli,
        databaseUrl,
        workflowBundle,
        probe: false,
        // calls queue behind the slots; a queued call is not a pool without workers
        poolWaitSeconds: 900,
        adjust: (r) => {
          for (const [name, p] of Object.entries(r.pools)) {
            const pool = name as 'small' | 'large';
            Object.assign(p, { baseUrl: `http://127.0.0.1:${PORTS[pool]}/v1`, model: pool, kind: 'llamacpp', schemaMode: 'json_schema', timeoutSeconds: 600, concurrency: s.parallel, stream: true });
          }
        },
      });
      try {
        const inputs = ['product-review/samples/wireless-headphones.json', 'ticket-triage/samples/billing-double-charge.json'].map((f) => ({
          pipeline: f.split('/')[0]!,
          input: JSON.parse(fs.readFileSync(path.join(ROOT, 'pipelines', f), 'utf8')) as unknown,
        }));
        const t0 = performance.now();
        const ids = await Promise.all(Array.from({ length: pipelines }, (_, i) => inputs[i % inputs.length]!).map((x) => h.start(x.pipeline, x.input)));
        const statuses = await Promise.all(ids.map((id) => h.env.client.workflow.getHandle(id).result().then((r) => r.status, () => 'failed')));
        const secs = (performance.now() - t0) / 1000;
        const calls = await h.pgPool.query(`select count(*)::int as n, coalesce(sum(completion_tokens), 0)::int as ct from model_attempts`);
        const { n, ct } = calls.rows[0] as { n: number; ct: number };
        pipelineFigure = `${((pipelines / secs) * 60).toFixed(2)}/min (${statuses.filter((x) => x !== 'failed').length}/${pipelines} ended with a result, ${n} calls, ${(ct / secs).toFixed(1)} completion tok/s, ${secs.toFixed(0)} s)`;
      } finally {
        await h.stop();
      }
    }
    for (const pool of ['small', 'large'] as const) server('stop', pool, s);
    const f = (n: number) => n.toFixed(1);
    const line = `| ${s.name} | ${s.threads}/${s.genThreads} | ${s.parallel} | ${s.ctx} | ${s.batch} | ${f(startup.small!)} / ${f(startup.large!)} | ${f(alone.small!.pp)} / ${f(alone.small!.gen)} / ${alone.small!.ttft.toFixed(0)} | ${f(alone.large!.pp)} / ${f(alone.large!.gen)} / ${alone.large!.ttft.toFixed(0)} | ${f(underLoad.small.gen)} / ${f(underLoad.large.gen)} / ${underLoad.small.ttft.toFixed(0)} / ${underLoad.large.ttft.toFixed(0)} | ${f(genTotal / loadS)} | ${pipelineFigure} |`;
    console.error(line);
    out.push(line);
  }
  console.log('| setting | threads prompt/gen | slots | ctx per slot | batch | start-up s small / large | small alone: prompt tok/s / gen tok/s / ttft ms | large alone: same | both loaded: gen tok/s per request small / large, ttft ms small / large | both loaded: generated tok/s overall | whole pipelines at once |');
  console.log('| --- | --- | ---: | ---: | ---: | --- | --- | --- | --- | ---: | --- |');
  for (const l of out) console.log(l);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
