/**
 * Cumulative OTLP histogram points -> the counts each one added since the series' previous
 * point (its interval). A cumulative point counts everything since its start time, so its
 * buckets, and its `min` and `max`, describe the series' whole life; the interval's own
 * counts are what its percentiles should come from. The previous point of each series is
 * remembered here, in a {@link BoundedLru}: a series forgotten (or never seen) gives no
 * interval at its next point, which becomes its baseline, as a counter's first sample does.
 *
 * What counts as a new life (a reset): a later start time (the app restarted), or a bucket
 * whose count went down with the same start (a sender that keeps its start time across
 * restarts). The interval is then all the point counts, since it started. An earlier start
 * time, or other bounds, is not this series going on: the point is a new baseline only. A
 * point older than the previous one (a retried export) is ignored.
 *
 * @module
 */
import { BoundedLru, type LruLimits } from "./lru.ts";

/** One cumulative histogram point, as far as intervals go. */
export interface CumulativePoint {
  /** Start time, ms since the epoch (0 when the point has none). */
  start: number;
  /** The point's time, ms since the epoch. */
  time: number;
  bounds: readonly number[];
  /** Counts per bucket since `start`: one more than bounds, checked by buckets.ts. */
  counts: readonly number[];
  /** Sum since `start`, or NaN when the point has none. */
  sum: number;
}

/** What one series observed between two of its points. */
export interface Interval {
  counts: number[];
  /** Sum over the interval, or NaN when a point has no sum. */
  sum: number;
  /** The interval is the point's whole life since a reset. */
  reset: boolean;
}

interface Previous {
  start: number;
  time: number;
  /** The bounds, as a fingerprint: two series rarely differ in both length and hash. */
  boundsHash: number;
  counts: Float64Array;
  sum: number;
}

/** Default bounds: as many series as the collector keeps in all, their counts in 16 MiB. */
export const CUMULATIVE_LIMITS: LruLimits = { maxEntries: 100_000, maxWeight: 2_000_000 };

/** The cumulative -> delta mapper: per series key, the previous point. */
export class CumulativeDeltas {
  #previous: BoundedLru<Previous>;

  constructor(limits: LruLimits = CUMULATIVE_LIMITS) {
    this.#previous = new BoundedLru(limits);
  }

  /** Series remembered. */
  get size(): number {
    return this.#previous.size;
  }

  /** Series forgotten to keep within the limits, over all time. */
  get evicted(): number {
    return this.#previous.evicted;
  }

  /**
   * The interval `point` closes for the series `key`, or null when it closes none (the
   * series' first point here, another life's baseline, or an old point).
   */
  next(key: string, point: CumulativePoint): Interval | null {
    const prev = this.#previous.get(key);
    const boundsHash = hashBounds(point.bounds);
    if (prev && prev.start === point.start && point.time < prev.time) return null;
    const remember = () =>
      this.#previous.set(key, {
        start: point.start,
        time: point.time,
        boundsHash,
        counts: Float64Array.from(point.counts),
        sum: point.sum,
      }, point.counts.length);
    if (
      !prev || prev.boundsHash !== boundsHash || prev.counts.length !== point.counts.length ||
      point.start < prev.start
    ) {
      remember();
      return null;
    }
    let reset = point.start > prev.start;
    const counts = new Array<number>(point.counts.length);
    for (let i = 0; i < counts.length && !reset; i++) {
      counts[i] = point.counts[i] - prev.counts[i];
      if (counts[i] < 0) reset = true;
    }
    remember();
    if (reset) return { counts: [...point.counts], sum: point.sum, reset };
    return { counts, sum: point.sum - prev.sum, reset };
  }
}

/** A number that tells bounds apart (FNV-1a over their bytes), with their length mixed in. */
function hashBounds(bounds: readonly number[]): number {
  const bytes = new Uint8Array(Float64Array.from(bounds).buffer);
  let h = 0x811c9dc5 ^ bounds.length;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}
