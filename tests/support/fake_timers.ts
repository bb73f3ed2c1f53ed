/**
 * Test support: a virtual clock with one-shot and repeating timers ({@link ProbeTimers}) for
 * the agent's ticker and lag probe. Time moves only in {@link FakeTimers.runUntil}, which fires due timers
 * in order, each as late as the simulated load says (a busy event loop runs a timer when it
 * gets to it), so a test can run a busy minute in milliseconds.
 *
 * @module
 */
import type { ProbeTimers } from "../../lib/agent/lag.ts";

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  /** Repeating: armed again this long after each firing (as setInterval is). */
  every?: number;
}

/** A virtual clock and the timers that run on it. */
export interface FakeTimers {
  /** The clock, ms. */
  readonly now: () => number;
  readonly timers: ProbeTimers;
  /** Spend `ms` of the clock inside a callback (the work a timer callback does). */
  work(ms: number): void;
  /**
   * Fire every timer due before `end`, in order; each fires `lateness(due)` ms after its due
   * time or after the previous callback ended, whichever is later. Then the clock is `end`.
   */
  runUntil(end: number, lateness?: (due: number) => number): void;
  /** Timers armed and not yet fired or cleared. */
  readonly pending: () => number;
  /** Timers created so far (one-shot and repeating). */
  readonly created: () => number;
}

/** Options of {@link fakeTimers}. */
export interface FakeTimersOptions {
  /** Offer repeating timers (`every`; default true): false gives one-shots only. */
  repeating?: boolean;
}

/** A fake clock starting at `start` ms. */
export function fakeTimers(start = 0, opts: FakeTimersOptions = {}): FakeTimers {
  let now = start;
  let seq = 0;
  let created = 0;
  let queue: Pending[] = [];
  const timers: ProbeTimers = {
    set(fn, ms) {
      const t: Pending = { at: now + Math.max(0, ms), seq: seq++, fn };
      created++;
      queue.push(t);
      return t;
    },
    clear(t) {
      queue = queue.filter((p) => p !== t);
    },
  };
  if (opts.repeating !== false) {
    timers.every = (fn, ms) => {
      const t: Pending = { at: now + Math.max(1, ms), seq: seq++, fn, every: Math.max(1, ms) };
      created++;
      queue.push(t);
      return t;
    };
  }
  return {
    now: () => now,
    timers,
    work(ms) {
      now += ms;
    },
    runUntil(end, lateness = () => 0) {
      for (;;) {
        queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
        const next = queue[0];
        if (!next || next.at >= end) break;
        queue.shift();
        now = Math.max(now, next.at + lateness(next.at));
        if (next.every !== undefined) {
          // Armed again from when it fires, before the callback (which may clear it).
          next.at = now + next.every;
          next.seq = seq++;
          queue.push(next);
        }
        next.fn();
      }
      now = Math.max(now, end);
    },
    pending: () => queue.length,
    created: () => created,
  };
}

/** A seeded random source in [0, 1) (mulberry32), so a simulated load repeats exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
