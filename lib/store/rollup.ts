/**
 * Rollups: min / sum / max / count per fixed time bucket, the unit of every coarse tier and
 * of every query answer. Pure functions, and a compact blob form built on the chunk codec.
 *
 * @module
 */
import { decodeChunk, encodeChunk } from "./chunk.ts";

/** Aggregates of a set of buckets, in parallel arrays ordered by bucket start. */
export interface Buckets {
  start: number[];
  min: number[];
  max: number[];
  sum: number[];
  count: number[];
}

/** A rollup tier: buckets of `bucketMs`, stored `perRow` buckets to a row. */
export interface Tier {
  tier: number;
  name: string;
  bucketMs: number;
  /** Span of one stored row, ms (a whole number of buckets). */
  rowMs: number;
}

/** The rollup tiers, finest first. Tier 0 is the raw samples. */
export const TIERS: readonly Tier[] = [
  { tier: 1, name: "1m", bucketMs: 60_000, rowMs: 6 * 3_600_000 },
  { tier: 2, name: "1h", bucketMs: 3_600_000, rowMs: 7 * 86_400_000 },
];

/**
 * A sum rounded to 1e-6. Float addition leaves noise (0.1 + 0.2 = 0.30000000000000004) that
 * turns sums of exact hundredths into arbitrary floats, which compress 3-4x worse; averages
 * move by less than a millionth.
 */
export function tidySum(sum: number): number {
  return Math.abs(sum) < 1e9 ? Math.round(sum * 1e6) / 1e6 : sum;
}

/** Empty buckets. */
export function emptyBuckets(): Buckets {
  return { start: [], min: [], max: [], sum: [], count: [] };
}

/**
 * Fold raw points into buckets of `bucketMs` aligned to the epoch, keyed by bucket start.
 * Returns a map so callers can split by row before merging.
 */
export function bucketPoints(
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  bucketMs: number,
): Map<number, { min: number; max: number; sum: number; count: number }> {
  const out = new Map<number, { min: number; max: number; sum: number; count: number }>();
  // Points come in time order when sealed: most fall in the previous point's bucket, whose
  // aggregates are kept in locals and stored back when the bucket changes.
  let lastB = NaN;
  let agg: { min: number; max: number; sum: number; count: number } | undefined;
  let min = 0, max = 0, sum = 0, count = 0;
  for (let i = 0; i < times.length; i++) {
    const b = Math.floor(times[i] / bucketMs) * bucketMs;
    const v = values[i];
    if (b !== lastB) {
      if (agg) [agg.min, agg.max, agg.sum, agg.count] = [min, max, sum, count];
      lastB = b;
      agg = out.get(b);
      if (!agg) {
        out.set(b, agg = { min: v, max: v, sum: v, count: 1 });
        [min, max, sum, count] = [v, v, v, 1];
        continue;
      }
      [min, max, sum, count] = [agg.min, agg.max, agg.sum, agg.count];
    }
    if (v < min) min = v;
    if (v > max) max = v;
    sum = tidySum(sum + v);
    count++;
  }
  if (agg) [agg.min, agg.max, agg.sum, agg.count] = [min, max, sum, count];
  return out;
}

type Agg = { min: number; max: number; sum: number; count: number };

/**
 * {@link bucketPoints} for two widths in one pass, each the same as its own call. A sum waits
 * on its last rounding (tidySum: a multiply, a round and a divide per point): one pass over
 * both tiers lets the two sums' waits overlap, where two passes waited for each in turn.
 */
export function bucketPointsPair(
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  msA: number,
  msB: number,
): [Map<number, Agg>, Map<number, Agg>] {
  const outA = new Map<number, Agg>();
  const outB = new Map<number, Agg>();
  let lastA = NaN, lastB = NaN;
  let aggA: Agg | undefined, aggB: Agg | undefined;
  let minA = 0, maxA = 0, sumA = 0, countA = 0;
  let minB = 0, maxB = 0, sumB = 0, countB = 0;
  for (let i = 0; i < times.length; i++) {
    const t = times[i];
    const v = values[i];
    const a = Math.floor(t / msA) * msA;
    const b = Math.floor(t / msB) * msB;
    let addA = true;
    if (a !== lastA) {
      if (aggA) [aggA.min, aggA.max, aggA.sum, aggA.count] = [minA, maxA, sumA, countA];
      lastA = a;
      aggA = outA.get(a);
      if (!aggA) {
        outA.set(a, aggA = { min: v, max: v, sum: v, count: 1 });
        [minA, maxA, sumA, countA] = [v, v, v, 1];
        addA = false;
      } else [minA, maxA, sumA, countA] = [aggA.min, aggA.max, aggA.sum, aggA.count];
    }
    let addB = true;
    if (b !== lastB) {
      if (aggB) [aggB.min, aggB.max, aggB.sum, aggB.count] = [minB, maxB, sumB, countB];
      lastB = b;
      aggB = outB.get(b);
      if (!aggB) {
        outB.set(b, aggB = { min: v, max: v, sum: v, count: 1 });
        [minB, maxB, sumB, countB] = [v, v, v, 1];
        addB = false;
      } else [minB, maxB, sumB, countB] = [aggB.min, aggB.max, aggB.sum, aggB.count];
    }
    if (addA) {
      if (v < minA) minA = v;
      if (v > maxA) maxA = v;
      sumA = tidySum(sumA + v);
      countA++;
    }
    if (addB) {
      if (v < minB) minB = v;
      if (v > maxB) maxB = v;
      sumB = tidySum(sumB + v);
      countB++;
    }
  }
  if (aggA) [aggA.min, aggA.max, aggA.sum, aggA.count] = [minA, maxA, sumA, countA];
  if (aggB) [aggB.min, aggB.max, aggB.sum, aggB.count] = [minB, maxB, sumB, countB];
  return [outA, outB];
}

/**
 * {@link bucketPoints} for one tier, grouped by the row (`tier.rowMs` span) each bucket is in;
 * `buckets` when the caller has them already (bucketPointsPair).
 */
export function bucketsByRow(
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  tier: Tier,
  buckets: Map<number, Agg> = bucketPoints(times, values, tier.bucketMs),
): Map<number, Map<number, { min: number; max: number; sum: number; count: number }>> {
  const byRow = new Map<
    number,
    Map<number, { min: number; max: number; sum: number; count: number }>
  >();
  for (const [start, agg] of buckets) {
    const rowStart = Math.floor(start / tier.rowMs) * tier.rowMs;
    let m = byRow.get(rowStart);
    if (!m) byRow.set(rowStart, m = new Map());
    m.set(start, agg);
  }
  return byRow;
}

/**
 * Fold sealed points into every tier's stored rows: each row they touch is read with `get`
 * (undefined when there is none yet), merged and written back with `put`.
 */
export function foldIntoRows(
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  get: (tier: number, rowStart: number) => Uint8Array | undefined,
  put: (tier: number, rowStart: number, data: Uint8Array) => void,
): void {
  const pair = TIERS.length === 2
    ? bucketPointsPair(times, values, TIERS[0].bucketMs, TIERS[1].bucketMs)
    : null;
  for (let k = 0; k < TIERS.length; k++) {
    const tier = TIERS[k];
    for (const [rowStart, add] of bucketsByRow(times, values, tier, pair?.[k])) {
      const old = get(tier.tier, rowStart);
      const merged = mergeBuckets(old ? decodeBuckets(old) : emptyBuckets(), add);
      put(tier.tier, rowStart, encodeBuckets(merged));
    }
  }
}

/** Merge new bucket aggregates into existing buckets (same bucket starts combine). */
export function mergeBuckets(
  into: Buckets,
  add: Map<number, { min: number; max: number; sum: number; count: number }>,
): Buckets {
  const all = new Map<number, { min: number; max: number; sum: number; count: number }>();
  for (let i = 0; i < into.start.length; i++) {
    all.set(into.start[i], {
      min: into.min[i],
      max: into.max[i],
      sum: into.sum[i],
      count: into.count[i],
    });
  }
  for (const [b, a] of add) {
    const e = all.get(b);
    if (!e) all.set(b, { ...a });
    else {
      e.min = Math.min(e.min, a.min);
      e.max = Math.max(e.max, a.max);
      e.sum = tidySum(e.sum + a.sum);
      e.count += a.count;
    }
  }
  const out = emptyBuckets();
  for (const b of [...all.keys()].sort((x, y) => x - y)) {
    const a = all.get(b)!;
    out.start.push(b);
    out.min.push(a.min);
    out.max.push(a.max);
    out.sum.push(a.sum);
    out.count.push(a.count);
  }
  return out;
}

/** Encode buckets as one blob: four chunks (min, max, sum, count) sharing bucket times. */
export function encodeBuckets(b: Buckets): Uint8Array {
  const parts = [b.min, b.max, b.sum, b.count].map((v) => encodeChunk(b.start, v));
  const size = parts.reduce((n, p) => n + 4 + p.byteLength, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of parts) {
    view.setUint32(at, p.byteLength);
    out.set(p, at + 4);
    at += 4 + p.byteLength;
  }
  return out;
}

/** Buckets as decoded, column by column (read only): what a query folds without copying. */
export interface BucketColumns {
  start: ArrayLike<number>;
  min: ArrayLike<number>;
  max: ArrayLike<number>;
  sum: ArrayLike<number>;
  count: ArrayLike<number>;
}

/**
 * Decode a blob made by {@link encodeBuckets} into typed columns; throws on a corrupt blob.
 * Queries read these directly: copying them into arrays took a third of a wide query.
 */
export function decodeBucketColumns(blob: Uint8Array): BucketColumns {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const cols: Float64Array[] = [];
  let times: Float64Array = new Float64Array(0);
  let at = 0;
  for (let i = 0; i < 4; i++) {
    if (at + 4 > blob.byteLength) throw new Error("corrupt rollup: truncated");
    const len = view.getUint32(at);
    if (at + 4 + len > blob.byteLength) throw new Error("corrupt rollup: truncated");
    const c = decodeChunk(blob.subarray(at + 4, at + 4 + len));
    times = c.times;
    cols.push(c.values);
    at += 4 + len;
  }
  return { start: times, min: cols[0], max: cols[1], sum: cols[2], count: cols[3] };
}

/** Decode a blob made by {@link encodeBuckets} (as plain arrays); throws on a corrupt blob. */
export function decodeBuckets(blob: Uint8Array): Buckets {
  const c = decodeBucketColumns(blob);
  return {
    start: toArray(c.start),
    min: toArray(c.min),
    max: toArray(c.max),
    sum: toArray(c.sum),
    count: toArray(c.count),
  };
}

function toArray(xs: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < xs.length; i++) out.push(xs[i]);
  return out;
}
