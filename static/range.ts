/**
 * History ranges: the presets (15 min … 30 d), how a preset or a zoomed range becomes
 * `[from, to]` on the collector's clock, how many points to ask for, and how a range is
 * written for people. Pure functions, unit-tested.
 *
 * @module
 */

/** A preset's key as it appears in the URL. */
export type RangeKey = "15m" | "1h" | "6h" | "24h" | "7d" | "30d";

/** One preset: key, button label, span in ms. */
export interface Preset {
  key: RangeKey;
  label: string;
  ms: number;
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** The presets offered, shortest first. */
export const PRESETS: readonly Preset[] = [
  { key: "15m", label: "15 min", ms: 15 * MIN },
  { key: "1h", label: "1 h", ms: HOUR },
  { key: "6h", label: "6 h", ms: 6 * HOUR },
  { key: "24h", label: "24 h", ms: DAY },
  { key: "7d", label: "7 d", ms: 7 * DAY },
  { key: "30d", label: "30 d", ms: 30 * DAY },
];

/** The preset a history view opens with. */
export const DEFAULT_RANGE: RangeKey = "1h";
/** The narrowest range a zoom may reach (finer than raw samples shows nothing new). */
export const MIN_SPAN_MS = 10_000;
/** Bounds of the `points` parameter the page sends (the API allows 1..5000). */
export const POINTS = { min: 60, max: 4000 } as const;

/** True for a known preset key (anything from a URL is checked with this). */
export function isRangeKey(key: string): key is RangeKey {
  return PRESETS.some((p) => p.key === key);
}

/** The preset with this key. */
export function presetOf(key: RangeKey): Preset {
  return PRESETS.find((p) => p.key === key) ?? PRESETS[1];
}

/** `[from, to]` to show: the absolute range if zoomed, else the last preset span before `now`. */
export function resolveRange(
  range: RangeKey,
  abs: { from: number; to: number } | null,
  now: number,
): { from: number; to: number } {
  if (abs) return { from: Math.round(abs.from), to: Math.round(abs.to) };
  const to = Math.round(now);
  return { from: to - presetOf(range).ms, to };
}

/**
 * The range a drag selected, as whole ms, widened around its centre to at least
 * {@link MIN_SPAN_MS}, and never reaching past `now` (there is nothing to see there).
 */
export function zoomTo(a: number, b: number, now: number): { from: number; to: number } {
  let from = Math.min(a, b);
  let to = Math.max(a, b);
  if (to - from < MIN_SPAN_MS) {
    const mid = (from + to) / 2;
    from = mid - MIN_SPAN_MS / 2;
    to = mid + MIN_SPAN_MS / 2;
  }
  if (to > now && now - MIN_SPAN_MS > from) to = now;
  return { from: Math.round(from), to: Math.round(to) };
}

/** Points to ask for: about one per CSS pixel of plot width, within {@link POINTS}. */
export function pointsFor(widthPx: number): number {
  if (!Number.isFinite(widthPx)) return 600;
  return Math.max(POINTS.min, Math.min(POINTS.max, Math.round(widthPx)));
}

/**
 * How often a preset ("the last …") view re-asks, ms: a 50th of the span, at least 10 s and at
 * most 5 min. A zoomed (absolute) range does not move and is not refreshed.
 */
export function refreshEvery(spanMs: number): number {
  return Math.max(10_000, Math.min(5 * MIN, Math.round(spanMs / 50)));
}

/** A span for people: `45 s`, `12 min`, `6 h`, `2.5 h`, `7 d`. */
export function formatSpan(ms: number): string {
  const one = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
  if (ms < MIN) return `${Math.round(ms / 1000)} s`;
  if (ms < HOUR) return `${one(Math.round(ms / 6_000) / 10)} min`;
  if (ms < 2 * DAY) return `${one(Math.round(ms / 360_000) / 10)} h`;
  return `${one(Math.round(ms / 8_640_000) / 10)} d`;
}

/** A bucket width for people: `250 ms`, `3 s`, `1 min`, `1 h`. */
export function formatBucket(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return formatSpan(ms);
}

/**
 * A time range in the browser's time zone, compact: `14:05 – 15:05` within a day,
 * `Mar 3 14:05 – Mar 4 09:10` across days. Seconds appear when the span is under 10 min.
 */
export function formatRange(from: number, to: number): string {
  const secs = to - from < 10 * MIN;
  const a = new Date(from);
  const b = new Date(to);
  const sameDay = a.toDateString() === b.toDateString();
  const clock = (d: Date) => {
    const p = (n: number) => String(n).padStart(2, "0");
    return `${p(d.getHours())}:${p(d.getMinutes())}${secs ? `:${p(d.getSeconds())}` : ""}`;
  };
  const day = (d: Date) => d.toLocaleDateString("en-US", { month: "short", day: "numeric" });
  return sameDay
    ? `${day(a)} ${clock(a)} – ${clock(b)}`
    : `${day(a)} ${clock(a)} – ${day(b)} ${clock(b)}`;
}
