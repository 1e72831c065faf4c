import { describe, expect, it } from 'vitest';
import { LADDER_PATCHES } from '../../core/ladder/rules.js';
import { BUSY_POOL_PATCH, CANCEL_PATCH, SIZE_AT_CALL_PATCH } from '../../workflows/micro-task.js';
import { RELEASE_PATCHES } from '../../workflows/patches.js';
import { FAN_OUT_POOL_PATCH, SHADOW_PATCH, SIZE_PATCH } from '../../workflows/pipeline.js';

describe('the release marker', () => {
  it('stands for exactly the patches the workflow code reads', () => {
    const read = [...Object.values(LADDER_PATCHES), CANCEL_PATCH, SHADOW_PATCH, SIZE_PATCH, FAN_OUT_POOL_PATCH, BUSY_POOL_PATCH, SIZE_AT_CALL_PATCH];
    expect([...RELEASE_PATCHES].sort()).toEqual([...new Set(read)].sort());
  });
});
