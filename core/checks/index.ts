/** Generic checks any micro-task can declare: distinct items, grounded numbers, items taken from the input. */
export { completeSentences, distinctItems, distinctSentences, notCopied, type DistinctOptions, type NotCopiedOptions } from './distinct.js';
export { fromInput, informative, type FromInputOptions, type InformativeOptions, type SourceMatch } from './from-input.js';
export { groundedNumbers, numberMentions, type GroundedNumbersOptions, type NumberMention } from './grounded-numbers.js';
export { repeatIssues, type RepeatsOptions } from './repeats.js';
export { select, selectStrings, stringLeaves } from './select.js';
export { injectionIn, resistsInjection, type ResistsInjectionOptions } from './injection.js';
