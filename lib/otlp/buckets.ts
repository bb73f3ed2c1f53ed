/**
 * OTLP explicit-bucket histograms onto our fixed buckets (lib/histogram.ts), so histograms
 * from SDKs add up with the agents' and with each other.
 *
 * Each OTLP bucket `(lower, upper]` is first narrowed by what the point says of its values:
 * none is below `min` or above `max` (when the point has them). Its count is then spread over
 * the narrowed range evenly, each of our buckets taking the share of the range it overlaps, so
 * a percentile read from our buckets is the one interpolated within the OTLP bucket (as
 * Prometheus' histogram_quantile does), within our bucket's width. A range that is one value
 * (`min` = `max`, as when every observation was the same) lands in the one bucket of ours
 * that holds it. Shares are fractions: these counts are estimates, never sent on the wire.
 * Without `max`, the OTLP overflow bucket goes to our overflow bucket; without `min`, the
 * first OTLP bucket starts at 0 (or at its bound, when that is negative).
 * docs/protocol.md says the same to users.
 *
 * @module
 */
import { BUCKET_COUNT, bucketIndex, BUCKETS } from "../histogram.ts";

/** Our bucket counts, and the sum the OTLP buckets imply. */
export interface MappedBuckets {
  counts: number[];
  /** For a point without `sum` (OTLP makes it optional): the narrowed ranges' midpoints' sum. */
  sumEstimate: number;
}

/** What a point says bounds its values, scaled as the bounds are: ±Infinity when unknown. */
export interface ValueRange {
  min: number;
  max: number;
}

/** No bound known: the OTLP buckets alone place the values. */
export const UNBOUNDED: ValueRange = { min: -Infinity, max: Infinity };

/** Why a point's buckets cannot be mapped: the reject reason and a detail. */
export interface BucketError {
  reason: "wrong_type" | "invalid_number";
  detail: string;
}

/**
 * Check OTLP `bounds` and `counts` (one more count than bounds): null when well formed, else
 * why not.
 */
export function checkBuckets(
  bounds: readonly number[],
  counts: readonly number[],
): BucketError | null {
  if (counts.length !== bounds.length + 1) {
    return {
      reason: "wrong_type",
      detail: `${counts.length} bucket counts for ${bounds.length} bounds`,
    };
  }
  for (let i = 0; i < bounds.length; i++) {
    if (!Number.isFinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
      return { reason: "invalid_number", detail: "bounds must be finite and increasing" };
    }
  }
  for (const c of counts) {
    if (!Number.isSafeInteger(c) || c < 0) {
      return { reason: "invalid_number", detail: "bucket counts must be non-negative integers" };
    }
  }
  return null;
}

/**
 * Map OTLP `bounds` and `counts` (checked by {@link checkBuckets}, or says why not) onto our
 * buckets. Bounds are multiplied by `scale` first; `range` is in the scaled unit.
 */
export function mapBuckets(
  bounds: readonly number[],
  counts: readonly number[],
  range: ValueRange = UNBOUNDED,
  scale = 1,
): MappedBuckets | BucketError {
  return checkBuckets(bounds, counts) ?? spreadBuckets(bounds, counts, range, scale);
}

/** {@link mapBuckets} for buckets known to be well formed (counts may be any non-negative). */
export function spreadBuckets(
  bounds: readonly number[],
  counts: ArrayLike<number>,
  range: ValueRange,
  scale = 1,
): MappedBuckets {
  const ours = new Array<number>(BUCKET_COUNT).fill(0);
  let sumEstimate = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (!(c > 0)) continue;
    const lower = i > 0 ? bounds[i - 1] * scale : -Infinity;
    const upper = i < bounds.length ? bounds[i] * scale : Infinity;
    // Narrowed by min and max, but never outside the bucket (a min or max that contradicts
    // the counts places them at the bucket's nearest edge).
    let hi = Math.max(Math.min(upper, range.max), lower);
    let lo = Math.min(Math.max(lower, range.min), upper);
    if (lo === -Infinity) lo = Math.min(0, hi);
    if (hi < lo) hi = lo;
    if (hi === Infinity) {
      ours[BUCKETS.length] += c; // unbounded above: our overflow
      sumEstimate += c * lo;
      continue;
    }
    sumEstimate += c * (lo + hi) / 2;
    spread(ours, lo, hi, c);
  }
  return { counts: ours, sumEstimate };
}

/** Add `c` observations spread evenly over [lo, hi] (finite) to our `counts`. */
function spread(counts: number[], lo: number, hi: number, c: number): void {
  const first = bucketIndex(lo);
  const last = bucketIndex(hi);
  if (first === last) {
    counts[first] += c;
    return;
  }
  // Our bucket j is (BUCKETS[j-1], BUCKETS[j]]; the first reaches down to lo, the last up to hi.
  const width = hi - lo;
  let given = 0;
  for (let j = first; j < last; j++) {
    const share = c * (BUCKETS[j] - Math.max(lo, j > 0 ? BUCKETS[j - 1] : lo)) / width;
    counts[j] += share;
    given += share;
  }
  counts[last] += Math.max(0, c - given); // the rest, so the shares add up to c exactly
}
