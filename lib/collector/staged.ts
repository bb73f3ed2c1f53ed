/**
 * Single-sample frames held for a burst. A known instance's usual single frame (the same keys
 * as its series, nothing new to publish) is accounted at once (instances.ts), and its time and
 * values are written as one row of that instance's {@link Staged} columns; ingest hands the
 * rows to the rings, the live page, history and the alerts as one batch of columns
 * (ingest.ts `flush`) before the receive loop lets anything else run (it yields, waits or
 * stops: lib/transport/zmq.ts `beforeYield`). Nothing outside the receive loop's run of
 * frames can see the difference, and each of those four is called once per instance per
 * burst instead of once per frame, as for a batch frame of many samples.
 *
 * @module
 */
import type { InstanceView } from "../model/instance.ts";
import type { Ring } from "../store/recent.ts";

/** Rows an instance holds at first; they double up to {@link STAGED_MAX}. */
const FIRST_ROWS = 8;
/** Most rows an instance holds before they are handed on (then it starts over). */
export const STAGED_MAX = 256;

/**
 * One instance's staged rows: `times[r]` is row r's time, and the value of `keys[j]` in row
 * r is `values[j * cap + r]`, for `r < rows` ({@link Staged.packed} closes the gaps). Kept
 * with its instance's view (ingest.ts), small until an instance sends many frames a burst.
 */
export class Staged {
  view: InstanceView;
  keys: readonly string[] = [];
  /** The rings of `keys`, in order (ingest.ts ringsOf). */
  rings: Ring[] = [];
  rows = 0;
  cap = FIRST_ROWS;
  times = new Float64Array(FIRST_ROWS);
  values = new Float64Array(0);
  /** The last row's arrival, and the instance's sequence and start then (history's touch). */
  arrival = 0;
  lastSeq: number | null = null;
  agentStart: number | null = null;

  constructor(view: InstanceView) {
    this.view = view;
  }

  /** Start a run of rows of `keys` (the rows are empty). */
  begin(keys: readonly string[], rings: Ring[]): void {
    this.keys = keys;
    this.rings = rings;
    if (this.values.length < keys.length * this.cap) {
      this.values = new Float64Array(keys.length * this.cap);
    }
  }

  /** Add a row: time `t`, the values `from[0..keys.length)`. True when it is full. */
  add(t: number, from: Float64Array): boolean {
    if (this.rows === this.cap) this.#grow();
    const r = this.rows++;
    this.times[r] = t;
    const values = this.values;
    const cap = this.cap;
    for (let j = 0, at = r; j < this.keys.length; j++, at += cap) values[at] = from[j];
    return this.rows === STAGED_MAX;
  }

  /**
   * The values with a stride of `rows` (`values[j * rows + r]`, as a batch's columns), moved
   * in place; the rows are then to be handed on and {@link clear}ed.
   */
  packed(): Float64Array {
    const { rows, cap } = this;
    if (rows < cap) {
      for (let j = 1; j < this.keys.length; j++) {
        this.values.copyWithin(j * rows, j * cap, j * cap + rows);
      }
    }
    return this.values;
  }

  /** Empty, keeping its arrays. */
  clear(): void {
    this.rows = 0;
    this.rings = [];
  }

  #grow(): void {
    const cap = this.cap * 2;
    const times = new Float64Array(cap);
    times.set(this.times);
    const values = new Float64Array(this.keys.length * cap);
    for (let j = 0; j < this.keys.length; j++) {
      values.set(this.values.subarray(j * this.cap, j * this.cap + this.rows), j * cap);
    }
    this.cap = cap;
    this.times = times;
    this.values = values;
  }
}
