/**
 * Labels per step. A pipeline's evaluation scores one step (an example's `expected` holds that
 * step's fields) or several in one run (`expected` holds an object per step id): this splits an
 * example's label into the labels of each step, and scores a run's step results against them,
 * each step with its own comparators. Pure, so the eval command, calibration and the benchmarks
 * read labels alike.
 */
import { labelledSteps, labelsByStep, type LabelledStep, type PipelineEvaluation } from '../contract.js';
import { toPointer } from '../json-pointer.js';
import { scoreOutput, type FieldScore } from './compare.js';
import type { DatasetSchemas, Example } from './dataset.js';

export interface StepLabel {
  step: string;
  entry: LabelledStep<any>;
  /** the step's labelled fields */
  label: Record<string, unknown>;
}

/**
 * The labels of one example, one per labelled step it labels, in the evaluation's order. In the
 * one-step form the example's whole `expected` is that step's label.
 */
export function stepLabels(evaluation: PipelineEvaluation<any>, expected: Record<string, unknown>): StepLabel[] {
  const entries = labelledSteps(evaluation);
  if (!labelsByStep(evaluation)) return [{ step: entries[0]!.step, entry: entries[0]!, label: expected }];
  return entries.flatMap((entry) => {
    const label = expected[entry.step];
    return label !== null && typeof label === 'object' && !Array.isArray(label) ? [{ step: entry.step, entry, label: label as Record<string, unknown> }] : [];
  });
}

/** What a dataset's labels may hold: a pipeline's input, and the fields of each step it labels. */
export function datasetSchemas(pipeline: { input: DatasetSchemas['input']; evaluation?: PipelineEvaluation<any> | undefined }): DatasetSchemas {
  const evaluation = pipeline.evaluation;
  if (!evaluation) return { input: pipeline.input, fields: [] };
  const entries = labelledSteps(evaluation);
  if (!labelsByStep(evaluation)) return { input: pipeline.input, fields: Object.keys(entries[0]!.comparators) };
  return { input: pipeline.input, steps: Object.fromEntries(entries.map((e) => [e.step, Object.keys(e.comparators)])) };
}

/** The examples that label one step, each with `expected` narrowed to that step's label. */
export function examplesOfStep(evaluation: PipelineEvaluation<any>, step: string, examples: readonly Example[]): Example[] {
  return examples.flatMap((e) => {
    const mine = stepLabels(evaluation, e.expected).find((l) => l.step === step);
    return mine ? [{ ...e, expected: mine.label }] : [];
  });
}

/** What a run left for one step: its outcome (valid, partial, failed) and its output. */
export interface StepResult {
  status: string;
  output: unknown;
}

export interface StepScore extends FieldScore {
  /** the labelled step the field belongs to */
  step: string;
}

export interface ExampleScore {
  /** valid when every labelled step ended valid; failed when any failed or left no result; else partial */
  status: string;
  fieldsScored: number;
  fieldsCorrect: number;
  /** wrong fields in step outputs the contracts accepted */
  silentErrors: number;
  /** per labelled field; its path is the field's JSON pointer in the label (`/orderId`, or `/fields/orderId` when labels are per step) */
  scores: StepScore[];
}

/**
 * Scores one example's labels against a run's step results, each step with its own comparators.
 * A step with no result counts as failed, its fields wrong. A wrong field is a silent error only
 * where its own step ended valid: a field of a flagged step is already waiting for a person.
 */
export function scoreExample(evaluation: PipelineEvaluation<any>, expected: Record<string, unknown>, results: Readonly<Record<string, StepResult | undefined>>): ExampleScore {
  const byStep = labelsByStep(evaluation);
  const statuses: string[] = [];
  const scores: StepScore[] = [];
  let silentErrors = 0;
  for (const { step, entry, label } of stepLabels(evaluation, expected)) {
    const result = results[step];
    const status = result?.status ?? 'failed';
    statuses.push(status);
    const mine = scoreOutput(label, result?.output ?? null, entry.comparators).map((s) => ({ ...s, step, path: byStep ? `${toPointer([step])}${s.path}` : s.path }));
    if (status === 'valid') silentErrors += mine.filter((s) => !s.pass).length;
    scores.push(...mine);
  }
  const status = statuses.every((s) => s === 'valid') ? 'valid' : statuses.includes('failed') ? 'failed' : statuses.find((s) => s !== 'valid')!;
  return { status, fieldsScored: scores.length, fieldsCorrect: scores.filter((s) => s.pass).length, silentErrors, scores };
}
