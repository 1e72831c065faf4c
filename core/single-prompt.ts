/**
 * The "before structured prompting" baseline of evaluation: a pipeline's whole job in one call,
 * parsed with the same lenient parser as every micro-task, held to no contract and never repaired.
 * It is derived from the pipeline's own definition, so every pipeline, shipped or the user's, has one.
 *
 * Fair to the baseline: it is given what the micro-tasks are given that is not the thing measured —
 * the whole input, every step's description and output shape, guided decoding of that shape, the
 * same parser and the summed token allowance of the steps.
 */
import { z } from 'zod';
import type { ContextBlock, MicroTask, Pipeline, StepState } from './contract.js';
import { jsonSchemaOf } from './guided-schema.js';

/** The step of a single-prompt run: its output holds one key per step of the pipeline. */
export const SINGLE_PROMPT_STEP = 'single-prompt';

export function singlePromptTaskName(pipeline: string, through?: string): string {
  return through === undefined ? `single-prompt-${pipeline}` : `single-prompt-${pipeline}-through-${through}`;
}

/**
 * The pipeline cut after one of its steps: that step and those before it, its result the steps'
 * results. Evaluation runs a pipeline only as far as the step its labels are for.
 */
export function pipelineThrough(pipeline: Pipeline, stepId: string): Pipeline {
  const at = pipeline.steps.findIndex((s) => s.id === stepId);
  if (at < 0) throw new Error(`pipeline ${pipeline.name} has no step "${stepId}"; its steps: ${pipeline.steps.map((s) => s.id).join(', ')}`);
  if (at === pipeline.steps.length - 1) return pipeline;
  return { ...pipeline, steps: pipeline.steps.slice(0, at + 1), assemble: (s) => ({ ...s.results }) };
}

/** The output shape of one step as the single prompt must return it: a list for a fan-out step. */
function stepShape(step: Pipeline['steps'][number]): z.ZodType<unknown> {
  return step.forEach ? z.array(step.task.output) : step.task.output;
}

/** Facts the pipeline's first steps put in their context (catalogs, rules), which the micro-tasks get too. */
function sharedContext(pipeline: Pipeline, input: unknown): ContextBlock[] {
  const state: StepState<unknown> = { input, results: {} };
  const seen = new Set<string>();
  const blocks: ContextBlock[] = [];
  for (const step of pipeline.steps) {
    if (!step.context) continue;
    let got: ContextBlock[];
    try {
      got = step.context(state);
    } catch {
      continue; // a context built from earlier results: the single prompt makes those itself
    }
    for (const b of got) {
      const key = JSON.stringify(b);
      if (!seen.has(key)) {
        seen.add(key);
        blocks.push(b);
      }
    }
  }
  return blocks;
}

/** The single prompt of a pipeline, or of its part through one step (`through`; the last step is the whole). */
export function singlePromptTask(full: Pipeline, through?: string): MicroTask<unknown, Record<string, unknown>> {
  const pipeline = through === undefined ? full : pipelineThrough(full, through);
  const cut = pipeline.steps.length < full.steps.length ? through : undefined;
  const whole = z.object(Object.fromEntries(pipeline.steps.map((s) => [s.id, stepShape(s)])));
  return {
    name: singlePromptTaskName(pipeline.name, cut),
    version: pipeline.version,
    formatName: `single_prompt_${pipeline.name.replace(/[^a-z0-9]+/g, '_')}${cut ? `_through_${cut.replace(/[^a-z0-9]+/g, '_')}` : ''}`,
    description: `The whole of ${pipeline.name} in one call, without micro-tasks, contracts or repairs (evaluation baseline).`,
    input: pipeline.input,
    // no contract: any JSON object is taken as it is; evaluation scores what it holds
    output: z.record(z.string(), z.unknown()),
    guidedSchema: () => whole as unknown as z.ZodType<Record<string, unknown>>,
    prompt: (input) => {
      const context = sharedContext(pipeline, input);
      const steps = pipeline.steps
        .map((s) => `- "${s.id}": ${s.task.description}${s.forEach ? ` ${s.itemsNote ?? 'One entry per part of the input, in order.'}` : ''}\n  shape: ${JSON.stringify(jsonSchemaOf(stepShape(s)))}`)
        .join('\n');
      return {
        system: `You do this whole job in one answer: ${pipeline.description} Use only what the input says.`,
        user: `Input:
${JSON.stringify(input, null, 2)}
${context.length > 0 ? `\nFacts:\n${JSON.stringify(context, null, 2)}\n` : ''}
Do every step below and return one JSON object with one key per step:
${steps}`,
      };
    },
    pool: pipeline.steps[0]?.task.pool ?? 'small',
    maxTokens: Math.min(4096, pipeline.steps.reduce((n, s) => n + s.task.maxTokens, 0)),
    temperature: 0,
  };
}

/** A pipeline whose one step is the single prompt; its result is the single prompt's object. */
export function singlePromptPipeline(pipeline: Pipeline, through?: string): Pipeline {
  const task = singlePromptTask(pipeline, through);
  return {
    name: pipeline.name,
    version: pipeline.version,
    description: task.description,
    input: pipeline.input,
    steps: [{ id: SINGLE_PROMPT_STEP, task, input: (s) => s.input }],
    assemble: (s) => s.results[SINGLE_PROMPT_STEP],
  };
}
