import type { z } from 'zod';
import type { StepState } from '../../core/contract.js';

/** An earlier step's output, read through its contract so a wiring mistake fails loudly and early. */
export function resultOf<T>(state: StepState<unknown>, stepId: string, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(state.results[stepId]);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first ? ` at /${first.path.join('/')}: ${first.message}` : '';
    throw new Error(`step "${stepId}" has no valid result${where}`);
  }
  return parsed.data;
}
