import { describe, expect, it } from 'vitest';
import { inBatches, pooled, type FanOutSchedule } from '../../core/fan-out.js';

/** Items that end when the test says, and a log of what started and ended in which order. */
function scriptedItems(count: number) {
  const events: string[] = [];
  const ends = new Map<number, { resolve: (v: string) => void; reject: (e: Error) => void }>();
  let inFlight = 0;
  let mostInFlight = 0;
  const run = (_item: string, index: number) =>
    new Promise<string>((resolve, reject) => {
      events.push(`start ${index}`);
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      ends.set(index, {
        resolve: (v) => (events.push(`end ${index}`), inFlight--, resolve(v)),
        reject: (e) => (events.push(`fail ${index}`), inFlight--, reject(e)),
      });
    });
  /** lets the promise callbacks the last end queued run */
  const settle = () => new Promise<void>((r) => setImmediate(r));
  const end = async (index: number) => (ends.get(index)!.resolve(`out ${index}`), settle());
  const fail = async (index: number) => (ends.get(index)!.reject(new Error(`item ${index} failed`)), settle());
  const items = Array.from({ length: count }, (_, i) => `item ${i}`);
  return { items, run, end, fail, settle, events, started: () => events.filter((e) => e.startsWith('start')).length, mostInFlight: () => mostInFlight };
}

/** Starts the schedule and lets its first items start; resolves with the schedule's promise, wrapped so that it is not awaited. */
async function start(schedule: FanOutSchedule, s: ReturnType<typeof scriptedItems>, width: number) {
  const done = schedule(s.items, width, s.run);
  await s.settle();
  return { done };
}

describe('fan-out on a pool', () => {
  it('starts the next item as soon as one ends, never more than the width at once', async () => {
    const s = scriptedItems(5);
    const { done } = await start(pooled, s, 2);
    expect(s.events).toEqual(['start 0', 'start 1']);
    await s.end(1); // item 0 is slow: item 2 does not wait for it
    expect(s.events).toEqual(['start 0', 'start 1', 'end 1', 'start 2']);
    await s.end(2);
    await s.end(3);
    expect(s.events.slice(-2)).toEqual(['end 3', 'start 4']);
    await s.end(4);
    await s.end(0);
    const { settled, failed } = await done;
    expect(failed).toBeUndefined();
    expect(settled).toEqual([0, 1, 2, 3, 4].map((i) => ({ status: 'fulfilled', value: `out ${i}` })));
    expect(s.mostInFlight()).toBe(2);
  });

  it('starts no item after one has failed; the items in flight finish and keep their outcomes', async () => {
    const s = scriptedItems(6);
    const { done } = await start(pooled, s, 3);
    await s.fail(1);
    await s.end(0);
    await s.end(2);
    const { settled, failed } = await done;
    expect(s.events).toEqual(['start 0', 'start 1', 'start 2', 'fail 1', 'end 0', 'end 2']);
    expect(failed).toBe(1);
    expect(settled.map((r) => r?.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', undefined, undefined, undefined]);
  });

  it('fails with the lowest failed item, as the batches did, whichever failed first', async () => {
    const s = scriptedItems(3);
    const { done } = await start(pooled, s, 3);
    await s.fail(2);
    await s.fail(0);
    await s.end(1);
    const { settled, failed } = await done;
    expect(failed).toBe(0);
    expect((settled[2] as PromiseRejectedResult).reason).toEqual(new Error('item 2 failed'));
  });

  it('starts every item at once when there are no more than the width', async () => {
    const s = scriptedItems(3);
    const { done } = await start(pooled, s, 8);
    expect(s.started()).toBe(3);
    for (const i of [2, 0, 1]) await s.end(i);
    expect((await done).settled).toHaveLength(3);
  });

  it('runs nothing for no items', async () => {
    expect(await pooled([], 4, () => Promise.reject(new Error('never')))).toEqual({ settled: [], failed: undefined });
  });
});

describe('fan-out in fixed batches (runs started before the pool)', () => {
  it('starts a batch only when every item of the one before has ended', async () => {
    const s = scriptedItems(5);
    const { done } = await start(inBatches, s, 2);
    await s.end(1);
    await s.end(0); // the slow item of the first batch
    expect(s.events).toEqual(['start 0', 'start 1', 'end 1', 'end 0', 'start 2', 'start 3']);
    await s.end(3);
    await s.end(2);
    await s.end(4);
    expect((await done).failed).toBeUndefined();
  });

  it('runs every later batch after a failure, and fails with the lowest failed item', async () => {
    const s = scriptedItems(4);
    const { done } = await start(inBatches, s, 2);
    await s.end(0);
    await s.fail(1);
    await s.fail(3);
    await s.end(2);
    const { settled, failed } = await done;
    expect(s.started()).toBe(4);
    expect(failed).toBe(1);
    expect(settled.map((r) => r?.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
  });
});
