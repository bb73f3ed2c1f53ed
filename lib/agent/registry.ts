/**
 * Application metrics: counters, gauges and histograms an app records itself, sent with
 * every sample of the agent (`agent.metrics`).
 *
 * ```ts
 * import { createRegistry } from "./registry.ts";
 *
 * const metrics = createRegistry(); // an agent has one: `agent.metrics`
 * const jobs = metrics.counter("jobs.done_total");
 * jobs.inc({ queue: "email" });
 * metrics.gauge("queue.depth").set(12, { queue: "email" });
 * metrics.histogram("jobs.duration_ms").observe(41.5);
 * ```
 *
 * - Series keys are `formatKey(name, labels)` (lib/metric_key.ts), one canonical key per
 *   series. Counters are cumulative since the agent started, gauges keep their last value,
 *   histograms count per bucket of the fixed BUCKETS (lib/histogram.ts) since start.
 * - A bad metric NAME is a programming error: `counter()`/`gauge()`/`histogram()` throw.
 *   Everything after that never throws into the app: a bad label or value is counted,
 *   dropped and logged at most once a minute.
 * - **Bounded.** Every series is sent in every sample, and one sample must stay within the
 *   wire's LIMITS (256 metrics, 64 histograms). So the registry holds at most
 *   {@link REGISTRY_LIMITS} series (224 counter/gauge series, 60 histograms; the rest of
 *   the wire's room is the agent's own metrics) and at most `maxSeries` in all. An update
 *   that would create a series beyond a bound is refused and counted, never split across
 *   frames.
 *
 * @module
 */
import { BUCKET_COUNT, bucketIndex } from "../histogram.ts";
import { formatKey, validName } from "../metric_key.ts";
import type { Histogram } from "../protocol.ts";
import { LIMITS, METRICS } from "../protocol_encode.ts";
import { labelCache } from "./label_cache.ts";
import { RUNTIME_METRICS } from "./runtime.ts";
import { errorMessage } from "../errors.ts";

/** Label name -> value, e.g. `{ route: "/users/:id" }`. */
export type Labels = Record<string, string>;

/** Bounds that keep one sample within the wire's LIMITS. */
export const REGISTRY_LIMITS = {
  /** Metrics per sample kept for the agent's own (standard, runtime, container) metrics. */
  reservedMetrics: 32,
  /** Counter and gauge series: `LIMITS.maxMetricsPerSample` less the reserved room. */
  maxValueSeries: LIMITS.maxMetricsPerSample - 32,
  /** Histogram series: `LIMITS.maxHistogramsPerSample` less room for the agent's own. */
  maxHistogramSeries: LIMITS.maxHistogramsPerSample - 4,
} as const;

/** Default bound on custom series of all kinds: everything that fits in one sample. */
export const DEFAULT_MAX_SERIES = REGISTRY_LIMITS.maxValueSeries +
  REGISTRY_LIMITS.maxHistogramSeries;

/** Problems are logged at most once per this many ms each (the count is in `stats()`). */
export const REPORT_EVERY_MS = 60_000;

/** A monotonic count, cumulative since start. */
export interface Counter {
  readonly name: string;
  /** Add `n` (default 1, must be finite and >= 0) to the series of `labels`. */
  inc(labels?: Labels, n?: number): void;
}

/** A value that goes up and down; the last one set is sent. */
export interface Gauge {
  readonly name: string;
  /** Set the series of `labels` to `value` (finite). */
  set(value: number, labels?: Labels): void;
}

/** A distribution over the fixed BUCKETS of lib/histogram.ts. */
export interface HistogramMetric {
  readonly name: string;
  /** Count `value` (finite) in its bucket and add it to the sum. */
  observe(value: number, labels?: Labels): void;
}

/** Counters of the registry itself. */
export interface RegistryStats {
  /** Series held now (counter, gauge and histogram). */
  series: number;
  /** Updates refused because their new series would exceed a bound (not distinct series). */
  refusedSeries: number;
  /** Updates dropped for an invalid label name or value, or too many labels. */
  invalidLabels: number;
  /** Updates dropped for a NaN, infinite (or, for a counter, negative) value. */
  invalidValues: number;
}

/** What one sample carries: counter/gauge values and histograms, by series key. */
export interface RegistrySnapshot {
  metrics: Record<string, number>;
  hist: Record<string, Histogram>;
}

/** The registry: create metrics, read them for a sample. */
export interface MetricsRegistry {
  /** A counter. `name` must be a valid metric name ending in `_total`; throws otherwise. */
  counter(name: string): Counter;
  /** A gauge. `name` must be a valid metric name (not ending in `_total`); throws otherwise. */
  gauge(name: string): Gauge;
  /** A histogram. `name` must be a valid metric name (not ending in `_total`); throws otherwise. */
  histogram(name: string): HistogramMetric;
  /**
   * Every series now. Histogram objects are copies (shared between snapshots while they do
   * not change): a snapshot held in the backlog never changes.
   *
   * With `into`, the counter and gauge values are added to that object instead of a new
   * one (the agent's sample being built: a key already there is kept, and at most `room`
   * are added), and `metrics` is `into`.
   */
  snapshot(into?: Record<string, number>, room?: number): RegistrySnapshot;
  stats(): RegistryStats;
}

/** Options for {@link createRegistry}. */
export interface RegistryOptions {
  /** Most custom series of all kinds (default and maximum {@link DEFAULT_MAX_SERIES}). */
  maxSeries?: number;
  /** Where refusals and dropped updates are reported, at most once a minute per kind. */
  onError?: (error: unknown) => void;
  /** Clock for the once-a-minute reports, ms (default `Date.now`). */
  now?: () => number;
  /** Names the agent sends itself; registering one throws (default: standard + runtime). */
  reserved?: Iterable<string>;
}

type Kind = "counter" | "gauge" | "histogram";
type Problem = "refused" | "label" | "value";

/** A counter's or gauge's current value. */
interface Cell {
  v: number;
}

interface HistSeries {
  counts: number[];
  sum: number;
  /** The copy handed out by the last snapshot; null once an observation changed it. */
  copy: Histogram | null;
}

/** Create an empty registry. Throws a RangeError for an invalid `maxSeries`. */
export function createRegistry(options: RegistryOptions = {}): MetricsRegistry {
  const maxSeries = options.maxSeries ?? DEFAULT_MAX_SERIES;
  if (!Number.isSafeInteger(maxSeries) || maxSeries < 0 || maxSeries > DEFAULT_MAX_SERIES) {
    throw new RangeError(
      `maxSeries must be an integer in [0, ${DEFAULT_MAX_SERIES}]: every series is sent in ` +
        `every sample, which holds at most ${LIMITS.maxMetricsPerSample} metrics and ` +
        `${LIMITS.maxHistogramsPerSample} histograms`,
    );
  }
  const now = options.now ?? Date.now;
  const onError = options.onError ??
    ((e: unknown) => console.error(`zeroapm metrics: ${errorMessage(e)}`));
  const reserved = new Set<string>(
    options.reserved ?? [...Object.values(METRICS), ...Object.values(RUNTIME_METRICS)],
  );

  const kinds = new Map<string, Kind>();
  const values = new Map<string, Cell>();
  const hists = new Map<string, HistSeries>();
  const stats = { refusedSeries: 0, invalidLabels: 0, invalidValues: 0 };
  const lastReport: Record<Problem, number> = {
    refused: -Infinity,
    label: -Infinity,
    value: -Infinity,
  };

  const report = (problem: Problem, message: string) => {
    try {
      const t = now();
      if (t - lastReport[problem] < REPORT_EVERY_MS) return;
      lastReport[problem] = t;
      onError(new Error(message));
    } catch {
      // Reporting must never break the app.
    }
  };

  const register = (name: string, kind: Kind) => {
    if (typeof name !== "string" || !validName(name)) {
      throw new RangeError(
        `invalid metric name ${
          JSON.stringify(name)
        }: lower-case dotted words, e.g. "jobs.done_total"`,
      );
    }
    if (kind === "counter" && !name.endsWith("_total")) {
      throw new RangeError(`counter name ${JSON.stringify(name)} must end with "_total"`);
    }
    if (kind !== "counter" && name.endsWith("_total")) {
      throw new RangeError(`${kind} name ${JSON.stringify(name)}: "_total" is for counters`);
    }
    if (reserved.has(name)) {
      throw new RangeError(`metric name ${JSON.stringify(name)} is sent by the agent itself`);
    }
    const known = kinds.get(name);
    if (known !== undefined && known !== kind) {
      throw new TypeError(`metric ${JSON.stringify(name)} is already a ${known}`);
    }
    kinds.set(name, kind);
  };

  /** The series key, or null (counted) when a label is invalid. */
  const keyOf = (name: string, labels: Labels | undefined): string | null => {
    if (labels === undefined) return name;
    try {
      return formatKey(name, labels);
    } catch (e) {
      stats.invalidLabels++;
      report("label", `${errorMessage(e)}: update dropped (${stats.invalidLabels} so far)`);
      return null;
    }
  };

  const badValue = (name: string, value: unknown) => {
    stats.invalidValues++;
    report(
      "value",
      `${name}: value ${String(value)} ignored (${stats.invalidValues} so far)`,
    );
  };

  /** May a new series of this kind be added? Counts and reports a refusal. */
  const admit = (key: string, histogram: boolean): boolean => {
    const total = values.size + hists.size;
    const full = total >= maxSeries ||
      (histogram
        ? hists.size >= REGISTRY_LIMITS.maxHistogramSeries
        : values.size >= REGISTRY_LIMITS.maxValueSeries);
    if (!full) return true;
    stats.refusedSeries++;
    report(
      "refused",
      `series ${key} refused: the bound of ${maxSeries} series (${REGISTRY_LIMITS.maxValueSeries}` +
        ` counter/gauge, ${REGISTRY_LIMITS.maxHistogramSeries} histogram) is reached ` +
        `(${stats.refusedSeries} updates refused so far)`,
    );
    return false;
  };

  /** One metric's counter/gauge cells by label set; null: invalid labels or refused. */
  const valueCells = (name: string) =>
    labelCache<Cell>((labels) => {
      const key = keyOf(name, labels);
      if (key === null) return null;
      let cell = values.get(key);
      if (cell === undefined) {
        if (!admit(key, false)) return null;
        values.set(key, cell = { v: 0 });
      }
      return cell;
    });

  /** One metric's histograms by label set; null: invalid labels or refused. */
  const histCells = (name: string) =>
    labelCache<HistSeries>((labels) => {
      const key = keyOf(name, labels);
      if (key === null) return null;
      let h = hists.get(key);
      if (h === undefined) {
        if (!admit(key, true)) return null;
        h = { counts: new Array<number>(BUCKET_COUNT).fill(0), sum: 0, copy: null };
        hists.set(key, h);
      }
      return h;
    });

  return {
    counter(name) {
      register(name, "counter");
      const cellOf = valueCells(name);
      return {
        name,
        inc(labels, n = 1) {
          if (typeof n !== "number" || !Number.isFinite(n) || n < 0) return badValue(name, n);
          const cell = cellOf(labels);
          if (cell !== null) cell.v += n;
        },
      };
    },
    gauge(name) {
      register(name, "gauge");
      const cellOf = valueCells(name);
      return {
        name,
        set(value, labels) {
          if (typeof value !== "number" || !Number.isFinite(value)) return badValue(name, value);
          const cell = cellOf(labels);
          if (cell !== null) cell.v = value;
        },
      };
    },
    histogram(name) {
      register(name, "histogram");
      const cellOf = histCells(name);
      return {
        name,
        observe(value, labels) {
          if (typeof value !== "number" || !Number.isFinite(value)) return badValue(name, value);
          const h = cellOf(labels);
          if (h === null) return;
          h.counts[bucketIndex(value)]++;
          h.sum += value;
          h.copy = null;
        },
      };
    },
    snapshot(into, room = Infinity) {
      // forEach, not for-of: once a second this runs cold, unoptimised, and a for-of over
      // a Map's entries then allocates an array per entry.
      const metrics: Record<string, number> = into ?? {};
      values.forEach((cell, k) => {
        if (room <= 0 || (into && Object.hasOwn(into, k))) return;
        metrics[k] = cell.v;
        room--;
      });
      const hist: Record<string, Histogram> = {};
      hists.forEach((h, k) => {
        h.copy ??= { counts: h.counts.slice(), sum: h.sum };
        hist[k] = h.copy;
      });
      return { metrics, hist };
    },
    stats: () => ({ series: values.size + hists.size, ...stats }),
  };
}
