/**
 * The wire v1 decoder as it was before the one-pass shape check (lib/protocol.ts at
 * 2844593), kept verbatim as a reference: tests/unit/protocol_reference_test.ts checks that
 * the decoder in use accepts and refuses exactly what this one did, with the same reasons
 * and details. Not used by the collector.
 *
 * @module
 */
import { canonicalKey, hasHiddenChars, showHiddenChars } from "../../lib/metric_key.ts";
import { BUCKET_COUNT } from "../../lib/histogram.ts";
import { errorMessage } from "../../lib/errors.ts";
import { LIMITS, METRICS, PROTOCOL_VERSION } from "../../lib/protocol_encode.ts";
import type {
  DecodeResult,
  Histogram,
  Identity,
  Message,
  RejectReason,
  Sample,
} from "../../lib/protocol.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder(); // to measure a string frame in UTF-8 bytes

class Reject extends Error {
  constructor(readonly reason: RejectReason, readonly detail: string) {
    super(detail);
  }
}

/**
 * Decode one frame. Never throws: every input yields a message or a typed error.
 * Accepts bytes (from the socket) or a string (tests, HTTP).
 */
export function referenceDecode(frame: Uint8Array | string): DecodeResult {
  try {
    return { ok: true, message: decodeOrThrow(frame) };
  } catch (e) {
    if (e instanceof Reject) return { ok: false, error: { reason: e.reason, detail: e.detail } };
    // JSON.parse on pathological nesting can throw RangeError; anything else is a bug we
    // still must not let stop collection.
    return { ok: false, error: { reason: "invalid_json", detail: String(e) } };
  }
}

function decodeOrThrow(frame: Uint8Array | string): Message {
  // A string is measured in UTF-8 bytes, as it would arrive on the socket.
  const size = typeof frame === "string"
    ? (frame.length > LIMITS.maxMessageBytes ? frame.length : encoder.encode(frame).byteLength)
    : frame.byteLength;
  if (size > LIMITS.maxMessageBytes) {
    throw new Reject("too_large", `frame of ${size} bytes exceeds ${LIMITS.maxMessageBytes}`);
  }
  if (size === 0) throw new Reject("invalid_json", "empty frame");
  let text: string;
  if (typeof frame === "string") {
    text = frame;
  } else {
    try {
      text = utf8.decode(frame);
    } catch {
      throw new Reject("invalid_utf8", "frame is not valid UTF-8");
    }
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Reject("invalid_json", `not JSON: ${errorMessage(e).slice(0, 80)}`);
  }
  if (!isPlainObject(raw)) throw new Reject("not_object", "message must be a JSON object");
  if (!Object.hasOwn(raw, "v")) {
    if (Object.hasOwn(raw, "color") && Object.hasOwn(raw, "cpu")) return decodeLegacy(raw);
    throw new Reject("missing_field", "missing field: v (protocol version)");
  }
  if (raw.v !== PROTOCOL_VERSION) {
    throw new Reject("unknown_version", `unsupported protocol version ${String(raw.v)}`);
  }
  const identity = decodeIdentity(raw);
  const bye = goodbye(raw);
  if (present(raw, "samples")) {
    const list = raw.samples;
    if (!Array.isArray(list)) throw new Reject("wrong_type", "samples must be an array");
    if (list.length === 0) throw new Reject("missing_field", "samples is empty");
    if (list.length > LIMITS.maxSamplesPerBatch) {
      throw new Reject("too_many", `${list.length} samples exceed ${LIMITS.maxSamplesPerBatch}`);
    }
    const samples: Sample[] = new Array(list.length);
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      if (!isPlainObject(s)) throw new Reject("wrong_type", `samples[${i}] must be an object`);
      samples[i] = decodeSample(s, i);
    }
    const sent = timestamp(raw, "sent");
    return bye
      ? { identity, sent, samples, legacy: false, bye }
      : { identity, sent, samples, legacy: false };
  }
  const sample = decodeSample(raw, -1);
  const sent = present(raw, "sent") ? timestamp(raw, "sent") : sample.ts;
  const message: Message = { identity, sent, samples: [sample], legacy: false };
  if (bye) message.bye = true;
  return message;
}

/** The optional `bye` field: absent, null or false is no goodbye; anything but a boolean is refused. */
function goodbye(raw: Record<string, unknown>): boolean {
  if (!present(raw, "bye")) return false;
  if (typeof raw.bye !== "boolean") throw new Reject("wrong_type", "bye must be a boolean");
  return raw.bye;
}

/** The seed's `{"color": "red", "timestamp": ISO-8601, "cpu": %, "mem": MiB}`. */
function decodeLegacy(raw: Record<string, unknown>): Message {
  const color = name(raw, "color", true)!;
  for (const key of ["timestamp", "mem"]) {
    if (!present(raw, key)) throw new Reject("missing_field", `missing field: ${key}`);
  }
  if (typeof raw.timestamp !== "string") {
    throw new Reject("wrong_type", "timestamp must be an ISO 8601 string");
  }
  const ts = Date.parse(raw.timestamp);
  if (!Number.isFinite(ts)) throw new Reject("invalid_number", "timestamp is not a valid date");
  // A percentage of CPU time and MiB of memory: neither is ever below zero.
  const cpu = finite(raw.cpu, "cpu");
  const mem = finite(raw.mem, "mem");
  for (const [key, v] of [["cpu", cpu], ["mem", mem]] as const) {
    if (v < 0) throw new Reject("invalid_number", `${key} must not be negative, got ${v}`);
  }
  const metrics: Record<string, number> = {};
  metrics[METRICS.cpuPercent] = cpu;
  metrics[METRICS.rssBytes] = finite(mem * 1024 * 1024, "mem (as bytes)");
  return {
    identity: {
      service: "legacy",
      instance: color,
      pid: null,
      host: null,
      color,
      intervalMs: null,
    },
    sent: ts,
    samples: [{ seq: null, ts, metrics }],
    legacy: true,
  };
}

function decodeIdentity(raw: Record<string, unknown>): Identity {
  const intervalMs = optionalNumber(raw, "interval");
  if (intervalMs !== null && (intervalMs <= 0 || intervalMs > 86_400_000)) {
    throw new Reject("invalid_number", "interval must be in (0, 86400000] ms");
  }
  const pid = optionalNumber(raw, "pid");
  if (pid !== null && (!Number.isSafeInteger(pid) || pid < 0)) {
    throw new Reject("invalid_number", "pid must be a non-negative integer");
  }
  const start = optionalNumber(raw, "start");
  if (start !== null && (start < 0 || start > 8.64e15)) {
    throw new Reject("invalid_number", "start is out of range");
  }
  return {
    service: name(raw, "service", true)!,
    instance: name(raw, "instance", true)!,
    pid,
    host: name(raw, "host", false),
    color: name(raw, "color", false),
    intervalMs,
    start,
  };
}

/** Where a sample is, for error details: `samples[i].`, or "" for the single form. */
const at = (index: number) => index < 0 ? "" : `samples[${index}].`;

/**
 * One sample, `index` in its batch (-1: the single form). The path of a valid sample makes
 * no strings and, when every metric key is already canonical (the usual case), no new
 * object: the parsed `metrics` object is the sample's.
 */
function decodeSample(raw: Record<string, unknown>, index: number): Sample {
  let seq: number | null = null;
  if (present(raw, "seq")) {
    const s = raw.seq;
    if (typeof s !== "number") throw new Reject("wrong_type", `${at(index)}seq must be a number`);
    if (!Number.isSafeInteger(s) || s < 0) {
      throw new Reject("invalid_number", `${at(index)}seq must be a non-negative integer`);
    }
    seq = s;
  }
  const ts = sampleTime(raw.ts, index);
  const m = raw.metrics;
  if (m === undefined || m === null) {
    throw new Reject("missing_field", `missing ${at(index)}metrics`);
  }
  if (!isPlainObject(m)) throw new Reject("wrong_type", `${at(index)}metrics must be an object`);
  // One pass over the parsed object: count, check each value, canonicalise each key. The
  // parsed object is kept when every key is already canonical; a copy is made only when one
  // is not. seriesKey() refuses every key that could reach Object.prototype (`__proto__`,
  // `constructor`, ...), so either object is safe to index.
  let count = 0;
  let copy: Record<string, number> | null = null;
  try {
    for (const key in m) {
      if (++count > LIMITS.maxMetricsPerSample) break;
      const canonical = seriesKey(key, index); // the key first: `__proto__` is a name error
      const v = m[key];
      if (typeof v !== "number" || !Number.isFinite(v)) finite(v, `${at(index)}metrics.${key}`);
      if (copy === null && canonical !== key) {
        copy = {};
        for (const k in m) {
          if (k === key) break;
          copy[k] = m[k] as number;
        }
      }
      if (copy !== null) copy[canonical] = v as number;
    }
  } catch (e) {
    // Too many metrics is the error reported first, as when the count was checked up front.
    if (Object.keys(m).length > LIMITS.maxMetricsPerSample) throw tooMany(m, index);
    throw e;
  }
  if (count > LIMITS.maxMetricsPerSample) throw tooMany(m, index);
  const metrics = (copy ?? m) as Record<string, number>;
  const sample: Sample = { seq, ts, metrics };
  if (present(raw, "hist")) sample.hist = decodeHistograms(raw.hist, at(index));
  return sample;
}

function tooMany(m: Record<string, unknown>, index: number): Reject {
  const n = Object.keys(m).length;
  return new Reject(
    "too_many",
    `${at(index)}metrics: ${n} metrics exceed ${LIMITS.maxMetricsPerSample}`,
  );
}

/** A sample's `ts`: a finite number in range (see {@link timestamp}, whose checks it repeats). */
function sampleTime(t: unknown, index: number): number {
  if (typeof t === "number" && t >= 0 && t <= 8.64e15) return t; // NaN fails both compares
  if (t === undefined || t === null) throw new Reject("missing_field", `missing ${at(index)}ts`);
  finite(t, `${at(index)}ts`); // not a number, or not finite
  throw new Reject("invalid_number", `${at(index)}ts is out of range`);
}

function decodeHistograms(h: unknown, where: string): Record<string, Histogram> {
  if (!isPlainObject(h)) throw new Reject("wrong_type", `${where}hist must be an object`);
  const keys = Object.keys(h);
  if (keys.length > LIMITS.maxHistogramsPerSample) {
    throw new Reject(
      "too_many",
      `${where}hist: ${keys.length} exceed ${LIMITS.maxHistogramsPerSample}`,
    );
  }
  const out: Record<string, Histogram> = {};
  for (const key of keys) {
    const what = `${where}hist.${key}`;
    const v = h[key];
    if (!isPlainObject(v)) throw new Reject("wrong_type", `${what} must be an object`);
    if (!Array.isArray(v.counts)) throw new Reject("wrong_type", `${what}.counts must be an array`);
    if (v.counts.length !== BUCKET_COUNT) {
      throw new Reject("wrong_type", `${what}.counts must have ${BUCKET_COUNT} entries`);
    }
    const counts = v.counts.map((c: unknown) => {
      const n = finite(c, `${what}.counts`);
      if (!Number.isSafeInteger(n) || n < 0) {
        throw new Reject("invalid_number", `${what}.counts must be non-negative integers`);
      }
      return n;
    });
    out[seriesKey(key, where)] = { counts, sum: finite(v.sum, `${what}.sum`) };
  }
  return out;
}

/** Canonical keys of keys already seen (bounded): the same few arrive in every sample. */
const knownKeys = new Map<string, string>();

/** The canonical series key for a wire key, or a typed reject. */
function seriesKey(key: string, where: string | number): string {
  const known = knownKeys.get(key);
  if (known !== undefined) return known;
  const canonical = canonicalKey(key);
  if (canonical === null) {
    throw new Reject(
      "invalid_name",
      `${typeof where === "number" ? at(where) : where}metric name ${
        JSON.stringify(showHiddenChars(key.slice(0, 40)))
      } invalid`,
    );
  }
  if (knownKeys.size < 10_000) knownKeys.set(key, canonical);
  return canonical;
}

function name(raw: Record<string, unknown>, key: string, required: boolean): string | null {
  if (!Object.hasOwn(raw, key) || raw[key] === null) {
    if (required) throw new Reject("missing_field", `missing field: ${key}`);
    return null;
  }
  const v = raw[key];
  if (typeof v !== "string") throw new Reject("wrong_type", `${key} must be a string`);
  // Controls and invisible format characters (bidi overrides...) hide or reverse the text
  // around a name on the page and in logs (metric_key.ts).
  if (v.length === 0 || v.length > LIMITS.maxNameLength || hasHiddenChars(v)) {
    throw new Reject(
      "invalid_name",
      `${key} ${
        JSON.stringify(showHiddenChars(v.slice(0, 40)))
      } must be 1..${LIMITS.maxNameLength} ` +
        "characters without control or invisible format characters",
    );
  }
  return v;
}

function timestamp(raw: Record<string, unknown>, key: string, where = ""): number {
  if (!present(raw, key)) throw new Reject("missing_field", `missing ${where}${key}`);
  const t = finite(raw[key], where + key);
  if (t < 0 || t > 8.64e15) throw new Reject("invalid_number", `${where}${key} is out of range`);
  return t;
}

/** True when `key` is in `raw` and not null: a null field means the same as an absent one. */
function present(raw: Record<string, unknown>, key: string): boolean {
  return Object.hasOwn(raw, key) && raw[key] !== null;
}

function optionalNumber(raw: Record<string, unknown>, key: string): number | null {
  if (!present(raw, key)) return null;
  return finite(raw[key], key);
}

function finite(v: unknown, what: string): number {
  if (typeof v !== "number") throw new Reject("wrong_type", `${what} must be a number`);
  if (!Number.isFinite(v)) throw new Reject("invalid_number", `${what} must be finite`);
  return v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
