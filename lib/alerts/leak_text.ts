/**
 * The words for memory growth, shared by the alert messages (and so the webhooks) and the
 * page's badges (`static/` imports this pure module), so both say the same thing in the same
 * unit as the memory charts: MiB (2^20 bytes). The detector and the API keep their numbers in
 * MB (10^6 bytes) per hour; only the text is converted. A leak's allocation sites (from a
 * heap profile) are named the same way on the page and in Slack messages.
 *
 * @module
 */
import type { LeakSite } from "../model/alert.ts";

/** Bytes in one MiB, the unit of every memory number people read. */
export const MIB = 1_048_576;

/** `2.3 MiB/min` from 60 MiB/h up, else `20 MiB/h` (one decimal at most; whole from 100). */
export function formatLeakRate(mbPerHour: number): string {
  if (!Number.isFinite(mbPerHour)) return "–";
  const mibPerHour = (mbPerHour * 1e6) / MIB;
  if (Math.abs(mibPerHour) >= 60) return `${trim(mibPerHour / 60)} MiB/min`;
  return `${trim(mibPerHour)} MiB/h`;
}

function trim(v: number): string {
  return Math.abs(v) >= 100 ? String(Math.round(v)) : String(Math.round(v * 10) / 10);
}

/** A time ahead or a duration for people: `45 s`, `12 min`, `~3 h`, `~2 d`. */
export function formatEta(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `~${Math.round(s / 3600)} h`;
  return `~${Math.round(s / 86400)} d`;
}

/** `leaking 9 MiB/min, limit in ~3 h`: the alert message and the table badge. */
export function leakText(mbPerHour: number, timeToLimitMs?: number): string {
  const head = `leaking ${formatLeakRate(mbPerHour)}`;
  return typeof timeToLimitMs === "number" && Number.isFinite(timeToLimitMs)
    ? `${head}, limit in ${formatEta(timeToLimitMs)}`
    : head;
}

/** `backend_app.ts:143` from a site's URL and line (the URL's last path segment). */
export function siteWhere(s: LeakSite): string {
  let file = s.url;
  try {
    const u = new URL(s.url);
    file = decodeURIComponent(u.pathname.split("/").pop() || u.pathname) || s.url;
  } catch { /* not a URL: shown as sent */ }
  return s.line > 0 ? `${file || "?"}:${s.line}` : file || "(V8)";
}

/** `+12.5 MiB/min` (binary MiB: allocation sizes are bytes). */
export function siteRate(bytesPerMin: number): string {
  const mib = bytesPerMin / (1024 * 1024);
  return `+${mib >= 10 ? Math.round(mib) : Math.round(mib * 10) / 10} MiB/min`;
}

/** `grows in cacheReadings (backend_app.ts:143), +45 MiB/min`. */
export function growsText(s: LeakSite): string {
  return `grows in ${s.fn} (${siteWhere(s)}), ${siteRate(s.bytesPerMin)}`;
}

/**
 * The sites worth listing under the "grows in" sentence: none when the only site holds all the
 * growth (its line would repeat the sentence with "100 %"), else all of them. The page and
 * Slack list the same.
 */
export function listedSites<T extends LeakSite>(sites: readonly T[]): readonly T[] {
  return sites.length === 1 && Math.round(sites[0].share * 100) >= 100 ? [] : sites;
}

/** One line of the sites panel: `cacheReadings (backend_app.ts:143) · 97 % · +45 MiB/min`. */
export function siteLine(s: LeakSite): string {
  return `${s.fn} (${siteWhere(s)}) · ${Math.round(s.share * 100)} % · ${siteRate(s.bytesPerMin)}`;
}
