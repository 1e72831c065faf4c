/**
 * The public API of microtask-pipelines: `microtask-pipelines/define` for what a pipelines module
 * defines (it runs in workflow code too), and this module for running workers and starting
 * pipelines as well. Nothing outside these two modules is part of the contract. See README,
 * "Your own pipelines".
 */
export * from './define.js';

// workers and the stack's services
export { createWorkers, type CreateWorkersOptions, type Workers } from './workers/create.js';
export { RegistryConfig } from './core/registry.js';
export { up as startServices, down as stopServices } from './infra/stack.js';

// starting pipelines
export { connectPipelines, type PipelineClient, type StartOptions } from './client/api.js';
export type { PipelineProgress, PipelineResult } from './workflows/pipeline.js';
export { FailureTypes } from './core/failures.js';
