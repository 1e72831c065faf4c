/**
 * The public API of microtask-pipelines: `microtask-pipelines/define` for what a pipelines module
 * defines (it runs in workflow code too), this module for running workers and starting pipelines
 * as well, and `microtask-pipelines/dev` for the dev stack's services. Nothing outside these three
 * modules is part of the contract. See README, "Your own pipelines".
 */
export * from './define.js';

// workers (the dev stack's services are in `microtask-pipelines/dev`)
export { createWorkers, type CreateWorkersOptions, type Workers } from './workers/create.js';
export { RegistryConfig } from './core/registry.js';
/** the one migrate step of a deployment, run before its workers start; workers refuse a database that is behind */
export { migrateDatabase } from './db/migrate.js';

// starting pipelines
export { connectPipelines, type PipelineClient, type StartOptions } from './client/api.js';
export type { PipelineProgress, PipelineResult } from './workflows/pipeline.js';
export { FailureTypes } from './core/failures.js';

// the HTTP API: serving it, and a typed client of it for services that hold an API key
export { createApi, type ApiOptions } from './api/server.js';
export { connectApi, ApiError, RunEndedError, type ApiClient, type ApiClientOptions, type ApiRun, type RunEvent, type RunHandle, type RunOptions } from './client/http.js';
