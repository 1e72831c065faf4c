import { evaluationThrough, type MicroTask, type Pipeline } from '../core/contract.js';
import { singlePromptTask } from '../core/single-prompt.js';
import { documentSummary } from './document-summary/index.js';
import { invoiceExtraction } from './invoice-extraction/index.js';
import { productReview } from './product-review/index.js';
import { ticketTriage } from './ticket-triage/index.js';

/** The shipped pipelines. Sample inputs live in pipelines/<name>/samples/<sample>.json. */
export const SHIPPED_PIPELINES: readonly Pipeline[] = [productReview, ticketTriage, invoiceExtraction, documentSummary];

/** Every pipeline this process knows by name: the shipped ones and those registered from a user's module. */
export const pipelines: Record<string, Pipeline> = {};

/** Every micro-task of every known pipeline by name, so a worker can find the contract of any attempt it is given. */
export const microTasks: Record<string, MicroTask<any, any>> = {};

/**
 * Adds pipelines, their micro-tasks and their single-prompt evaluation baselines. A name taken by
 * a different pipeline or micro-task is an error naming both, so no definition is silently replaced.
 */
export function registerPipelines(list: readonly Pipeline[]): void {
  const tasks: Record<string, MicroTask<any, any>> = {};
  const add = (t: MicroTask<any, any>, owner: string) => {
    const seen = microTasks[t.name] ?? tasks[t.name];
    if (seen && seen !== t && !t.name.startsWith('single-prompt-')) throw new Error(`two different micro-tasks are named ${t.name} (the second in pipeline ${owner})`);
    tasks[t.name] = t;
  };
  for (const p of list) {
    const seen = pipelines[p.name];
    if (seen && seen !== p) throw new Error(`two different pipelines are named ${p.name}`);
    for (const step of p.steps) add(step.task, p.name);
    // evaluation's single-prompt baseline (the job as far as the last labelled step), which a pool worker must be able to serve
    const through = evaluationThrough(p);
    for (const t of [singlePromptTask(p), ...(through !== undefined ? [singlePromptTask(p, through)] : [])]) add(t, p.name);
  }
  for (const p of list) pipelines[p.name] = p;
  Object.assign(microTasks, tasks);
}

registerPipelines(SHIPPED_PIPELINES);

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
