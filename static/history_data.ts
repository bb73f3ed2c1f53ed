/**
 * The history API's answer, checked, and turned into what uPlot draws. `/api/series` gives
 * per (instance, metric) the non-empty buckets `[ts, min, avg, max]`; uPlot wants one shared
 * x array and, per line, y arrays aligned to it. Where a line has no bucket at an x that
 * another line has, the value is `undefined` (uPlot draws across it) when the line merely
 * reports less often than the bucket width, and `null` (a visible gap) when the line really
 * was silent: longer than a few buckets or reporting intervals. Pure functions, unit-tested.
 *
 * @module
 */

/** One bucket: start (collector ms), min, average, max. */
export type Bucket = [ts: number, min: number, avg: number, max: number];

/** A checked `/api/series` answer. */
export interface SeriesAnswer {
  from: number;
  to: number;
  points: number;
  tier: string;
  bucketMs: number;
  series: Array<{ instance: string; metric: string; points: Bucket[] }>;
}

/** A y value as uPlot takes it: number, gap (null) or "nothing here, draw across" (undefined). */
export type Y = number | null | undefined;

/** One line's three aligned arrays. */
export interface Aligned {
  min: Y[];
  avg: Y[];
  max: Y[];
}

/** Check an answer's shape; returns the answer or a message saying what is wrong. */
export function parseAnswer(body: unknown): SeriesAnswer | string {
  if (!body || typeof body !== "object") return "answer is not an object";
  const b = body as Record<string, unknown>;
  if (typeof b.error === "string") return b.error;
  for (const k of ["from", "to", "points", "bucketMs"]) {
    if (typeof b[k] !== "number" || !Number.isFinite(b[k])) return `answer has no ${k}`;
  }
  if (typeof b.tier !== "string") return "answer has no tier";
  if (!Array.isArray(b.series)) return "answer has no series";
  const series: SeriesAnswer["series"] = [];
  for (const s of b.series as unknown[]) {
    if (!s || typeof s !== "object") continue;
    const { instance, metric, points } = s as Record<string, unknown>;
    if (typeof instance !== "string" || typeof metric !== "string" || !Array.isArray(points)) {
      continue;
    }
    const clean: Bucket[] = [];
    for (const p of points) {
      if (Array.isArray(p) && p.length >= 4 && p.slice(0, 4).every(Number.isFinite)) {
        clean.push([p[0], p[1], p[2], p[3]]);
      }
    }
    clean.sort((x, y) => x[0] - y[0]);
    series.push({ instance, metric, points: clean });
  }
  return {
    from: b.from as number,
    to: b.to as number,
    points: b.points as number,
    tier: b.tier,
    bucketMs: b.bucketMs as number,
    series,
  };
}

/**
 * Align lines on the union of their bucket times. `gapMs[i]` is the longest step between two
 * buckets of line i that is still drawn as a line; `scale` maps wire values (bytes -> MiB).
 */
export function align(
  lines: ReadonlyArray<readonly Bucket[]>,
  gapMs: readonly number[],
  scale: (v: number) => number = (v) => v,
): { x: number[]; lines: Aligned[] } {
  const times = new Set<number>();
  for (const pts of lines) for (const p of pts) times.add(p[0]);
  const x = [...times].sort((a, b) => a - b);
  const index = new Map<number, number>();
  x.forEach((t, i) => index.set(t, i));
  const out = lines.map((pts, li): Aligned => {
    const min: Y[] = new Array(x.length).fill(undefined);
    const avg: Y[] = new Array(x.length).fill(undefined);
    const max: Y[] = new Array(x.length).fill(undefined);
    let prevT: number | null = null;
    let prevI = -1;
    for (const [t, lo, mid, hi] of pts) {
      const i = index.get(t)!;
      if (prevT !== null && t - prevT > gapMs[li] && i - prevI > 1) {
        // A real silence: one explicit null just after the last bucket breaks the line.
        min[prevI + 1] = avg[prevI + 1] = max[prevI + 1] = null;
      }
      min[i] = scale(lo);
      avg[i] = scale(mid);
      max[i] = scale(hi);
      prevT = t;
      prevI = i;
    }
    return { min, avg, max };
  });
  return { x, lines: out };
}

/** The step beyond which a line is broken: 2.5 buckets or 2.5 reporting intervals. */
export function gapFor(bucketMs: number, intervalMs: number): number {
  const iv = Number.isFinite(intervalMs) && intervalMs > 0 ? intervalMs : 1000;
  return 2.5 * Math.max(bucketMs, iv);
}
