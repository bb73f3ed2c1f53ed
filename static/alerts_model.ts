/**
 * What the dashboard makes of the collector's `alerts` frames, as pure functions (unit-tested
 * without a browser): which alerts come first, what the header badge says, which instances
 * get a "leaking …" badge (an alerting leak, or a confident fast trend the default rule would
 * flag), the badge's words, and the leak trend line to draw, extended to now.
 *
 * Memory rates are MB (10^6 bytes) per hour, as the detector and the API report them; the
 * words (in MiB, as the charts) come from lib/alerts/leak_text.ts, which the alert messages
 * and webhooks use too.
 *
 * @module
 */
import type { Alert, LeakEstimate } from "../lib/live/messages.ts";
import type { LeakSite } from "../lib/alerts/types.ts";
import { formatEta, formatLeakRate, growsText, leakText } from "../lib/alerts/leak_text.ts";
import { DEFAULT_LEAK_RULE } from "../lib/alerts/default_rules.ts";
import { leakHolds } from "../lib/alerts/verdict.ts";

export { growsText, listedSites, siteLine, siteRate, siteWhere } from "../lib/alerts/leak_text.ts";

export { formatEta, formatLeakRate, leakText };

/** Bytes in the MB the leak detector reports (decimal). */
export const MB = 1_000_000;
const HOUR_MS = 3_600_000;

/** How loud an instance's leak badge is: an alert firing, pending, or only a strong trend. */
export type LeakLevel = "firing" | "pending" | "trend";

/** A line `[[t0, bytes], [t1, bytes]]` on the collector's clock. */
export type TrendLine = [[number, number], [number, number]];

/** An instance's leak badge. */
export interface LeakBadge {
  level: LeakLevel;
  text: string;
  title: string;
  mbPerHour: number;
  /** `grows in fn (file:line), +N MiB/min`, when the alert carries heap-profile sites. */
  grows?: string;
}

/** A span for people: `8 s`, `3 min`, `2 h 5 min`, `3 d`. */
export function formatSpanShort(ms: number): string {
  const s = Math.floor(Math.max(0, ms) / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  return `${Math.floor(h / 24)} d`;
}

/** Firing before pending; within a state, the oldest first (they have waited longest). */
export function sortActive(alerts: readonly Alert[]): Alert[] {
  const rank = (a: Alert) => (a.state === "firing" ? 0 : a.state === "pending" ? 1 : 2);
  return [...alerts].sort((a, b) =>
    rank(a) - rank(b) || startOf(a) - startOf(b) || a.id.localeCompare(b.id)
  );
}

/** When an alert's current state began: fired at, else since. */
export function startOf(a: Alert): number {
  return a.state === "firing" && isNum(a.firedAt) ? a.firedAt : a.since;
}

/** The header badge: `2 alerts`, coloured by the loudest state; `none` when there are none. */
export function countBadge(active: readonly Alert[]): {
  text: string;
  level: "firing" | "pending" | "none";
  firing: number;
  pending: number;
} {
  let firing = 0;
  let pending = 0;
  for (const a of active) a.state === "firing" ? firing++ : a.state === "pending" && pending++;
  const n = firing + pending;
  return {
    text: `${n} alert${n === 1 ? "" : "s"}`,
    level: firing > 0 ? "firing" : pending > 0 ? "pending" : "none",
    firing,
    pending,
  };
}

/**
 * Per instance id, its leak badge: the loudest active leak alert (firing, then pending), else
 * a "trend" badge when its estimate is confident (≥ 0.95) and fast (≥ 50 MB/h, the default
 * rule's growth) though no rule alerts on it. Numbers come from the live estimate, or from
 * the alert when the detector has none yet (e.g. right after a collector restart).
 */
export function leakBadges(
  active: readonly Alert[],
  leaks: Readonly<Record<string, LeakEstimate>>,
): Map<string, LeakBadge> {
  const out = new Map<string, LeakBadge>();
  const alerting = new Map<string, Alert>();
  for (const a of active) {
    if (a.kind !== "leak" || (a.state !== "firing" && a.state !== "pending")) continue;
    const have = alerting.get(a.instance);
    if (!have || (have.state === "pending" && a.state === "firing")) alerting.set(a.instance, a);
  }
  for (const [id, a] of alerting) {
    const e = Object.hasOwn(leaks, id) ? leaks[id] : undefined;
    const mbPerHour = e?.mbPerHour ?? a.leak?.mbPerHour ?? a.value;
    const ttl = e ? e.timeToLimitMs : a.leak?.timeToLimitMs;
    if (!isNum(mbPerHour)) continue;
    const top = parseSites(a.leak?.sites)[0];
    out.set(id, {
      ...(top ? { grows: growsText(top) } : {}),
      level: a.state as LeakLevel,
      text: leakText(mbPerHour, ttl),
      title: `${a.rule} ${a.state}: ${a.message}${
        e ? ` (trend confidence ${Math.round(e.confidence * 100)} %)` : ""
      }`,
      mbPerHour,
    });
  }
  for (const [id, e] of Object.entries(leaks)) {
    if (out.has(id) || !e || !isNum(e.mbPerHour) || !isNum(e.confidence)) continue;
    // The default rule's own test (growth, confidence, sustained, going on, beyond warm-up):
    // a young process's warm-up is no "leaking" badge, however steep.
    if (leakHolds(DEFAULT_LEAK_RULE, e, e.limitBytes ?? null).holds) {
      out.set(id, {
        level: "trend",
        text: leakText(e.mbPerHour, e.timeToLimitMs),
        title: `memory grows ${formatLeakRate(e.mbPerHour)} (trend confidence ${
          Math.round(e.confidence * 100)
        } %); no alert rule fires for it`,
        mbPerHour: e.mbPerHour,
      });
    }
  }
  return out;
}

/**
 * The fitted line of an estimate, extended from its last point to `now` at the estimated
 * slope (so it reaches the right edge of a live chart). Null for a malformed estimate.
 */
export function trendLine(e: LeakEstimate, now: number): TrendLine | null {
  const t = e?.trend;
  if (!Array.isArray(t) || t.length !== 2 || !Array.isArray(t[0]) || !Array.isArray(t[1])) {
    return null;
  }
  const [[t0, v0], [t1, v1]] = t;
  if (![t0, v0, t1, v1, e.mbPerHour].every(isNum) || t1 < t0) return null;
  const slope = (e.mbPerHour * MB) / HOUR_MS; // bytes per ms
  const end = Math.max(t1, isNum(now) ? now : t1);
  return [[t0, v0], [end, v1 + slope * (end - t1)]];
}

/** An alert from the wire, or null when it lacks what the page shows. */
export function parseAlert(x: unknown): Alert | null {
  if (!x || typeof x !== "object") return null;
  const a = x as Record<string, unknown>;
  if (
    typeof a.id !== "string" || typeof a.rule !== "string" || typeof a.instance !== "string" ||
    typeof a.state !== "string" || !["pending", "firing", "resolved"].includes(a.state) ||
    !isNum(a.since)
  ) return null;
  return {
    ...(a as unknown as Alert),
    service: typeof a.service === "string" ? a.service : "",
    message: typeof a.message === "string" ? a.message : "",
    kind: (typeof a.kind === "string" ? a.kind : "threshold") as Alert["kind"],
  };
}

/** Every valid alert of a list from the wire. */
export function parseAlerts(x: unknown): Alert[] {
  if (!Array.isArray(x)) return [];
  const out: Alert[] = [];
  for (const a of x) {
    const p = parseAlert(a);
    if (p) out.push(p);
  }
  return out;
}

function isNum(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** The sites of an alert from the wire: only well-formed ones, at most three. */
export function parseSites(x: unknown): LeakSite[] {
  if (!Array.isArray(x)) return [];
  const out: LeakSite[] = [];
  for (const s of x.slice(0, 20)) {
    if (out.length === 3) break;
    if (!s || typeof s !== "object") continue;
    const o = s as Record<string, unknown>;
    if (
      typeof o.fn !== "string" || typeof o.url !== "string" || !isNum(o.line) ||
      !isNum(o.bytesPerMin) || !isNum(o.share)
    ) continue;
    out.push({
      fn: o.fn,
      url: o.url,
      line: o.line,
      col: isNum(o.col) ? o.col : 0,
      bytes: isNum(o.bytes) ? o.bytes : 0,
      bytesPerMin: o.bytesPerMin,
      share: o.share,
    });
  }
  return out;
}
