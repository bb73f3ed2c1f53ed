/**
 * The points ingest hands durable history between two hand-overs to its thread
 * (history.ts), kept in typed columns. A frame whose samples share their keys (Message.keys,
 * ingest's fast path) goes in whole: one time per sample, stored once for all of its series,
 * and one store per value, with no lookup per point. postMessage copies the columns, and each
 * instance's frame block is kept and written over by its next hand-over: new buffers moved
 * each time counted against the main isolate's external-memory limit and ran mark-compacts
 * that history off never runs (docs/benchmarks-changes.md, stop 36). Points one at a time
 * (ingest's general path: new series, refusals, derived series) go to one column per
 * series in the same structure.
 *
 * Each instance has a current block: a frame with the keys of its current block adds rows
 * to it; other keys, or a point one at a time, start a new block (points one at a time
 * share a group of one-series blocks until the next frame). Blocks are handed over in the
 * order they were started, so each series' points keep their order.
 *
 * @module
 */
import type { PlacedSample } from "./instances.ts";

/**
 * One instance's rows as handed over: `times` (one per row) and the values, column-major:
 * the points of `keys[j]` are `values[j * stride + r]` for rows `r < times.length`, where
 * `stride = values.length / keys.length`.
 */
export type HistoryBlock = [
  instance: string,
  keys: readonly string[],
  times: Float64Array,
  values: Float64Array,
];

/** Rows a one-series block starts with; a frame's block starts with the frame's rows. */
const MIN_ROWS = 8;

/** Rows of one instance sharing their keys, in growable typed columns. */
class Block {
  readonly instance: string;
  readonly keys: readonly string[];
  times: Float64Array<ArrayBuffer>;
  values: Float64Array<ArrayBuffer>;
  /** Rows held; capacity is `times.length`, also the stride of `values`. */
  rows = 0;
  /** A frame's block (else one series' points one at a time). */
  readonly framed: boolean;

  constructor(instance: string, keys: readonly string[], rows: number, framed = false) {
    this.instance = instance;
    this.keys = keys;
    this.framed = framed;
    this.times = new Float64Array(rows);
    this.values = new Float64Array(rows * keys.length);
  }

  /** Room for at least `need` rows: twice the capacity, each column moved to its new place. */
  grow(need: number): void {
    const cap = this.times.length;
    const size = Math.max(need, cap * 2);
    const times = new Float64Array(size);
    times.set(this.times.subarray(0, this.rows));
    const values = new Float64Array(size * this.keys.length);
    for (let j = 0; j < this.keys.length; j++) {
      values.set(this.values.subarray(j * cap, j * cap + this.rows), j * size);
    }
    this.times = times;
    this.values = values;
  }
}

/** An instance's current block: a frame's (`shaped`) or a group of one-series blocks. */
interface Current {
  shaped: Block | null;
  loose: Map<string, Block> | null;
}

/** What {@link HistoryBatch.take} hands over. */
export interface TakenBatch {
  /** Views of the batch's buffers: postMessage copies them; valid until the next append. */
  blocks: HistoryBlock[];
  points: number;
}

/** Points appended since the last {@link take}, by instance, in order. */
export class HistoryBatch {
  /** Points held. */
  points = 0;
  #blocks: Block[] = [];
  #current = new Map<string, Current>();
  /** The last instance appended to, and its blocks: a general-path frame's points share it. */
  #lastInstance: string | null = null;
  #lastCurrent: Current | null = null;
  /**
   * Rows of each instance's last frame block in the last hand-over: its next one starts that
   * big, so a steady flow fills one block per hand-over with no doubling copies.
   */
  #rowsLast = new Map<string, number>();
  /** Each instance's frame block of the last hand-over: its next frame block reuses it. */
  #spare = new Map<string, Block>();

  /**
   * Append a frame: every sample's `metrics` holds exactly `keys`, in this order (Message.keys).
   */
  appendFrame(instance: string, keys: readonly string[], samples: readonly PlacedSample[]): void {
    const n = samples.length;
    if (n === 0 || keys.length === 0) return;
    const b = this.#rowsFor(instance, keys, n);
    const { times, values } = b;
    const stride = times.length;
    let row = b.rows;
    for (let i = 0; i < n; i++) {
      const s = samples[i];
      times[row] = s.t;
      let at = row++;
      const metrics = s.metrics;
      for (const name in metrics) {
        values[at] = metrics[name];
        at += stride;
      }
    }
    b.rows = row;
    this.points += n * keys.length;
  }

  /**
   * Append a batch's columns (Observation.columns): the value of `keys[j]` at `times[r]` is
   * `cols[j * n + r]`, for `r < n`. Each column is copied whole (`Float64Array.set`).
   */
  appendColumns(
    instance: string,
    keys: readonly string[],
    times: Float64Array,
    cols: Float64Array,
    n: number,
  ): void {
    if (n <= 0 || keys.length === 0) return;
    const b = this.#rowsFor(instance, keys, n);
    const stride = b.times.length;
    const row = b.rows;
    b.times.set(times.subarray(0, n), row);
    for (let j = 0; j < keys.length; j++) {
      b.values.set(cols.subarray(j * n, (j + 1) * n), j * stride + row);
    }
    b.rows = row + n;
    this.points += n * keys.length;
  }

  /** The instance's block for `keys` (its current one, or a new one), with room for `n` rows. */
  #rowsFor(instance: string, keys: readonly string[], n: number): Block {
    const current = this.#of(instance);
    let b = current.shaped;
    if (b === null || !sameKeys(b.keys, keys)) {
      const last = this.#rowsLast.get(instance) ?? 0;
      const spare = this.#spare.get(instance);
      if (spare !== undefined && sameKeys(spare.keys, keys) && spare.times.length >= n) {
        this.#spare.delete(instance);
        spare.rows = 0;
        b = spare;
      } else b = new Block(instance, keys, Math.max(n, MIN_ROWS, last), true);
      this.#blocks.push(b);
      current.shaped = b;
      current.loose = null;
    } else if (b.rows + n > b.times.length) b.grow(b.rows + n);
    return b;
  }

  /** Append one point. */
  append(instance: string, metric: string, t: number, v: number): void {
    const current = this.#of(instance);
    let loose = current.loose;
    if (loose === null) {
      current.loose = loose = new Map();
      current.shaped = null;
    }
    let b = loose.get(metric);
    if (b === undefined) {
      loose.set(metric, b = new Block(instance, [metric], MIN_ROWS));
      this.#blocks.push(b);
    } else if (b.rows === b.times.length) b.grow(b.rows + 1);
    b.times[b.rows] = t;
    b.values[b.rows++] = v;
    this.points++;
  }

  /** Everything appended, in blocks started in order; the batch is empty after. */
  take(): TakenBatch {
    const blocks: HistoryBlock[] = new Array(this.#blocks.length);
    const rows = new Map<string, number>(); // only this hand-over's: a gone instance is forgotten
    const spare = new Map<string, Block>();
    for (let i = 0; i < this.#blocks.length; i++) {
      const b = this.#blocks[i];
      if (b.framed) {
        rows.set(b.instance, Math.max(b.rows, rows.get(b.instance) ?? 0));
        spare.set(b.instance, b);
      }
      blocks[i] = [b.instance, b.keys, b.times.subarray(0, b.rows), b.values];
    }
    this.#spare = spare;
    const points = this.points;
    this.clear();
    this.#rowsLast = rows;
    return { blocks, points };
  }

  /** Forget everything appended. */
  clear(): void {
    this.points = 0;
    this.#blocks = [];
    this.#current = new Map();
    this.#lastInstance = null;
    this.#lastCurrent = null;
  }

  #of(instance: string): Current {
    if (this.#lastInstance === instance) return this.#lastCurrent!;
    let current = this.#current.get(instance);
    if (!current) this.#current.set(instance, current = { shaped: null, loose: null });
    this.#lastInstance = instance;
    this.#lastCurrent = current;
    return current;
  }
}

/**
 * The points of each series of a block, in order (the history thread's side of
 * {@link HistoryBlock}): `fn(metric, times, values)` per key, with views, no copies.
 */
export function eachSeries(
  block: HistoryBlock,
  fn: (metric: string, times: Float64Array, values: Float64Array) => void,
): void {
  const [, keys, times, values] = block;
  const stride = values.length / keys.length;
  for (let j = 0; j < keys.length; j++) {
    fn(keys[j], times, values.subarray(j * stride, j * stride + times.length));
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
