/**
 * The units people write in a rule file: durations (`90s`, `1h30m`), sizes (`512MiB`,
 * `1.5 GB`; MB is 10^6 bytes, MiB 2^20) and rates (`50MB/h`, `1MiB/min`). Parsers return
 * null for text that is not one, so the rule parser can name the key and the bad value.
 *
 * @module
 */

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const UNITS_BYTES: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};
const PER_MS: Record<string, number> = {
  s: 1000,
  min: 60_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** `90s`, `5m`, `1h30m`, `250ms` -> ms; null when not a duration. A bare 0 is 0. */
export function parseDuration(text: string): number | null {
  const s = text.trim();
  if (s === "0") return 0;
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(s)) return null;
  let ms = 0;
  for (const [, n, , unit] of s.matchAll(/(\d+(\.\d+)?)(ms|s|m|h|d)/g)) {
    ms += Number(n) * UNITS_MS[unit];
  }
  return ms;
}

/** `512MiB`, `1.5 GB`, `800kB` -> bytes (MB = 10^6, MiB = 2^20); null when not a size. */
export function parseSize(text: string): number | null {
  if (/^0+(\.0+)?$/.test(text.trim())) return 0; // nothing needs no unit
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)$/i.exec(text.trim());
  return m ? Number(m[1]) * UNITS_BYTES[m[2].toLowerCase()] : null;
}

/** `50MB/h`, `1MiB/min`, `300kB/s` -> MB (10^6 bytes) per hour; null when not a rate. */
export function parseRate(text: string): number | null {
  const m = /^(.+?)\s*\/\s*(s|min|m|h|d)$/i.exec(text.trim());
  if (!m) return null;
  const bytes = parseSize(m[1]);
  return bytes === null ? null : (bytes / 1e6) * (3_600_000 / PER_MS[m[2].toLowerCase()]);
}
