/**
 * The column form of the live `samples` frame (messages.ts {@link SamplesFrame}): each
 * sample's time once, then a column of values per metric. {@link SamplesColumns} builds the
 * frame of one instance for one turn of the event loop (the hub coalesces every message of
 * that instance into it; wire.ts copies its columns into the turn's binary message);
 * {@link samplesPoints} reads a frame back as points, trusting nothing in it (the page,
 * tests and benches read frames with it).
 *
 * Columns are plain number arrays padded with NaN, not null, so V8 keeps them packed doubles:
 * pushing is cheap and wire.ts copies each into the message with one `Float64Array.set`.
 *
 * @module
 */
import type { SamplesFrame, SeriesPoints } from "./messages.ts";

/** One instance's samples frame while it is built (wire.ts `encodeTurn` sends it). */
export class SamplesColumns {
  /** Times of the samples so far, collector clock. */
  readonly t: number[] = [];
  /**
   * Metric -> its value for each time in `t`, NaN where the sample lacks it. A column may be
   * shorter than `t`: the samples after its end lack it too (wire.ts pads as it copies).
   */
  readonly v: Record<string, number[]> = {};

  /** `now` is the collector clock at the latest message added (the frame's `now`). */
  constructor(readonly id: string, public now: number) {}

  /**
   * The columns of `keys`, padded to the samples so far: for a run of samples that each
   * have all of `keys`, push every sample's time to `t` and its values to these columns.
   * Metric keys are validated on the wire (never a key of Object.prototype), so `{}` is safe.
   */
  columns(keys: readonly string[]): number[][] {
    const n = this.t.length;
    // The same keys array as last time (frames of one shape share it, Message.keys): the
    // same columns, found without a lookup per key; padded in case set() was used since.
    if (keys === this.#keys) {
      const cols = this.#cols!;
      for (const col of cols) while (col.length < n) col.push(NaN);
      return cols;
    }
    const cols = keys.map((k) => {
      const col = this.v[k] ??= [];
      while (col.length < n) col.push(NaN);
      return col;
    });
    this.#keys = keys;
    this.#cols = cols;
    return cols;
  }
  #keys: readonly string[] | null = null;
  #cols: number[][] | null = null;

  /**
   * A batch's samples at once (Observation.columns): the value of `keys[j]` at `times[r]` is
   * `values[j * n + r]`, for `r < n`. The same as {@link columns} and a push per sample.
   */
  addColumns(keys: readonly string[], times: Float64Array, values: Float64Array, n: number): void {
    const cols = this.columns(keys);
    // Stores at the end, not push(): the arrays stay packed either way, and a store is about
    // a third of push's cost here (bench/ingest_breakdown.ts, one live page).
    const t = this.t;
    const t0 = t.length;
    for (let r = 0; r < n; r++) t[t0 + r] = times[r];
    for (let j = 0; j < cols.length; j++) {
      const col = cols[j];
      const from = j * n;
      const to = col.length - from; // col[to + at] for the value at `at`
      for (let at = from; at < from + n; at++) col[to + at] = values[at];
    }
  }

  /** Start a sample at collector time `t` (then {@link SamplesColumns.set} its values). */
  add(t: number): void {
    this.t.push(t);
  }

  /** The value of `metric` in the sample last added. */
  set(metric: string, value: number): void {
    const col = this.v[metric] ??= [];
    const at = this.t.length - 1;
    while (col.length < at) col.push(NaN);
    col.push(value);
  }

  /**
   * The frame in its JSON form, every column as long as `t` (NaN becomes null in JSON); for
   * tests and debugging: the hub sends the binary form (wire.ts).
   */
  toJSON(): SamplesFrame {
    const n = this.t.length;
    const v: Record<string, Array<number | null>> = {};
    for (const k in this.v) {
      const col = this.v[k];
      v[k] = Array.from(
        { length: n },
        (_, j) => j < col.length && !Number.isNaN(col[j]) ? col[j] : null,
      );
    }
    return { type: "samples", now: this.now, id: this.id, t: this.t, v };
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
