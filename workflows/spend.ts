import { condition } from '@temporalio/workflow';
import type { SpendView } from '../core/ladder/machine.js';

/**
 * A run's cost budget, shared by its micro-tasks: what is spent, and the estimated cost of the
 * calls in flight. A call reserves its cost at most before it starts and settles with what it
 * cost; one that might not fit beside the calls in flight waits for them instead of starting.
 */
export class Spend {
  costUsd = 0;
  reservedUsd = 0;

  constructor(readonly limitUsd: number | undefined) {}

  view(): SpendView {
    return { costUsd: this.costUsd, reservedUsd: this.reservedUsd, limitUsd: this.limitUsd };
  }

  /**
   * Reserves `estimateUsd` for one call. Resolves with the reservation, or with why the budget
   * cannot pay for the call: it is spent. Re-checked after every wake-up, with no await between
   * the check and the reservation, so items resumed together see each other's reservations.
   */
  async reserve(estimateUsd: number): Promise<Reservation | { spent: string }> {
    const limit = this.limitUsd;
    if (limit !== undefined) {
      // the calls in flight elsewhere in the run (a fan-out's other items) may use up what is left:
      // wait for them instead of starting a call the budget may not cover, then decide on real spend
      const fits = () => this.costUsd + this.reservedUsd + estimateUsd <= limit || this.reservedUsd === 0;
      while (!fits()) await condition(fits);
      if (this.costUsd >= limit) return { spent: `the run's cost budget of $${limit} is spent ($${this.costUsd.toFixed(6)})` };
    }
    this.reservedUsd += estimateUsd;
    let open = true;
    const release = () => {
      if (!open) return;
      open = false;
      this.reservedUsd = Math.max(0, this.reservedUsd - estimateUsd);
    };
    return {
      release,
      settle: (costUsd: number) => {
        release();
        this.costUsd += costUsd;
      },
    };
  }
}

export interface Reservation {
  /** the call failed: nothing was spent */
  release: () => void;
  /** the call returned: what it cost replaces the reservation */
  settle: (costUsd: number) => void;
}
