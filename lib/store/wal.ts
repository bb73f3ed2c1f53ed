/**
 * WAL rows: the encoding of every point flushed in one second (durable.ts writes one row per
 * flush) and its reader, for replay after a crash and for remote write's durable queue
 * (lib/remote/wal_source.ts). The queue's cursors are in wal_cursors.ts.
 *
 * @module
 */

/** Points of one series to write: those from `flushed` on. */
export interface WalSeries {
  id: number;
  /** Points [0, length) of the columns are held (lib/store/open_points.ts). */
  points: {
    length: number;
    timeColumn: ArrayLike<number>;
    valueColumn: ArrayLike<number>;
    /** Ids of the time columns since `flushed` (open_points.ts): equal lists, equal times. */
    timesIds?: readonly number[] | null;
  };
  flushed: number;
}

/** Rows of version 1 (written before 2026-12): still read, for data directories left then. */
const WAL_V1 = 1;
/** Rows of version 2 (2026-12, stop 32): all columns float64; still read. */
const WAL_V2 = 2;
const WAL_VERSION = 3;
/** In an entry's count word: the times are those of the last entry that has its own. */
const SAME_TIMES = 0x80000000;
/** Float64Array copies write the platform's byte order; rows are little-endian. */
const LITTLE_ENDIAN = new Uint8Array(Float64Array.of(1).buffer)[7] === 0x3f;
/** A version 3 column's kinds: float64s; a float64 start plus int32 deltas; int32 scaled values. */
const F64 = 0;
const DELTAS = 1;
const SCALED = 1;
/** Most decimals of a scaled column (10^9: powers of ten up to 10^22 are exact doubles). */
const MAX_DECIMALS = 9;
const POW10 = Array.from({ length: MAX_DECIMALS + 1 }, (_, d) => 10 ** d);
/** A version 3 entry's header: id, count word, time kind, value kind, decimals, a zero. */
const ENTRY = 12;

/**
 * Where {@link encodeWal} may write a row, kept from one flush to the next: under a flood a
 * row is megabytes, and a fresh zero-filled buffer each second cost the history thread a
 * page fault per 4 KiB. SQLite copies the row when it is bound, so one buffer serves every
 * flush. Rows over {@link WAL_BUFFER_MAX} bytes get a buffer of their own; so does the
 * scratch of int32 columns past that size.
 */
export class WalBuffer {
  bytes = new Uint8Array(0);
  ints = new Int32Array(0);
}
const WAL_BUFFER_MAX = 16 << 20;

/**
 * A WAL row, version 3 (little-endian): 8 header bytes (the version, then 0s), then per
 * series a 12-byte entry header `u32 id, u32 count, u8 timeKind, u8 valueKind, u8 decimals,
 * u8 0` (the top bit of count set when its times are those of the last entry that stores its
 * own; such an entry's kinds say nothing of its times), then its times unless shared, then
 * its values:
 *
 * - times, kind 0: `count` float64; kind 1: a float64 start, then `count` int32 deltas from
 *   it (when every time is the start plus a whole int32, not 0, and count > 2);
 * - values, kind 0: `count` float64; kind 1: `count` int32 `u`, each value `u / 10^decimals`
 *   (decimals 0-9; chosen only when that division gives every value back bit for bit: not
 *   for -0, NaN, infinities, or values past 2^31 - 1 units).
 *
 * An agent frame carries all of an instance's metrics at one time, so `pending` grouped by
 * instance stores one time column per instance, and most metrics are whole numbers or have
 * a few decimals: about 5 bytes a point for 4 metrics where version 2 took 10 and version 1
 * 16. A flush's CPU went mostly to SQLite and the kernel writing the row, in proportion to
 * its bytes (stop 33). Version 2 is version 3 with an 8-byte entry header (no kinds) and
 * float64 columns only; both are read by {@link decodeWal}. With `into`, the row is a view of
 * its buffer, valid until the next call with it.
 */
export function encodeWal(pending: WalSeries[], points: number, into?: WalBuffer): Uint8Array {
  const n = pending.length;
  // First pass: shared times, each column's kind, the int32 columns into `ints`, the size.
  const shares = new Uint8Array(n);
  const timeKind = new Uint8Array(n);
  const decimals = new Int8Array(n); // -1: float64 values
  // Room for every point's time delta and value; counted here, not taken on trust from `points`.
  let total = 0;
  for (let k = 0; k < n; k++) total += pending[k].points.length - pending[k].flushed;
  const need = Math.max(points, total) * 2;
  let ints = into && need <= WAL_BUFFER_MAX / 4 ? into.ints : new Int32Array(0);
  if (ints.length < need) {
    ints = new Int32Array(Math.ceil(need * 1.25));
    if (into && ints.length <= WAL_BUFFER_MAX / 4) into.ints = ints;
  }
  let used = 0; // int32s in `ints`
  let owner = -1;
  let size = 8 + n * ENTRY;
  for (let k = 0; k < n; k++) {
    const { flushed, points: p } = pending[k];
    const count = p.length - flushed;
    if (owner >= 0 && sameTimes(pending[owner], pending[k])) shares[k] = 1;
    else {
      owner = k;
      if (count > 2 && timeDeltas(p.timeColumn, flushed, p.length, ints, used)) {
        timeKind[k] = DELTAS;
        used += count;
        size += 8 + count * 4;
      } else size += count * 8;
    }
    // One point (a 1 Hz series' second) and a whole number: no call.
    const v = count === 1 ? p.valueColumn[flushed] : 0.5;
    const d = (v | 0) === v && (v !== 0 || 1 / v > 0)
      ? (ints[used] = v, 0)
      : scaledInts(p.valueColumn, flushed, p.length, ints, used);
    decimals[k] = d;
    if (d >= 0) {
      used += count;
      size += count * 4;
    } else size += count * 8;
  }
  let out: Uint8Array;
  if (into && size <= WAL_BUFFER_MAX) {
    if (into.bytes.length < size) {
      into.bytes = new Uint8Array(Math.min(WAL_BUFFER_MAX, Math.ceil(size * 1.25)));
    }
    out = into.bytes.subarray(0, size);
    out.fill(0, 0, 8); // the header's zeros: the rest is written in full below
  } else out = new Uint8Array(size);
  const view = new DataView(out.buffer, out.byteOffset, size);
  out[0] = WAL_VERSION;
  let at = 8;
  let from32 = 0; // the next column in `ints`
  for (let k = 0; k < n; k++) {
    const { id, flushed, points: p } = pending[k];
    const count = p.length - flushed;
    const d = decimals[k];
    view.setUint32(at, id, true);
    view.setUint32(at + 4, count | (shares[k] ? SAME_TIMES : 0), true);
    // timeKind, valueKind, decimals, 0.
    const kinds = (shares[k] ? F64 : timeKind[k]) | (d >= 0 ? SCALED << 8 | d << 16 : F64 << 8);
    view.setUint32(at + 8, kinds, true);
    at += ENTRY;
    if (!shares[k]) {
      if (timeKind[k] === DELTAS) {
        view.setFloat64(at, p.timeColumn[flushed], true);
        at = int32s(out, view, at + 8, ints, from32, count);
        from32 += count;
      } else at = doubles(out, view, at, p.timeColumn, flushed, p.length);
    }
    if (d >= 0) {
      at = int32s(out, view, at, ints, from32, count);
      from32 += count;
    } else at = doubles(out, view, at, p.valueColumn, flushed, p.length);
  }
  return out;
}

// Columns are copied whole (as bytes: entries leave them unaligned) unless short: two views
// cost more than a few points' stores (a 1 Hz series' second is one point). Each returns
// where the next column goes.

/** xs[from, to) as float64s into `out` at `at`. */
function doubles(
  out: Uint8Array,
  view: DataView,
  at: number,
  xs: ArrayLike<number>,
  from: number,
  to: number,
): number {
  if (LITTLE_ENDIAN && to - from > 16 && xs instanceof Float64Array) {
    out.set(new Uint8Array(xs.buffer, xs.byteOffset + from * 8, (to - from) * 8), at);
    return at + (to - from) * 8;
  }
  for (let i = from; i < to; i++, at += 8) view.setFloat64(at, xs[i], true);
  return at;
}

/** ints[from, from + count) into `out` at `at`. */
function int32s(
  out: Uint8Array,
  view: DataView,
  at: number,
  ints: Int32Array,
  from: number,
  count: number,
): number {
  if (LITTLE_ENDIAN && count > 16) {
    out.set(new Uint8Array(ints.buffer, from * 4, count * 4), at);
    return at + count * 4;
  }
  for (let i = 0; i < count; i++, at += 4) view.setInt32(at, ints[from + i], true);
  return at;
}

/**
 * Times [from, to) as int32 deltas from the first into `ints` at `at`; false (and `ints`
 * left to be overwritten) when one is not the first plus a whole int32 exactly, or is 0
 * (the delta of a -0 would read back as +0).
 */
function timeDeltas(
  xs: ArrayLike<number>,
  from: number,
  to: number,
  ints: Int32Array,
  at: number,
): boolean {
  const t0 = xs[from];
  for (let i = from; i < to; i++) {
    const t = xs[i];
    const dt = t - t0;
    if ((dt | 0) !== dt || t0 + dt !== t || t === 0) return false;
    ints[at + i - from] = dt;
  }
  return true;
}

/**
 * Values [from, to) as int32 `u` with `u / 10^d` giving each back bit for bit, into `ints`
 * at `at`: returns d (the fewest decimals found, 0-9), or -1 when there is none (NaN, -0,
 * infinities, too many units). One pass at a time per d: when a value needs more decimals,
 * the ints so far are multiplied up (u * 10^k / 10^(d+k) is the same rational as u / 10^d,
 * so it rounds to the same double) and the pass goes on from it.
 */
function scaledInts(
  xs: ArrayLike<number>,
  from: number,
  to: number,
  ints: Int32Array,
  at: number,
): number {
  let d = 0;
  let s = 1;
  let i = from;
  const off = at - from;
  while (true) {
    // `(u | 0) === u`: u is an int32. `1 / v < 0`: v is -0 (an int32 0 would read back +0).
    if (d === 0) {
      for (; i < to; i++) {
        const v = xs[i];
        const u = v | 0;
        if (u !== v || (u === 0 && 1 / v < 0)) break;
        ints[off + i] = u;
      }
    } else {
      for (; i < to; i++) {
        const v = xs[i];
        const u = Math.round(v * s);
        if ((u | 0) !== u || u / s !== v || (u === 0 && 1 / v < 0)) break;
        ints[off + i] = u;
      }
    }
    if (i === to) return d;
    const v = xs[i];
    if (v !== v || v === 0) return -1;
    const was = d;
    let u: number;
    do {
      if (++d > MAX_DECIMALS) return -1;
      s = POW10[d];
      u = Math.round(v * s);
    } while (u / s !== v);
    const up = POW10[d - was];
    for (let j = at; j < off + i; j++) {
      const w = ints[j] * up;
      if ((w | 0) !== w) return -1;
      ints[j] = w;
    }
  }
}

/**
 * Whether two series' points to write have the very same times: known when both were
 * appended the same time columns (a hand-over's block gives its series one), else compared.
 */
function sameTimes(a: WalSeries, b: WalSeries): boolean {
  const n = a.points.length - a.flushed;
  if (n !== b.points.length - b.flushed) return false;
  const ia = a.points.timesIds, ib = b.points.timesIds;
  if (ia && ib && ia.length > 0 && ia.length === ib.length) {
    let k = 0;
    while (k < ia.length && ia[k] === ib[k]) k++;
    if (k === ia.length) return true;
  }
  const ta = a.points.timeColumn;
  const tb = b.points.timeColumn;
  for (let i = 0; i < n; i++) if (ta[a.flushed + i] !== tb[b.flushed + i]) return false;
  return true;
}

/**
 * Read a WAL row (version 1, 2 or 3), calling `point(seriesId, t, v)` in order; throws on a
 * corrupt row. A version 3 row is checked whole first, so a corrupt one gives no point.
 */
export function decodeWal(
  data: Uint8Array,
  point: (sid: number, t: number, v: number) => void,
): void {
  if (data[0] === WAL_V1) return decodeWalV1(data, point);
  if (data[0] === WAL_V2) return decodeWalV2(data, point);
  if (data[0] !== WAL_VERSION) throw new Error(`WAL row of unknown version ${data[0]}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (const emit of [false, true]) {
    let at = 8;
    let times = -1; // where the last own times column starts (after its start, if deltas)
    let owned = -1; // its length
    let deltas = false; // and its kind
    let t0 = 0;
    while (at < data.byteLength) {
      if (at + ENTRY > data.byteLength) throw new Error("corrupt WAL row: truncated header");
      const sid = view.getUint32(at, true);
      const word = view.getUint32(at + 4, true);
      const n = word & 0x7fffffff;
      const tk = data[at + 8];
      const vk = data[at + 9];
      const d = data[at + 10];
      if (tk > DELTAS || vk > SCALED || d > MAX_DECIMALS || data[at + 11] !== 0) {
        throw new Error("corrupt WAL row: unknown column kind");
      }
      at += ENTRY;
      if ((word & SAME_TIMES) === 0) {
        deltas = tk === DELTAS;
        const bytes = deltas ? 8 + n * 4 : n * 8;
        if (at + bytes > data.byteLength) throw new Error("corrupt WAL row: truncated times");
        if (deltas) {
          t0 = view.getFloat64(at, true);
          at += 8;
        }
        times = at;
        owned = n;
        at += deltas ? n * 4 : n * 8;
      } else if (owned !== n) throw new Error("corrupt WAL row: shared times do not match");
      const scaled = vk === SCALED;
      if (at + n * (scaled ? 4 : 8) > data.byteLength) {
        throw new Error("corrupt WAL row: truncated points");
      }
      if (emit) {
        const s = POW10[d];
        for (let i = 0; i < n; i++) {
          const t = deltas
            ? t0 + view.getInt32(times + i * 4, true)
            : view.getFloat64(times + i * 8, true);
          const v = scaled
            ? view.getInt32(at + i * 4, true) / s
            : view.getFloat64(at + i * 8, true);
          point(sid, t, v);
        }
      }
      at += n * (scaled ? 4 : 8);
    }
  }
}

/**
 * Version 2: 8 header bytes (the version, then 0s), then per series `u32 id, u32 count` (the
 * top bit of count set for shared times, as in version 3), `count` float64 times unless
 * shared, `count` float64 values, little-endian.
 */
function decodeWalV2(
  data: Uint8Array,
  point: (sid: number, t: number, v: number) => void,
): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 8;
  let times = -1; // where the last own times column starts
  let owned = -1; // and its length
  while (at < data.byteLength) {
    if (at + 8 > data.byteLength) throw new Error("corrupt WAL row: truncated header");
    const sid = view.getUint32(at, true);
    const word = view.getUint32(at + 4, true);
    const n = word & 0x7fffffff;
    at += 8;
    if ((word & SAME_TIMES) === 0) {
      times = at;
      owned = n;
      at += n * 8;
    } else if (owned !== n) throw new Error("corrupt WAL row: shared times do not match");
    if (at + n * 8 > data.byteLength) throw new Error("corrupt WAL row: truncated points");
    for (let i = 0; i < n; i++) {
      point(sid, view.getFloat64(times + i * 8, true), view.getFloat64(at + i * 8, true));
    }
    at += n * 8;
  }
}

/** Version 1: a version byte, then per series `u32 id, u32 count` and `count` (time, value) pairs, big-endian. */
function decodeWalV1(
  data: Uint8Array,
  point: (sid: number, t: number, v: number) => void,
): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 1;
  while (at < data.byteLength) {
    if (at + 8 > data.byteLength) throw new Error("corrupt WAL row: truncated header");
    const sid = view.getUint32(at);
    const n = view.getUint32(at + 4);
    at += 8;
    if (at + n * 16 > data.byteLength) throw new Error("corrupt WAL row: truncated points");
    for (let i = 0; i < n; i++, at += 16) point(sid, view.getFloat64(at), view.getFloat64(at + 8));
  }
}
