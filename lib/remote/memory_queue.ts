/**
 * The remote-write queue of a collector without a data directory (`--data none`): a ring of
 * at most `capacity` samples in memory. When the remote is away longer than the ring holds,
 * the oldest samples go first and are counted as expired; on exit, what is queued is lost
 * (the stats say the queue is "memory").
 *
 * @module
 */
import type { Block, RemoteSource } from "./source.ts";

/** A bounded in-memory queue; ingest appends to it as it does to history. */
export class MemoryQueue implements RemoteSource {
  readonly kind = "memory";
  expired = 0;
  #cap: number;
  #series: Float64Array;
  #times: Float64Array;
  #values: Float64Array;
  /** Absolute indices: samples [#start, #end) are held; [#start, #cursor) are shipped. */
  #start = 0;
  #end = 0;
  #cursor = 0;
  #peeked = 0;
  #ids = new Map<string, Map<string, number>>();
  #names: Array<{ instance: string; metric: string }> = [];

  /** `capacity`: most samples held (default 1 M, 24 MB). */
  constructor(capacity = 1_000_000) {
    this.#cap = capacity;
    this.#series = new Float64Array(capacity);
    this.#times = new Float64Array(capacity);
    this.#values = new Float64Array(capacity);
  }

  /** Queue one sample (the HistorySink shape, so ingest feeds it like history). */
  append(instance: string, metric: string, t: number, v: number): void {
    let byMetric = this.#ids.get(instance);
    if (!byMetric) this.#ids.set(instance, byMetric = new Map());
    let id = byMetric.get(metric);
    if (id === undefined) {
      id = this.#names.length;
      byMetric.set(metric, id);
      this.#names.push({ instance, metric });
    }
    if (this.#end - this.#start === this.#cap) {
      if (this.#start >= this.#cursor) this.expired++;
      this.#start++;
    }
    const at = this.#end % this.#cap;
    this.#series[at] = id;
    this.#times[at] = t;
    this.#values[at] = v;
    this.#end++;
  }

  /** Nothing to do: the queue keeps no instance views. */
  touch(): void {}

  peek(max: number): Block | null {
    if (this.#cursor < this.#start) this.#cursor = this.#start;
    const n = Math.min(max, this.#end - this.#cursor);
    this.#peeked = n;
    if (n <= 0) return null;
    const block: Block = { series: new Array(n), times: new Array(n), values: new Array(n) };
    for (let i = 0; i < n; i++) {
      const at = (this.#cursor + i) % this.#cap;
      block.series[i] = this.#series[at];
      block.times[i] = this.#times[at];
      block.values[i] = this.#values[at];
    }
    return block;
  }

  commit(): void {
    this.#cursor = Math.max(this.#cursor + this.#peeked, this.#start);
    this.#peeked = 0;
  }

  seriesOf(id: number): { instance: string; metric: string } | null {
    return this.#names[id] ?? null;
  }

  backlog(): { samples: number; oldest: number | null } {
    const from = Math.max(this.#cursor, this.#start);
    const samples = this.#end - from;
    return { samples, oldest: samples > 0 ? this.#times[from % this.#cap] : null };
  }
}
