/**
 * The corpus of real first-attempt failures (test/corpus/real/cases.jsonl): its shape, how it is
 * read, and how a case is judged with today's contracts and scored against its label. Shared by
 * the collector (collect-failures.ts) and the benchmark (real-corpus.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { labelledSteps, type Pipeline } from '../../core/contract.js';
import { scoreOutput, type FieldScore } from '../../core/eval/compare.js';
import type { Issue } from '../../core/issues.js';
import type { FinishReason } from '../../core/lenient-parse.js';
import { wordCounts } from '../../core/loops.js';
import { LENIENT, STRICT, validateOutput } from '../../core/validate.js';
import { ROOT } from '../../infra/paths.js';
import { getMicroTask, getPipeline } from '../../pipelines/index.js';

export const CASES_FILE = path.join(ROOT, 'test', 'corpus', 'real', 'cases.jsonl');

const IssueRow = z.looseObject({ kind: z.string(), path: z.string(), message: z.string() });

export const RealCase = z.strictObject({
  /** task, a hash of input and context, a hash of the first output */
  id: z.string().min(1),
  task: z.string().min(1),
  taskVersion: z.number().int(),
  input: z.unknown(),
  context: z.array(z.strictObject({ title: z.string(), facts: z.unknown() })),
  /** the recorded first call, as the model_attempts row has it */
  firstAttempt: z.strictObject({
    attemptId: z.number().int(),
    rawOutput: z.string(),
    finishReason: z.string(),
    pool: z.enum(['small', 'large']),
    model: z.string(),
    maxTokens: z.number().int(),
    schemaMode: z.string(),
    promptTokens: z.number().int(),
    completionTokens: z.number().int(),
    tokensEstimated: z.boolean(),
    latencyMs: z.number().int(),
    ttftMs: z.number().int().nullable(),
    issues: z.array(IssueRow),
    fixes: z.array(z.unknown()),
    recordedAt: z.string(),
  }),
  source: z.strictObject({
    workflowId: z.string(),
    runId: z.string(),
    pipeline: z.string(),
    step: z.string(),
    itemIndex: z.number().int(),
    /** set when the workflow was an evaluation's run: `eval-<evalId>-<config>-<exampleId>` */
    eval: z.strictObject({ evalId: z.string(), config: z.string(), exampleId: z.string(), dataset: z.string() }).optional(),
    /** how many recorded first attempts had this task, input, context and output */
    occurrences: z.number().int().positive(),
  }),
  /**
   * The labelled answer, only when the case's step is one of its pipeline's labelled steps and the
   * dataset example's input is the one the run had: that step's label, scored with its comparators.
   */
  label: z
    .strictObject({
      pipeline: z.string(),
      step: z.string(),
      dataset: z.string(),
      exampleId: z.string(),
      heldOut: z.boolean(),
      expected: z.record(z.string(), z.unknown()),
    })
    .optional(),
  /** whether the prompt built today for this input is the one the model was given */
  promptMatchesToday: z.boolean(),
  /** the first output judged by today's contracts, leniently as the ladder parses */
  failsToday: z.boolean(),
  /** the same output judged strictly, as an instructor-style baseline parses */
  failsTodayStrict: z.boolean(),
  todayIssues: z.array(IssueRow),
});
export type RealCase = z.infer<typeof RealCase>;

/** Reads the corpus; a malformed line is an error naming it. */
export function loadCases(file = CASES_FILE): RealCase[] {
  const out: RealCase[] = [];
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      const parsed = RealCase.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`${file}:${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
      out.push(parsed.data);
    });
  return out;
}

export interface TodayVerdict {
  /** the input still satisfies the task's input schema (runTask refuses it otherwise) */
  inputValid: boolean;
  promptMatches: boolean;
  fails: boolean;
  failsStrict: boolean;
  issues: Issue[];
}

/**
 * Judges a recorded first output with today's task definition, as the micro-task workflow does
 * for a first attempt: the lenient parser with the prompt's word counts as its loop source.
 */
export function judgeToday(c: Pick<RealCase, 'task' | 'input' | 'context'>, raw: string, finishReason: string, recorded?: { system: string; user: string }): TodayVerdict {
  const task = getMicroTask(c.task);
  const input = task.input.safeParse(c.input);
  const value = input.success ? input.data : c.input;
  const context = c.context as Parameters<typeof task.prompt>[1];
  const prompt = task.prompt(value, context);
  const ctx = { input: value, context };
  const reason = finishReason as FinishReason;
  const lenient = validateOutput(task, raw, reason, ctx, { ...LENIENT, source: wordCounts(`${prompt.system}\n${prompt.user}`) });
  const strict = validateOutput(task, raw, reason, ctx, STRICT);
  // the activity appends a JSON-only line to the task's system prompt; the user message is the task's own
  const promptMatches = recorded === undefined || (recorded.user === prompt.user && recorded.system.startsWith(prompt.system));
  return { inputValid: input.success, promptMatches, fails: !lenient.valid, failsStrict: !strict.valid, issues: lenient.issues };
}

export interface LabelScore {
  /** the outcome was valid and every labelled field passed its comparator */
  correct: boolean;
  fieldsCorrect: number;
  fieldsScored: number;
  scores: FieldScore[];
}

/** Scores an output against the case's label with the comparators its pipeline declares today. */
export function scoreAgainstLabel(c: RealCase, outcome: 'valid' | 'partial' | 'failed', output: unknown): LabelScore | undefined {
  if (!c.label) return undefined;
  const pipeline: Pipeline = getPipeline(c.label.pipeline);
  const labelled = pipeline.evaluation ? labelledSteps(pipeline.evaluation).find((s) => s.step === c.label!.step) : undefined;
  if (!labelled) throw new Error(`${c.id}: pipeline ${c.label.pipeline} no longer labels step ${c.label.step}`);
  const scores = scoreOutput(c.label.expected, output, labelled.comparators);
  const fieldsCorrect = scores.filter((s) => s.pass).length;
  return { correct: outcome === 'valid' && fieldsCorrect === scores.length, fieldsCorrect, fieldsScored: scores.length, scores };
}

/** JSON with object keys sorted, so equal values hash and compare alike whatever their key order. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
  );
}
