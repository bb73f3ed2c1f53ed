/**
 * Derived series: what the collector computes from cumulative values, so charts and history
 * hold plain gauges. Counters (`name_total`) become a per-second rate `name.per_s`.
 * Histograms `name` become, from the counts that arrived between two samples,
 * `name.p50`, `name.p95`, `name.p99`, `name.avg` and `name.per_s`. Labels carry over.
 * A counter that goes down (the app restarted) starts over instead of going negative.
 * The CPU-seconds counter {@link CPU_SECONDS} becomes `cpu.percent`, the chart's own metric.
 *
 * @module
 */
import { formatKey, parseKey } from "../metric_key.ts";
import { quantile } from "../histogram.ts";
import { type Histogram, METRICS } from "../protocol.ts";

/**
 * CPU seconds a process has used (user + system), for senders that count CPU time rather than
 * measure a percentage (OTLP's `process.cpu.time`): the collector derives `cpu.percent` from it
 * (100 = one core), unless the sample carries its own, instead of `cpu.seconds.per_s`.
 */
export const CPU_SECONDS = "cpu.seconds_total";

/** The percentiles derived from every histogram. */
export const PERCENTILES: ReadonlyArray<readonly [string, number]> = [
  ["p50", 0.5],
  ["p95", 0.95],
  ["p99", 0.99],
];

interface Last {
  t: number;
  value: number;
  counts?: number[];
  sum?: number;
}

/** Name of a derived series: the base key with `.suffix` added to its name, labels kept. */
export function derivedKey(key: string, suffix: string, stripTotal = false): string {
  const k = parseKey(key);
  if (!k) return key; // keys reaching here were validated by the decoder
  const name = stripTotal && k.name.endsWith("_total") ? k.name.slice(0, -"_total".length) : k.name;
  return formatKey(`${name}.${suffix}`, Object.fromEntries(k.labels));
}

/** Receives the counts a histogram gained in an interval (for service-level merging). */
export type HistogramSink = (key: string, counts: ArrayLike<number>) => void;

/** Per-instance state for derivations. */
export class Deriver {
  #last = new Map<string, Last>();
  #names = new Map<string, string[]>();

  constructor(private readonly onHistogram: HistogramSink | null = null) {}

  /** Forget everything (the instance restarted: its counters start over). */
  reset(): void {
    this.#last.clear();
  }

  /**
   * Derived values for one sample at collector time `t`, added to `out`. The first sample of
   * a series only sets the baseline.
   */
  derive(
    t: number,
    metrics: Record<string, number>,
    hist: Record<string, Histogram> | undefined,
    out: Record<string, number>,
  ): void {
    for (const key in metrics) {
      if (!isCounter(key)) continue;
      const v = metrics[key];
      const last = this.#last.get(key);
      // A sample at the same time as the baseline (or older) has no interval of its own; the
      // baseline stays, so the next later sample's interval counts what it added.
      if (last && t <= last.t) continue;
      this.#last.set(key, { t, value: v });
      if (!last) continue;
      const delta = v >= last.value ? v - last.value : v; // a reset counts from zero
      const perSecond = delta / ((t - last.t) / 1000);
      if (key !== CPU_SECONDS) out[this.#name(key, 0, "per_s")] = round(perSecond);
      else if (!Object.hasOwn(metrics, METRICS.cpuPercent)) {
        out[METRICS.cpuPercent] = Math.round(perSecond * 10_000) / 100; // hundredths, as agents send
      }
    }
    if (!hist) return;
    for (const key in hist) {
      const h = hist[key];
      const last = this.#last.get(key);
      if (last?.counts && t <= last.t) continue; // as for counters: the baseline stays
      this.#last.set(key, { t, value: 0, counts: h.counts, sum: h.sum });
      if (!last?.counts) continue;
      let reset = false;
      const delta = h.counts.map((c, i) => {
        const d = c - last.counts![i];
        if (d < 0) reset = true;
        return d;
      });
      const counts = reset ? h.counts : delta;
      const n = counts.reduce((a, b) => a + b, 0);
      const sum = reset ? h.sum : h.sum - (last.sum ?? 0);
      out[this.#name(key, 1, "per_s")] = round(n / ((t - last.t) / 1000));
      if (n === 0) continue;
      this.onHistogram?.(key, counts);
      out[this.#name(key, 2, "avg")] = round(sum / n);
      PERCENTILES.forEach(([suffix, q], i) => {
        out[this.#name(key, 3 + i, suffix)] = round(quantile(counts, q));
      });
    }
  }

  /** Derived key names, cached per base key (the same few keys arrive every second). */
  #name(key: string, slot: number, suffix: string): string {
    let names = this.#names.get(key);
    if (!names) this.#names.set(key, names = []);
    return names[slot] ??= derivedKey(key, suffix, slot === 0);
  }
}

/**
 * True when samples holding only these keys, and no histograms, derive nothing (no key is a
 * counter): {@link Deriver.derive} would add no series to them.
 */
export function derivesNothing(keys: readonly string[]): boolean {
  for (const key of keys) if (isCounter(key)) return false;
  return true;
}

/** Counters follow the Prometheus convention: the metric name ends with `_total`. */
function isCounter(key: string): boolean {
  const brace = key.indexOf("{");
  return (brace < 0 ? key : key.slice(0, brace)).endsWith("_total");
}

/** Derived values to 3 decimals: enough for rates and ms, and compact in storage. */
function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
