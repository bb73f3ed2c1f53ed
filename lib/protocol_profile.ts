/**
 * The heap-profile frame: an agent whose V8 heap grows steadily sends, at most once per ten
 * minutes, the allocation sites still live from V8's sampling heap profiler (see
 * lib/agent/heap_profile.ts). It is a frame kind of its own, apart from sample frames
 * (lib/protocol.ts), and it always begins with the bytes `{"kind":"heap_profile",`, so the
 * collector routes it without parsing sample frames twice. A collector that predates it
 * refuses it cleanly (no `ts`, no `metrics`: `missing_field`, counted).
 *
 * The decoder trusts nothing: a small size cap, a nesting-depth scan before JSON.parse, a
 * bounded count of sites, bounded strings without control characters, finite non-negative
 * numbers. Every failure is a typed reason, never an exception.
 *
 * @module
 */
import { PROTOCOL_VERSION } from "./protocol_encode.ts";
import { errorMessage } from "./errors.ts";

/** The `kind` of a heap-profile frame. */
export const HEAP_PROFILE_KIND = "heap_profile";
/** Every heap-profile frame starts with exactly these bytes. */
export const HEAP_PROFILE_PREFIX = `{"kind":"${HEAP_PROFILE_KIND}",`;

/** Limits the decoder enforces on a heap-profile frame. */
export const PROFILE_LIMITS = {
  /** Largest frame, bytes: 20 sites with long URLs fit in well under half of it. */
  maxBytes: 64 * 1024,
  /** Most sites in one frame. */
  maxSites: 20,
  /** Longest function name, UTF-16 code units. */
  maxFunctionLength: 200,
  /** Longest script URL, UTF-16 code units. */
  maxUrlLength: 512,
  /** Longest service or instance name (as sample frames). */
  maxNameLength: 128,
  /** Deepest nesting of objects and arrays: frame -> sites -> site. */
  maxDepth: 3,
} as const;

/** One allocation site, as the agent summarises it (numbers are the profiler's estimates). */
export interface HeapSite {
  /** Function name; `(anonymous)` when V8 has none. */
  fn: string;
  /** Script URL (`file:///...`, `https://...`), or "" for V8's own frames. */
  url: string;
  /** 1-based line and column of the function in `url` (0: unknown). */
  line: number;
  col: number;
  /** Bytes allocated here that were still live at the second profile. */
  bytes: number;
  /** Samples behind `bytes`. */
  samples: number;
  /** Change of `bytes` from the first profile to the second (may be negative). */
  growth: number;
}

/** A heap-profile frame, decoded. */
export interface HeapProfile {
  service: string;
  instance: string;
  pid: number | null;
  /** Agent clock when the second profile was taken, ms since the epoch. */
  at: number;
  /** From the first profile to the second, ms: `growth` happened over this span. */
  spanMs: number;
  /** The profiler's sampling interval, bytes (32 KiB or coarser). */
  samplingInterval: number;
  /** `mem.heap_used_bytes` when the second profile was taken. */
  heapUsedBytes: number;
  /** Live sampled bytes over all sites, and their growth (the sites sent are the top ones). */
  totalBytes: number;
  totalGrowth: number;
  /** Top sites, most growth first. */
  sites: HeapSite[];
}

/** Why a heap-profile frame was refused. */
export type ProfileRejectReason =
  | "too_large"
  | "too_deep"
  | "invalid_utf8"
  | "invalid_json"
  | "wrong_type"
  | "missing_field"
  | "invalid_number"
  | "invalid_name"
  | "too_many"
  | "unknown_version";

/** Result of {@link decodeHeapProfile}. */
export type ProfileDecodeResult =
  | { ok: true; profile: HeapProfile }
  | { ok: false; error: { reason: ProfileRejectReason; detail: string } };

const encoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true });
const PREFIX_BYTES = encoder.encode(HEAP_PROFILE_PREFIX);
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// deno-lint-ignore no-control-regex
const CONTROL_ALL = /[\u0000-\u001f\u007f-\u009f]/g;

/** Whether a frame is a heap-profile frame (by its first bytes; cheap for sample frames). */
export function isHeapProfileFrame(frame: Uint8Array | string): boolean {
  if (typeof frame === "string") return frame.startsWith(HEAP_PROFILE_PREFIX);
  if (frame.byteLength < PREFIX_BYTES.length || frame[2] !== PREFIX_BYTES[2]) return false;
  for (let i = 0; i < PREFIX_BYTES.length; i++) if (frame[i] !== PREFIX_BYTES[i]) return false;
  return true;
}

/**
 * Encode a profile as one frame (`kind` first, as {@link isHeapProfileFrame} expects).
 * Strings are cut to the limits and control characters replaced, so the collector never
 * refuses a frame for a long or odd function name; sites beyond the limit are left out.
 */
export function encodeHeapProfile(p: HeapProfile): Uint8Array {
  const body: Record<string, unknown> = {
    kind: HEAP_PROFILE_KIND,
    v: PROTOCOL_VERSION,
    service: p.service,
    instance: p.instance,
  };
  if (p.pid !== null) body.pid = p.pid;
  Object.assign(body, {
    at: p.at,
    spanMs: p.spanMs,
    samplingInterval: p.samplingInterval,
    heapUsedBytes: p.heapUsedBytes,
    totalBytes: p.totalBytes,
    totalGrowth: p.totalGrowth,
    sites: p.sites.slice(0, PROFILE_LIMITS.maxSites).map((s) => ({
      fn: clean(s.fn, PROFILE_LIMITS.maxFunctionLength, false),
      url: clean(s.url, PROFILE_LIMITS.maxUrlLength, true),
      line: s.line,
      col: s.col,
      bytes: s.bytes,
      samples: s.samples,
      growth: s.growth,
    })),
  });
  return encoder.encode(JSON.stringify(body));
}

/** Replace control characters; cut to `max`, keeping the end of a URL (its file name). */
function clean(s: string, max: number, keepEnd: boolean): string {
  const t = s.replace(CONTROL_ALL, "?");
  if (t.length <= max) return t;
  return keepEnd ? "…" + t.slice(t.length - max + 1) : t.slice(0, max - 1) + "…";
}

class Refuse extends Error {
  constructor(readonly reason: ProfileRejectReason, detail: string) {
    super(detail);
  }
}

/** Decode and validate one heap-profile frame. Never throws. */
export function decodeHeapProfile(frame: Uint8Array | string): ProfileDecodeResult {
  try {
    return { ok: true, profile: decodeOrThrow(frame) };
  } catch (e) {
    if (e instanceof Refuse) return { ok: false, error: { reason: e.reason, detail: e.message } };
    return { ok: false, error: { reason: "invalid_json", detail: String(e).slice(0, 120) } };
  }
}

function decodeOrThrow(frame: Uint8Array | string): HeapProfile {
  const max = PROFILE_LIMITS.maxBytes;
  let text: string;
  if (typeof frame === "string") {
    if (frame.length > max || encoder.encode(frame).byteLength > max) {
      throw new Refuse("too_large", `profile frame over ${max} bytes`);
    }
    text = frame;
  } else {
    if (frame.byteLength > max) {
      throw new Refuse("too_large", `profile frame of ${frame.byteLength} bytes over ${max}`);
    }
    try {
      text = utf8.decode(frame);
    } catch {
      throw new Refuse("invalid_utf8", "profile frame is not valid UTF-8");
    }
  }
  const depth = nesting(text);
  if (depth > PROFILE_LIMITS.maxDepth) {
    throw new Refuse("too_deep", `nesting ${depth} deeper than ${PROFILE_LIMITS.maxDepth}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Refuse("invalid_json", `not JSON: ${errorMessage(e).slice(0, 80)}`);
  }
  if (!isObject(raw)) throw new Refuse("wrong_type", "profile frame must be an object");
  if (raw.kind !== HEAP_PROFILE_KIND) throw new Refuse("wrong_type", "kind must be heap_profile");
  if (raw.v !== PROTOCOL_VERSION) {
    throw new Refuse("unknown_version", `unsupported protocol version ${String(raw.v)}`);
  }
  const list = raw.sites;
  if (!Array.isArray(list)) throw new Refuse("wrong_type", "sites must be an array");
  if (list.length > PROFILE_LIMITS.maxSites) {
    throw new Refuse("too_many", `${list.length} sites exceed ${PROFILE_LIMITS.maxSites}`);
  }
  const pid = raw.pid === undefined || raw.pid === null ? null : count(raw, "pid");
  return {
    service: text_(raw, "service", PROFILE_LIMITS.maxNameLength, 1),
    instance: text_(raw, "instance", PROFILE_LIMITS.maxNameLength, 1),
    pid,
    at: count(raw, "at"),
    spanMs: count(raw, "spanMs"),
    samplingInterval: count(raw, "samplingInterval"),
    heapUsedBytes: count(raw, "heapUsedBytes"),
    totalBytes: count(raw, "totalBytes"),
    totalGrowth: number(raw, "totalGrowth"),
    sites: list.map((s, i) => {
      if (!isObject(s)) throw new Refuse("wrong_type", `sites[${i}] must be an object`);
      const w = `sites[${i}].`;
      return {
        fn: text_(s, "fn", PROFILE_LIMITS.maxFunctionLength, 0, w),
        url: text_(s, "url", PROFILE_LIMITS.maxUrlLength, 0, w),
        line: count(s, "line", w),
        col: count(s, "col", w),
        bytes: count(s, "bytes", w),
        samples: count(s, "samples", w),
        growth: number(s, "growth", w),
      };
    }),
  };
}

/** Deepest nesting of `{}`/`[]` outside strings: refused before JSON.parse ever recurses. */
function nesting(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > deepest) deepest = depth;
      if (deepest > PROFILE_LIMITS.maxDepth) return deepest;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

function text_(o: Record<string, unknown>, key: string, max: number, min: number, w = ""): string {
  if (!Object.hasOwn(o, key)) throw new Refuse("missing_field", `missing ${w}${key}`);
  const v = o[key];
  if (typeof v !== "string") throw new Refuse("wrong_type", `${w}${key} must be a string`);
  if (v.length < min || v.length > max || CONTROL.test(v)) {
    throw new Refuse(
      "invalid_name",
      `${w}${key} must be ${min}..${max} characters without control characters`,
    );
  }
  return v;
}

function number(o: Record<string, unknown>, key: string, w = ""): number {
  if (!Object.hasOwn(o, key)) throw new Refuse("missing_field", `missing ${w}${key}`);
  const v = o[key];
  if (typeof v !== "number") throw new Refuse("wrong_type", `${w}${key} must be a number`);
  if (!Number.isFinite(v) || Math.abs(v) > 1e15) {
    throw new Refuse("invalid_number", `${w}${key} must be finite and below 1e15`);
  }
  return v;
}

function count(o: Record<string, unknown>, key: string, w = ""): number {
  const v = number(o, key, w);
  if (v < 0) throw new Refuse("invalid_number", `${w}${key} must not be negative`);
  return v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
