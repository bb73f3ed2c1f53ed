/**
 * The chunk codec: one series' points as a compact, self-checking byte string for the
 * durable store.
 *
 * Layout (version 1): a header byte `version << 4 | mode` (bit 0: scaled values, bit 1: grid
 * times), varint count, then (count > 0) zigzag varints of the first time and of
 * lastTime - firstTime (so {@link chunkInfo} reads them without decoding), the times, the
 * values, and a 4-byte FNV-1a checksum of all that. At most {@link MAX_POINTS} points.
 *
 * - Times are integer ms: a non-integer input is rounded with `Math.round` (half up). They
 *   are stored either as the first delta then zigzag delta-of-deltas, or as offsets from a
 *   regular grid `t0 + i * step`, whichever is smaller, in a patched frame-of-reference bit
 *   stream (see bits.ts): a steady 1 s tick costs 0 bits, 0-3 ms of arrival jitter 2 bits,
 *   and irregular, duplicate, out-of-order times or huge gaps stay exact (as wide exceptions).
 * - Values, mode "scaled" (the usual case): when every value is exactly `s / 10^d` for
 *   integers s (|s| < 2^49) and one d in 0..6 (verified value by value, bit for bit, with the
 *   decoder's own arithmetic), the s are stored as `s0 + q * gcd` and the q as raw offsets,
 *   deltas or delta-of-deltas, whichever packs smallest. Deltas (and delta-of-deltas) are
 *   stored as zigzag offsets from their median, so a series that grows by 20-80 k a second
 *   costs the bits of the 60 k spread, not of 80 k with a sign. Integer bytes in 4096 steps
 *   cost a few bits, a constant 0 bits. (Chunks written before the median offset, value
 *   kinds 1 and 2, still decode.)
 * - Values, mode "xor": anything else (-0, huge or unrounded floats) uses Gorilla XOR
 *   compression of the raw float64 bits (gorilla.ts), exact for every finite double.
 * - Shared times (bit 2): the chunk's times are those of another series' chunk in the same
 *   seal round, whose series id follows the header as a varint, and the times section is left
 *   out. An agent frame carries all of an instance's metrics at one time, so its six or more
 *   series have one time column between them: stored once, not six times (~0.23 B of 1.34 B a
 *   sample). The chunk holding the times never shares itself.
 *
 * @module
 */

import {
  bitLength,
  BitReader,
  BitWriter,
  fnv1a,
  readInts,
  topOf,
  unzigzag,
  widthOf,
  writeInts,
  zigzag,
} from "./bits.ts";
import { readXor, writeXor } from "./gorilla.ts";
import { readScaled, scaleOf, writeScaled } from "./scaled.ts";
import { Col, column } from "./scratch.ts";

const VERSION = 1;
/** How the values of a chunk are stored. */
export type ValueMode = "xor" | "scaled";
const MODE_XOR = 0;
const MODE_SCALED = 1;
const MODE_TIME_GRID = 2; // flag bit: times stored as offsets from a regular grid
const MODE_SHARED_TIMES = 4; // flag bit: times are another series' chunk's (same round)
const MAX_GRID_STEP = 2 ** 28; // ms (3 days): i * step stays exact for MAX_POINTS points
const MAX_TIME = 2 ** 48; // |time| in ms (year ~10900): keeps delta-of-deltas below 2^51
/** Most points in one chunk (a day at 100 Hz fits); bounds what a decoder allocates. */
export const MAX_POINTS = 2 ** 24;

/**
 * The writer encodeChunkAs reuses, as its working columns (scratch.ts); the caller gets a
 * copy of what it wrote. Replaced when it grew past 1 MiB.
 */
let writer = new BitWriter(4096);
/** Whether {@link warmUp} ran. */
let warm = false;

/**
 * Encode one series' points (times in ms since epoch, ascending or not; values finite float64).
 * With `timesFrom`, the caller vouches that series `timesFrom`'s chunk in the same seal round
 * holds these very times: they are not stored again (decodeChunk asks for them).
 */
export function encodeChunk(
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  timesFrom: number | null = null,
): Uint8Array {
  return encodeChunkAs(times, values, "auto", timesFrom);
}

/**
 * {@link encodeChunk} with the value mode forced ("xor") or chosen ("auto": scaled when it is
 * exact, else xor). For benchmarks and tests; the store calls encodeChunk.
 */
export function encodeChunkAs(
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  mode: "auto" | ValueMode,
  timesFrom: number | null = null,
): Uint8Array {
  if (!warm) {
    warm = true;
    warmUp();
  }
  const n = times.length;
  if (n > MAX_POINTS) throw new RangeError(`${n} points exceed the chunk limit of ${MAX_POINTS}`);
  if (values.length !== n) {
    throw new RangeError(`times and values differ in length (${n} vs ${values.length})`);
  }
  const shared = timesFrom !== null && n > 0;
  if (shared && !(Number.isSafeInteger(timesFrom) && timesFrom >= 0)) {
    throw new RangeError(`timesFrom ${timesFrom} is not a series id`);
  }
  // Shared times are stored by their owner's chunk, which checked them: only the first and
  // last go in this one's header.
  const t = shared ? null : column(Col.Times, n);
  const plan = t ? planTimes(times, t) : null;
  const [first, last] = shared
    ? [msTime(times, 0), msTime(times, n - 1)]
    : [n > 0 ? t![0] : 0, n > 0 ? t![n - 1] : 0];
  // Read in place when they come as float64 (the store's do): nothing here writes them.
  let v: Float64Array;
  if (values instanceof Float64Array) v = values;
  else {
    v = column(Col.Values, n);
    for (let i = 0; i < n; i++) v[i] = values[i];
  }
  const scaled = mode === "xor" ? null : scaleOf(v);
  // Values scaleOf could store exactly are finite: only the others are checked.
  if (!scaled) {
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(v[i])) throw new RangeError(`value ${v[i]} at ${i} is not finite`);
    }
  }
  if (mode === "scaled" && !scaled) {
    throw new RangeError("values cannot be stored exactly as scaled integers");
  }

  const w = writer;
  w.reset();
  const timeMode = shared ? MODE_SHARED_TIMES : plan?.grid ? MODE_TIME_GRID : 0;
  w.byte(VERSION << 4 | (scaled ? MODE_SCALED : MODE_XOR) | timeMode);
  w.varint(n);
  if (n > 0) {
    w.varint(zigzag(first));
    w.varint(zigzag(last - first));
    if (plan) writeTimes(w, t!, plan);
    else w.varint(timesFrom!);
    if (scaled) writeScaled(w, scaled);
    else writeXor(w, v);
  }
  const body = w.bytes();
  const out = new Uint8Array(body.length + 4);
  out.set(body);
  new DataView(out.buffer).setUint32(body.length, fnv1a(body, 0, body.length), true);
  if (w.buf.length > 1 << 20) writer = new BitWriter(4096);
  return out;
}

/** `times[i]` as integer ms (rounded half up, -0 as 0); throws when out of range. */
function msTime(times: ArrayLike<number>, i: number): number {
  const x = Math.round(times[i]);
  if (!(Math.abs(x) <= MAX_TIME)) {
    throw new RangeError(`time ${times[i]} at ${i} is not a finite ms time within ±2^48`);
  }
  return x + 0; // -0 -> 0
}

/**
 * Decode a chunk back: exact values (bit-for-bit, including -0 and subnormals) and times. A
 * chunk that shares another series' times gets them from `timesOf(series)` (the times of that
 * series' chunk in the same round, read with {@link decodeChunkTimes}), and throws without.
 */
export function decodeChunk(
  bytes: Uint8Array,
  timesOf?: (series: number) => Float64Array,
): { times: Float64Array; values: Float64Array } {
  const { r, end, mode, n, first, last } = openChunk(bytes);
  let times: Float64Array = new Float64Array(n);
  const values = new Float64Array(n);
  if (n > 0) {
    if ((mode & MODE_SHARED_TIMES) !== 0) {
      const series = r.varint();
      if (!timesOf) throw new Error(`chunk shares series ${series}'s times: none given`);
      times = timesOf(series);
      if (times.length !== n || times[0] !== first) {
        throw new Error(`shared times of series ${series} do not match the chunk`);
      }
    } else readTimes(r, times, first, (mode & MODE_TIME_GRID) !== 0);
    if (times[n - 1] !== last) throw new Error("corrupt chunk: last time does not match header");
    if ((mode & MODE_SCALED) !== 0) readScaled(r, values);
    else readXor(r, values);
  }
  r.align();
  if (r.pos !== end) throw new Error(`corrupt chunk: ${end - r.pos} unexpected trailing bytes`);
  return { times, values };
}

/** Only the times of a chunk that stores its own (checksum verified; values not read). */
export function decodeChunkTimes(bytes: Uint8Array): Float64Array {
  const { r, mode, n, first, last } = openChunk(bytes);
  if ((mode & MODE_SHARED_TIMES) !== 0) throw new Error("corrupt chunk: shared times chained");
  const times = new Float64Array(n);
  if (n > 0) readTimes(r, times, first, (mode & MODE_TIME_GRID) !== 0);
  if (n > 0 && times[n - 1] !== last) throw new Error("corrupt chunk: last time mismatch");
  return times;
}

/** Check a chunk's length and checksum and read its header; `r` is at the times. */
function openChunk(bytes: Uint8Array) {
  if (bytes.length < 6) throw new Error(`corrupt chunk: ${bytes.length} bytes is too short`);
  const end = bytes.length - 4;
  const sum = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(end, true);
  if (sum !== fnv1a(bytes, 0, end)) throw new Error("corrupt chunk: checksum mismatch");
  const r = new BitReader(bytes, 0, end);
  const header = readHeader(r);
  if (header.n > MAX_POINTS) throw new Error(`corrupt chunk: count ${header.n} > ${MAX_POINTS}`);
  return { r, end, ...header };
}

/**
 * Cheap header read without decoding all points: count, first and last time (in stored
 * order; NaN for an empty chunk), and the series whose chunk holds its times when it shares
 * them (else null). Does not verify the checksum: decodeChunk does.
 */
export function chunkInfo(
  bytes: Uint8Array,
): { count: number; firstTime: number; lastTime: number; timesFrom: number | null } {
  if (bytes.length < 6) throw new Error(`corrupt chunk: ${bytes.length} bytes is too short`);
  const r = new BitReader(bytes, 0, bytes.length - 4);
  const h = readHeader(r);
  const timesFrom = h.n > 0 && (h.mode & MODE_SHARED_TIMES) !== 0 ? r.varint() : null;
  return { count: h.n, firstTime: h.first, lastTime: h.last, timesFrom };
}

function readHeader(r: BitReader): { mode: number; n: number; first: number; last: number } {
  const head = r.byte();
  if (head >> 4 !== VERSION) throw new Error(`corrupt chunk: unknown version ${head >> 4}`);
  const mode = head & 15;
  if (mode > (MODE_SCALED | MODE_SHARED_TIMES) || (mode & 6) === 6) {
    throw new Error(`corrupt chunk: unknown mode ${mode}`);
  }
  const n = r.varint();
  if (n === 0) return { mode, n, first: NaN, last: NaN };
  const first = unzigzag(r.varint());
  const last = first + unzigzag(r.varint());
  if (Math.abs(first) > MAX_TIME || Math.abs(last) > MAX_TIME) {
    throw new Error("corrupt chunk: time out of range");
  }
  return { mode, n, first, last };
}

/**
 * How the times go: as delta-of-deltas ("dod": best with gaps or drift), or as offsets from
 * a regular grid t0 + i * step ("grid": best for steady ticks with arrival jitter, whose
 * delta-of-deltas span twice the jitter). Whichever packs smaller.
 */
interface TimePlan {
  grid: boolean;
  step: number;
  min: number;
  xs: Float64Array;
  width: number; // chooseWidth's for xs
  exceptions: number; // and the values wider than it
}

/** Bit-length histograms of the time offsets (at 0) and delta-of-deltas (at 64), reused. */
const TIME_HISTS = new Uint32Array(128);

/**
 * Every time as {@link msTime} into `t` (throwing at the first that is not one), and how to
 * store them. Two passes: the first rounds the times and makes both columns (the grid's step
 * comes from the first and last time, rounded as the pass will round them; a bad last time
 * throws in the pass before the step is used), the second takes the grid offsets from their
 * least and counts both columns' bit lengths for {@link widthOf}. It was six (the rounding,
 * each column, the offsets' least, a width choice each).
 */
function planTimes(times: ArrayLike<number>, t: Float64Array): TimePlan {
  const n = t.length;
  const dod = column(Col.TimeDod, Math.max(0, n - 2));
  const off = column(Col.TimeOff, Math.max(0, n - 1));
  const step = n < 3
    ? NaN
    : Math.round((Math.round(times[n - 1]) + 0 - msTime(times, 0)) / (n - 1));
  const min = roundAndOffsets(times, t, dod, off, step);
  // NaN: the grid does not fit (too few times, too long a step, an offset past 4 x 2^48).
  const grid = min === min && Math.abs(step) <= MAX_GRID_STEP;
  const hist = TIME_HISTS.fill(0);
  countBits(dod, n - 2, 0, 64, hist);
  if (grid) countBits(off, n - 1, min, 0, hist);
  const byDod = widthOf(hist, 64, Math.max(0, n - 2), topOf(hist, 64));
  const plan = {
    grid: false,
    step: 0,
    min: 0,
    xs: dod,
    width: byDod.width,
    exceptions: byDod.exceptions,
  };
  if (!grid) return plan;
  // dod also pays a varint for the first delta: ~2 bytes for a 1 s tick.
  const byGrid = widthOf(hist, 0, n - 1, topOf(hist, 0));
  if (byGrid.bits + 8 >= byDod.bits + 16) return plan;
  return { grid: true, step, min, xs: off, width: byGrid.width, exceptions: byGrid.exceptions };
}

/**
 * {@link planTimes}' first pass: `t[i]` = msTime(times, i), `dod` their zigzagged
 * delta-of-deltas, `off` their offsets from the grid `t[0] + i * step`; returns the least
 * offset (and 0), or NaN when one is 4 x 2^48 or more away (or step is NaN).
 */
function roundAndOffsets(
  times: ArrayLike<number>,
  t: Float64Array,
  dod: Float64Array,
  off: Float64Array,
  step: number,
): number {
  const n = t.length;
  if (n === 0) return NaN;
  const t0 = msTime(times, 0);
  t[0] = t0;
  let min = 0;
  let fits = 1;
  for (let i = 1; i < n; i++) {
    const x = msTime(times, i);
    t[i] = x;
    if (i >= 2) dod[i - 2] = zigzag(x - 2 * t[i - 1] + t[i - 2]);
    const r = x - t0 - i * step;
    off[i - 1] = r;
    fits = Math.abs(r) < MAX_TIME * 4 ? fits : 0;
    if (r < min) min = r;
  }
  return fits === 1 ? min : NaN;
}

/** Count the bit lengths of `xs[0, n) - less` into `hist` at `at`; `xs` keeps the differences. */
function countBits(xs: Float64Array, n: number, less: number, at: number, hist: Uint32Array) {
  for (let i = 0; i < n; i++) {
    const x = xs[i] - less;
    xs[i] = x;
    hist[at + bitLength(x)]++;
  }
}

function writeTimes(w: BitWriter, t: Float64Array, plan: TimePlan): void {
  const n = t.length;
  if (n < 2) return;
  if (plan.grid) {
    w.varint(zigzag(plan.step));
    w.varint(-plan.min);
    writeInts(w, plan.xs, n - 1, plan.width, plan.exceptions);
  } else {
    w.varint(zigzag(t[1] - t[0]));
    writeInts(w, plan.xs, n - 2, plan.width, plan.exceptions);
  }
}

function readTimes(r: BitReader, t: Float64Array, first: number, grid: boolean): void {
  const n = t.length;
  t[0] = first;
  if (n < 2) return;
  if (grid) {
    const step = unzigzag(r.varint());
    const min = -r.varint();
    if (n < 3 || Math.abs(step) > MAX_GRID_STEP) throw new Error("corrupt chunk: bad time grid");
    readInts(r, t.subarray(1), n - 1);
    for (let i = 1; i < n; i++) {
      t[i] = first + i * step + (t[i] + min);
      if (!(Math.abs(t[i]) <= MAX_TIME)) throw new Error("corrupt chunk: time out of range");
    }
    return;
  }
  let delta = unzigzag(r.varint());
  t[1] = first + delta;
  if (n < 3) return;
  readInts(r, t.subarray(2), n - 2);
  for (let i = 2; i < n; i++) {
    delta += unzigzag(t[i]);
    t[i] = t[i - 1] + delta;
    if (!(Math.abs(t[i]) <= MAX_TIME)) throw new Error("corrupt chunk: time out of range");
  }
}

/**
 * Encode a few small chunks of every kind once, before the first chunk asked for (a process
 * that never encodes does not pay it: ~5 ms), so every statement of the encoder has run
 * before V8 optimizes it. A seal's first chunk is tens of thousands of points: V8 compiles
 * the encoder's functions on the stack inside their first long loop, before the code after that
 * loop ever ran, and that code then left the optimized function on every later call
 * (--trace-deopt: "insufficient type feedback", the code not invalidated), which kept the
 * encoder's speed at the mercy of the first chunk (stop 34: ±30 % from run to run).
 */
function warmUp(): void {
  const n = 40;
  const grid = Float64Array.from({ length: n }, (_, i) => 1e12 + i * 1000 + (i % 3));
  const gaps = Float64Array.from({ length: n }, (_, i) => 1e12 + i * i * 1000);
  const columns = [
    (i: number) => 48e6 + (i % 7) * 4096 + (i === 9 ? 1e12 : 0), // gcd, an exception
    (i: number) => Math.round(i * 0.37 * 100) / 100, // decimals, steady deltas
    (i: number) => (i * 7919) % 61, // no majority: medians by select
    (i: number) => i * i, // delta-of-deltas
    (i: number) => i / 3, // not scaled: xor
  ];
  for (const t of [grid, gaps]) {
    for (const f of columns) {
      const v = Float64Array.from({ length: n }, (_, i) => f(i));
      encodeChunk(t, v);
      encodeChunk(t, v, 1);
    }
  }
}
