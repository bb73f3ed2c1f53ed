/**
 * A map bounded in entries and in total weight (numbers held), that forgets the entries used
 * least recently first. The OTLP translator's memory of series (cumulative.ts, totals.ts) is
 * one of these, so an SDK that invents series cannot grow the collector without bound.
 *
 * @module
 */

/** Bounds of a {@link BoundedLru}. */
export interface LruLimits {
  /** Most entries. */
  maxEntries: number;
  /** Most total weight (numbers held, as each `set` says). */
  maxWeight: number;
}

/** A least-recently-used map with bounds on entries and weight. */
export class BoundedLru<V> {
  // A Map keeps insertion order: an entry used again is re-inserted, so the first is the oldest.
  #map = new Map<string, { value: V; weight: number }>();
  #weight = 0;
  /** Entries forgotten to keep within the bounds, over all time. */
  evicted = 0;

  constructor(readonly limits: LruLimits) {}

  /** The value under `key`, now the most recently used; undefined when unknown (or forgotten). */
  get(key: string): V | undefined {
    const e = this.#map.get(key);
    if (!e) return undefined;
    this.#map.delete(key);
    this.#map.set(key, e);
    return e.value;
  }

  /** Keep `value` under `key` as the most recently used, then forget the oldest past a bound. */
  set(key: string, value: V, weight: number): void {
    const had = this.#map.get(key);
    if (had) {
      this.#weight -= had.weight;
      this.#map.delete(key);
    }
    this.#map.set(key, { value, weight });
    this.#weight += weight;
    for (const [k, e] of this.#map) {
      if (this.#map.size <= this.limits.maxEntries && this.#weight <= this.limits.maxWeight) break;
      if (k === key) break; // never the entry just set, however heavy
      this.#map.delete(k);
      this.#weight -= e.weight;
      this.evicted++;
    }
  }

  /** Entries held. */
  get size(): number {
    return this.#map.size;
  }

  /** Total weight held. */
  get weight(): number {
    return this.#weight;
  }
}
