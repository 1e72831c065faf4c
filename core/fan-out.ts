/**
 * How a fan-out step runs its items, at most `width` at once. Promises only, no timers or clocks:
 * in a workflow the items' promises settle in history order, so either schedule replays the same.
 */

/** What a fan-out step's items came to. */
export interface FanOutRun<R> {
  /** one entry per item, in item order; `undefined` for an item that never started */
  settled: (PromiseSettledResult<R> | undefined)[];
  /** the failed item whose failure is the step's, if any failed */
  failed: number | undefined;
}

export type FanOutSchedule = <T, R>(items: readonly T[], width: number, run: (item: T, index: number) => Promise<R>) => Promise<FanOutRun<R>>;

/**
 * A pool of `width`: the next item starts as soon as one ends. Once an item has failed no further
 * item starts; those in flight finish. The lowest failed item is the step's failure, as in batches.
 */
export const pooled: FanOutSchedule = async <T, R>(items: readonly T[], width: number, run: (item: T, index: number) => Promise<R>) => {
  const settled: (PromiseSettledResult<R> | undefined)[] = items.map(() => undefined);
  let next = 0;
  let stopped = false;
  const lane = async (): Promise<void> => {
    while (!stopped && next < items.length) {
      const index = next++;
      try {
        settled[index] = { status: 'fulfilled', value: await run(items[index] as T, index) };
      } catch (reason) {
        settled[index] = { status: 'rejected', reason };
        stopped = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, width), items.length) }, lane));
  const failed = settled.findIndex((s) => s?.status === 'rejected');
  return { settled, failed: failed < 0 ? undefined : failed };
};

/**
 * Fixed batches of `width`, each waited for whole, and every batch runs whatever failed before:
 * how runs started before the pool fan out. The lowest failed item is the step's failure.
 */
export const inBatches: FanOutSchedule = async <T, R>(items: readonly T[], width: number, run: (item: T, index: number) => Promise<R>) => {
  const settled: PromiseSettledResult<R>[] = [];
  const size = Math.max(1, width);
  for (let start = 0; start < items.length; start += size) {
    const batch = items.slice(start, start + size);
    settled.push(...(await Promise.allSettled(batch.map((item, k) => run(item, start + k)))));
  }
  const failed = settled.findIndex((s) => s.status === 'rejected');
  return { settled, failed: failed < 0 ? undefined : failed };
};
