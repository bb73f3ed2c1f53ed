/**
 * How often each OTLP instance exports, learned from the time between its exports, so that it
 * is `stale` after 3 of its own intervals rather than after 3 of the SDKs' default minute. An
 * agent says its interval; an SDK does not, and apps often set OTEL_METRIC_EXPORT_INTERVAL to
 * a few seconds: a process killed then stayed `live`, its CPU in its service's total, for
 * three minutes.
 *
 * @module
 */
import { BoundedLru, type LruLimits } from "./lru.ts";
import { OTLP_INTERVAL_MS } from "./identity.ts";

/** The least interval learned, ms: the agent's own default; exports closer do not go below. */
export const MIN_LEARNED_INTERVAL_MS = 1000;

/** Most instances remembered (each holds three numbers). */
export const INTERVAL_LIMITS: LruLimits = { maxEntries: 100_000, maxWeight: 300_000 };

interface Learned {
  /** Time of the instance's latest export seen (its newest point), ms. */
  ts: number;
  /** The interval learned, or null before a second export. */
  intervalMs: number | null;
  /** Shorter gaps seen in a row: one (a flush on the way out, a manual export) is not enough. */
  shorter: number;
}

/** Each instance's export interval, bounded in instances remembered. */
export class ExportIntervals {
  #lru: BoundedLru<Learned>;

  constructor(limits: LruLimits = INTERVAL_LIMITS) {
    this.#lru = new BoundedLru(limits);
  }

  /**
   * Note an export of `whose` whose newest point is at `ts` (the SDK's clock) and return the
   * instance's interval, ms: the SDKs' default until a second export, then the time between
   * exports in whole seconds (at least 1 s). Within a quarter of the interval it stays as it
   * is (timer jitter); a longer gap is taken at once (never stale too early); a shorter one
   * when the next is shorter too. An export no newer than the last (a retry) changes nothing.
   */
  observe(whose: string, ts: number): number {
    const had = this.#lru.get(whose);
    if (!had) {
      this.#lru.set(whose, { ts, intervalMs: null, shorter: 0 }, 3);
      return OTLP_INTERVAL_MS;
    }
    const gap = ts - had.ts;
    if (!(gap > 0)) return had.intervalMs ?? OTLP_INTERVAL_MS;
    const rounded = Math.max(MIN_LEARNED_INTERVAL_MS, Math.round(gap / 1000) * 1000);
    const learned = had.intervalMs;
    let next: Learned;
    if (learned === null || gap > learned * 1.25) {
      next = { ts, intervalMs: rounded, shorter: 0 };
    } else if (gap < learned * 0.75) {
      next = had.shorter >= 1
        ? { ts, intervalMs: rounded, shorter: 0 }
        : { ts, intervalMs: learned, shorter: had.shorter + 1 };
    } else {
      next = { ts, intervalMs: learned, shorter: 0 };
    }
    this.#lru.set(whose, next, 3);
    return next.intervalMs!;
  }

  /** Instances remembered. */
  get size(): number {
    return this.#lru.size;
  }
}
