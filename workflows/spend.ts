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

  /** Whether a call estimated at `estimateUsd` may start beside the calls in flight (alone, it always may). */
  private fits(estimateUsd: number): boolean {
    return this.limitUsd === undefined || this.costUsd + this.reservedUsd + estimateUsd <= this.limitUsd || this.reservedUsd === 0;
  }

  /**
   * Reserves `estimateUsd` for one call: the reservation, or why the budget cannot pay for the
   * call (it is spent). A call that might not fit beside the calls in flight elsewhere in the run
   * (a fan-out's other items) waits for them, then is decided on real spend. With room it reserves
   * in the same workflow task, no await between the check and the reservation, so items resumed
   * together see each other's reservations and the commands keep their order.
   */
  async reserve(estimateUsd: number): Promise<Reservation | { spent: string }> {
    while (!this.fits(estimateUsd)) await condition(() => this.fits(estimateUsd));
    return this.take(estimateUsd);
  }

  /** `reserve` without the wait: undefined when the call must wait for room. */
  tryReserve(estimateUsd: number): Reservation | { spent: string } | undefined {
    return this.fits(estimateUsd) ? this.take(estimateUsd) : undefined;
  }

  private take(estimateUsd: number): Reservation | { spent: string } {
    if (this.limitUsd !== undefined && this.costUsd >= this.limitUsd) return { spent: `the run's cost budget of $${this.limitUsd} is spent ($${this.costUsd.toFixed(6)})` };
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
