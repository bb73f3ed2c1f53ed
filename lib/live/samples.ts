/**
 * The column form of the live `samples` frame (messages.ts {@link SamplesFrame}): each
 * sample's time once, then a column of values per metric. {@link SamplesColumns} builds the
 * frame of one instance for one turn of the event loop (the hub coalesces every message of
 * that instance into it); {@link samplesPoints} reads a frame back as points, trusting
 * nothing in it (the page, tests and benches read frames with it).
 *
 * Per point this is the value and a comma, where `[time,value]` pairs repeated a 13-digit
 * time per metric and cost an array each to build.
 *
 * @module
 */
import type { SamplesFrame, SeriesPoints } from "./messages.ts";

/** One instance's samples frame while it is built; `JSON.stringify` gives the frame. */
export class SamplesColumns {
  /** Times of the samples so far, collector clock. */
  readonly t: number[] = [];
  /** Metric -> its value for each time in `t`, null where the sample lacks it (padded last). */
  readonly v: Record<string, Array<number | null>> = {};

  /** `now` is the collector clock at the latest message added (the frame's `now`). */
  constructor(readonly id: string, public now: number) {}

  /**
   * The columns of `keys`, padded to the samples so far: for a run of samples that each
   * have all of `keys`, push every sample's time to `t` and its values to these columns.
   * Metric keys are validated on the wire (never a key of Object.prototype), so `{}` is safe.
   */
  columns(keys: readonly string[]): Array<Array<number | null>> {
    const n = this.t.length;
    // The same keys array as last time (frames of one shape share it, Message.keys): the
    // same columns, found without a lookup per key; padded in case set() was used since.
    if (keys === this.#keys) {
      const cols = this.#cols!;
      for (const col of cols) while (col.length < n) col.push(null);
      return cols;
    }
    const cols = keys.map((k) => {
      const col = this.v[k] ??= [];
      while (col.length < n) col.push(null);
      return col;
    });
    this.#keys = keys;
    this.#cols = cols;
    return cols;
  }
  #keys: readonly string[] | null = null;
  #cols: Array<Array<number | null>> | null = null;

  /** Start a sample at collector time `t` (then {@link SamplesColumns.set} its values). */
  add(t: number): void {
    this.t.push(t);
  }

  /** The value of `metric` in the sample last added. */
  set(metric: string, value: number): void {
    const col = this.v[metric] ??= [];
    const at = this.t.length - 1;
    while (col.length < at) col.push(null);
    col.push(value);
  }

  /** The frame, every column as long as `t` (what `JSON.stringify` writes). */
  toJSON(): SamplesFrame {
    const n = this.t.length;
    for (const k in this.v) {
      const col = this.v[k];
      while (col.length < n) col.push(null);
    }
    return { type: "samples", now: this.now, id: this.id, t: this.t, v: this.v };
  }
}

/**
 * The points of a samples frame as `[time, value]` pairs per metric, keeping only entries
 * where both are numbers (null, a string or a short column is skipped). The result has no
 * prototype, so any metric name from the wire is just a key.
 */
export function samplesPoints(frame: Pick<SamplesFrame, "t" | "v">): SeriesPoints {
  const out: SeriesPoints = Object.create(null);
  const { t, v } = frame as { t: unknown; v: unknown };
  if (!Array.isArray(t) || !v || typeof v !== "object") return out;
  for (const metric of Object.keys(v)) {
    const col = (v as Record<string, unknown>)[metric];
    if (!Array.isArray(col)) continue;
    const pts: Array<[number, number]> = [];
    const n = Math.min(col.length, t.length);
    for (let j = 0; j < n; j++) {
      const x = col[j];
      const at = t[j];
      if (typeof x === "number" && typeof at === "number") pts.push([at, x]);
    }
    out[metric] = pts;
  }
  return out;
}
