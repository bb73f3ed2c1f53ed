/**
 * Queueing delay at arrival: how long a frame waited between the agent sending it and ingest
 * reading it, on the collector's clock. The agent's send time (`sent`, its clock) is moved to
 * the collector's clock with the instance's offset estimate (the least `arrival - sent` of
 * the last 30-60 s, instances.ts), so the delay is `arrival - (sent + offset)`: 0 for a frame
 * that met the quickest transit seen lately, more for one that sat in the ZMQ queue while
 * the collector was busy. Samples are placed at `ts + offset` (not at arrival), so without
 * this the wait would be invisible: a busy collector looks as fresh as an idle one.
 *
 * Kept over the last minute (six 10 s slots of 1 ms bins up to 1 s, 100 ms bins up to 60 s),
 * for `/api/stats`, `/metrics` and the page's header. A delay that lasts longer than the
 * offset window is folded into the offset and stops showing: this sees queueing, not a
 * constant lag.
 *
 * @module
 */

const FINE = 1000; // 1 ms bins for [0, 1000) ms
const COARSE = 590; // 100 ms bins for [1000, 60000) ms
const BINS = FINE + COARSE + 1; // + one overflow bin
const SLOT_MS = 10_000;
const SLOTS = 6;

import type { QueueDelaySummary } from "../model/queue_delay.ts";

export type { QueueDelaySummary };

function bin(ms: number): number {
  if (ms < FINE) return Math.floor(ms);
  return Math.min(FINE + Math.floor((ms - FINE) / 100), BINS - 1);
}

/** Upper edge of a bin, ms (what a percentile in it reports). */
function upper(b: number): number {
  return b < FINE ? b + 1 : FINE + (b - FINE + 1) * 100;
}

/** The queueing-delay record (see the module doc). */
export class QueueDelay {
  #slots = Array.from({ length: SLOTS }, () => new Uint32Array(BINS));
  #max = new Float64Array(SLOTS);
  /** The highest bin each slot has used: a summary reads no further. */
  #top = new Int32Array(SLOTS);
  /** The 10 s period each slot holds, or -1. */
  #period = new Float64Array(SLOTS).fill(-1);
  /** Frames measured since start (for a counter). */
  total = 0;
  /** Sum of every delay since start, ms. */
  sumMs = 0;

  /** Record one frame's delay (negative is clamped to 0) at collector time `now`. */
  observe(delayMs: number, now: number): void {
    const d = delayMs > 0 ? delayMs : 0;
    const p = Math.floor(now / SLOT_MS);
    const i = p % SLOTS;
    if (this.#period[i] !== p) {
      this.#slots[i].fill(0);
      this.#max[i] = 0;
      this.#top[i] = 0;
      this.#period[i] = p;
    }
    const b = bin(d);
    this.#slots[i][b]++;
    if (b > this.#top[i]) this.#top[i] = b;
    if (d > this.#max[i]) this.#max[i] = d;
    this.total++;
    this.sumMs += d;
  }

  /** The last minute's count, p50, p99 and max at collector time `now`. */
  summary(now: number): QueueDelaySummary {
    const p = Math.floor(now / SLOT_MS);
    const merged = new Float64Array(BINS);
    let count = 0;
    let max = 0;
    let top = 0;
    for (let i = 0; i < SLOTS; i++) {
      const age = p - this.#period[i];
      if (this.#period[i] < 0 || age < 0 || age >= SLOTS) continue;
      const s = this.#slots[i];
      const last = this.#top[i];
      if (last > top) top = last;
      for (let b = 0; b <= last; b++) {
        if (s[b] === 0) continue;
        merged[b] += s[b];
        count += s[b];
      }
      if (this.#max[i] > max) max = this.#max[i];
    }
    const windowMs = SLOT_MS * SLOTS;
    if (count === 0) return { count, p50: null, p99: null, max: null, windowMs };
    const at = (q: number) => {
      const rank = Math.ceil(q * count);
      let seen = 0;
      for (let b = 0; b <= top; b++) {
        seen += merged[b];
        if (seen >= rank) return Math.min(upper(b), max);
      }
      return max;
    };
    return { count, p50: at(0.5), p99: at(0.99), max, windowMs };
  }
}
