/**
 * The column form of the live `samples` frame (messages.ts {@link SamplesFrame}): each
 * sample's time once, then a column of values per metric. {@link SamplesColumns} builds the
 * frame of one instance for one turn of the event loop (the hub coalesces every message of
 * that instance into it; wire.ts copies its columns into the turn's binary message);
 * {@link samplesPoints} reads a frame back as points, trusting nothing in it (the page,
 * tests and benches read frames with it).
 *
 * Columns are Float64Arrays with a count ({@link LiveColumn}), padded with NaN where a sample
 * lacks a metric, and a frame is kept from turn to turn for its instance (the hub hands it
 * back with {@link SamplesColumns.reset} once its turn is sent): an instance that reports every
 * turn reuses the same arrays, where number arrays grown from empty every turn were ~250-450
 * bytes of garbage per single-sample frame (stop 34). wire.ts copies each column with one
 * `Float64Array.set`.
 *
 * @module
 */
import type { SamplesFrame, SeriesPoints } from "./messages.ts";

/** Rows a column starts with, and the most a reset column keeps when its turn used little. */
const FIRST_ROWS = 8;
const KEEP_ROWS = 1024;

/** One column of a samples frame: `a[0..length)` are its values (or times). */
export class LiveColumn {
  a = new Float64Array(FIRST_ROWS);
  length = 0;
  /** Whether the frame lists it this turn (SamplesColumns.names). */
  listed = false;

  /** Append a value. */
  push(v: number): void {
    if (this.length === this.a.length) this.#grow(this.length + 1);
    this.a[this.length++] = v;
  }

  /** NaN up to `n` values (a sample after its end lacks this metric). */
  padTo(n: number): void {
    if (this.length >= n) return;
    if (n > this.a.length) this.#grow(n);
    this.a.fill(NaN, this.length, n);
    this.length = n;
  }

  /** Room for `n` values. */
  reserve(n: number): void {
    if (n > this.a.length) this.#grow(n);
  }

  /**
   * `a`'s first `length` values as a view, for `Float64Array.set` (wire.ts): the same view as
   * last time while the array and count are the same (a turn of batches of one size), so
   * copying a column makes no object.
   */
  view(): Float64Array {
    const v = this.#view;
    if (v !== null && v.buffer === this.a.buffer && v.length === this.length) return v;
    return this.#view = this.a.subarray(0, this.length);
  }
  #view: Float64Array | null = null;

  /** Empty, keeping its array unless this turn's needs were far below it (memory is bounded). */
  clear(): void {
    if (this.a.length > KEEP_ROWS && this.length < this.a.length >> 2) {
      this.a = new Float64Array(Math.max(FIRST_ROWS, this.length));
    }
    this.length = 0;
    this.listed = false;
  }

  #grow(n: number): void {
    const a = new Float64Array(Math.max(n, this.a.length * 2));
    a.set(this.a.subarray(0, this.length));
    this.a = a;
  }
}

/** One instance's samples frame while it is built (wire.ts `encodeTurn` sends it). */
export class SamplesColumns {
  /** Times of the samples so far, collector clock. */
  readonly t: LiveColumn = new LiveColumn();
  /**
   * The metrics of this turn's samples, in the order they first came, and their columns
   * (`cols[i]` is `names[i]`'s): NaN where a sample lacks one. A column may be shorter than
   * `t`: the samples after its end lack it too (wire.ts pads as it copies).
   */
  readonly names: string[] = [];
  readonly cols: LiveColumn[] = [];
  /** Every column this frame has, listed this turn or kept from an earlier one. */
  #byName = new Map<string, LiveColumn>();

  /** `now` is the collector clock at the latest message added (the frame's `now`). */
  constructor(readonly id: string, public now: number) {}

  /** Number of samples so far. */
  get length(): number {
    return this.t.length;
  }

  /** `JSON.stringify(id)`, made once (wire.ts writes it each turn). */
  get idJSON(): string {
    return this.#idJSON ??= JSON.stringify(this.id);
  }
  #idJSON: string | undefined;

  /** `JSON.stringify(names)`, made again only when this turn's names differ from the last's. */
  namesJSON(): string {
    const names = this.names;
    const last = this.#namesSent;
    let same = this.#namesJSON !== undefined && last.length === names.length;
    for (let i = 0; same && i < names.length; i++) same = last[i] === names[i];
    if (!same) {
      this.#namesSent = names.slice();
      this.#namesJSON = JSON.stringify(names);
    }
    return this.#namesJSON!;
  }
  #namesSent: readonly string[] = [];
  #namesJSON: string | undefined;

  /** The column of `metric`, listed in this turn's frame. */
  #column(metric: string): LiveColumn {
    let col = this.#byName.get(metric);
    if (col === undefined) this.#byName.set(metric, col = new LiveColumn());
    if (!col.listed) {
      col.listed = true;
      this.names.push(metric);
      this.cols.push(col);
    }
    return col;
  }

  /**
   * The columns of `keys`, padded to the samples so far: for a run of samples that each
   * have all of `keys`, push every sample's time to `t` and its values to these columns.
   */
  columns(keys: readonly string[]): LiveColumn[] {
    const n = this.t.length;
    // The same keys array as last time (frames of one shape share it, Message.keys), and
    // listed this turn: the same columns, found without a lookup per key; padded in case
    // set() was used since.
    if (keys === this.#keys && this.#keysListed) {
      const cols = this.#keysCols;
      for (let i = 0; i < cols.length; i++) cols[i].padTo(n);
      return cols;
    }
    const cols = keys === this.#keys ? this.#keysCols : new Array<LiveColumn>(keys.length);
    for (let i = 0; i < keys.length; i++) (cols[i] = this.#column(keys[i])).padTo(n);
    this.#keys = keys;
    this.#keysCols = cols;
    this.#keysListed = true;
    return cols;
  }
  #keys: readonly string[] | null = null;
  #keysCols: LiveColumn[] = [];
  #keysListed = false;

  /**
   * A batch's samples at once (Observation.columns): the value of `keys[j]` at `times[r]` is
   * `values[j * n + r]`, for `r < n`. The same as {@link columns} and a push per sample.
   */
  addColumns(keys: readonly string[], times: Float64Array, values: Float64Array, n: number): void {
    const cols = this.columns(keys);
    const t = this.t;
    const t0 = t.length;
    t.reserve(t0 + n);
    const ta = t.a;
    for (let r = 0; r < n; r++) ta[t0 + r] = times[r];
    t.length = t0 + n;
    for (let j = 0; j < cols.length; j++) {
      const col = cols[j];
      col.reserve(t0 + n);
      const a = col.a;
      const to = t0 - j * n; // a[to + at] for the value at `at`
      for (let at = j * n; at < j * n + n; at++) a[to + at] = values[at];
      col.length = t0 + n;
    }
  }

  /** Start a sample at collector time `t` (then {@link SamplesColumns.set} its values). */
  add(t: number): void {
    this.t.push(t);
  }

  /** The value of `metric` in the sample last added. */
  set(metric: string, value: number): void {
    const col = this.#column(metric);
    col.padTo(this.t.length - 1);
    col.push(value);
  }

  /**
   * Empty for the instance's next turn (its last turn was sent: wire.ts copied the columns),
   * keeping the columns of this turn's metrics and forgetting the others, so a frame holds
   * what its instance sent in the last turn, at most.
   */
  reset(): void {
    if (this.#byName.size > this.cols.length) {
      for (const [name, col] of this.#byName) if (!col.listed) this.#byName.delete(name);
    }
    this.t.clear();
    for (let i = 0; i < this.cols.length; i++) this.cols[i].clear();
    this.names.length = 0;
    this.cols.length = 0;
    this.#keysListed = false;
  }

  /**
   * The frame in its JSON form, every column as long as `t` (NaN becomes null in JSON); for
   * tests and debugging: the hub sends the binary form (wire.ts).
   */
  toJSON(): SamplesFrame {
    const n = this.t.length;
    const v: Record<string, Array<number | null>> = {};
    for (let i = 0; i < this.names.length; i++) {
      const col = this.cols[i];
      v[this.names[i]] = Array.from(
        { length: n },
        (_, j) => j < col.length && !Number.isNaN(col.a[j]) ? col.a[j] : null,
      );
    }
    return {
      type: "samples",
      now: this.now,
      id: this.id,
      t: Array.from(this.t.a.subarray(0, n)),
      v,
    };
  }
}

/**
 * The points of a samples frame as `[time, value]` pairs per metric, keeping only entries
 * where both are finite numbers (null, NaN, a string or a short column is skipped). Columns
 * are arrays (JSON form) or Float64Arrays (binary form, wire.ts). The result has no
 * prototype, so any metric name from the wire is just a key.
 */
export function samplesPoints(frame: Pick<SamplesFrame, "t" | "v">): SeriesPoints {
  const out: SeriesPoints = Object.create(null);
  const { t, v } = frame as { t: unknown; v: unknown };
  if (!isColumn(t) || !v || typeof v !== "object") return out;
  for (const metric of Object.keys(v)) {
    const col = (v as Record<string, unknown>)[metric];
    if (!isColumn(col)) continue;
    const pts: Array<[number, number]> = [];
    const n = Math.min(col.length, t.length);
    for (let j = 0; j < n; j++) {
      const x = col[j];
      const at = t[j];
      if (Number.isFinite(x) && Number.isFinite(at)) pts.push([at as number, x as number]);
    }
    out[metric] = pts;
  }
  return out;
}

function isColumn(x: unknown): x is ArrayLike<unknown> {
  return Array.isArray(x) || x instanceof Float64Array;
}
