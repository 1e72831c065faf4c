/**
 * `@temporalio/workflow` as a bundle from bundleWithPatchesForced sees it: `patched()` still reads
 * and records the patch marker as usual, but is true for the forced patches whatever the history
 * says, so the code takes the patched branch even in a run recorded before the patch.
 */
export * from '@temporalio/workflow/lib/index.js';
import { patched as patchedByHistory } from '@temporalio/workflow/lib/index.js';

/** webpack's: this module's request after its `?`, the forced patch ids joined by commas */
declare const __resourceQuery: string;
const forced = new Set(__resourceQuery.slice(1).split(','));

export function patched(patchId: string): boolean {
  const recorded = patchedByHistory(patchId);
  return recorded || forced.has(patchId);
}
