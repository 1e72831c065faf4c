import type { ContextBlock } from '../core/contract.js';
import type { Totals } from '../core/ladder/machine.js';
import type { Fix, Issue } from '../core/issues.js';
import type { CallSpec } from '../core/call-spec.js';
import type { FinishReason } from '../core/lenient-parse.js';

/** Where an attempt belongs; recorded on every row. */
export interface AttemptOrigin {
  workflowId: string;
  runId: string;
  pipeline: string;
  step: string;
  /** index in a fan-out, -1 otherwise */
  itemIndex: number;
}

export interface ModelCallRequest extends AttemptOrigin {
  task: string;
  taskVersion: number;
  attemptNo: number;
  spec: CallSpec;
  /** the pool the workflow routed the call to; the worker that takes it must be that pool's */
  pool: string;
  routeReason: string;
  maxTokens: number;
  input: unknown;
  context: ContextBlock[];
}

export interface ModelCallResult {
  attemptId: number;
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  tokensEstimated: boolean;
  latencyMs: number;
  model: string;
  costUsd: number;
  referenceCostUsd: number;
}

export interface ValidationRecord {
  attemptId: number;
  valid: boolean;
  issues: Issue[];
  fixes: Fix[];
  at: number;
}

export interface RunStartRecord {
  workflowId: string;
  runId: string;
  pipeline: string;
  pipelineVersion: number;
  registryVersion: string;
  input: unknown;
  at: number;
}

/** What one micro-task run spent, summed over its attempts. */
export type { Totals } from '../core/ladder/machine.js';

export interface TaskResultRecord extends AttemptOrigin, Totals {
  task: string;
  taskVersion: number;
  status: 'valid' | 'partial' | 'failed';
  output: unknown;
  issues: Issue[];
  unresolvedPaths: string[];
  finalPool: string;
  reason: string | null;
  at: number;
}

export interface RunFinishRecord extends Totals {
  workflowId: string;
  runId: string;
  status: 'completed' | 'partial' | 'failed' | 'cancelled';
  output: unknown;
  error: unknown;
  at: number;
}

export interface ShadowRecord {
  shadowWorkflowId: string;
  workflowId: string;
  pipeline: string;
  step: string;
  itemIndex: number;
  task: string;
  taskVersion: number;
  livePool: string;
  shadowPool: string;
  shadowStatus: 'valid' | 'partial' | 'failed';
  fields: Record<string, boolean>;
  costUsd: number;
  at: number;
}
