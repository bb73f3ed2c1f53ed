/**
 * The words for memory growth, shared by the alert messages (and so the webhooks) and the
 * page's badges (`static/` imports this pure module), so both say the same thing in the same
 * unit as the memory charts: MiB (2^20 bytes). The detector and the API keep their numbers in
 * MB (10^6 bytes) per hour; only the text is converted.
 *
 * @module
 */

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
