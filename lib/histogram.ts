/**
 * Histograms: fixed, documented bucket bounds shared by every agent and the collector, so
 * histograms from many instances add up, and percentiles are derived at the collector from
 * the counts that arrived in an interval.
 *
 * On the wire a histogram is `{ counts, sum }`: `counts[i]` is how many observations fell at
 * or below `BUCKETS[i]` and above the previous bound, since the agent started (the last
 * count is everything above the last bound); `sum` is the sum of all observations.
 *
 * @module
 */

/** Upper bounds of the buckets, for durations in ms (and any value on a similar scale). */
export const BUCKETS: readonly number[] = [
  0.5,
  1,
  2,
  5,
  10,
  25,
  50,
  100,
  250,
  500,
  1000,
  2500,
  5000,
  10_000,
  30_000,
  60_000,
];

/** Number of counts in a histogram: one per bound plus the overflow bucket. */
export const BUCKET_COUNT = BUCKETS.length + 1;

/** The bucket an observation falls in. */
export function bucketIndex(value: number): number {
  let lo = 0;
  let hi = BUCKETS.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (value <= BUCKETS[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The q-quantile (0 < q < 1) of the observations counted in `counts`, interpolated linearly
 * within its bucket (as Prometheus' histogram_quantile does). The overflow bucket answers its
 * lower bound. NaN when there are no observations.
 */
export function quantile(counts: ArrayLike<number>, q: number): number {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  if (total === 0) return NaN;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (c > 0 && seen + c >= rank) {
      if (i >= BUCKETS.length) return BUCKETS[BUCKETS.length - 1];
      const lo = i === 0 ? 0 : BUCKETS[i - 1];
      return lo + (BUCKETS[i] - lo) * ((rank - seen) / c);
    }
    seen += c;
  }
  return BUCKETS[BUCKETS.length - 1];
}
