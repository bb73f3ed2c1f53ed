/**
 * Running totals in our buckets, per histogram key of an instance: the intervals
 * cumulative.ts takes out of cumulative OTLP points, mapped into our buckets (buckets.ts),
 * added up again. What reaches the collector is then a cumulative histogram like an agent's,
 * whose differences (lib/collector/derive.ts) are exactly the mapped intervals, and whose
 * per-interval counts service cards merge.
 *
 * A total forgotten to keep within the bounds starts again from zero: the collector reads a
 * histogram whose counts went down as a restart and takes the new total as one interval,
 * which it is.
 *
 * @module
 */
import { BUCKET_COUNT } from "../histogram.ts";
import type { Histogram } from "../protocol.ts";
import { BoundedLru, type LruLimits } from "./lru.ts";

/** Default bounds: as many histograms as the collector keeps series in all. */
export const TOTALS_LIMITS: LruLimits = {
  maxEntries: 100_000,
  maxWeight: 100_000 * (BUCKET_COUNT + 1),
};

/** Per key, the histogram of everything added under it. */
export class RunningTotals {
  #totals: BoundedLru<Histogram>;

  constructor(limits: LruLimits = TOTALS_LIMITS) {
    this.#totals = new BoundedLru(limits);
  }

  /** Totals held. */
  get size(): number {
    return this.#totals.size;
  }

  /** Add an interval's counts (our buckets) and sum under `key`; returns a copy of the total. */
  add(key: string, counts: ArrayLike<number>, sum: number): Histogram {
    let total = this.#totals.get(key);
    if (!total) {
      total = { counts: new Array<number>(BUCKET_COUNT).fill(0), sum: 0 };
      this.#totals.set(key, total, BUCKET_COUNT + 1);
    }
    for (let i = 0; i < BUCKET_COUNT; i++) total.counts[i] += counts[i];
    total.sum += sum;
    return { counts: [...total.counts], sum: total.sum };
  }
}
