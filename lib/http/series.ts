/**
 * `GET /api/series`: history of one or more (instance, metric) series over a time range,
 * as at most `points` buckets `[ts, min, avg, max]` each, from the coarsest tier that still
 * gives that many points (see lib/store/query.ts). Bad parameters get a 400 that names the
 * parameter and says why. Documented in docs/api.md.
 *
 * @module
 */
import { json, JSON_HEADERS } from "./api.ts";
import type { SeriesAnswer } from "../store/durable.ts";
import { Bucketizer } from "../store/query.ts";
import type { RecentStore } from "../store/recent.ts";

/**
 * Anything that answers a history query: the durable store (on its own thread, so the answer
 * is a promise), or the recent window alone.
 */
export interface HistoryReader {
  query(
    instance: string,
    metric: string,
    from: number,
    to: number,
    points: number,
  ): SeriesAnswer | Promise<SeriesAnswer>;
}

/**
 * Limits on one request. `maxAheadMs`: `to` may be at most this far past the collector's
 * clock (history has nothing later; a range to the year 275 760 is a mistake or an attack).
 */
export const SERIES_LIMITS = {
  maxPoints: 5000,
  maxSeries: 100,
  defaultPoints: 500,
  maxAheadMs: 86_400_000,
} as const;

const TIER_NAMES = ["raw", "1m", "1h"];

/** A history reader over the in-memory window only (a collector without a data directory). */
export function recentReader(recent: RecentStore, now: () => number): HistoryReader {
  return {
    query(instance, metric, from, to, points) {
      const b = new Bucketizer(from, to, points);
      const pts = recent.read(instance, now(), [metric])[metric] ?? [];
      b.addPoints(pts.map((p) => p[0]), pts.map((p) => p[1]));
      return { tier: 0, bucketMs: b.width, points: b.result() };
    },
  };
}

class BadRequest extends Error {}

/** Handle `/api/series`. */
export async function seriesHandler(
  url: URL,
  reader: HistoryReader,
  now: () => number,
): Promise<Response> {
  try {
    const q = url.searchParams;
    const instances = q.getAll("instance");
    const metrics = q.getAll("metric");
    if (instances.length === 0) throw new BadRequest("instance: at least one is required");
    if (metrics.length === 0) throw new BadRequest("metric: at least one is required");
    if (instances.length * metrics.length > SERIES_LIMITS.maxSeries) {
      throw new BadRequest(
        `instance x metric: at most ${SERIES_LIMITS.maxSeries} series per request`,
      );
    }
    const t = now();
    const to = int(q, "to", t);
    if (to <= 0) throw new BadRequest(`to: must be after 0 (ms since the epoch), got ${to}`);
    const from = int(q, "from", to - 3_600_000);
    if (from < 0) throw new BadRequest(`from: must be at least 0, got ${from}`);
    if (to > t + SERIES_LIMITS.maxAheadMs) {
      throw new BadRequest(
        `to: must be at most a day past the collector's clock (${t}), got ${to}`,
      );
    }
    if (from >= to) throw new BadRequest(`from: must be before to (from=${from}, to=${to})`);
    const points = int(q, "points", SERIES_LIMITS.defaultPoints);
    if (points < 1 || points > SERIES_LIMITS.maxPoints) {
      throw new BadRequest(`points: must be 1..${SERIES_LIMITS.maxPoints}, got ${points}`);
    }
    // Every query is asked at once: the history thread answers one while this thread encodes
    // the one before (50 series one after the other waited for each round trip in turn).
    const asked = instances.flatMap((instance) =>
      metrics.map((metric) => ({
        instance,
        metric,
        answer: reader.query(instance, metric, from, to, points),
      }))
    );
    asked.forEach((a) => Promise.resolve(a.answer).catch(() => {})); // each awaited below
    let tier = 0;
    let bucketMs = (to - from) / points;
    const series: string[] = [];
    for (const { instance, metric, answer } of asked) {
      const a = await answer;
      tier = a.tier;
      bucketMs = a.bucketMs;
      series.push(JSON.stringify({ instance, metric, points: a.points }));
    }
    // The same text as json({ from, to, points, tier, bucketMs, series }), built a series at a time.
    const head = JSON.stringify({ from, to, points, tier: TIER_NAMES[tier], bucketMs });
    return new Response(`${head.slice(0, -1)},"series":[${series.join(",")}]}`, {
      headers: JSON_HEADERS,
    });
  } catch (e) {
    if (e instanceof BadRequest) return json({ error: e.message }, 400);
    throw e;
  }
}

function int(q: URLSearchParams, name: string, fallback: number): number {
  const raw = q.get(name);
  if (raw === null || raw === "") return fallback;
  if (!/^-?\d{1,16}$/.test(raw)) {
    throw new BadRequest(`${name}: must be an integer, got ${JSON.stringify(raw.slice(0, 40))}`);
  }
  return Number(raw);
}
