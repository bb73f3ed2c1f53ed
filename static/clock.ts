/// <reference lib="dom" />
/**
 * The collector's clock as seen from the page. Every frame carries the collector's `now`;
 * the offset `now - Date.now()` is smoothed so that one slow frame does not jolt the charts,
 * and reset when it jumps (a new collector, a changed system clock). Charts are drawn at
 * `Date.now() + offset`, so points stamped with collector times land where they belong
 * whatever the browser's or the apps' clocks say.
 *
 * @module
 */

/** Options for {@link ClockSync}. */
export interface ClockSyncOptions {
  /** Weight of a new estimate, 0..1 (default 0.2). */
  alpha?: number;
  /** A difference above this many ms replaces the estimate instead of blending (default 1000). */
  jumpMs?: number;
  /** The browser clock (injectable for tests). */
  local?: () => number;
}

/** Tracks collector time minus browser time. */
export class ClockSync {
  #offset: number | null = null;
  readonly #alpha: number;
  readonly #jumpMs: number;
  readonly #local: () => number;

  constructor(opts: ClockSyncOptions = {}) {
    this.#alpha = opts.alpha ?? 0.2;
    this.#jumpMs = opts.jumpMs ?? 1000;
    this.#local = opts.local ?? Date.now;
  }

  /** Feed the `now` of a frame that just arrived. Ignores non-finite values. */
  observe(collectorNow: number): void {
    if (typeof collectorNow !== "number" || !Number.isFinite(collectorNow)) return;
    const sample = collectorNow - this.#local();
    if (this.#offset === null || Math.abs(sample - this.#offset) > this.#jumpMs) {
      this.#offset = sample;
    } else {
      this.#offset += this.#alpha * (sample - this.#offset);
    }
  }

  /** Collector minus browser clock in ms (0 until the first frame). */
  get offsetMs(): number {
    return this.#offset ?? 0;
  }

  /** True once a frame has been observed. */
  get synced(): boolean {
    return this.#offset !== null;
  }

  /** The collector's clock now, estimated. */
  now(): number {
    return this.#local() + this.offsetMs;
  }
}
