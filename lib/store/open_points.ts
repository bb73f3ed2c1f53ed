/**
 * One series' points not yet sealed (durable.ts): two growable Float64Array columns. The
 * history thread receives points as Float64Arrays (lib/collector/history.ts), so taking a
 * batch is one copy of each column, where pushing point by point into plain arrays (and
 * growing them) took a tenth of the thread's time; a seal reads the columns in place when
 * they are in time order, and drops its points by moving the rest down, with no new array.
 *
 * @module
 */

/** Capacity a series starts with: most series of a busy collector hold a few hundred. */
const MIN_CAPACITY = 16;

/** Points of one series in arrival order: times and values, `length` of them. */
export class OpenPoints {
  #times = new Float64Array(MIN_CAPACITY);
  #values = new Float64Array(MIN_CAPACITY);
  #length = 0;
  /**
   * Ids of the time columns appended since {@link markFlushed}, in order (see
   * {@link append}); null once points came otherwise (`push`, an append without an id). Two
   * series with equal lists hold the very same times since then: a flush (wal.ts) stores
   * them once without comparing them point by point.
   */
  timesIds: number[] | null = [];

  /** Points held. */
  get length(): number {
    return this.#length;
  }

  /** The times held, as a view (valid until the next change). */
  get times(): Float64Array {
    return this.#times.subarray(0, this.#length);
  }

  /** The values held, as a view (valid until the next change). */
  get values(): Float64Array {
    return this.#values.subarray(0, this.#length);
  }

  /** The time column: points [0, length) are held, the rest is spare (valid until a change). */
  get timeColumn(): Float64Array {
    return this.#times;
  }

  /** The value column, as {@link timeColumn}. */
  get valueColumn(): Float64Array {
    return this.#values;
  }

  /** Append one point. */
  push(t: number, v: number): void {
    this.timesIds = null;
    if (this.#length === this.#times.length) this.#grow(this.#length + 1);
    this.#times[this.#length] = t;
    this.#values[this.#length++] = v;
  }

  /**
   * Append `times[from, to)` and `values[from, to)`. `timesId` names `times` whole (from 0 to
   * its end): the caller gives one id to one time column and never to another, so series
   * appended the same ids in the same order hold the same times ({@link timesIds}).
   */
  append(
    times: ArrayLike<number>,
    values: ArrayLike<number>,
    from = 0,
    to = times.length,
    timesId?: number,
  ): void {
    const n = to - from;
    if (n <= 0) return;
    if (timesId === undefined || from !== 0 || to !== times.length) this.timesIds = null;
    else this.timesIds?.push(timesId);
    if (this.#length + n > this.#times.length) this.#grow(this.#length + n);
    const at = this.#length;
    // A few points (a 1 Hz series' second) copy faster one by one than through two views.
    if (n > 32 && times instanceof Float64Array && values instanceof Float64Array) {
      this.#times.set(times.subarray(from, to), at);
      this.#values.set(values.subarray(from, to), at);
    } else {
      for (let i = 0; i < n; i++) {
        this.#times[at + i] = times[from + i];
        this.#values[at + i] = values[from + i];
      }
    }
    this.#length += n;
  }

  /** Every point held is flushed: {@link timesIds} starts afresh. Returns {@link length}. */
  markFlushed(): number {
    if (this.timesIds === null) this.timesIds = [];
    else this.timesIds.length = 0;
    return this.#length;
  }

  /**
   * The first `n` points in time order (stable): views of the columns when they already are
   * (ingest places each instance's points in time order, so nearly always), else sorted copies
   * (a replayed WAL, an out-of-order sender). Views are valid until the next change.
   */
  inTimeOrder(n: number): [Float64Array, Float64Array] {
    const t = this.#times;
    if (ascending(t, n)) return [t.subarray(0, n), this.#values.subarray(0, n)];
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => t[a] - t[b]);
    const times = new Float64Array(n);
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      times[i] = t[order[i]];
      values[i] = this.#values[order[i]];
    }
    return [times, values];
  }

  /**
   * Drop the first `n` points (a seal round's). The columns keep their size when those points
   * took half of it or more: under a steady flood every round does, and new columns after each
   * round, grown back by doubling, cost the history thread a copy of every point and a page
   * fault per 4 KiB of fresh memory. When a round took less and what is left is small (a
   * burst has passed), memory is given back, down to a quarter a round.
   */
  dropFirst(n: number): void {
    const rest = this.#length - n;
    const cap = this.#times.length;
    if (n * 2 < cap && rest * 4 < cap && cap > MIN_CAPACITY) {
      const size = Math.max(MIN_CAPACITY, rest * 2, cap >> 2);
      const times = new Float64Array(size);
      const values = new Float64Array(size);
      times.set(this.#times.subarray(n, this.#length));
      values.set(this.#values.subarray(n, this.#length));
      this.#times = times;
      this.#values = values;
    } else {
      this.#times.copyWithin(0, n, this.#length);
      this.#values.copyWithin(0, n, this.#length);
    }
    this.#length = rest;
  }

  #grow(need: number): void {
    const size = Math.max(need, this.#times.length * 2);
    const times = new Float64Array(size);
    const values = new Float64Array(size);
    times.set(this.#times.subarray(0, this.#length));
    values.set(this.#values.subarray(0, this.#length));
    this.#times = times;
    this.#values = values;
  }
}

/**
 * Whether `t[0, n)` never goes down (NaN counts as down). A function of its own, a loop and a
 * return: inside inTimeOrder, V8 compiled the loop on the stack before the code after it had
 * run, and left that code on every later call (--trace-deopt: "insufficient type feedback").
 */
function ascending(t: Float64Array, n: number): boolean {
  for (let i = 1; i < n; i++) if (!(t[i - 1] <= t[i])) return false;
  return true;
}
