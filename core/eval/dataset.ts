/**
 * Labelled datasets: JSONL, one example a line, `{"id", "input", "expected", "notes"?}`. The input
 * is a pipeline input; `expected` the whole expected output of the labelled step or only some of
 * its fields, or, where a pipeline labels several steps, an object of those per step id. A
 * malformed line is an error naming the line and the field, and a file with any is refused
 * whole, so nothing is half-run.
 */
import { z } from 'zod';

export interface Example {
  id: string;
  input: unknown;
  expected: Record<string, unknown>;
  notes?: string;
  /** kept out of every prompt, example and tuning; reported on its own */
  heldOut: boolean;
  /**
   * why the contracts cannot accept this correct answer yet (a schema with no field for it, say):
   * calibration still lists it, and fails once it is accepted, so the note cannot outlive the defect
   */
  knownDefect?: string;
  line: number;
}

const Row = z.strictObject({
  id: z.string().min(1).max(120),
  input: z.unknown(),
  expected: z.record(z.string(), z.unknown()),
  notes: z.string().optional(),
  split: z.enum(['dev', 'held-out']).default('dev'),
  knownDefect: z.string().min(10).optional(),
});

export class DatasetError extends Error {
  override name = 'DatasetError';
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file}: ${problems.length} problem(s), nothing was run:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

export interface DatasetSchemas {
  /** the pipeline's input schema */
  input: z.ZodType<unknown>;
  /** the fields an expected output may label, when the labels are of one step */
  fields?: readonly string[];
  /** when the labels are per step (`expected` holds an object per step id): the fields each step may label */
  steps?: Readonly<Record<string, readonly string[]>>;
}

/** What is wrong with one example's `expected` under the schemas, as `expected.<path>: why` lines. */
function labelProblems(expected: Record<string, unknown>, schemas: DatasetSchemas): string[] {
  if (schemas.steps === undefined) {
    const fields = schemas.fields ?? [];
    return Object.keys(expected)
      .filter((key) => !fields.includes(key))
      .map((key) => `expected.${key}: not a field of the output (fields: ${fields.join(', ')})`);
  }
  const steps = schemas.steps;
  const names = Object.keys(steps);
  if (Object.keys(expected).length === 0) return [`expected: labels none of the labelled steps (${names.join(', ')})`];
  return Object.entries(expected).flatMap(([step, label]) => {
    if (!Object.hasOwn(steps, step)) return [`expected.${step}: not a labelled step (labels are per step: ${names.join(', ')})`];
    if (label === null || typeof label !== 'object' || Array.isArray(label)) return [`expected.${step}: the labels of step ${step} are an object of its fields (${steps[step]!.join(', ')})`];
    return Object.keys(label)
      .filter((key) => !steps[step]!.includes(key))
      .map((key) => `expected.${step}.${key}: not a field of step ${step}'s output (fields: ${steps[step]!.join(', ')})`);
  });
}

/** Reads a dataset, or throws one DatasetError listing every malformed line. */
export function parseDataset(file: string, text: string, schemas: DatasetSchemas): Example[] {
  const problems: string[] = [];
  const out: Example[] = [];
  const ids = new Map<string, number>();
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (err) {
      problems.push(`line ${line}: not JSON (${err instanceof Error ? err.message : String(err)})`);
      return;
    }
    const row = Row.safeParse(json);
    if (!row.success) {
      for (const issue of row.error.issues) problems.push(`line ${line}: ${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`);
      return;
    }
    const r = row.data;
    const seen = ids.get(r.id);
    if (seen !== undefined) problems.push(`line ${line}: id: "${r.id}" is also the id of line ${seen}`);
    ids.set(r.id, line);
    const input = schemas.input.safeParse(r.input);
    if (!input.success) {
      for (const issue of input.error.issues) problems.push(`line ${line}: input.${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    for (const p of labelProblems(r.expected, schemas)) problems.push(`line ${line}: ${p}`);
    out.push({
      id: r.id,
      input: r.input,
      expected: r.expected,
      ...(r.notes !== undefined ? { notes: r.notes } : {}),
      ...(r.knownDefect !== undefined ? { knownDefect: r.knownDefect } : {}),
      heldOut: r.split === 'held-out',
      line,
    });
  });
  if (problems.length > 0) throw new DatasetError(file, problems);
  if (out.length === 0) throw new DatasetError(file, ['no examples']);
  return out;
}

/**
 * `n` examples spread evenly over the file, the held-out part in its share (at least one when
 * there is any): deterministic, so the same evaluation id resumes the same sample.
 */
export function sampleExamples(examples: readonly Example[], n: number): Example[] {
  if (n >= examples.length) return [...examples];
  const held = examples.filter((e) => e.heldOut);
  const dev = examples.filter((e) => !e.heldOut);
  const wantHeld = held.length === 0 ? 0 : Math.min(held.length, Math.max(1, Math.round((n * held.length) / examples.length)));
  const spread = (from: readonly Example[], k: number) => Array.from({ length: Math.min(k, from.length) }, (_, i) => from[Math.floor((i * from.length) / Math.min(k, from.length))]!);
  const picked = new Set([...spread(held, wantHeld), ...spread(dev, n - wantHeld)]);
  return examples.filter((e) => picked.has(e));
}
