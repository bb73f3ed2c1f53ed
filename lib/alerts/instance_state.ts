/**
 * What the alert engine (engine.ts) keeps of one instance between evaluations: its leak
 * detector and latest estimate, the state of its threshold rules, and which process it is,
 * so a new process starts a new trend. The engine feeds it every accepted sample.
 *
 * @module
 */
import type { InstanceView } from "../model/instance.ts";
import { LeakDetector, type LeakEstimate, type LeakOptions } from "./leak.ts";
import { compare, type Rule } from "./rules.ts";

/** The metric the leak detector follows, and the container limit it compares with. */
export const RSS_METRIC = "mem.rss_bytes";
export const LIMIT_METRIC = "container.mem.limit_bytes";

/** One sample: `[t, metrics]`, or `{ t, metrics }` as ingest places it. */
export type Point =
  | readonly [number, Record<string, number>]
  | { readonly t: number; readonly metrics: Record<string, number> };

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
    if (this.#primed) {
      // Before the first new sample (the detector keeps time order), same process only.
      const first = "t" in points[0] ? points[0].t : points[0][0];
      const { times, values } = this.#primed;
      this.#primed = null;
      if (this.detector.size === 0) {
        for (let i = 0; i < times.length && times[i] < first; i++) {
          this.detector.add(times[i], values[i]);
        }
        this.leakAt = -Infinity; // estimated at the next evaluation, not up to 5 s later
      }
    }
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
        let th = this.thresholds.get(rule.name);
        if (!th) this.thresholds.set(rule.name, th = { since: null, value: v });
        th.value = v;
        if (compare(rule.op, v, rule.value)) th.since ??= t;
        else th.since = null;
      }
    }
  }
}
