export { runPipeline, runTask, shadowMicroTask, progressQuery } from './pipeline.js';
