/**
 * The public API of microtask-pipelines: what a user's own package imports to define micro-tasks
 * and pipelines, run workers for them and start them. Nothing outside this module is part of the
 * contract. See README, "Your own pipelines".
 */

// definitions
export { z } from 'zod';
export {
  defineMicroTask,
  definePipeline,
  groundingText,
  renderContext,
  type Check,
  type CheckContext,
  type ContextBlock,
  type MicroTask,
  type Pipeline,
  type PipelineEvaluation,
  type Prompt,
  type StepDefinition,
  type StepState,
} from './core/contract.js';
export type { Issue } from './core/issues.js';
export type { Comparator } from './core/eval/compare.js';
export { resultOf } from './pipelines/shared/state.js';

// check helpers
export * from './core/checks/index.js';
export { appearsIn, contentWords, meaningWords, normalizeText, quote, sharedWords, wordsOf } from './core/text.js';
export { numberAppearsIn, numbersIn, readings } from './core/numbers.js';
export { currencyMentions, isCurrencyCode, moneySpans, referenceTokens, type CurrencyMention } from './core/money.js';
export { countriesIn, currencyOf, dateOrderOf, type DateOrder } from './core/locale.js';

// workers and the stack's services
export { createWorkers, type CreateWorkersOptions, type Workers } from './workers/create.js';
export { RegistryConfig } from './core/registry.js';
export { up as startServices, down as stopServices } from './infra/stack.js';

// starting pipelines
export { connectPipelines, type PipelineClient, type StartOptions } from './client/api.js';
export type { PipelineProgress, PipelineResult } from './workflows/pipeline.js';
export { FailureTypes } from './activities/types.js';
