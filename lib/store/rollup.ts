/**
 * Rollups: min / sum / max / count per fixed time bucket, the unit of every coarse tier and
 * of every query answer. Pure functions, and a compact blob form built on the chunk codec.
 *
 * @module
 */
import { decodeChunk, encodeChunk } from "./chunk.ts";
import { foldRun } from "./run_sums.ts";

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
      if (agg) {
        agg.min = min;
        agg.max = max;
        agg.sum = sum;
        agg.count = count;
      }
      lastB = b;
      agg = out.get(b);
      if (!agg) {
        out.set(b, agg = { min: v, max: v, sum: v, count: 1 });
        min = v;
        max = v;
        sum = v;
        count = 1;
        continue;
      }
      min = agg.min;
      max = agg.max;
      sum = agg.sum;
      count = agg.count;
    }
    if (v < min) min = v;
    if (v > max) max = v;
    sum = tidySum(sum + v);
    count++;
  }
  if (agg) {
    agg.min = min;
    agg.max = max;
    agg.sum = sum;
    agg.count = count;
  }
  return out;
}

type Agg = { min: number; max: number; sum: number; count: number };

/**
 * {@link bucketPoints} for two widths in one pass, each the same as its own call, bit for bit;
 * `msB` a multiple of `msA` (so a bucket of A lies in one bucket of B). A sum waits on its
 * last rounding (tidySum: a multiply, a round and a divide per point): one pass over both
 * tiers lets the two sums' waits overlap, where two passes waited for each in turn.
 *
 * The points go by runs: those from one on that stay in its bucket of A (sealed points are in
 * time order, so a run is usually a whole bucket), then one tight loop folds a run into both
 * tiers' aggregates held in locals. Per point it was one loop with the bucket changes inside
 * it, and V8 kept dropping its optimized code (deopts on the rare branches, every call). A
 * run's sums are known without tidySum's steps when its values are whole numbers or whole
 * millionths (most series: counts, bytes, percentages; run_sums.ts), else taken step by step.
 */
export function bucketPointsPair(
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  msA: number,
  msB: number,
): [Map<number, Agg>, Map<number, Agg>] {
  if (msB % msA !== 0) throw new RangeError(`${msB} ms buckets do not hold whole ${msA} ms ones`);
  if (!warm) {
    warm = true;
    warmUp();
  }
  const outA = new Map<number, Agg>();
  const outB = new Map<number, Agg>();
  const n = times.length;
  for (let i = 0; i < n;) {
    const t = times[i];
    const a = Math.floor(t / msA) * msA;
    const b = Math.floor(t / msB) * msB;
    // Times in [a, a + msA - 1) are in bucket a: t / msA is then at least its index and more
    // than 1 / msA under the next one, so floor gives it. The run ends at the first other.
    const hi = a + msA - 1;
    let end = i + 1;
    if (t >= a && t < hi) { while (end < n && times[end] >= a && times[end] < hi) end++; }
    const v = values[i];
    let aggA = outA.get(a);
    let aggB = outB.get(b);
    // The run's first point starts a new bucket (its sum is that value, not rounded) or adds.
    if (!aggA) outA.set(a, aggA = { min: v, max: v, sum: v, count: 1 });
    else addOne(aggA, v);
    if (!aggB) outB.set(b, aggB = { min: v, max: v, sum: v, count: 1 });
    else addOne(aggB, v);
    let minA = aggA.min, maxA = aggA.max, sumA = aggA.sum, countA = aggA.count;
    let minB = aggB.min, maxB = aggB.max, sumB = aggB.sum, countB = aggB.count;
    const len = end - i - 1;
    if (len > 0) {
      // The run's least and greatest value, and its sums when known without tidySum's steps.
      const run = foldRun(values, i + 1, end, sumA, sumB, RUN);
      const exactA = run[2], exactB = run[3];
      // `x < min` point by point keeps the first of equal values, and NaN where min is NaN.
      const lo = run[0], hi = run[1];
      if (lo < minA) minA = lo;
      if (hi > maxA) maxA = hi;
      if (lo < minB) minB = lo;
      if (hi > maxB) maxB = hi;
      if (exactA === exactA && exactB === exactB) {
        sumA = exactA;
        sumB = exactB;
      } else {
        for (let k = i + 1; k < end; k++) {
          const x = values[k];
          sumA = tidySum(sumA + x);
          sumB = tidySum(sumB + x);
        }
      }
    }
    countA += len;
    countB += len;
    aggA.min = minA;
    aggA.max = maxA;
    aggA.sum = sumA;
    aggA.count = countA;
    aggB.min = minB;
    aggB.max = maxB;
    aggB.sum = sumB;
    aggB.count = countB;
    i = end;
  }
  return [outA, outB];
}

/** Whether {@link warmUp} ran. */
let warm = false;
/** What {@link foldRun} found. */
const RUN = new Float64Array(4);

/** Add one value to a bucket's aggregates. */
function addOne(agg: Agg, v: number): void {
  if (v < agg.min) agg.min = v;
  if (v > agg.max) agg.max = v;
  agg.sum = tidySum(agg.sum + v);
  agg.count++;
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

/**
 * Fold a few small runs once, before the first call's own, so every statement has run before
 * V8 optimizes it (as chunk.ts does for the encoder): compiled inside a seal's first long run,
 * the run passes would leave their optimized code at the loop's exit on every later call.
 */
function warmUp(): void {
  // Float64Arrays, as a seal's columns are: plain arrays here would make every read of them
  // look up the kind of array it is.
  const times = Float64Array.from({ length: 40 }, (_, i) => i * 7_000);
  for (const f of [(i: number) => i * 0.25, (i: number) => 2e9 + i, (i: number) => i / 3]) {
    bucketPointsPair(times, times.map((_, i) => f(i)), TIERS[0].bucketMs, TIERS[1].bucketMs);
  }
}
