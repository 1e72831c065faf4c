/**
 * Contract calibration on labelled data: correct answers must pass the contracts (gold as
 * model), and typical mistakes made to them must be caught (mutants). Pure: the caller builds
 * each example's micro-task input and context.
 */
import { guidedSchemaOf, type ContextBlock, type LabelledStep, type MicroTask, type StepDefinition } from '../contract.js';
import type { Example } from './dataset.js';
import type { Issue } from '../issues.js';
import { jsonSchemaOf } from '../guided-schema.js';
import { validateValue, zodIssues } from '../validate.js';
import { compareValue, type Comparator } from './compare.js';
import { mutantsOf, type Mistake } from './mutants.js';
import { stringLeaves } from '../checks/select.js';

export interface CalibrationExample {
  id: string;
  input: unknown;
  context: readonly ContextBlock[];
  /** the whole correct output: the label, with the step's unlabelled fields filled in where it declares them */
  expected: unknown;
  /** the top-level fields the label holds, where the rest were filled in: mistakes are made to these only */
  labelled?: readonly string[];
  /** the text mutants take other spans from */
  sourceText: string;
}

/**
 * Labelled examples as calibration examples of a pipeline's labelled step: its micro-task input
 * and context built from the pipeline input as the workflow builds them, with the evaluation's
 * stand-in results for the steps before it. Each example's `expected` is that step's label; with
 * `unlabelled`, the step's fields no label holds are filled in from the pipeline input.
 */
export function calibrationExamples(
  pipelineInput: { parse: (v: unknown) => unknown },
  step: StepDefinition<any>,
  examples: readonly Example[],
  upstream?: LabelledStep<any>['upstream'],
  unlabelled?: LabelledStep<any>['unlabelled'],
): CalibrationExample[] {
  return examples.map((e) => {
    const input = pipelineInput.parse(e.input);
    const state = { input, results: upstream ? upstream(input) : {} };
    const expected = unlabelled ? { ...unlabelled(input), ...e.expected } : e.expected;
    return {
      id: e.id,
      input: step.task.input.parse(step.input(state)),
      context: step.context ? step.context(state) : [],
      expected,
      ...(unlabelled ? { labelled: Object.keys(e.expected) } : {}),
      sourceText: stringLeaves(e.input).map((l) => l.text).join('\n'),
    };
  });
}

export interface GoldDefect {
  id: string;
  issues: Issue[];
}

/**
 * The correct answers the contracts reject: every one is a defect of a check. A label the guided
 * schema rules out is a defect only when no value the guided schema allows there would be scored
 * right: a whole sentence holding the labelled request is as right as the label.
 */
export function goldAsModel(task: MicroTask<any, any>, examples: readonly CalibrationExample[], comparators: Readonly<Record<string, Comparator>> = {}): GoldDefect[] {
  return examples.flatMap((e) => {
    const v = validateValue(task, e.expected, { input: e.input, context: e.context });
    const issues = v.valid ? [] : [...v.issues];
    // guided decoding steers the model onto the guided schema: one that excludes the right answer makes it unreachable
    if (task.guidedSchema) {
      const schema = guidedSchemaOf(task, e.input, e.context);
      const guided = schema.safeParse(e.expected);
      if (!guided.success) {
        for (const i of zodIssues(guided.error, e.expected)) {
          if (reachableAsRight(schema, i.path, e.expected, comparators)) continue;
          issues.push({ ...i, check: 'guided-schema', message: `the guided schema rules the correct answer out: ${i.message}` });
        }
      }
    }
    return issues.length === 0 ? [] : [{ id: e.id, issues }];
  });
}

/** Whether a top-level field's guided options hold one its comparator scores as the label. */
function reachableAsRight(schema: Parameters<typeof jsonSchemaOf>[0], path: string, expected: unknown, comparators: Readonly<Record<string, Comparator>>): boolean {
  const key = /^\/([^/]+)$/.exec(path)?.[1];
  const c = key === undefined ? undefined : comparators[key];
  if (key === undefined || c === undefined) return false;
  const node = (jsonSchemaOf(schema).properties as Record<string, unknown> | undefined)?.[key];
  const options: unknown[] = [];
  const collect = (n: unknown) => {
    if (n === null || typeof n !== 'object') return;
    const o = n as { enum?: unknown[]; const?: unknown; anyOf?: unknown[]; oneOf?: unknown[] };
    if (Array.isArray(o.enum)) options.push(...o.enum);
    if ('const' in o) options.push(o.const);
    for (const sub of [...(o.anyOf ?? []), ...(o.oneOf ?? [])]) collect(sub);
  };
  collect(node);
  const want = (expected as Record<string, unknown>)[key];
  return options.some((o) => compareValue(want, o, c).pass);
}

export interface MutantOutcome {
  id: string;
  mistake: Mistake;
  path: string;
  value: unknown;
  caught: boolean;
  /** the checks (or schema issue kinds) that flagged it; `guided-schema` when guided decoding rules it out */
  by: string[];
}

/**
 * Each example's mutants through the contracts. Only examples whose correct answer passes are
 * mutated, so any issue or certain fix on a mutant is the mutation's doing: it is caught. Where
 * an example's unlabelled fields were filled in, only its labelled fields are mutated.
 */
export function runMutants(task: MicroTask<any, any>, examples: readonly CalibrationExample[]): MutantOutcome[] {
  return examples.flatMap((e) => {
    if (!validateValue(task, e.expected, { input: e.input, context: e.context }).valid) return [];
    const guided = task.guidedSchema ? guidedSchemaOf(task, e.input, e.context) : undefined;
    const mutants = mutantsOf(e.expected, e.sourceText).filter((m) => e.labelled === undefined || e.labelled.includes(fieldOf(m.path)));
    return mutants.map((m) => {
      const v = validateValue(task, m.output, { input: e.input, context: e.context });
      // a certain fix, or a value nulled for review, is the contract catching the mutation
      const fixed = v.fixes.filter((f) => f.kind === 'check-fix' || f.kind === 'null-for-review');
      // a value the guided schema rules out is one a model on a schema-enforcing endpoint cannot write
      const excluded = guided !== undefined && !guided.safeParse(m.output).success;
      const by = [...new Set([...(v.valid ? [] : v.issues.map((i) => i.check ?? i.kind)), ...fixed.map(() => 'check-fix'), ...(excluded ? ['guided-schema'] : [])])];
      return { id: e.id, mistake: m.mistake, path: m.path, value: m.value, caught: by.length > 0, by };
    });
  });
}

/** The top-level field a JSON pointer is in. */
function fieldOf(pointer: string): string {
  return (pointer.split('/')[1] ?? '').replace(/~1/g, '/').replace(/~0/g, '~');
}
