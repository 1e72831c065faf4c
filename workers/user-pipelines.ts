/**
 * A user's own pipelines, from a module of their package that exports `pipelines`, an array of
 * `definePipeline(...)` results. Workers register them beside the shipped ones; the orchestration
 * worker also bundles the module into its workflow code, since validation runs there.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Pipeline } from '../core/contract.js';
import { registerPipelines } from '../pipelines/index.js';
import { ConfigError } from '../config/env.js';

const PIPELINES_INDEX = fileURLToPath(new URL('../pipelines/index.ts', import.meta.url));
// inside the project, where the bundler finds @temporalio/workflow from the entry's folder
const ENTRIES_DIR = fileURLToPath(new URL('../.cache/workflow-entries', import.meta.url));

function isPipeline(p: unknown): p is Pipeline {
  const o = p as Partial<Pipeline> | null;
  return o !== null && typeof o === 'object' && typeof o.name === 'string' && Array.isArray(o.steps) && typeof o.assemble === 'function';
}

/** Imports the module, checks what it exports, and registers its pipelines in this process. */
export async function loadPipelinesModule(file: string): Promise<Pipeline[]> {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs)) throw new ConfigError(`the pipelines module ${abs} (PIPELINES_MODULE) does not exist`);
  let mod: { pipelines?: unknown };
  try {
    mod = (await import(pathToFileURL(abs).href)) as { pipelines?: unknown };
  } catch (err) {
    throw new ConfigError(`cannot load the pipelines module ${abs}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const list = mod.pipelines;
  if (!Array.isArray(list) || list.length === 0 || !list.every(isPipeline)) {
    throw new ConfigError(`${abs} must export \`pipelines\`: a non-empty array of definePipeline(...) results`);
  }
  try {
    registerPipelines(list);
  } catch (err) {
    throw new ConfigError(`${abs}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return list;
}

/**
 * The entry of a workflow bundle that holds the user's pipelines: the shipped workflows, then the
 * module's pipelines registered in the bundle's own registry. Written under .cache, named by its
 * content.
 */
export function workflowEntryWith(workflowsPath: string, pipelinesModule: string): string {
  const abs = path.resolve(pipelinesModule);
  const code = [
    `export * from ${JSON.stringify(workflowsPath)};`,
    `import { registerPipelines } from ${JSON.stringify(PIPELINES_INDEX)};`,
    `import { pipelines } from ${JSON.stringify(abs)};`,
    'registerPipelines(pipelines);',
    '',
  ].join('\n');
  fs.mkdirSync(ENTRIES_DIR, { recursive: true });
  const file = path.join(ENTRIES_DIR, `workflows-${createHash('sha256').update(code).digest('hex').slice(0, 12)}.ts`);
  if (!fs.existsSync(file)) fs.writeFileSync(file, code);
  return file;
}
