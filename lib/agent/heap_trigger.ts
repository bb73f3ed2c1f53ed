/**
 * When to profile the heap: the agent feeds its own `mem.heap_used_bytes` readings to the
 * collector's leak detector (lib/alerts/leak.ts: Theil–Sen slope, Mann–Kendall confidence,
 * both halves growing) and asks for a profile when the heap grows in a sustained way. While
 * nothing grows it costs one comparison per sample: the estimate (~0.2 ms) is only computed
 * once the heap has risen `minRiseBytes` above its lowest reading, since a garbage
 * collector's sawtooth in a small heap never rises that far.
 *
 * @module
 */
import { LeakDetector, MB } from "../alerts/leak.ts";

/** Tuning of {@link createHeapTrigger}; every field has a default. */
export interface HeapTriggerOptions {
  /** Window the trend is taken over, ms (default 10 min). */
  windowMs?: number;
  /** Least span of readings before a verdict, ms (default 45 s). */
  minSpanMs?: number;
  /** How often the estimate is computed while the heap is high, ms (default 10 s). */
  everyMs?: number;
  /** Least growth, MB (10^6 bytes) per hour, and least confidence (default 20, 0.95). */
  minMbPerHour?: number;
  minConfidence?: number;
  /** Least rise of the heap over its lowest reading, and of the trend, bytes (default 16 MiB). */
  minRiseBytes?: number;
}

/** The trigger: `add` a reading, true when the heap grows in a sustained way now. */
export interface HeapTrigger {
  add(t: number, heapUsedBytes: number): boolean;
  /** Estimates computed so far (the cost while nothing grows: 0). */
  readonly estimates: number;
}

/** Create a trigger for one process's heap readings. */
export function createHeapTrigger(opts: HeapTriggerOptions = {}): HeapTrigger {
  const minSpanMs = opts.minSpanMs ?? 45_000;
  const detector = new LeakDetector({
    windowMs: opts.windowMs ?? 10 * 60_000,
    minSpanMs,
    maxPoints: 64,
  });
  const everyMs = opts.everyMs ?? 10_000;
  const minMbPerHour = opts.minMbPerHour ?? 20;
  const minConfidence = opts.minConfidence ?? 0.95;
  const minRise = opts.minRiseBytes ?? 16 * 1024 * 1024;
  let low = Infinity;
  let next = -Infinity;
  let estimates = 0;
  return {
    get estimates() {
      return estimates;
    },
    add(t, bytes) {
      if (!Number.isFinite(bytes) || bytes <= 0) return false;
      detector.add(t, bytes);
      if (bytes < low) low = bytes;
      if (bytes - low < minRise || t < next) return false;
      next = t + everyMs;
      estimates++;
      const e = detector.estimate(t);
      if (!e) return false;
      const rise = (e.mbPerHour * MB / 3_600_000) * e.spanMs;
      return e.confidence >= minConfidence && e.signalToNoise >= 1 &&
        e.mbPerHour >= minMbPerHour && e.sustainedMbPerHour >= minMbPerHour / 2 &&
        rise >= minRise;
    },
  };
}
