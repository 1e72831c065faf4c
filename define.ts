/**
 * What a pipelines module imports: definitions, zod and the check helpers. Everything here also runs
 * inside Temporal's workflow sandbox, where contracts are checked, so it imports no Node module;
 * a pipelines module that imports `microtask-pipelines` (workers, client) instead cannot be bundled.
 */
// definitions
export { z } from 'zod';
export {
  defineMicroTask,
  definePipeline,
  groundingText,
  renderContext,
  trustedContext,
  userTextBlock,
  USER_TEXT_NOTE,
  type Check,
  type CheckContext,
  type ContextBlock,
  type MicroTask,
  type Pipeline,
  type LabelledStep,
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
export { appearsIn, contentWords, languageOf, meaningWords, normalizeText, quote, sharedWords, wordsOf, type Lang } from './core/text.js';
export { numberAppearsIn, numbersIn, readings } from './core/numbers.js';
export { currencyMentions, isCurrencyCode, moneySpans, referenceTokens, type CurrencyMention } from './core/money.js';
export { countriesIn, currencyOf, dateOrderOf, type DateOrder } from './core/locale.js';
export { demandedOptions, findInjection, forbiddenOffer, INJECTION_PHRASES, INJECTION_SIGNALS, linksIn, readable, withoutInjection, type InjectionFinding, type InjectionSegment, type InjectionSignal } from './core/injection.js';

