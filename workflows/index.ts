export { runPipeline, runTask, progressQuery } from './pipeline.js';
