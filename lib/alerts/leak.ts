/**
 * Memory-leak detection for one instance: a robust trend of `mem.rss_bytes` over a sliding
 * window. The slope is Theil–Sen (the median of all pairwise slopes), which a garbage
 * collector's sawtooth and single spikes do not move; the confidence is Mann–Kendall's
 * (a rank test: how much more often the series goes up than down). A leak must also be
 * *sustained*: both halves of the window have to grow, so a one-time step (a cache
 * filled once, a bigger heap) is not taken for a leak; and it must still be going on: the
 * slope of the last few minutes (`recentMs`) is reported beside the window's, so growth that
 * stopped (a warm-up: JIT, caches, histograms) stops counting within minutes. Pure and cheap: `add` is O(1)
 * amortised, `estimate` costs at most ~11 000 slope computations and one sort, and the
 * clock is passed in.
 *
 * @module
 */
import type { LeakEstimate } from "../model/alert.ts";

export type { LeakEstimate };

/** Bytes in the MB the detector reports (decimal, 10^6; MiB is 2^20). */
export const MB = 1_000_000;
const HOUR_MS = 3_600_000;

/** Tuning of a {@link LeakDetector}; every field has a default. */
export interface LeakOptions {
  /** Sliding window the trend is taken over, ms (default 30 min). */
  windowMs?: number;
  /** Least span of data before there is an estimate, ms (default 90 s). */
  minSpanMs?: number;
  /** Most points kept in the window; samples are averaged into buckets (default 600). */
  maxBuffered?: number;
  /** Most points the pairwise slopes are taken over, evenly subsampled (default 150). */
  maxPoints?: number;
  /** The recent part of the window whose own slope tells growth that goes on, ms (default 3 min). */
  recentMs?: number;
}

/** One instance's RSS window and its trend. */
export class LeakDetector {
  readonly windowMs: number;
  readonly minSpanMs: number;
  readonly maxPoints: number;
  readonly recentMs: number;
  /** Bucket width: samples closer than this are averaged into one point. */
  readonly resolutionMs: number;
  #t: number[] = [];
  #v: number[] = [];
  #bucket = -Infinity;
  #sum = 0;
  #tsum = 0;
  #count = 0;

  constructor(opts: LeakOptions = {}) {
    this.windowMs = opts.windowMs ?? 30 * 60_000;
    this.minSpanMs = opts.minSpanMs ?? 90_000;
    this.maxPoints = Math.max(8, opts.maxPoints ?? 150);
    this.recentMs = opts.recentMs ?? 3 * 60_000;
    this.resolutionMs = Math.max(1000, Math.ceil(this.windowMs / (opts.maxBuffered ?? 600)));
  }

  /** Points held (after bucketing). */
  get size(): number {
    return this.#t.length;
  }

  /** Forget everything (the instance restarted: its memory starts over). */
  reset(): void {
    this.#t = [];
    this.#v = [];
    this.#bucket = -Infinity;
    this.#sum = 0;
    this.#tsum = 0;
    this.#count = 0;
  }

  /** Add one RSS sample at collector time `t`. Out-of-order samples older than the last bucket are dropped. */
  add(t: number, bytes: number): void {
    if (!Number.isFinite(t) || !Number.isFinite(bytes) || bytes < 0) return;
    const bucket = Math.floor(t / this.resolutionMs);
    if (bucket < this.#bucket) return;
    const n = this.#t.length;
    if (bucket === this.#bucket && n > 0) {
      this.#sum += bytes;
      this.#tsum += t;
      this.#count++;
      this.#t[n - 1] = this.#tsum / this.#count;
      this.#v[n - 1] = this.#sum / this.#count;
      return;
    }
    this.#bucket = bucket;
    this.#sum = bytes;
    this.#tsum = t;
    this.#count = 1;
    this.#t.push(t);
    this.#v.push(bytes);
    // Trim in batches, so a steady stream does not shift the arrays on every bucket.
    if (this.#t[0] < t - this.windowMs - this.windowMs / 8) this.#trim(t);
  }

  #trim(now: number): void {
    const from = now - this.windowMs;
    let i = 0;
    while (i < this.#t.length && this.#t[i] < from) i++;
    if (i > 0) {
      this.#t.splice(0, i);
      this.#v.splice(0, i);
    }
  }

  /**
   * The trend at `now`, or null while the window holds less than `minSpanMs` of data.
   * `limitBytes` (the container's memory limit, or a rule's) adds the time until the fitted
   * line reaches it.
   */
  estimate(now: number, limitBytes?: number | null): LeakEstimate | null {
    this.#trim(now);
    const n = this.#t.length;
    if (n < 8) return null;
    const span = this.#t[n - 1] - this.#t[0];
    if (span < this.minSpanMs) return null;
    const m = Math.min(n, this.maxPoints);
    const ts = new Float64Array(m);
    const vs = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      const j = m === n ? i : Math.round((i * (n - 1)) / (m - 1));
      ts[i] = this.#t[j];
      vs[i] = this.#v[j];
    }
    const whole = theilSen(ts, vs, 0, m);
    const half = m >> 1;
    const first = theilSen(ts, vs, 0, half);
    const second = theilSen(ts, vs, half, m);
    // The recent part from the buffered points (not the subsample, which holds only a few of
    // them), itself subsampled to at most maxPoints.
    const recentFrom = this.#t[n - 1] - this.recentMs;
    let r = n - 1;
    while (r > 0 && this.#t[r - 1] >= recentFrom) r--;
    const rn = Math.min(n - r, this.maxPoints);
    const rts = new Float64Array(rn);
    const rvs = new Float64Array(rn);
    for (let i = 0; i < rn; i++) {
      const j = r + (rn === n - r ? i : Math.round((i * (n - 1 - r)) / (rn - 1)));
      rts[i] = this.#t[j];
      rvs[i] = this.#v[j];
    }
    const recent = theilSen(rts, rvs, 0, rn);
    const slope = whole.slope; // bytes per ms
    // Intercept: the median of v - slope * t (relative to t0 for precision).
    const t0 = ts[0];
    const resid = new Float64Array(m);
    for (let i = 0; i < m; i++) resid[i] = vs[i] - slope * (ts[i] - t0);
    resid.sort();
    const intercept = median(resid);
    const iqr = quantile(resid, 0.75) - quantile(resid, 0.25);
    const rise = slope * span;
    const level = intercept + slope * (now - t0);
    const perHour = HOUR_MS / MB;
    const out: LeakEstimate = {
      at: now,
      from: t0,
      spanMs: span,
      points: m,
      mbPerHour: slope * perHour,
      lowerMbPerHour: whole.lower * perHour,
      upperMbPerHour: whole.upper * perHour,
      sustainedMbPerHour: Math.min(first.slope, second.slope) * perHour,
      confidence: Math.min(whole.confidence, first.confidence, second.confidence),
      recentMbPerHour: recent.slope * perHour,
      recentConfidence: recent.confidence,
      full: span + 2 * this.resolutionMs >= this.windowMs,
      signalToNoise: iqr > 0 ? rise / iqr : rise > 0 ? Infinity : rise < 0 ? -Infinity : 0,
      levelBytes: level,
      trend: [[t0, intercept], [ts[m - 1], intercept + slope * (ts[m - 1] - t0)]],
    };
    if (limitBytes != null && limitBytes > 0 && Number.isFinite(limitBytes)) {
      out.limitBytes = limitBytes;
      if (slope > 0) out.timeToLimitMs = Math.max(0, (limitBytes - level) / slope);
    }
    return out;
  }
}

/** Theil–Sen slope of points [from, to) with its Kendall interval and trend confidence. */
export interface SlopeFit {
  /** Median pairwise slope, value units per time unit. */
  slope: number;
  /** 95 % confidence interval of the slope (Sen 1968, from Kendall's S variance). */
  lower: number;
  upper: number;
  /** One-sided Mann–Kendall confidence of an upward trend, 0..1 (0.5: no evidence). */
  confidence: number;
}

/** Theil–Sen fit over `ts[from..to)`, `vs[from..to)`; times must be increasing. */
export function theilSen(
  ts: ArrayLike<number>,
  vs: ArrayLike<number>,
  from = 0,
  to = ts.length,
): SlopeFit {
  const n = to - from;
  if (n < 2) return { slope: 0, lower: -Infinity, upper: Infinity, confidence: 0.5 };
  const slopes = new Float64Array((n * (n - 1)) / 2);
  let k = 0;
  let s = 0; // Mann–Kendall S: rises minus falls
  for (let i = from; i < to; i++) {
    for (let j = i + 1; j < to; j++) {
      const dv = vs[j] - vs[i];
      const dt = ts[j] - ts[i];
      if (dt <= 0) continue;
      slopes[k++] = dv / dt;
      if (dv > 0) s++;
      else if (dv < 0) s--;
    }
  }
  const sorted = slopes.subarray(0, k).sort();
  const slope = k > 0 ? median(sorted) : 0;
  const sd = Math.sqrt(kendallVariance(vs, from, to));
  // Continuity-corrected Z; with every value tied there is no evidence either way.
  const z = sd > 0 ? (s > 0 ? s - 1 : s < 0 ? s + 1 : 0) / sd : 0;
  const c = 1.959964 * sd; // 95 % two-sided
  const lo = Math.floor((k - c) / 2);
  const hi = Math.ceil((k + c) / 2);
  return {
    slope,
    lower: lo >= 0 && lo < k ? sorted[lo] : -Infinity,
    upper: hi >= 0 && hi < k ? sorted[hi] : Infinity,
    confidence: normalCdf(z),
  };
}

/** Variance of Kendall's S under no trend, corrected for tied values. */
function kendallVariance(vs: ArrayLike<number>, from: number, to: number): number {
  const n = to - from;
  let v = n * (n - 1) * (2 * n + 5);
  const sorted = Float64Array.from({ length: n }, (_, i) => vs[from + i]).sort();
  for (let i = 0; i < n;) {
    let j = i + 1;
    while (j < n && sorted[j] === sorted[i]) j++;
    const t = j - i;
    if (t > 1) v -= t * (t - 1) * (2 * t + 5);
    i = j;
  }
  return v / 18;
}

function median(sorted: ArrayLike<number>): number {
  const n = sorted.length;
  const h = n >> 1;
  return n % 2 ? sorted[h] : (sorted[h - 1] + sorted[h]) / 2;
}

/** Linear-interpolated quantile of sorted values. */
function quantile(sorted: ArrayLike<number>, q: number): number {
  const x = q * (sorted.length - 1);
  const i = Math.floor(x);
  const j = Math.min(i + 1, sorted.length - 1);
  return sorted[i] + (sorted[j] - sorted[i]) * (x - i);
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26; error < 1.5e-7). */
export function normalCdf(z: number): number {
  if (z === 0) return 0.5;
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 -
    (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t +
        0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
