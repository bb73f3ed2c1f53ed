/**
 * Test support for hostile input: a seeded PRNG and three generators of bad frames
 * (mutated valid frames, random bytes, structured garbage JSON). Deterministic: the same
 * seed gives the same frames, so a failure names a reproducible frame number.
 *
 * @module
 */
import { encode, type Identity } from "../../lib/protocol.ts";

/** mulberry32: a small, fast, seeded PRNG returning [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const enc = new TextEncoder();

/** Field names and values a structured-garbage generator draws from. */
const KEYS = [
  "v",
  "service",
  "instance",
  "pid",
  "host",
  "color",
  "interval",
  "sent",
  "seq",
  "ts",
  "metrics",
  "samples",
  "hist",
  "start",
  "timestamp",
  "cpu",
  "mem",
  "__proto__",
  "constructor",
  "toString",
  "cpu.percent",
  "",
];
const ATOMS: unknown[] = [
  0,
  -1,
  1,
  1.5,
  1e308,
  -1e308,
  9007199254740993,
  8.64e15 + 1,
  "",
  "x",
  "1",
  "<img src=x onerror=alert(1)>",
  "\u0000",
  "\ud800",
  "__proto__",
  "constructor",
  true,
  false,
  null,
  [],
  {},
];

/** The bad frames' identity: far from any good identity a test uses, so no mutation reaches it. */
export const BAD_IDENTITY: Identity = {
  service: "fz",
  instance: "bad",
  pid: 7,
  host: "h",
  color: "red",
  intervalMs: 1000,
};

/** A generator of hostile frames. */
export function hostileFrames(seed: number): {
  next(): { kind: "mutated" | "random" | "garbage" | "huge"; frame: Uint8Array };
} {
  const r = prng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]) => xs[int(xs.length)];
  const valid = (): Uint8Array => {
    const samples = Array.from({ length: 1 + int(3) }, (_, i) => ({
      seq: int(1000) + i,
      ts: 1_700_000_000_000 + int(1e6),
      metrics: Object.fromEntries(
        Array.from({ length: int(6) }, (_, k) => [`m${k}.x${int(50)}`, r() * 1e6]),
      ),
    }));
    return encode(BAD_IDENTITY, samples, 1_700_000_000_000 + int(1e6));
  };
  const mutate = (src: Uint8Array): Uint8Array => {
    let b = Array.from(src);
    const rounds = 1 + int(4);
    for (let k = 0; k < rounds; k++) {
      const at = int(b.length + 1);
      switch (int(6)) {
        case 0: // bit flip
          if (b.length) b[at % b.length] ^= 1 << int(8);
          break;
        case 1: // random byte
          if (b.length) b[at % b.length] = int(256);
          break;
        case 2: // insert interesting bytes
          b.splice(
            at,
            0,
            ...pick([[0], [0xff], [0xc3], [0xed, 0xa0, 0x80], [34], [92], [123], [
              93,
            ]]),
          );
          break;
        case 3: // delete a run
          b.splice(at, 1 + int(8));
          break;
        case 4: // truncate
          b = b.slice(0, at);
          break;
        default: // duplicate a run
          b.splice(at, 0, ...b.slice(int(b.length), int(b.length) + 16));
      }
    }
    return new Uint8Array(b);
  };
  const garbageValue = (depth: number): unknown => {
    const k = int(depth > 3 ? 2 : 5);
    if (k === 0) return pick(ATOMS);
    if (k === 1) return r() < 0.5 ? r() * 10 ** int(20) : "s".repeat(int(r() < 0.05 ? 200 : 10));
    if (k === 2) return Array.from({ length: int(4) }, () => garbageValue(depth + 1));
    return garbageObject(depth + 1);
  };
  const garbageObject = (depth: number): Record<string, unknown> => {
    const o: Record<string, unknown> = Object.create(null);
    if (r() < 0.6) {
      o.v = pick([1, 1, 1, 2, "1", null]);
      o.service = pick(["s", "fz", 42, ""]);
      o.instance = "g";
    }
    const n = int(8);
    for (let i = 0; i < n; i++) {
      const key = r() < 0.8
        ? pick(KEYS)
        : String.fromCharCode(...Array.from({ length: int(6) }, () => int(0x3000)));
      o[key] = garbageValue(depth); // o has a null prototype: __proto__ is a plain key
    }
    if (r() < 0.2) {
      // Mostly a few metrics; now and then 300, over the 256-metric limit.
      const count = r() < 0.05 ? 300 : int(20);
      o.metrics = Object.fromEntries(Array.from({ length: count }, (_, i) => [`g${i}`, r()]));
    }
    return o;
  };
  let n = 0;
  return {
    next() {
      n++;
      if (n % 25_000 === 0) {
        // A frame over the 1 MiB limit, now and then.
        return { kind: "huge", frame: new Uint8Array(1024 * 1024 + 1 + int(100)).fill(0x20) };
      }
      const k = int(10);
      if (k < 4) return { kind: "mutated", frame: mutate(valid()) };
      if (k < 6) {
        const len = int(10) === 0 ? int(20_000) : int(200);
        const b = new Uint8Array(len);
        for (let i = 0; i < len; i++) b[i] = int(256);
        return { kind: "random", frame: b };
      }
      if (k === 6) {
        // Deep nesting, long strings, two objects, NaN...
        return {
          kind: "garbage",
          frame: enc.encode(
            pick([
              () => "[".repeat(1 + int(r() < 0.01 ? 200_000 : 2000)),
              () => '{"v":1,"service":"s","instance":"i","ts":NaN,"metrics":{}}',
              () => "{}{}",
              () => '{"v":1}',
              () => "null",
              () => "1e999",
              () => '"' + "\\u0000".repeat(int(1000)) + '"',
              () => '{"a":' + "[".repeat(500) + "]".repeat(500) + "}",
            ])(),
          ),
        };
      }
      return { kind: "garbage", frame: enc.encode(JSON.stringify(garbageObject(0))) };
    },
  };
}

/** A hostile request to the HTTP API: a path with its query string. */
export interface HostileQuery {
  /** `http`: a plain GET; `ws`: a WebSocket opened on `/ws` with that query string. */
  kind: "http" | "ws";
  path: string;
}

/** Query-string values a hostile client would try: numbers at every edge, and junk. */
const QUERY_ATOMS = [
  "0",
  "-1",
  "1",
  "5000",
  "5001",
  "8640000000000000",
  "-8640000000000000",
  "9999999999999999",
  "99999999999999999999",
  "1e3",
  "1.5",
  "NaN",
  "Infinity",
  "0x10",
  "",
  "*",
  ",,,,",
  "%",
  "%zz",
  "%00",
  "%ED%A0%80",
  "__proto__",
  "constructor",
  "<script>alert(1)</script>",
  "cpu.percent",
  "mem.rss_bytes",
  "svc%2Fone",
];

/**
 * Seeded hostile requests to `/api/series`, `/api/alerts` and `/ws`: repeated, missing and
 * absurd parameters (ranges to the year 275 760, 150 series, 64 KB values, bad escapes).
 */
export function hostileQueries(seed: number, known: readonly string[] = []): {
  next(): HostileQuery;
} {
  const r = prng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]) => xs[int(xs.length)];
  const value = (): string => {
    const k = int(10);
    if (k < 5) return pick(QUERY_ATOMS);
    if (k < 7 && known.length > 0) return encodeURIComponent(pick(known));
    if (k === 7) return String(Math.floor((r() - 0.3) * 10 ** int(18)));
    if (k === 8) return "x".repeat(int(r() < 0.1 ? 65_536 : 300));
    return Array.from({ length: int(12) }, () => "%" + int(256).toString(16).padStart(2, "0"))
      .join("");
  };
  const params = (names: readonly string[]): string => {
    const n = int(r() < 0.05 ? 150 : 8);
    return Array.from({ length: n }, () => `${pick(names)}=${value()}`).join("&");
  };
  return {
    next() {
      const k = int(10);
      if (k < 2 && known.length > 0) {
        // Well-formed but extreme: a known series, absurd ranges (issue 16.1).
        const edge = () => pick(["0", "1", "-1", "8640000000000000", "9999999999999999"]);
        const q = [
          `instance=${encodeURIComponent(pick(known))}`,
          `metric=${pick(["cpu.percent", "mem.rss_bytes"])}`,
          `from=${edge()}`,
          `to=${edge()}`,
          `points=${pick(["1", "2", "500", "5000"])}`,
        ];
        return { kind: "http", path: `/api/series?${q.join("&")}` };
      }
      if (k < 6) {
        return {
          kind: "http",
          path: `/api/series?${params(["instance", "metric", "from", "to", "points", "x"])}`,
        };
      }
      if (k < 8) return { kind: "http", path: `/api/alerts?${params(["leak", "x"])}` };
      return { kind: r() < 0.5 ? "ws" : "http", path: `/ws?${params(["metrics", "x"])}` };
    },
  };
}
