/**
 * OTLP explicit-bucket histograms onto our fixed buckets (lib/histogram.ts), so histograms
 * from SDKs add up with the agents' and with each other. Each OTLP bucket's count goes to
 * our bucket that holds its upper bound; the OTLP overflow bucket's, to the one holding the
 * point's `max` (else our overflow). A percentile is then interpolated within that bucket of
 * ours: off by up to its width, exact when the OTLP bounds are among ours. docs/protocol.md
 * says the same to users.
 *
 * @module
 */
import { BUCKET_COUNT, bucketIndex, BUCKETS } from "../histogram.ts";

/** Our bucket counts, and the sum the OTLP buckets imply (bucket midpoints). */
export interface MappedBuckets {
  counts: number[];
  /** For a point without `sum` (OTLP makes it optional): the midpoints' sum. */
  sumEstimate: number;
}

/**
 * Map OTLP `bounds` and `counts` (one more count than bounds, scaled by `scale` first) onto
 * our buckets. `max` is the point's largest value (scaled), or Infinity when unknown. When
 * the point's buckets are not well formed, says why: the reject reason and a detail.
 */
export function mapBuckets(
  bounds: readonly number[],
  counts: readonly number[],
  max: number,
  scale = 1,
): MappedBuckets | { reason: "wrong_type" | "invalid_number"; detail: string } {
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
  const ours = new Array<number>(BUCKET_COUNT).fill(0);
  let sumEstimate = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (!Number.isSafeInteger(c) || c < 0) {
      return { reason: "invalid_number", detail: "bucket counts must be non-negative integers" };
    }
    if (c === 0) continue;
    // The bucket (bounds[i-1], bounds[i]]; the last one is above every bound, up to max.
    const upper = i < bounds.length ? bounds[i] * scale : max;
    ours[upper === Infinity ? BUCKETS.length : bucketIndex(upper)] += c;
    const lower = i > 0 ? bounds[i - 1] * scale : Math.min(0, upper);
    sumEstimate += c * (upper === Infinity ? lower : (lower + upper) / 2);
  }
  return { counts: ours, sumEstimate };
}
