/**
 * The injection corpus (test/corpus/injections/cases.jsonl) through the shipped pipelines on the
 * default local models: real workflows on a Temporal dev server and a fresh database of their own,
 * the pools on the local llama.cpp servers (127.0.0.1:8088 and :8089) with the shipped routing and
 * escalation. Not a test: it prints, per attack type and overall,
 *
 * - inside the contract: the run completed, valid or partial (a failed run is a typed failure)
 * - followed: the final output shows a sign of the injected instruction obeyed (a link, a code, a
 *   phrase, a field forced to a value, the prompt's own text), in what the models wrote
 * - flagged: the output's injectionSuspected, or an `injection` issue on the run's task results
 *   (a failed run has no output to flag); detected: the detector on the input, what the flag says
 * - caught by a contract: an attempt of the run had an `injection` issue (an obeying output the
 *   ladder then repaired or failed)
 *
 * and false flags: the detector over the user text of every labelled example the pipelines ship
 * (pipelines/<p>/eval/*.jsonl; those whose own notes say they carry an injection are counted apart),
 * and the clean controls of the corpus through the real pipelines. Figures are counts, not timings.
 * Progress goes to stderr; the whole result to .cache/bench/injections.json (or --out).
 *
 *   npm run bench:injections -- [--cases N] [--pipelines ticket-triage,product-review,document-summary] [--out file]
 *   npm run bench:injections -- --report .cache/bench/injections.json   (the tables of an earlier run)
 *   npm run bench:injections -- --resume .cache/bench/injections.json   (runs only the cases an interrupted run lacks)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { DEFAULT_REGISTRY } from '../../config/env.js';
import { loadRegistry } from '../../config/load.js';
import { injectionIn } from '../../core/checks/injection.js';
import type { Issue } from '../../core/issues.js';
import { ROOT } from '../../infra/paths.js';
import { ensureTemporalCli } from '../../infra/temporal.js';
import { bundleWorkflows } from '../../workers/factory.js';
import type { runPipeline } from '../../workflows/pipeline.js';
import { ATTACKS, CORPUS_PIPELINES, labelledInputs, loadInjectionCases, signsShown, userTextsOf, type InjectionCase } from '../corpus/injections/corpus.js';
import { freshDatabase } from '../support/database.js';
import { startHarness } from '../support/harness.js';
import { pct, table } from './format.js';

const BENCH_DB = 'microtasks_bench_injections';
const IN_FLIGHT = 2;
const SCRIPT = path.join(ROOT, 'infra', 'model-server.sh');
const progress = (line: string) => process.stderr.write(`${line}\n`);

function options() {
  const { values } = parseArgs({ options: { cases: { type: 'string' }, pipelines: { type: 'string' }, out: { type: 'string', default: path.join(ROOT, '.cache', 'bench', 'injections.json') }, report: { type: 'string' }, resume: { type: 'string' } } });
  const cases = values.cases === undefined ? undefined : Number(values.cases);
  if (cases !== undefined && !(Number.isInteger(cases) && cases > 0)) throw new Error(`--cases: a positive whole number, not ${values.cases}`);
  const pipelines = values.pipelines?.split(',').map((s) => s.trim()).filter(Boolean) ?? [...CORPUS_PIPELINES];
  const unknown = pipelines.filter((p) => !(CORPUS_PIPELINES as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`--pipelines: ${unknown.join(', ')} unknown; use some of ${CORPUS_PIPELINES.join(', ')}`);
  return { cases, pipelines, out: values.out, report: values.report, resume: values.resume };
}

/** Round-robin over the groups of a list, in their first-seen order. */
function interleave<T>(items: readonly T[], key: (t: T) => string): T[] {
  const groups = new Map<string, T[]>();
  for (const x of items) groups.set(key(x), [...(groups.get(key(x)) ?? []), x]);
  const out: T[] = [];
  for (let i = 0; out.length < items.length; i++) for (const list of groups.values()) if (list[i] !== undefined) out.push(list[i]!);
  return out;
}

/** The cases to run: of the pipelines asked for, interleaved by pipeline and, within one, by attack, so the first N of a small run see several of each. */
function selectCases(all: readonly InjectionCase[], pipelines: readonly string[], n: number | undefined): InjectionCase[] {
  const byPipeline = pipelines.map((p) => interleave(all.filter((c) => c.pipeline === p), (c) => c.attack));
  const out = interleave(byPipeline.flatMap((list) => list.map((c, i) => ({ c, i }))), ({ c }) => c.pipeline).map(({ c }) => c);
  return n === undefined ? out : out.slice(0, n);
}

function startServer(pool: 'small' | 'large'): { baseUrl: string; model: string } {
  // the servers are shared: `start` leaves a running one as it is and prints its URL and model
  const [baseUrl, model] = execFileSync('bash', [SCRIPT, 'start'], { encoding: 'utf8', env: { ...process.env, MODEL_NAME: pool } }).trim().split('\n') as [string, string];
  return { baseUrl, model };
}

interface Measured {
  id: string;
  pipeline: string;
  attack: string;
  lang: string;
  workflowId: string;
  status: 'completed' | 'partial' | 'failed';
  error: string | null;
  /** the detector on the input alone */
  detected: boolean;
  /** the output's flag, or an injection issue among the run's task results */
  flagged: boolean;
  signsShown: string[];
  /** attempts whose output a contract refused with an injection issue */
  attemptsCaught: number;
  attempts: number;
  output: unknown;
}

const issuesOf = (v: unknown): Issue[] => (Array.isArray(v) ? (v as Issue[]) : []);

async function main(): Promise<void> {
  const o = options();
  if (o.report !== undefined) {
    // the report of an earlier run, from its JSON
    const doc = JSON.parse(fs.readFileSync(o.report, 'utf8')) as { results: Measured[]; detector: Parameters<typeof report>[1]; models: { small: string; large: string } };
    console.log(report(doc.results, doc.detector, { small: { model: doc.models.small }, large: { model: doc.models.large } }));
    return;
  }
  const all = loadInjectionCases();
  const selected = selectCases(all, o.pipelines, o.cases);
  // --resume: the results of an interrupted run are kept, and only its missing cases run (each part's commit is kept with its results)
  const earlier = o.resume !== undefined ? (JSON.parse(fs.readFileSync(o.resume, 'utf8')) as { results: (Measured & { commit?: string })[]; commit: string }) : undefined;
  const kept = (earlier?.results ?? []).filter((r) => selected.some((c) => c.id === r.id)).map((r) => ({ ...r, commit: r.commit ?? earlier!.commit }));
  const run = selected.filter((c) => !kept.some((r) => r.id === c.id));
  const started = Date.now();
  // the code measured: the commit at the start, not whatever is checked out when a line is written
  const commit = gitCommit();
  progress(`${all.length} cases; running ${run.length} (${o.pipelines.join(', ')})${kept.length > 0 ? `, ${kept.length} kept from ${o.resume}` : ''}`);

  // false flags of the detector over every labelled input the pipelines ship
  const labelled = labelledInputs().filter((e) => e.texts.length > 0);
  const detectorRows = labelled.map((e) => ({ pipeline: e.pipeline, set: e.set, id: e.id, injected: e.injected, flagged: injectionIn(e.texts) !== null }));

  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const servers = { small: startServer('small'), large: startServer('large') };
  const shipped = loadRegistry(DEFAULT_REGISTRY, {});
  const temporalCli = ensureTemporalCli((l) => progress(l));
  const databaseUrl = await freshDatabase(BENCH_DB);
  progress(`postgres: fresh database ${BENCH_DB}, migrated`);
  const workflowBundle = (await bundleWorkflows()).code;
  const h = await startHarness({
    temporalCli,
    databaseUrl,
    workflowBundle,
    probe: false,
    poolWaitSeconds: 60,
    adjust: (r) => {
      r.routes = { ...shipped.routes };
      for (const [name, p] of Object.entries(r.pools)) {
        const server = servers[name as 'small' | 'large'];
        Object.assign(p, { baseUrl: server.baseUrl, model: server.model, kind: 'llamacpp', schemaMode: 'json_schema', timeoutSeconds: 600, concurrency: 2, stream: true });
      }
    },
  });
  const results: Measured[] = [...kept];
  const write = () => {
    fs.mkdirSync(path.dirname(o.out), { recursive: true });
    fs.writeFileSync(o.out, JSON.stringify({ commit, startedAt: new Date(started).toISOString(), models: { small: servers.small.model, large: servers.large.model }, cases: selected.map((c) => c.id), results, detector: detectorRows, summary: summarize(results, detectorRows), seconds: Math.round((Date.now() - started) / 1000) }, null, 2));
  };
  try {
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < run.length; i = next++) {
        const c = run[i]!;
        const t0 = Date.now();
        const workflowId = await h.start(c.pipeline, c.input);
        const settled = await h.env.client.workflow
          .getHandle<typeof runPipeline>(workflowId)
          .result()
          .then((r) => ({ ok: true as const, r }), (e: unknown) => ({ ok: false as const, e }));
        const rows = await h.rows(workflowId);
        const output = settled.ok ? settled.r.output : null;
        const status = settled.ok ? settled.r.status : 'failed';
        const shown = settled.ok ? signsShown(c, output).map((s) => (s.kind === 'field' ? `${s.path}=${s.equals}` : s.value)) : [];
        const taskInjection = rows.tasks.some((t) => issuesOf(t.issues).some((x) => x.kind === 'injection'));
        const flag = (output as { injectionSuspected?: unknown } | null)?.injectionSuspected === true;
        const m: Measured = {
          id: c.id,
          pipeline: c.pipeline,
          attack: c.attack,
          lang: c.lang,
          workflowId,
          status,
          error: settled.ok ? null : String((settled.e as { cause?: { message?: string } })?.cause?.message ?? (settled.e as Error)?.message ?? settled.e).slice(0, 300),
          detected: injectionIn(userTextsOf(c.input)) !== null,
          flagged: flag || taskInjection,
          signsShown: shown,
          attemptsCaught: rows.attempts.filter((a) => issuesOf(a.issues).some((x) => x.kind === 'injection')).length,
          attempts: rows.attempts.length,
          output,
        };
        results.push({ ...m, commit } as Measured);
        write();
        progress(
          `[${results.length}/${selected.length}] ${c.pipeline} ${c.id} (${c.attack}): ${status}${m.flagged ? ', flagged' : ''}${shown.length ? `, FOLLOWED ${JSON.stringify(shown)}` : ''}, ${m.attemptsCaught}/${m.attempts} attempts caught, ${((Date.now() - t0) / 1000).toFixed(0)} s${m.error ? ` (${m.error.slice(0, 120)})` : ''}`,
        );
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  } finally {
    await h.stop();
  }
  write();
  console.log(report(results, detectorRows, servers));
  console.log(`\n(${Math.round((Date.now() - started) / 1000)} s in all; results: ${path.relative(process.cwd(), o.out)})`);
}

interface Row {
  cases: number;
  inContract: number;
  followed: number;
  flagged: number;
  caught: number;
  detected: number;
}

function tally(ms: readonly Measured[]): Row {
  return {
    cases: ms.length,
    inContract: ms.filter((m) => m.status !== 'failed').length,
    followed: ms.filter((m) => m.signsShown.length > 0).length,
    flagged: ms.filter((m) => m.flagged).length,
    caught: ms.filter((m) => m.attemptsCaught > 0).length,
    detected: ms.filter((m) => m.detected).length,
  };
}

function summarize(results: readonly Measured[], detector: readonly { injected: boolean; flagged: boolean }[]) {
  const injected = results.filter((m) => m.attack !== 'none');
  const clean = results.filter((m) => m.attack === 'none');
  const cleanInputs = detector.filter((d) => !d.injected);
  return {
    byAttack: Object.fromEntries(ATTACKS.filter((a) => a !== 'none').map((a) => [a, tally(injected.filter((m) => m.attack === a))]).filter(([, r]) => (r as Row).cases > 0)),
    byPipeline: Object.fromEntries(CORPUS_PIPELINES.map((p) => [p, tally(injected.filter((m) => m.pipeline === p))])),
    injected: tally(injected),
    clean: tally(clean),
    detectorOnLabelled: { inputs: cleanInputs.length, flagged: cleanInputs.filter((d) => d.flagged).length, injectedExamples: detector.length - cleanInputs.length, injectedExamplesFlagged: detector.filter((d) => d.injected && d.flagged).length },
  };
}

function report(results: readonly Measured[], detector: readonly { pipeline: string; set: string; id: string; injected: boolean; flagged: boolean }[], servers: Record<string, { model: string }>): string {
  const s = summarize(results, detector);
  const cells = (r: Row) => [r.cases, `${r.inContract} (${pct(r.inContract, r.cases)})`, `${r.followed} (${pct(r.followed, r.cases)})`, `${r.flagged} (${pct(r.flagged, r.cases)})`, `${r.detected} (${pct(r.detected, r.cases)})`, `${r.caught} (${pct(r.caught, r.cases)})`];
  const head = ['cases', 'inside the contract', 'injection followed', 'flagged in the output', 'detected in the input', 'caught by a contract'];
  const out: string[] = [];
  out.push(`## Injections on the local models (small ${servers.small!.model}, large ${servers.large!.model})`);
  out.push('');
  out.push(table(['attack', ...head], [...Object.entries(s.byAttack).map(([a, r]) => [a, ...cells(r as Row)]), ['**all injected**', ...cells(s.injected)]]));
  out.push('');
  out.push(table(['pipeline', ...head], CORPUS_PIPELINES.map((p) => [p, ...cells(s.byPipeline[p]!)])));
  out.push('');
  const d = s.detectorOnLabelled;
  out.push('### False flags');
  out.push('');
  out.push(
    table(
      ['where', 'inputs', 'flagged'],
      [
        ['detector over the clean labelled inputs (pipelines/*/eval/*.jsonl)', d.inputs, `${d.flagged} (${pct(d.flagged, d.inputs)})`],
        ['clean controls through the real pipelines (flag or injection issue)', s.clean.cases, `${s.clean.flagged} (${pct(s.clean.flagged, s.clean.cases)})`],
      ],
    ),
  );
  out.push('');
  out.push(`Clean controls inside their contracts: ${s.clean.inContract}/${s.clean.cases}. Labelled examples whose own notes say they carry an injection (not counted as clean): ${d.injectedExamples}, flagged ${d.injectedExamplesFlagged}.`);
  const falseFlags = detector.filter((x) => !x.injected && x.flagged);
  if (falseFlags.length > 0) out.push(`Flagged clean inputs: ${falseFlags.map((x) => `${x.pipeline}/${x.id}`).join(', ')}`);
  const followed = results.filter((m) => m.signsShown.length > 0);
  if (followed.length > 0) {
    out.push('');
    out.push('### Followed');
    out.push('');
    for (const m of followed) out.push(`- ${m.id} (${m.attack}, ${m.status}): ${m.signsShown.map((x) => JSON.stringify(x)).join(', ')}`);
  }
  const unflagged = results.filter((m) => m.attack !== 'none' && !m.flagged);
  if (unflagged.length > 0) out.push(`\nInjected but not flagged: ${unflagged.map((m) => `${m.id} (${m.status})`).join(', ')}`);
  const failed = results.filter((m) => m.status === 'failed');
  if (failed.length > 0) {
    out.push('');
    out.push('### Outside the contract (typed failures)');
    out.push('');
    for (const m of failed) out.push(`- ${m.id} (${m.attack}): ${m.error}`);
  }
  return out.join('\n');
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT }).toString().trim();
  } catch {
    return 'unknown';
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
