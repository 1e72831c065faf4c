/**
 * Evaluation on a labelled dataset.
 *   tsx client/eval.ts <dataset.jsonl> --configs ladder,routed,large-only [--limit N | --sample N] [--concurrency N] [--id EVAL] [--out report.json] [--html report.html] [--compare EARLIER] [--min-accuracy X] [--max-silent-errors Y] [--configs-file my.json]
 *       runs every example under each configuration as real workflows on the stack (started if down),
 *       records each in eval_items, and prints accuracy, silent errors and cost side by side;
 *       the same --id again finishes what is missing and repeats nothing
 *   tsx client/eval.ts <dataset.jsonl> --gold-as-model   correct answers the contracts reject (exit 1 if any not marked knownDefect,
 *                                                       or a knownDefect row now accepted), per labelled step
 *   tsx client/eval.ts <dataset.jsonl> --mutants [--min-caught X]   the share of typical mistakes each labelled step's contracts
 *                                                       catch (exit 1 where one is under X)
 *   add --json for the calibration figures as JSON
 * --limit N takes the first N examples; --sample N takes N spread over the file with the held-out
 * part in its share.
 * The pipeline defaults to the one whose folder holds the dataset (pipelines/<name>/eval/).
 */
import fs from 'node:fs';
import path from 'node:path';
import { labelledSteps, type LabelledStep, type StepDefinition } from '../core/contract.js';
import { calibrationExamples, goldAsModel, runMutants, type CalibrationExample } from '../core/eval/calibrate.js';
import { DatasetError, parseDataset, sampleExamples, type Example } from '../core/eval/dataset.js';
import { datasetSchemas, examplesOfStep } from '../core/eval/labels.js';
import { formatIssue } from '../core/issues.js';
import { getPipeline, pipelines } from '../pipelines/index.js';
import { ConfigsError, loadConfigs, runConfigurations } from './eval-run.js';

class UsageError extends Error {}

function parseArgs(argv: string[]) {
  const positional: string[] = [];
  let pipeline: string | undefined;
  const flags = new Set<string>();
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--pipeline') pipeline = argv[++i];
    else if (['--gold-as-model', '--mutants', '--json'].includes(a)) flags.add(a);
    else if (['--configs', '--limit', '--sample', '--min-caught', '--concurrency', '--id', '--out', '--html', '--configs-file', '--min-accuracy', '--max-silent-errors', '--compare'].includes(a)) {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      values[a.slice(2)] = v;
    } else if (a.startsWith('--')) throw new UsageError(`unknown option ${a}; known: --pipeline, --configs, --configs-file, --limit, --sample, --min-caught, --concurrency, --id, --out, --html, --compare, --min-accuracy, --max-silent-errors, --gold-as-model, --mutants, --json`);
    else positional.push(a);
  }
  const [file] = positional;
  const run = values.configs !== undefined;
  if (!file || (!flags.has('--gold-as-model') && !flags.has('--mutants') && !run)) {
    throw new UsageError('usage: eval <dataset.jsonl> [--pipeline <name>] (--configs a,b [--limit N] [--concurrency N] [--id EVAL] [--out f.json] | --gold-as-model | --mutants [--json])');
  }
  const inferred = /pipelines[/\\]([^/\\]+)[/\\]eval[/\\]/.exec(path.resolve(file))?.[1];
  const name = pipeline ?? inferred;
  if (!name) throw new UsageError(`cannot tell the pipeline of ${file}; pass --pipeline (known: ${Object.keys(pipelines).join(', ')})`);
  if (!(name in pipelines)) throw new UsageError(`unknown pipeline "${name}"; known: ${Object.keys(pipelines).join(', ')}`);
  const int = (k: string, d: number) => {
    if (values[k] === undefined) return d;
    const n = Number(values[k]);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${k} takes a whole number above 0 (got ${JSON.stringify(values[k])})`);
    return n;
  };
  if (values.id !== undefined && !/^[A-Za-z0-9_.-]{1,60}$/.test(values.id)) throw new UsageError('--id takes letters, digits, ".", "_" and "-"');
  const share = (k: string) => {
    if (values[k] === undefined) return undefined;
    const n = Number(values[k]);
    if (!Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`--${k} takes a share from 0 to 1 (got ${JSON.stringify(values[k])})`);
    return n;
  };
  return {
    file,
    pipeline: name,
    gold: flags.has('--gold-as-model'),
    mutants: flags.has('--mutants'),
    json: flags.has('--json'),
    configs: run ? values.configs!.split(',').filter(Boolean) : [],
    configsFile: values['configs-file'],
    limit: int('limit', Number.MAX_SAFE_INTEGER),
    sample: values.sample === undefined ? undefined : int('sample', 1),
    concurrency: int('concurrency', 2),
    id: values.id,
    out: values.out,
    html: values.html,
    compare: values.compare,
    minCaught: share('min-caught'),
    gate: { ...(share('min-accuracy') !== undefined ? { minAccuracy: share('min-accuracy')! } : {}), ...(share('max-silent-errors') !== undefined ? { maxSilentErrors: share('max-silent-errors')! } : {}) },
  };
}

const pct = (a: number, b: number) => (b === 0 ? '-' : `${((100 * a) / b).toFixed(0)}% (${a}/${b})`);

interface StepCalibration {
  entry: LabelledStep<any>;
  step: StepDefinition<any>;
  /** the examples whose label of this step holds every field of its comparators */
  whole: Example[];
  calibration: CalibrationExample[];
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const pipeline = getPipeline(args.pipeline);
  const evaluation = pipeline.evaluation;
  if (!evaluation) throw new UsageError(`pipeline ${pipeline.name} declares no evaluation (which steps its labels are for, and the comparators)`);
  const entries = labelledSteps(evaluation);
  for (const e of entries) {
    if (!pipeline.steps.some((s) => s.id === e.step)) throw new UsageError(`pipeline ${pipeline.name}: its evaluation names step "${e.step}", which it does not have`);
  }
  let text: string;
  try {
    text = fs.readFileSync(args.file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${args.file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const examples = parseDataset(args.file, text, datasetSchemas(pipeline));
  // calibration feeds each labelled step's own contract, so a label must hold every field of its comparators
  const steps: StepCalibration[] = entries.map((entry) => {
    const step = pipeline.steps.find((s) => s.id === entry.step)!;
    const fields = Object.keys(entry.comparators);
    const whole = examplesOfStep(evaluation, entry.step, examples).filter((e) => fields.every((f) => f in e.expected));
    return { entry, step, whole, calibration: calibrationExamples(pipeline.input, step, whole, entry.upstream, entry.unlabelled) };
  });
  const stepReports: Record<string, unknown>[] = steps.map((s) => ({ step: s.entry.step, task: s.step.task.name, wholeLabels: s.whole.length }));
  const report: Record<string, unknown> = { dataset: args.file, pipeline: pipeline.name, examples: examples.length, steps: stepReports };
  // the one-step form's report, as it was before labels could be per step
  if (steps.length === 1) Object.assign(report, { task: steps[0]!.step.task.name, wholeLabels: steps[0]!.whole.length });
  let status = 0;
  if (args.gold) {
    const known = new Map(examples.filter((e) => e.knownDefect !== undefined).map((e) => [e.id, e.knownDefect!]));
    const rejected = new Set<string>();
    let unknown = 0;
    for (const [i, s] of steps.entries()) {
      const defects = goldAsModel(s.step.task, s.calibration, s.entry.comparators);
      for (const d of defects) rejected.add(d.id);
      const mine = defects.filter((d) => !known.has(d.id));
      unknown += mine.length;
      const knownHere = defects.length - mine.length;
      stepReports[i]!.goldRejected = defects.map((d) => ({ ...d, ...(known.has(d.id) ? { knownDefect: known.get(d.id) } : {}) }));
      if (!args.json) {
        console.log(`gold as model: ${s.step.task.name} v${s.step.task.version} accepts ${pct(s.calibration.length - defects.length, s.calibration.length)} of the correct answers${knownHere > 0 ? ` (${knownHere} rejection(s) are known defects)` : ''}`);
        for (const d of defects) {
          const note = known.get(d.id);
          for (const issue of d.issues) console.log(`  ${d.id}: ${formatIssue(issue)}${note ? `  [known defect: ${note}]` : ''}`);
        }
      }
    }
    // a known defect whose answer every step accepts now: the note would outlive the fix
    const stale = [...known.keys()].filter((id) => !rejected.has(id) && steps.some((s) => s.whole.some((e) => e.id === id)));
    if (!args.json) for (const id of stale) console.log(`  ${id}: accepted now, but marked as a known defect: remove its knownDefect note`);
    report.staleKnownDefects = stale;
    if (steps.length === 1) report.goldRejected = stepReports[0]!.goldRejected;
    if (unknown > 0 || stale.length > 0) status = 1;
  }
  if (args.mutants) {
    for (const [i, s] of steps.entries()) {
      const outcomes = runMutants(s.step.task, s.calibration);
      const byMistake = new Map<string, { made: number; caught: number }>();
      const byCheck = new Map<string, number>();
      for (const o of outcomes) {
        const m = byMistake.get(o.mistake) ?? { made: 0, caught: 0 };
        m.made++;
        if (o.caught) m.caught++;
        byMistake.set(o.mistake, m);
        for (const c of o.by) byCheck.set(c, (byCheck.get(c) ?? 0) + 1);
      }
      stepReports[i]!.mutants = { made: outcomes.length, caught: outcomes.filter((o) => o.caught).length, byMistake: Object.fromEntries(byMistake), byCheck: Object.fromEntries(byCheck), missed: outcomes.filter((o) => !o.caught) };
      if (!args.json) {
        console.log(`\nmutants: the contracts of ${s.step.task.name} catch ${pct(outcomes.filter((o) => o.caught).length, outcomes.length)}`);
        console.log('| mistake | caught |\n| --- | ---: |');
        for (const [k, v] of byMistake) console.log(`| ${k} | ${pct(v.caught, v.made)} |`);
        console.log(`caught by: ${[...byCheck].map(([k, v]) => `${k} ${v}`).join(', ')}`);
        console.log('missed (valid-looking and wrong: what accuracy has to measure):');
        for (const o of outcomes.filter((x) => !x.caught)) console.log(`  ${o.id} ${o.mistake} ${o.path} = ${JSON.stringify(o.value)}`);
      }
      // each labelled step's contracts are held to the floor on their own
      const caught = outcomes.length === 0 ? 1 : outcomes.filter((o) => o.caught).length / outcomes.length;
      if (args.minCaught !== undefined && caught < args.minCaught) {
        console.error(`gate: the contracts of ${s.step.task.name} catch ${(100 * caught).toFixed(1)}% of the mutants, under --min-caught ${args.minCaught}`);
        status = 1;
      }
    }
    if (steps.length === 1) report.mutants = stepReports[0]!.mutants;
  }
  if (args.json) console.log(JSON.stringify(report, null, 2));
  if (args.configs.length > 0) {
    const configs = loadConfigs(args.configs, args.configsFile);
    status = Math.max(status, await runConfigurations({ ...args, pipeline, evaluation, examples: args.sample !== undefined ? sampleExamples(examples, args.sample) : examples.slice(0, args.limit), configs }));
  }
  return status;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof UsageError || err instanceof DatasetError || err instanceof ConfigsError ? err.message : err);
    process.exit(2);
  },
);
