/**
 * The one way zeroapm waits before trying again: a capped exponential back-off, with
 * optional jitter so many clients that failed together do not retry together, and the
 * reading of an HTTP `Retry-After` header. Pure (no timers, no globals) so the agent, the
 * collector and the page share it.
 *
 * @module
 */

/** Options for {@link createBackoff}. */
export interface BackoffOptions {
  /** The first delay, ms. */
  minMs: number;
  /** The longest delay, ms; doubling stops here. */
  maxMs: number;
  /** Spread of each delay around its value: 0.5 gives 75-125 % (default 0: none). */
  jitter?: number;
  /** Random source in [0, 1) (default Math.random; tests inject one). */
  random?: () => number;
}

/** A back-off sequence: `next()` gives the delay before the next try. */
export interface Backoff {
  /** The delay before the next try, ms: min, 2 min, 4 min... up to max (with jitter). */
  next(): number;
  /** Success: the next failure starts again at min. */
  reset(): void;
  /** Tries since the last reset. */
  readonly attempt: number;
}

/** Start a back-off sequence. */
export function createBackoff(opts: BackoffOptions): Backoff {
  const jitter = opts.jitter ?? 0;
  const random = opts.random ?? Math.random;
  let attempt = 0;
  return {
    next() {
      // 2 ** 30 is far past any cap; the bound keeps the power finite for long outages.
      const base = Math.min(opts.maxMs, opts.minMs * 2 ** Math.min(attempt, 30));
      attempt++;
      if (jitter === 0) return base;
      return Math.round(base * (1 - jitter / 2 + random() * jitter));
    },
    reset() {
      attempt = 0;
    },
    get attempt() {
      return attempt;
    },
  };
}

/**
 * How long an HTTP `Retry-After` header asks to wait, ms: delay-seconds or an HTTP date.
 * Null when absent or unreadable; never negative; capped at `maxMs` (a server must not park
 * a client for a day).
 */
export function retryAfterMs(
  header: string | null,
  now: number,
  maxMs = 5 * 60_000,
): number | null {
  if (header === null) return null;
  const text = header.trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    if (!/^[A-Za-z]{3}, /.test(text)) return null; // an HTTP date starts with the weekday
    const at = Date.parse(text);
    if (Number.isNaN(at)) return null;
    ms = at - now;
  }
  return Math.min(maxMs, Math.max(0, ms));
}
