/// <reference lib="dom" />
/**
 * What the page knows: one entry per instance, in a `Map` keyed by the instance id (never a
 * plain object keyed by names, so `__proto__` or `constructor` are just ids). Each entry
 * holds the latest {@link InstanceView} and the recent points of the charted metrics (CPU,
 * memory and the one custom metric picked, if any), on the collector's clock, trimmed to the
 * longest chart window.
 *
 * @module
 */
import type { InstanceView, SeriesPoints } from "../lib/live/messages.ts";
import { METRICS } from "../lib/protocol.ts";
import { displayColor, paletteColor, readableColor } from "../lib/colors.ts";
import { blankView } from "../lib/model/instance.ts";

/** The metrics the dashboard charts. */
export const CHARTED = [METRICS.cpuPercent, METRICS.rssBytes] as const;
/** One charted metric name. */
export type Charted = typeof CHARTED[number];

/** A point: [collector time ms, value]. */
export type Point = [number, number];

/** Everything the page keeps about one instance. */
export interface Entry {
  view: InstanceView;
  /**
   * The colour actually drawn: the view's colour if it is safe (lightened when too dark for
   * the page), else a palette colour.
   */
  color: string;
  /** Points per tracked metric (see {@link Store.track}). */
  points: Map<string, Point[]>;
}

/** Points kept per instance beyond which the oldest go (15 min at 10 Hz, with slack). */
const MAX_POINTS = 12_000;

/** The page's instance registry. */
export class Store {
  readonly entries = new Map<string, Entry>();
  /** How much history to keep, ms. */
  retentionMs: number;
  /** The metrics whose points are kept: CPU, memory and the picked custom metric. */
  #tracked = new Set<string>(CHARTED);
  #extra: string | null = null;

  constructor(retentionMs = 15 * 60_000) {
    this.retentionMs = retentionMs;
  }

  /**
   * Keep points of `metric` too (the custom chart's), instead of the previous one; null keeps
   * only CPU and memory. Points of a newly tracked metric start empty.
   */
  track(metric: string | null): void {
    if (metric === this.#extra) return;
    if (this.#extra !== null && !(CHARTED as readonly string[]).includes(this.#extra)) {
      this.#tracked.delete(this.#extra);
      for (const e of this.entries.values()) e.points.delete(this.#extra);
    }
    this.#extra = metric;
    if (metric !== null && !this.#tracked.has(metric)) {
      this.#tracked.add(metric);
      for (const e of this.entries.values()) e.points.set(metric, []);
    }
  }

  /**
   * Every series key any instance reports (from each one's latest values), with how many
   * report it; only `service`'s instances when one is given (the page's focus).
   */
  keys(service: string | null = null): Map<string, number> {
    const out = new Map<string, number>();
    for (const e of this.entries.values()) {
      if (service !== null && e.view.service !== service) continue;
      for (const k of Object.keys(e.view.latest)) out.set(k, (out.get(k) ?? 0) + 1);
    }
    return out;
  }

  /** Forget everything (a new hello is coming). */
  clear(): void {
    this.entries.clear();
  }

  /**
   * Add or update an instance. Returns the entry and whether it is new or changed colour.
   * The view is copied; a colour that is not safe CSS is replaced by a palette colour, and
   * one too dark for the page is lightened (lib/colors.ts readableColor).
   */
  upsert(view: InstanceView): { entry: Entry; created: boolean; recolored: boolean } {
    const id = String(view.id);
    // Lifted when too dark to see on the page's dark background (pure blue, navy...).
    const color = readableColor(
      displayColor(id, typeof view.color === "string" ? view.color : null),
    );
    const copy: InstanceView = { ...view, id, latest: copyLatest(view.latest) };
    const old = this.entries.get(id);
    if (old) {
      // Samples may have moved lastSeen/latest past what this (older) view says.
      if (old.view.lastSeen > copy.lastSeen) {
        copy.lastSeen = old.view.lastSeen;
        copy.latest = { ...copy.latest, ...old.view.latest };
      }
      const recolored = old.color !== color;
      old.view = copy;
      old.color = color;
      return { entry: old, created: false, recolored };
    }
    const entry: Entry = { view: copy, color, points: new Map() };
    for (const m of this.#tracked) entry.points.set(m, []);
    this.entries.set(id, entry);
    return { entry, created: true, recolored: false };
  }

  /**
   * Append points of one instance (an unknown id gets a placeholder entry until its
   * `instance` frame arrives). Returns the points accepted per tracked metric, in time order.
   */
  append(
    id: string,
    points: SeriesPoints,
  ): { entry: Entry; created: boolean; added: Map<string, Point[]> } {
    let created = false;
    let entry = this.entries.get(id);
    if (!entry) {
      entry = this.upsert(placeholder(id)).entry;
      created = true;
    }
    const added = new Map<string, Point[]>();
    if (!points || typeof points !== "object") return { entry, created, added };
    for (const metric of Object.keys(points)) {
      const list = points[metric];
      if (!Array.isArray(list)) continue;
      const clean: Point[] = [];
      for (const p of list) {
        if (Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1])) {
          clean.push([p[0], p[1]]);
        }
      }
      if (clean.length === 0) continue;
      clean.sort((a, b) => a[0] - b[0]);
      const last = clean[clean.length - 1];
      if (last[0] >= entry.view.lastSeen) {
        entry.view.latest[metric] = last[1];
        entry.view.lastSeen = last[0];
      }
      const target = entry.points.get(metric);
      if (!target) continue;
      const tail = target.length ? target[target.length - 1][0] : -Infinity;
      for (const p of clean) {
        if (p[0] >= tail) target.push(p);
        else insertSorted(target, p);
      }
      if (target.length > MAX_POINTS) target.splice(0, target.length - MAX_POINTS);
      added.set(metric, clean);
    }
    return { entry, created, added };
  }

  /** Drop points older than the retention before `now` (collector clock). */
  trim(now: number): void {
    const oldest = now - this.retentionMs;
    for (const e of this.entries.values()) {
      for (const list of e.points.values()) {
        let n = 0;
        while (n < list.length && list[n][0] < oldest) n++;
        if (n > 0) list.splice(0, n);
      }
    }
  }
}

function copyLatest(latest: unknown): Record<string, number> {
  const out: Record<string, number> = Object.create(null);
  if (latest && typeof latest === "object") {
    for (const [k, v] of Object.entries(latest)) if (typeof v === "number") out[k] = v;
  }
  return out;
}

function insertSorted(list: Point[], p: Point): void {
  let i = list.length;
  while (i > 0 && list[i - 1][0] > p[0]) i--;
  list.splice(i, 0, p);
}

/** A minimal view for samples that arrive before their instance frame. */
function placeholder(id: string): InstanceView {
  const [s, i] = id.split("/");
  const dec = (x: string | undefined) => {
    try {
      return decodeURIComponent(x ?? "");
    } catch {
      return x ?? "";
    }
  };
  // Keys come from the wire: a prototype-less object, so none can be `__proto__`.
  return {
    ...blankView(id, dec(s), dec(i), paletteColor(id), "live"),
    latest: Object.create(null),
  };
}
