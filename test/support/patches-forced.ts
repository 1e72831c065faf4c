import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../workers/factory.js';

const SHIM = fileURLToPath(new URL('./patches-forced-workflow.ts', import.meta.url));

const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: (m: string) => console.warn(m), error: (m: string) => console.error(m) };

/**
 * The workflow code with `patched()` true for some patches in every run, also in one recorded
 * before them: the code as it would run had those changes not been guarded. A history recorded
 * before a change that replays on this bundle did not need the guard; one that fails did.
 */
export async function bundleWithPatchesForced(patchIds: readonly string[]): Promise<WorkflowBundle> {
  if (patchIds.length === 0 || patchIds.some((id) => id === '' || id.includes(','))) throw new Error(`not a list of patch ids: ${JSON.stringify(patchIds)}`);
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: quiet,
    webpackConfigHook: (config) => {
      const alias = config.resolve?.alias;
      if (Array.isArray(alias)) throw new Error('the workflow bundler gives resolve.alias as a list; expected an object');
      // only the bare specifier: the SDK's own modules import each other by their lib/ paths
      return { ...config, resolve: { ...config.resolve, alias: { ...alias, '@temporalio/workflow$': `${SHIM}?${patchIds.join(',')}` } } };
    },
  });
}
