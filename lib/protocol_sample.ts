/**
 * Wire protocol v1, one sample: its fields, metric values and series keys, histograms, and
 * the checks the decoder (protocol.ts) shares, with its typed refusal. The decoder is the
 * only user; see protocol.ts and docs/protocol.md.
 *
 * @module
 */
import { canonicalKey, showHiddenChars } from "./metric_key.ts";
import { BUCKET_COUNT } from "./histogram.ts";
import { LIMITS } from "./protocol_encode.ts";
import type { FrameColumns, Histogram, RejectReason, Sample } from "./protocol.ts";

/** A refusal while decoding: protocol.ts turns it into a DecodeError. */
export class Reject extends Error {
  constructor(readonly reason: RejectReason, readonly detail: string) {
    super(detail);
  }
}

/**
 * The metric keys of a frame's first sample, in `for...in` order, which the later samples
 * are checked against key by key: a key equal to the one at its place is known valid (with
 * its canonical form) without the bounded cache's lookup, and a frame whose samples all
 * match is `uniform` (Message.keys).
 */
export interface Shape {
  raw: string[];
  canon: string[];
  /** Still true: every sample so far had exactly these keys, all canonical, no histograms. */
  uniform: boolean;
  /** The first sample was read: later ones are compared, not recorded. */
  set: boolean;
  /**
   * `raw` and `canon` are still the last uniform frame's arrays ({@link last}): the first
   * sample's keys so far are theirs, place by place, so nothing was recorded (a single-sample
   * frame of a known shape makes no arrays). Never written to: a first sample that differs
   * copies the matching part into arrays of its own first.
   */
  borrowed: boolean;
}

/**
 * A frame's shape, before its first sample: borrowing the last uniform frame's keys. The one
 * Shape of this module, set back for each frame (decoding is synchronous, never nested), so a
 * frame makes no object for it.
 */
export function newShape(): Shape {
  const shape = frameShape;
  shape.raw = last.raw;
  shape.canon = last.canon;
  shape.uniform = true;
  shape.set = false;
  shape.borrowed = true;
  return shape;
}

/**
 * The keys of the last uniform frame (raw and canonical), shared by every frame since that
 * had the same: a frame's first sample checks its keys against them (one compare each, not a
 * lookup in knownKeys), and {@link sameShape} hands out this `canon` array as Message.keys, so
 * frames of one shape carry one keys array and ingest can tell them apart by identity.
 */
let last: { raw: string[]; canon: string[] } = { raw: [], canon: [] };

/** The Shape {@link newShape} hands out, frame after frame. */
const frameShape: Shape = { raw: [], canon: [], uniform: true, set: false, borrowed: true };

/**
 * The keys array of a uniform frame (`shape.canon`, or the equal one of the last uniform
 * frame, see {@link last}), to use as Message.keys. Never to be changed by its users.
 */
export function sameShape(shape: Shape): readonly string[] {
  const { raw, canon } = shape;
  const prev = last.canon;
  if (raw === last.raw) return prev; // borrowed whole (newShape)
  if (prev.length === canon.length) {
    let i = 0;
    while (i < canon.length && prev[i] === canon[i] && last.raw[i] === raw[i]) i++;
    if (i === canon.length) return prev;
  }
  last = { raw, canon };
  return canon;
}

/** Where a sample is, for error details: `samples[i].`, or "" for the single form. */
const at = (index: number) => index < 0 ? "" : `samples[${index}].`;

/**
 * One sample, `index` in its batch (-1: the single form). The path of a valid sample makes
 * no strings and, when every metric key is already canonical (the usual case), no new
 * object: the parsed `metrics` object is the sample's. With `cols` (a batch's columns, see
 * Message.columns), the sample's values go into row `index` while they are checked;
 * they mean nothing once `shape.uniform` is false. With `into` (a single-form frame on
 * ingest's path), a sample without histograms is written into that object, not a new one.
 */
export function decodeSample(
  raw: Record<string, unknown>,
  index: number,
  shape: Shape,
  cols: FrameColumns | null,
  into: Sample | null = null,
): Sample {
  let seq: number | null = null;
  const s = raw.seq; // by name, as protocol.ts reads fields (see present())
  if (s != null) {
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
  let { raw: shapeRaw, canon: shapeCanon } = shape;
  const first = !shape.set;
  const hint = last;
  // Where this sample's values go: row `index`, one column of `stride` per key.
  const values = cols !== null ? cols.values : null;
  const stride = cols !== null ? cols.rows : 0;
  const row = index < 0 ? 0 : index; // the single form: row 0 of one (FrameColumns.sample)
  try {
    for (const key in m) {
      const place = count;
      if (++count > LIMITS.maxMetricsPerSample) break;
      // The key first: `__proto__` is a name error. The first sample's key at this place is
      // the usual answer (one compare); any other key goes through seriesKey.
      let canonical: string;
      if ((!first || shape.borrowed) && place < shapeRaw.length && shapeRaw[place] === key) {
        // A later sample's key as the first had it, or a first sample's key as the last
        // uniform frame had it (borrowed: nothing to record).
        canonical = shapeCanon[place];
      } else {
        // A first sample's key: as the last uniform frame had it at this place, or looked up.
        canonical = first && hint.raw[place] === key ? hint.canon[place] : seriesKey(key, index);
        if (first) {
          if (shape.borrowed) {
            // It differs from the last uniform frame here: arrays of its own, from its prefix.
            shape.raw = shapeRaw = shapeRaw.slice(0, place);
            shape.canon = shapeCanon = shapeCanon.slice(0, place);
            shape.borrowed = false;
          }
          shapeRaw.push(key);
          shapeCanon.push(canonical);
        } else shape.uniform = false;
      }
      const v = m[key];
      if (typeof v !== "number" || !Number.isFinite(v)) finite(v, `${at(index)}metrics.${key}`);
      // A key beyond the first sample's count made the frame not uniform: no column for it.
      if (values !== null && place < shapeRaw.length) values[place * stride + row] = v as number;
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
  if (first && shape.borrowed && count < shapeRaw.length) {
    // Fewer keys than the last uniform frame: its prefix, in arrays of its own.
    shape.raw = shapeRaw = shapeRaw.slice(0, count);
    shape.canon = shapeCanon = shapeCanon.slice(0, count);
    shape.borrowed = false;
  }
  shape.set = true;
  if (copy !== null || count !== shapeRaw.length) shape.uniform = false;
  const h = raw.hist;
  // A batch's sample object as JSON.parse made it is already the Sample when it holds exactly
  // `seq`, `ts` and `metrics` (those three are checked above; a count of its keys tells there
  // is no other) and its metrics needed no copy: returned as it is (one object less a sample).
  if (index >= 0 && copy === null && s !== undefined && h === undefined && keyCount(raw) === 3) {
    return raw as unknown as Sample;
  }
  if (into !== null && h == null) { // the caller's Sample, filled again (FrameColumns.sample)
    into.seq = seq;
    into.ts = ts;
    into.metrics = (copy ?? m) as Record<string, number>;
    return into;
  }
  const sample: Sample = { seq, ts, metrics: (copy ?? m) as Record<string, number> };
  if (h != null) {
    sample.hist = decodeHistograms(h, at(index));
    shape.uniform = false;
  }
  return sample;
}

/** How many enumerable keys `o` has, without making an array of them (Object.keys would). */
function keyCount(o: Record<string, unknown>): number {
  let n = 0;
  for (const _ in o) n++;
  return n;
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
export function seriesKey(key: string, where: string | number): string {
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

/**
 * True when `key` is in `raw` and not null: a null field means the same as an absent one.
 * `raw` is always JSON.parse's (own data properties, Object.prototype behind them) and no key
 * asked is a key of Object.prototype, so a plain load answers what Object.hasOwn did, at a
 * fraction of its cost (it was among the decoder's top builtins, several calls per frame).
 */
export function present(raw: Record<string, unknown>, key: string): boolean {
  return raw[key] != null;
}

export function finite(v: unknown, what: string): number {
  if (typeof v !== "number") throw new Reject("wrong_type", `${what} must be a number`);
  if (!Number.isFinite(v)) throw new Reject("invalid_number", `${what} must be finite`);
  return v;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
