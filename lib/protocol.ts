/**
 * Wire protocol v1: the one contract between agents and the collector.
 *
 * One JSON object per ZMQ frame, self-contained (it names the instance it comes from), in
 * one of two forms:
 *
 * - single: identity fields + `seq`, `ts`, `metrics`
 * - batch:  identity fields + `sent` + `samples: [{ seq, ts, metrics }, ...]` (backlog)
 *
 * Either form may carry `bye: true`: the agent stops cleanly after this frame (a goodbye; an
 * old collector ignores the field). It also accepts the seed prototype's message `{"color","timestamp","cpu","mem"}`.
 * `decode` never throws: it returns a message or a typed error with a reason. This is the
 * only module that knows the JSON shape, with protocol_sample.ts (one sample),
 * protocol_template.ts (a known sender's single frame read against its last one's bytes) and
 * protocol_encode.ts (the encoder); see docs/protocol.md.
 *
 * @module
 */

import { hasHiddenChars, showHiddenChars } from "./metric_key.ts";
import { errorMessage } from "./errors.ts";
import type { FrameColumns } from "./protocol_columns.ts";

import { LIMITS, METRICS, PROTOCOL_VERSION } from "./protocol_encode.ts";
import {
  decodeSample,
  finite,
  isPlainObject,
  newShape,
  present,
  Reject,
  sameShape,
} from "./protocol_sample.ts";
export { FrameColumns } from "./protocol_columns.ts";
// The agent's side (the encoder, the version it writes, the standard names and the limits
// it must keep to) lives in protocol_encode.ts: an agent loads it without the decoder.
export {
  createEncoder,
  DEFAULT_COLLECTOR,
  encode,
  LIMITS,
  METRICS,
  type OutgoingSample,
  PROTOCOL_VERSION,
} from "./protocol_encode.ts";

/** Who sent a message. An instance is identified by (service, instance). */
export interface Identity {
  service: string;
  instance: string;
  pid: number | null;
  host: string | null;
  /** Requested display colour, as sent (validated later for display; never trusted). */
  color: string | null;
  /** The agent's reporting interval in ms, used to judge staleness. */
  intervalMs: number | null;
  /**
   * When the agent started, ms since the epoch (its clock). With the pid it tells a restart
   * of the same instance from a duplicate, and gives uptime. Optional: old agents omit it.
   */
  start?: number | null;
}

/** One point in time for one instance: metric name -> value. */
export interface Sample {
  /** Per-instance sequence number, or null for legacy senders that have none. */
  seq: number | null;
  /** The agent's clock, ms since the epoch. */
  ts: number;
  /**
   * Series key (metric name, optionally with labels, in canonical form; see metric_key.ts)
   * -> finite number. Keys are validated so none is a key of Object.prototype.
   */
  metrics: Record<string, number>;
  /** Histograms by series key: per-bucket counts since the agent started (see histogram.ts). */
  hist?: Record<string, Histogram>;
}

/**
 * A histogram on the wire: counts per bucket of BUCKETS (plus overflow) and the sum. Those
 * lib/otlp makes from OTLP buckets are estimates, and may hold fractions (lib/otlp/buckets.ts).
 */
export interface Histogram {
  counts: number[];
  sum: number;
}

/** A decoded, validated message: one identity, one or more samples in send order. */
export interface Message {
  identity: Identity;
  /** The agent's clock when the frame was sent, ms since the epoch (clock-offset estimate). */
  sent: number;
  samples: Sample[];
  /** True when the frame was the seed prototype's legacy JSON. */
  legacy: boolean;
  /** True when the agent said goodbye: it stops cleanly after this frame. */
  bye?: boolean;
  /**
   * Set by {@link decode} when every sample's `metrics` holds exactly these series keys, in
   * this order (the order `for...in` gives), and no sample carries histograms: the usual
   * frame. Ingest then resolves each series once per frame, not once per point. Never sent.
   */
  keys?: readonly string[];
  /**
   * Set by {@link decode} when its caller passed columns to fill and this is a batch with
   * {@link keys}: that object, holding the samples' values, filled while they were validated
   * (so ingest hands them on without walking each sample's `metrics` again). The caller's,
   * and overwritten by its next decode. Never sent.
   */
  columns?: FrameColumns;
}

/** Why a frame was rejected. Counted per reason by the collector. */
export type RejectReason =
  | "too_large"
  | "invalid_utf8"
  | "invalid_json"
  | "not_object"
  | "unknown_version"
  | "missing_field"
  | "wrong_type"
  | "invalid_number"
  | "invalid_name"
  | "too_many";

/** All reject reasons, for stats tables that list zeros too. */
export const REJECT_REASONS: readonly RejectReason[] = [
  "too_large",
  "invalid_utf8",
  "invalid_json",
  "not_object",
  "unknown_version",
  "missing_field",
  "wrong_type",
  "invalid_number",
  "invalid_name",
  "too_many",
];

/** A typed decode failure: the reason (for counting) and a human detail (for the log). */
export interface DecodeError {
  reason: RejectReason;
  detail: string;
}

/** Result of {@link decode}. */
export type DecodeResult = { ok: true; message: Message } | { ok: false; error: DecodeError };

/**
 * UTF-8 is decoded with replacement, which is 2.5-4x as fast as a fatal decoder here; any
 * invalid sequence then shows as U+FFFD, and only a frame holding one is decoded again,
 * fatally, to tell a real U+FFFD (valid) from an invalid sequence.
 */
const utf8 = new TextDecoder("utf-8");
const utf8Strict = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder(); // to measure a string frame in UTF-8 bytes

/**
 * Decode one frame. Never throws: every input yields a message or a typed error.
 * Accepts bytes (from the socket) or a string (tests, HTTP). With `columns`, a batch whose
 * samples share their keys also comes as columns, in that object (Message.columns), and a
 * single-form frame's message may be that object's, reused by the next such decode.
 */
export function decode(frame: Uint8Array | string, columns?: FrameColumns): DecodeResult {
  const r = decodeFrame(frame, columns);
  return isRefusal(r)
    ? { ok: false, error: { reason: r.reason, detail: r.detail } }
    : { ok: true, message: r };
}

/**
 * {@link decode} without its result object, for the collector's receive path (one object less
 * per frame): the message, or the refusal ({@link isRefusal} tells which). Never throws.
 */
export function decodeFrame(
  frame: Uint8Array | string,
  columns?: FrameColumns,
): Message | DecodeError {
  try {
    return decodeOrThrow(frame, columns ?? null);
  } catch (e) {
    if (e instanceof Reject) return e;
    // JSON.parse on pathological nesting can throw RangeError; anything else is a bug we
    // still must not let stop collection.
    return new Reject("invalid_json", String(e));
  }
}

/** True when {@link decodeFrame} refused the frame (its result is the reason, not a message). */
export function isRefusal(r: Message | DecodeError): r is DecodeError {
  return r instanceof Reject;
}

function decodeOrThrow(frame: Uint8Array | string, columns: FrameColumns | null): Message {
  // A string is measured in UTF-8 bytes, as it would arrive on the socket.
  const size = typeof frame === "string"
    ? (frame.length > LIMITS.maxMessageBytes ? frame.length : encoder.encode(frame).byteLength)
    : frame.byteLength;
  if (size > LIMITS.maxMessageBytes) {
    throw new Reject("too_large", `frame of ${size} bytes exceeds ${LIMITS.maxMessageBytes}`);
  }
  if (size === 0) throw new Reject("invalid_json", "empty frame");
  // A known sender's usual single frame, read against its last one's bytes.
  if (columns !== null && typeof frame !== "string") {
    const m = columns.templates.read(frame, columns);
    if (m !== null) return m;
  }
  let text: string;
  if (typeof frame === "string") {
    text = frame;
  } else {
    text = utf8.decode(frame);
    if (text.includes("\uFFFD")) {
      try {
        utf8Strict.decode(frame);
      } catch {
        throw new Reject("invalid_utf8", "frame is not valid UTF-8");
      }
    }
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Reject("invalid_json", `not JSON: ${errorMessage(e).slice(0, 80)}`);
  }
  if (!isPlainObject(raw)) throw new Reject("not_object", "message must be a JSON object");
  // Plain loads, not Object.hasOwn: see present() (none of these is a key of Object.prototype).
  if (raw.v === undefined) {
    if (raw.color !== undefined && raw.cpu !== undefined) return decodeLegacy(raw);
    throw new Reject("missing_field", "missing field: v (protocol version)");
  }
  if (raw.v !== PROTOCOL_VERSION) {
    throw new Reject("unknown_version", `unsupported protocol version ${String(raw.v)}`);
  }
  const identity = decodeIdentity(raw);
  const bye = goodbye(raw.bye);
  // Fields are read by name (raw.samples), not by a key passed around (raw[key]): every
  // frame's object has one of a few shapes, and a load by name is then a cheap one.
  const list = raw.samples;
  if (list != null) {
    if (!Array.isArray(list)) throw new Reject("wrong_type", "samples must be an array");
    if (list.length === 0) throw new Reject("missing_field", "samples is empty");
    if (list.length > LIMITS.maxSamplesPerBatch) {
      throw new Reject("too_many", `${list.length} samples exceed ${LIMITS.maxSamplesPerBatch}`);
    }
    const n = list.length;
    const samples: Sample[] = new Array(n);
    const shape = newShape();
    // The columns (Message.columns) are filled in the same pass; their values' room is
    // checked once the first sample has told how many keys there are (a store past the end of
    // a typed array does nothing), and they are let go when the frame is not uniform.
    let cols: FrameColumns | null = null;
    if (columns !== null && n > 1) {
      cols = columns;
      cols.rows = n;
    }
    for (let i = 0; i < n; i++) {
      const s = list[i];
      if (!isPlainObject(s)) throw new Reject("wrong_type", `samples[${i}] must be an object`);
      samples[i] = decodeSample(s, i, shape, cols);
      if (cols !== null && !shape.uniform) cols = null;
      else if (i === 0 && cols !== null && cols.values.length < n * shape.raw.length) {
        cols.values = new Float64Array(n * shape.raw.length);
        firstRow(samples[0], cols);
      }
    }
    const sent = timestamp(raw.sent, "sent");
    const message: Message = { identity, sent, samples, legacy: false };
    if (bye) message.bye = true;
    if (shape.uniform) {
      message.keys = sameShape(shape);
      if (cols !== null) message.columns = cols;
    }
    return message;
  }
  const shape = newShape();
  if (columns !== null) columns.rows = 1; // the values of a reused single message (below)
  const sample = decodeSample(raw, -1, shape, columns, columns?.sample ?? null);
  const sent = raw.sent != null ? timestamp(raw.sent, "sent") : sample.ts;
  if (columns !== null && shape.uniform && !bye) {
    // The usual single frame, for ingest: its reused Message (FrameColumns.single).
    const keys = sameShape(shape);
    const m = columns.single ??= { identity, sent, samples: [sample], legacy: false, keys };
    m.identity = identity;
    m.sent = sent;
    m.samples[0] = sample;
    m.keys = keys;
    if (typeof frame !== "string") columns.templates.learn(frame, m, columns);
    return m;
  }
  const message: Message = { identity, sent, samples: [sample], legacy: false };
  if (bye) message.bye = true;
  if (shape.uniform) message.keys = sameShape(shape);
  return message;
}

/** The first sample's values into `cols` (after they grew: its row was stored past the end). */
function firstRow(first: Sample, cols: FrameColumns): void {
  let at = 0;
  const m = first.metrics;
  for (const key in m) { // the first sample's keys are the shape's, canonical (uniform)
    cols.values[at] = m[key];
    at += cols.rows;
  }
}

/** The optional `bye` field: absent, null or false is no goodbye; anything but a boolean is refused. */
function goodbye(bye: unknown): boolean {
  if (bye == null) return false;
  if (typeof bye !== "boolean") throw new Reject("wrong_type", "bye must be a boolean");
  return bye;
}

/** The seed's `{"color": "red", "timestamp": ISO-8601, "cpu": %, "mem": MiB}`. */
function decodeLegacy(raw: Record<string, unknown>): Message {
  const color = name(raw.color, "color", true)!;
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

/**
 * The last identity decoded for each instance name (bounded, as knownKeys in
 * protocol_sample.ts): an agent sends the same identity in every frame, and a frame whose
 * identity fields equal the last one's gets that object back (it was checked when first made;
 * no one changes an Identity), not a new one. One object less a frame.
 */
const knownIdentities = new Map<string, Identity>();

function decodeIdentity(raw: Record<string, unknown>): Identity {
  const instance = raw.instance;
  if (typeof instance === "string") {
    const known = knownIdentities.get(instance);
    // Object.is for numbers: a -0 is not the 0 decoded before (the result must be the same).
    if (
      known !== undefined && known.service === raw.service &&
      known.host === (raw.host ?? null) && known.color === (raw.color ?? null) &&
      Object.is(known.pid, raw.pid ?? null) && Object.is(known.intervalMs, raw.interval ?? null) &&
      Object.is(known.start, raw.start ?? null)
    ) return known;
  }
  const identity = checkIdentity(raw);
  if (knownIdentities.size < 10_000 || knownIdentities.has(identity.instance)) {
    knownIdentities.set(identity.instance, identity);
  }
  return identity;
}

function checkIdentity(raw: Record<string, unknown>): Identity {
  const intervalMs = optionalNumber(raw.interval, "interval");
  if (intervalMs !== null && (intervalMs <= 0 || intervalMs > 86_400_000)) {
    throw new Reject("invalid_number", "interval must be in (0, 86400000] ms");
  }
  const pid = optionalNumber(raw.pid, "pid");
  if (pid !== null && (!Number.isSafeInteger(pid) || pid < 0)) {
    throw new Reject("invalid_number", "pid must be a non-negative integer");
  }
  const start = optionalNumber(raw.start, "start");
  if (start !== null && (start < 0 || start > 8.64e15)) {
    throw new Reject("invalid_number", "start is out of range");
  }
  return {
    service: name(raw.service, "service", true)!,
    instance: name(raw.instance, "instance", true)!,
    pid,
    host: name(raw.host, "host", false),
    color: name(raw.color, "color", false),
    intervalMs,
    start,
  };
}

/** Field `key`'s value `v` (undefined when absent: see present()) as a name. */
function name(v: unknown, key: string, required: boolean): string | null {
  if (v == null) {
    if (required) throw new Reject("missing_field", `missing field: ${key}`);
    return null;
  }
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

/** Field `key`'s value `v` (undefined when absent: see present()) as a time. */
function timestamp(v: unknown, key: string, where = ""): number {
  if (v == null) throw new Reject("missing_field", `missing ${where}${key}`);
  const t = finite(v, where + key);
  if (t < 0 || t > 8.64e15) throw new Reject("invalid_number", `${where}${key} is out of range`);
  return t;
}

/** Field `key`'s value `v` (undefined when absent: see present()) as a number, or null. */
function optionalNumber(v: unknown, key: string): number | null {
  if (v == null) return null;
  return finite(v, key);
}
