/**
 * One OTLP histogram point -> the counts it adds in our buckets, and the memory that takes:
 * what translate.ts needs for histograms beyond naming and labels.
 *
 * A delta point's counts are its interval's, and its `min` and `max` that interval's: they
 * narrow the first and last buckets it fills (buckets.ts). A cumulative point is first turned
 * into the interval since the series' previous point (cumulative.ts); its `min` and `max` are
 * over the series' whole life, so they only cap the interval's values (none can be below the
 * life's min or above its max), they do not say where in the interval they were. The
 * intervals of a resource's samples are then added up per histogram key in time order
 * (totals.ts), and the samples carry those totals: cumulative histograms, as agents send.
 *
 * @module
 */
import type { Histogram, Sample } from "../protocol.ts";
import {
  type BucketError,
  checkBuckets,
  type MappedBuckets,
  spreadBuckets,
  type ValueRange,
} from "./buckets.ts";
import { CUMULATIVE_LIMITS, CumulativeDeltas } from "./cumulative.ts";
import { RunningTotals, TOTALS_LIMITS } from "./totals.ts";
import type { LruLimits } from "./lru.ts";
import { ExportIntervals } from "./intervals.ts";
import { double, type HistogramDataPoint, int64, type KeyValue, scalarValue } from "./decode.ts";

/** What the translator remembers between requests, bounded (see cumulative.ts, totals.ts). */
export class OtlpMemory {
  /** The previous point of each cumulative series. */
  readonly deltas: CumulativeDeltas;
  /** Each instance's histograms in our buckets, added up. */
  readonly totals: RunningTotals;
  /** Each instance's export interval, learned from its exports. */
  readonly intervals: ExportIntervals;

  constructor(limits: { series?: LruLimits; totals?: LruLimits; intervals?: LruLimits } = {}) {
    this.deltas = new CumulativeDeltas(limits.series ?? CUMULATIVE_LIMITS);
    this.totals = new RunningTotals(limits.totals ?? TOTALS_LIMITS);
    this.intervals = new ExportIntervals(limits.intervals);
  }
}

/** A point's counts in our buckets (a delta point's, or a cumulative point's interval). */
export interface PointBuckets extends MappedBuckets {
  /** Observations in the point (since its start, for a cumulative one). */
  observed: number;
}

/**
 * A histogram point's counts in our buckets, values × `scale`, or why its buckets are
 * malformed. With `cumulative` (the translator's memory and the series' key), the counts are
 * the interval since the series' previous point: none at its first.
 */
export function pointBuckets(
  p: HistogramDataPoint,
  scale: number,
  cumulative: { memory: OtlpMemory; key: string } | null,
): PointBuckets | BucketError {
  // OTLP/JSON may write any of these doubles as strings (proto3's JSON mapping), as values.
  const bounds = (p.explicitBounds ?? []).map(double);
  const counts = p.bucketCounts.map(int64);
  const [min, max, total] = [p.min, p.max, p.sum].map(double);
  const bad = checkBuckets(bounds, counts);
  if (bad) return bad;
  const observed = counts.reduce((a, b) => a + b, 0);
  const range: ValueRange = {
    min: Number.isFinite(min) ? min * scale : -Infinity,
    max: Number.isFinite(max) ? max * scale : Infinity,
  };
  const sum = Number.isFinite(total) ? total * scale : NaN;
  if (!cumulative) return withSum(spreadBuckets(bounds, counts, range, scale), sum, observed);
  const interval = cumulative.memory.deltas.next(cumulative.key, {
    start: int64(p.startTimeUnixNano) / 1e6,
    time: int64(p.timeUnixNano) / 1e6,
    bounds,
    counts,
    sum,
  });
  const mapped = spreadBuckets(bounds, interval?.counts ?? [], range, scale);
  return withSum(mapped, interval ? interval.sum : 0, observed);
}

function withSum(mapped: MappedBuckets, sum: number, observed: number): PointBuckets {
  // sum is optional in OTLP (absent when negative values were recorded): estimate it.
  return { ...mapped, sumEstimate: Number.isNaN(sum) ? mapped.sumEstimate : sum, observed };
}

/**
 * The key of one series of a metric of an instance (`instance` says whose): its attributes,
 * sorted, as sent. Series that labels would merge (a status code and its class) stay apart.
 */
export function seriesKey(instance: string, metric: string, attributes: KeyValue[]): string {
  if (attributes.length === 0) return `${instance}\u0000${metric}`;
  const pairs = attributes.map((kv) => {
    const v = scalarValue(kv.value);
    return [String(kv.key), v === undefined ? JSON.stringify(kv.value ?? null) : v] as const;
  }).sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  return `${instance}\u0000${metric}\u0000${JSON.stringify(pairs)}`;
}

/**
 * The samples' histograms, until now each its intervals' counts, become running totals per
 * key (`instance` says whose), in time order: cumulative histograms.
 */
export function cumulate(samples: Sample[], instance: string, totals: RunningTotals): void {
  for (const s of samples) {
    if (!s.hist) continue;
    const hist: Record<string, Histogram> = s.hist;
    for (const k in hist) {
      hist[k] = totals.add(`${instance}\u0000${k}`, hist[k].counts, hist[k].sum);
    }
  }
}
