/**
 * History queries, the pure part: which tier answers a range, and how points or coarser
 * buckets fold into at most N answer buckets `[ts, min, avg, max]`.
 *
 * @module
 */
import { type BucketColumns, type Tier, TIERS } from "./rollup.ts";

/** One answer bucket: start time, min, average, max. */
export type Point = [ts: number, min: number, avg: number, max: number];

/** How long each tier keeps data, ms. */
export interface Retention {
  rawMs: number;
  minuteMs: number;
  hourMs: number;
}

/** Defaults: raw 3 days, 1-minute buckets 90 days, 1-hour buckets 2 years. */
export const DEFAULT_RETENTION: Retention = {
  rawMs: 3 * 86_400_000,
  minuteMs: 90 * 86_400_000,
  hourMs: 2 * 365 * 86_400_000,
};

/** Retention of a tier (0 = raw). */
export function retentionOf(tier: number, r: Retention): number {
  return tier === 0 ? r.rawMs : tier === 1 ? r.minuteMs : r.hourMs;
}

/**
 * The coarsest tier whose buckets are still no wider than an answer bucket, so the answer
 * has N points where the data has them; a finer tier than that would read more for nothing.
 * If the range starts before a tier's retention, the next coarser tier that still holds
 * the start is used instead.
 */
export function chooseTier(
  from: number,
  to: number,
  points: number,
  now: number,
  retention: Retention,
): 0 | Tier["tier"] {
  const width = (to - from) / points;
  let tier = 0;
  for (const t of TIERS) if (t.bucketMs <= width) tier = t.tier;
  while (tier < TIERS.length && from < now - retentionOf(tier, retention)) tier++;
  return tier;
}

/** Accumulates sources into N equal buckets over [from, to). */
export class Bucketizer {
  readonly width: number;
  #min: Float64Array;
  #max: Float64Array;
  #sum: Float64Array;
  #count: Float64Array;

  constructor(readonly from: number, readonly to: number, readonly points: number) {
    this.width = (to - from) / points;
    this.#min = new Float64Array(points).fill(Infinity);
    this.#max = new Float64Array(points).fill(-Infinity);
    this.#sum = new Float64Array(points);
    this.#count = new Float64Array(points);
  }

  #slot(t: number): number {
    if (t < this.from || t >= this.to) return -1;
    return Math.min(this.points - 1, Math.floor((t - this.from) / this.width));
  }

  /** Add raw points. */
  addPoints(times: ArrayLike<number>, values: ArrayLike<number>): void {
    for (let i = 0; i < times.length; i++) {
      const k = this.#slot(times[i]);
      if (k < 0) continue;
      const v = values[i];
      if (v < this.#min[k]) this.#min[k] = v;
      if (v > this.#max[k]) this.#max[k] = v;
      this.#sum[k] += v;
      this.#count[k]++;
    }
  }

  /** Add pre-aggregated buckets (placed by their start time). */
  addBuckets(b: BucketColumns): void {
    for (let i = 0; i < b.start.length; i++) {
      const k = this.#slot(b.start[i]);
      if (k < 0) continue;
      if (b.min[i] < this.#min[k]) this.#min[k] = b.min[i];
      if (b.max[i] > this.#max[k]) this.#max[k] = b.max[i];
      this.#sum[k] += b.sum[i];
      this.#count[k] += b.count[i];
    }
  }

  /** The non-empty buckets, oldest first. */
  result(): Point[] {
    const out: Point[] = [];
    for (let k = 0; k < this.points; k++) {
      if (this.#count[k] === 0) continue;
      out.push([
        Math.round(this.from + k * this.width),
        this.#min[k],
        this.#sum[k] / this.#count[k],
        this.#max[k],
      ]);
    }
    return out;
  }
}

/**
 * Answer points as one flat array `[ts, min, avg, max, ts, ...]`: what crosses from the
 * history thread (transferred, not cloned: cloning 50 x 1 000 small arrays cost more than the
 * query itself).
 */
export function flattenPoints(points: Point[]): Float64Array<ArrayBuffer> {
  const out = new Float64Array(points.length * 4);
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    out[i * 4] = p[0];
    out[i * 4 + 1] = p[1];
    out[i * 4 + 2] = p[2];
    out[i * 4 + 3] = p[3];
  }
  return out;
}

/** The points of {@link flattenPoints} back. */
export function unflattenPoints(flat: Float64Array): Point[] {
  const out: Point[] = [];
  for (let i = 0; i + 3 < flat.length; i += 4) {
    out.push([flat[i], flat[i + 1], flat[i + 2], flat[i + 3]]);
  }
  return out;
}
