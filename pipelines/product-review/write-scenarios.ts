import { z } from 'zod';
import { defineMicroTask, renderContext, trustedContext, type Check } from '../../core/contract.js';
import { resistsInjection } from '../../core/checks/injection.js';
import { notesOf } from './product.js';
import { completeSentences, distinctItems, groundedNumbers, notCopied } from '../../core/checks/index.js';
import type { Issue } from '../../core/issues.js';
import { normalizeText, quote } from '../../core/text.js';

export const WriteScenariosInput = z.object({
  productName: z.string().min(1),
  features: z.array(z.object({ name: z.string().min(1), benefit: z.string() })).min(1).max(8),
  count: z.number().int().min(2).max(4),
});
export type WriteScenariosInput = z.infer<typeof WriteScenariosInput>;

export const WriteScenariosOutput = z.object({
  scenarios: z
    .array(
      z.object({
        title: z.string().min(3).max(80).describe('a short title, e.g. "Morning commute"'),
        description: z.string().min(20).max(500).describe('two sentences: who uses the product, where, and how the feature helps'),
        feature: z.string().min(2).max(60).describe('the name of the one feature this scenario relies on, copied exactly from the feature list'),
      }),
    )
    .min(2)
    .max(4),
});
export type WriteScenariosOutput = z.infer<typeof WriteScenariosOutput>;

/** The feature list is decided by the previous step, so it cannot be a schema enum; a check holds the reference to it. */
export const scenarioFeaturesKnown: Check<WriteScenariosInput, WriteScenariosOutput> = (output, { input }) => {
  const known = new Set(input.features.map((f) => normalizeText(f.name)));
  const names = input.features.map((f) => quote(f.name)).join(', ');
  const issues: Issue[] = [];
  output.scenarios.forEach((s, i) => {
    if (!known.has(normalizeText(s.feature))) {
      issues.push({ kind: 'grounding', path: `/scenarios/${i}/feature`, message: `${quote(s.feature)} is not one of the listed features; use one of: ${names}` });
    }
  });
  return issues;
};

/** The extracted features are known, so a scenario's feature is one of them by contract. */
function outputForFeatures(input: WriteScenariosInput): z.ZodType<WriteScenariosOutput> {
  const names = [...new Set(input.features.map((f) => f.name))].filter((n) => n.length >= 2 && n.length <= 60);
  if (names.length === 0) return WriteScenariosOutput;
  const item = WriteScenariosOutput.shape.scenarios.element;
  return z.object({
    scenarios: z.array(item.extend({ feature: z.enum(names as [string, ...string[]]).describe(item.shape.feature.description ?? 'one of the features') })).min(2).max(4),
  });
}

const SYSTEM = 'You write short, concrete usage scenarios for a product review. Each scenario shows one listed feature in use.';

/** Scenarios that carry what an instruction in a customer note asks for, or the prompt itself. */
export const scenariosResistInjection: Check<WriteScenariosInput, WriteScenariosOutput> = resistsInjection<WriteScenariosInput, WriteScenariosOutput>({
  userText: (_, context) => notesOf(context),
  paths: ['/scenarios/*/title', '/scenarios/*/description'],
  trusted: (input, context) => [renderContext(trustedContext(context)), ...input.features.map((f) => `${f.name}: ${f.benefit}`)],
  instructions: () => [SYSTEM],
  noun: 'scenario',
});

export const writeScenarios = defineMicroTask<WriteScenariosInput, WriteScenariosOutput>({
  name: 'write-scenarios',
  version: 5,
  formatName: 'write_scenarios',
  description: 'Writes short usage scenarios for a product, each built on one of its extracted features.',
  input: WriteScenariosInput,
  output: WriteScenariosOutput,
  guidedSchema: outputForFeatures,
  prompt: (input, context) => ({
    system: SYSTEM,
    user: `${renderContext(context)}

Features of ${input.productName}:
${input.features.map((f) => `- ${f.name}: ${f.benefit}`).join('\n')}

Write ${input.count} usage scenarios, each about a different feature. In "feature", copy the feature's name exactly as listed above.
Return JSON of this shape: {"scenarios":[{"title":"...","description":"...","feature":"..."}]}`,
  }),
  checks: [
    scenariosResistInjection,
    scenarioFeaturesKnown,
    distinctItems({ list: '/scenarios', field: '/feature', noun: 'scenario\'s feature', similarity: 1.01, dropWhileAtLeast: 2, repairItem: true }),
    distinctItems({ list: '/scenarios', field: '/title', noun: 'title', ignore: (input) => [input.productName] }),
    distinctItems({ list: '/scenarios', field: '/description', noun: 'description', ignore: (input) => [input.productName] }),
    // a scenario tells a use; a feature's benefit pasted in is not one
    notCopied({ items: '/scenarios/*/description', sources: (input) => input.features.map((f) => f.benefit), noun: 'description', instead: 'describe who uses the product, where, and how the feature helps, in your own words' }),
    completeSentences({ paths: ['/scenarios/*/description'] }),
    groundedNumbers({ paths: ['/scenarios/*/title', '/scenarios/*/description'] }),
  ],
  pool: 'small',
  maxTokens: 700,
  temperature: 0.2,
});
