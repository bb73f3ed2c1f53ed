/// <reference lib="dom" />
/**
 * Number and time formatting for the dashboard: one decimal for CPU % and MiB, short
 * relative ages and signed clock skews. Pure functions, unit-tested without a browser.
 *
 * @module
 */

/** Bytes in one MiB (the chart's memory unit; the prototype wrongly said MB). */
export const MIB = 1024 * 1024;

/** `12.3 %`, or an en dash when there is no value. */
export function formatCpu(percent: number | undefined): string {
  return isNum(percent) ? `${percent.toFixed(1)} %` : "–";
}

/** Bytes as `123.4 MiB`, or an en dash when there is no value. */
export function formatMiB(bytes: number | undefined): string {
  return isNum(bytes) ? `${(bytes / MIB).toFixed(1)} MiB` : "–";
}

/** An axis label: at most one decimal, trailing `.0` dropped (`250`, `12.5`). */
export function formatAxis(value: number): string {
  if (!isNum(value)) return "";
  const a = Math.abs(value);
  const s = a >= 100 ? value.toFixed(0) : a >= 10 ? value.toFixed(1) : value.toFixed(2);
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/** How long ago `ms` was, compactly: `now`, `4 s ago`, `3 min ago`, `2 h ago`. */
export function formatAge(ms: number): string {
  if (!isNum(ms)) return "–";
  const s = Math.max(0, ms) / 1000;
  if (s < 1) return "now";
  if (s < 60) return `${Math.floor(s)} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/** A signed duration such as `+2.5 s` or `−3 min`, for clock skew. */
export function formatSkew(ms: number): string {
  const sign = ms < 0 ? "−" : "+";
  const a = Math.abs(ms);
  // Switch units where one decimal would round up to 60.0 of the smaller unit.
  if (a < 59_950) return `${sign}${(a / 1000).toFixed(1)} s`;
  if (a < 3_597_000) return `${sign}${(a / 60_000).toFixed(1)} min`;
  return `${sign}${(a / 3_600_000).toFixed(1)} h`;
}

/** A window length as the selector shows it: `1 min`, `15 min`. */
export function formatWindow(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}

/**
 * A "nice" upper bound for an axis: the smallest of 1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10
 * × 10^k that is at least `value` (and at least `floor`), so the four grid sections read as
 * round numbers. Never lower than the value: nothing is clipped.
 */
export function niceCeil(value: number, floor = 1): number {
  const v = Math.max(isNum(value) ? value : 0, floor);
  const k = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10]) {
    if (m * k >= v * (1 - 1e-12)) return m * k;
  }
  return 10 * k;
}

function isNum(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** An uptime, two units at most: `45 s`, `12 min`, `3h 12m`, `2d 4h`. */
export function formatUptime(ms: number): string {
  if (!isNum(ms)) return "–";
  const s = Math.floor(Math.max(0, ms) / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** A rate per second: `0.4`, `12.3`, `1234`, or an en dash. */
export function formatRate(perS: number | null | undefined): string {
  if (!isNum(perS)) return "–";
  const a = Math.abs(perS);
  return a >= 100 ? perS.toFixed(0) : a >= 10 ? perS.toFixed(1) : perS.toFixed(2).replace(/0$/, "");
}

/** A latency in ms: `0.42 ms`, `18.3 ms`, `175 ms`, `2.5 s`, or an en dash. */
export function formatLatency(ms: number | null | undefined): string {
  if (!isNum(ms)) return "–";
  if (ms >= 10_000) return `${(ms / 1000).toFixed(0)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 1) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

/** A share 0..1 as a percentage: `0 %`, `0.4 %`, `12.5 %`, `100 %`. */
export function formatShare(share: number | null | undefined): string {
  if (!isNum(share)) return "–";
  const p = share * 100;
  if (p === 0) return "0 %";
  if (p < 0.1) return "<0.1 %";
  return `${p >= 10 ? p.toFixed(0) : p.toFixed(1)} %`;
}

/** A plotted value with its unit for legends and tables: `12.5 ms`, `3 /s`, `1234`. */
export function formatValue(value: number | undefined, unit: string): string {
  if (!isNum(value)) return "–";
  const a = Math.abs(value);
  const s = a >= 1000
    ? value.toFixed(0)
    : a >= 100
    ? value.toFixed(1)
    : a >= 1
    ? value.toFixed(2)
    : value.toPrecision(2);
  const n = s.includes(".") && !s.includes("e") ? s.replace(/\.?0+$/, "") : s;
  return unit ? `${n} ${unit}` : n;
}

/** A number in a history legend: one decimal, or two significant digits below 1. */
export function formatLegend(n: number): string {
  return Math.abs(n) >= 1 || n === 0 ? n.toFixed(1) : n.toPrecision(2);
}

/**
 * A history legend's min–max band beside its average, or "" when there is no band to show:
 * a bucket of one point (or equal points) reads "26.2 %  26.2–26.2" otherwise.
 */
export function formatBand(lo: number | null | undefined, hi: number | null | undefined): string {
  if (typeof lo !== "number" || typeof hi !== "number") return "";
  const [a, b] = [formatLegend(lo), formatLegend(hi)];
  return a === b ? "" : `${a}–${b}`;
}
