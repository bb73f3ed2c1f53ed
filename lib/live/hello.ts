/**
 * The `hello` snapshot, bounded whatever the instance count. With 10 000 instances it was
 * about 5 MB: every view with up to 512 latest values, and every point of the window. Now it
 * holds what the page shows: at most `maxInstances` views (live first, then stale, then the
 * rest, each by most recently seen), each view's `latest` cut to the metrics the page asked
 * for plus a few more, and at most `maxPoints` points (each instance an equal share; a series
 * over its share is thinned evenly, the newest point kept). The instances left out are counted in `omitted`; their `instance`
 * and `samples` frames still reach the page as they come.
 *
 * @module
 */
import type { HelloFrame, InstanceView, SeriesPoints } from "./messages.ts";

/** Bounds of one hello; see {@link HELLO_LIMITS} for the defaults. */
export interface HelloLimits {
  /** Most instance views (default 1000). */
  maxInstances: number;
  /** Most points over all series (default 100 000, about 2.2 MB of JSON). */
  maxPoints: number;
  /** Most names in each view's `latest` (default 24), the asked-for metrics first. */
  maxLatest: number;
}

/** Default bounds: a hello stays under about 3 MB. */
export const HELLO_LIMITS: HelloLimits = { maxInstances: 1000, maxPoints: 100_000, maxLatest: 24 };

/** Latest values the page shows beside the charted ones (the container memory limit). */
const ALWAYS_LATEST = ["container.mem.limit_bytes"];

const RANK: Record<string, number> = { live: 0, stale: 1 };

/** What {@link buildHello} needs. */
export interface HelloSource {
  now: number;
  windowMs: number;
  /** Every instance view (in display order). */
  views: InstanceView[];
  /** Recent points of one instance, of these metrics (undefined: all). */
  read(id: string, metrics: readonly string[] | undefined): SeriesPoints;
}

/** Build a hello for a client that asked for `metrics` (null: all), within `limits`. */
export function buildHello(
  src: HelloSource,
  metrics: readonly string[] | null,
  limits: HelloLimits = HELLO_LIMITS,
): HelloFrame {
  let views = src.views;
  if (views.length > limits.maxInstances) {
    const keep = new Set(
      [...views].sort((a, b) =>
        (RANK[a.status] ?? 2) - (RANK[b.status] ?? 2) || b.lastSeen - a.lastSeen
      ).slice(0, limits.maxInstances),
    );
    views = views.filter((v) => keep.has(v));
  }
  const wanted = [...(metrics ?? []), ...ALWAYS_LATEST];
  const instances = views.map((v) => ({ ...v, latest: cutLatest(v.latest, wanted, limits) }));
  // Each instance's share of the points, split among its series; each series thinned as it
  // is read, so no more than one series' points are held beyond the bound at a time.
  const series: Record<string, SeriesPoints> = {};
  const perInstance = Math.max(1, Math.floor(limits.maxPoints / Math.max(1, views.length)));
  for (const v of views) {
    const points = src.read(v.id, metrics ?? undefined);
    const names = Object.keys(points);
    const perSeries = Math.max(1, Math.floor(perInstance / Math.max(1, names.length)));
    for (const name of names) {
      const p = points[name];
      if (p.length > perSeries) points[name] = thin(p, Math.ceil(p.length / perSeries));
    }
    series[v.id] = points;
  }
  return {
    type: "hello",
    now: src.now,
    windowMs: src.windowMs,
    instances,
    series,
    omitted: src.views.length - views.length,
  };
}

function cutLatest(
  latest: Record<string, number>,
  wanted: readonly string[],
  limits: HelloLimits,
): Record<string, number> {
  const out: Record<string, number> = {};
  let n = 0;
  for (const name of wanted) {
    if (n < limits.maxLatest && Object.hasOwn(latest, name) && !Object.hasOwn(out, name)) {
      out[name] = latest[name];
      n++;
    }
  }
  for (const name in latest) {
    if (n >= limits.maxLatest) break;
    if (!Object.hasOwn(out, name)) {
      out[name] = latest[name];
      n++;
    }
  }
  return out;
}

/** Every `stride`-th point, counted back from the newest (which is always kept). */
function thin(points: Array<[number, number]>, stride: number): Array<[number, number]> {
  if (stride <= 1 || points.length <= 1) return points;
  const out: Array<[number, number]> = [];
  for (let i = points.length - 1; i >= 0; i -= stride) out.push(points[i]);
  return out.reverse();
}
