import type { MicroTask, Pipeline } from '../core/contract.js';
import { singlePromptTask } from '../core/single-prompt.js';
import { documentSummary } from './document-summary/index.js';
import { invoiceExtraction } from './invoice-extraction/index.js';
import { productReview } from './product-review/index.js';
import { ticketTriage } from './ticket-triage/index.js';

/** Every shipped pipeline by name. Sample inputs live in pipelines/<name>/samples/<sample>.json. */
export const pipelines: Record<string, Pipeline> = Object.fromEntries(
  [productReview, ticketTriage, invoiceExtraction, documentSummary].map((p) => [p.name, p]),
);

function collectTasks(all: readonly Pipeline[]): Record<string, MicroTask<any, any>> {
  const tasks: Record<string, MicroTask<any, any>> = {};
  for (const p of all) {
    for (const step of p.steps) {
      const seen = tasks[step.task.name];
      if (seen && seen !== step.task) throw new Error(`two different micro-tasks are named ${step.task.name}`);
      tasks[step.task.name] = step.task;
    }
  }
  return tasks;
}

/** Every micro-task of every pipeline by name, so a worker can find the contract of any attempt it is given. */
export const microTasks: Record<string, MicroTask<any, any>> = {
  ...collectTasks(Object.values(pipelines)),
  // evaluation's single-prompt baseline of each pipeline, which a pool worker must be able to serve
  ...Object.fromEntries(
    Object.values(pipelines).flatMap((p) => [singlePromptTask(p), ...(p.evaluation ? [singlePromptTask(p, p.evaluation.step)] : [])].map((t) => [t.name, t])),
  ),
};

export function getPipeline(name: string): Pipeline {
  const p = pipelines[name];
  if (!p) throw new Error(`unknown pipeline "${name}"; known pipelines: ${Object.keys(pipelines).join(', ')}`);
  return p;
}

export function getMicroTask(name: string): MicroTask<any, any> {
  const t = microTasks[name];
  if (!t) throw new Error(`unknown micro-task "${name}"; known micro-tasks: ${Object.keys(microTasks).join(', ')}`);
  return t;
}
