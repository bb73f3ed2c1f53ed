/**
 * What the alert engine (engine.ts) keeps of one instance between evaluations: its leak
 * detector and latest estimate, the state of its threshold rules, and which process it is,
 * so a new process starts a new trend. The engine feeds it every accepted sample.
 *
 * @module
 */
import type { InstanceView } from "../model/instance.ts";
import { LeakDetector, type LeakEstimate, type LeakOptions } from "./leak.ts";
import { compare, type Rule, type ThresholdRule } from "./rules.ts";

/** The metric the leak detector follows, and the container limit it compares with. */
export const RSS_METRIC = "mem.rss_bytes";
export const LIMIT_METRIC = "container.mem.limit_bytes";

/** One sample: `[t, metrics]`, or `{ t, metrics }` as ingest places it. */
export type Point =
  | readonly [number, Record<string, number>]
  | { readonly t: number; readonly metrics: Record<string, number> };

/**
 * A batch as columns (ingest's Observation.columns): the value of `keys[j]` at `times[r]` is
 * `values[j * rows + r]` for `r < rows`, times in order.
 */
export type ColumnBatch = [
  keys: readonly string[],
  times: Float64Array,
  values: Float64Array,
  rows: number,
];

/** A threshold rule's condition: held since when (null: not holding), on what value. */
export interface ThresholdState {
  since: number | null;
  value: number;
}

/** One instance, as the alert engine follows it. */
export class InstanceState {
  /** Reported live since this engine started (a silent alert may then fire on gone). */
  seenLive = false;
  restarts: number;
  startedAt: number | null;
  readonly detector: LeakDetector;
  leak: LeakEstimate | null = null;
  /** When `leak` was last estimated (-Infinity: at the next evaluation). */
  leakAt = -Infinity;
  limit: number | null = null;
  readonly thresholds = new Map<string, ThresholdState>();
  readonly leakSince = new Map<string, number>();
  /** RSS from before a collector restart, fed to `detector` with the first new sample. */
  #primed: { times: ArrayLike<number>; values: ArrayLike<number> } | null = null;

  /** `rules` are the rules that select this instance. */
  constructor(view: InstanceView, readonly rules: readonly Rule[], leak?: LeakOptions) {
    this.restarts = view.restarts;
    this.startedAt = view.startedAt;
    this.detector = new LeakDetector(leak);
  }

  /**
   * Follow the instance's latest view. A restart (another process: the restart count moved,
   * or the start time by more than a minute) starts the memory trend over.
   */
  follow(view: InstanceView): void {
    if (
      view.restarts !== this.restarts ||
      (view.startedAt !== null && this.startedAt !== null &&
        Math.abs(view.startedAt - this.startedAt) > 60_000)
    ) {
      this.detector.reset();
      this.leak = null;
      this.leakAt = -Infinity;
      this.leakSince.clear();
      this.#primed = null; // the old process's memory says nothing about the new one
      this.restarts = view.restarts;
    }
    if (view.startedAt !== null) this.startedAt = view.startedAt;
  }

  /** Keep RSS from before a collector restart for the first new sample (AlertEngine.primeLeak). */
  prime(times: ArrayLike<number>, values: ArrayLike<number>): void {
    if (this.detector.size === 0 && times.length > 0) this.#primed = { times, values };
  }

  /** Take new samples: RSS into the detector, the container limit, threshold conditions. */
  feed(points: ReadonlyArray<Point>): void {
    if (points.length === 0) return;
    if (this.#primed) this.#feedPrimed("t" in points[0] ? points[0].t : points[0][0]);
    for (const p of points) {
      const t = "t" in p ? p.t : p[0];
      const metrics = "metrics" in p ? p.metrics : p[1];
      const rss = metrics[RSS_METRIC];
      if (rss !== undefined) this.detector.add(t, rss);
      const limit = metrics[LIMIT_METRIC];
      if (limit !== undefined) this.limit = limit > 0 ? limit : null;
      for (const rule of this.rules) {
        if (rule.kind !== "threshold") continue;
        const v = metrics[rule.metric];
        if (v === undefined) continue;
        this.#threshold(rule, t, v);
      }
    }
  }

  /**
   * Take a batch as columns (ingest's Observation.columns): the value of `keys[j]` at
   * `times[r]` is `values[j * n + r]` for `r < n`, times in order. The same as {@link feed}
   * with those samples, column by column: the detector, the limit and each rule only see
   * their own metric, each in time order.
   */
  feedColumns(keys: readonly string[], times: Float64Array, values: Float64Array, n: number): void {
    if (n <= 0) return;
    if (this.#primed) this.#feedPrimed(times[0]);
    const at = this.#columnsOf(keys);
    if (at.rss >= 0) {
      const from = at.rss * n;
      for (let r = 0; r < n; r++) this.detector.add(times[r], values[from + r]);
    }
    if (at.limit >= 0) {
      const limit = values[at.limit * n + n - 1]; // the last one is what stays
      this.limit = limit > 0 ? limit : null;
    }
    for (let i = 0; i < this.rules.length; i++) {
      const j = at.rules[i];
      if (j < 0) continue;
      const rule = this.rules[i] as ThresholdRule; // only threshold rules have a place
      const from = j * n;
      for (let r = 0; r < n; r++) this.#threshold(rule, times[r], values[from + r]);
    }
  }

  /**
   * The places in `keys` of the detector's metrics and of each threshold rule's metric (-1:
   * not there), remembered for the last keys array asked (frames of one shape share theirs).
   */
  #columnsOf(keys: readonly string[]): { rss: number; limit: number; rules: number[] } {
    if (keys !== this.#colKeys) {
      this.#colKeys = keys;
      this.#cols = {
        rss: keys.indexOf(RSS_METRIC),
        limit: keys.indexOf(LIMIT_METRIC),
        rules: this.rules.map((r) => r.kind === "threshold" ? keys.indexOf(r.metric) : -1),
      };
    }
    return this.#cols!;
  }
  #colKeys: readonly string[] | null = null;
  #cols: { rss: number; limit: number; rules: number[] } | null = null;

  /** Feed the primed RSS before the first new sample, at `first` (the detector keeps time order). */
  #feedPrimed(first: number): void {
    const { times, values } = this.#primed!;
    this.#primed = null;
    if (this.detector.size === 0) {
      for (let i = 0; i < times.length && times[i] < first; i++) {
        this.detector.add(times[i], values[i]);
      }
      this.leakAt = -Infinity; // estimated at the next evaluation, not up to 5 s later
    }
  }

  /** One value of a threshold rule's metric at `t`. */
  #threshold(rule: ThresholdRule, t: number, v: number): void {
    let th = this.thresholds.get(rule.name);
    if (!th) this.thresholds.set(rule.name, th = { since: null, value: v });
    th.value = v;
    if (compare(rule.op, v, rule.value)) th.since ??= t;
    else th.since = null;
  }
}
