/**
 * What the collector does before its receive loop lets anything else run (the loop's
 * `beforeWait`, lib/transport/zmq.ts): hand on the single frames ingest held for the burst
 * (lib/collector/staged.ts), and at a burst's end tick history early, so the burst is
 * durable in about {@link BURST_TICK_MS} instead of at the next once-a-second tick.
 *
 * @module
 */

/**
 * Least time between two early history ticks, ms. A steady load of short bursts would
 * otherwise run the store's flush (and its seal and retention steps) tens of times a second.
 */
export const BURST_TICK_MS = 100;

/** What {@link beforeWaitFor} needs: ingest's held frames, history, where durable is shown. */
export interface BurstEndDeps {
  ingest: { flush(): void };
  /** Null without durable history (`--data none`): nothing to tick. */
  history: { tick(): Promise<void>; readonly durable: number } | null;
  /** Called with the durable mark after an early tick (the collector's stats). */
  durable(mark: number): void;
  now(): number;
  /** A flush's error, reported as a frame's is: collection goes on. */
  onError(e: unknown): void;
}

/** The receive loop's `beforeWait(burstEnd)` for these parts. */
export function beforeWaitFor(deps: BurstEndDeps): (burstEnd: boolean) => void {
  const { ingest, history, now, onError } = deps;
  let earlyTickAt = -Infinity;
  // A failed tick is reported by the once-a-second tick's job (jobs.ts), not twice.
  const durableNow = () => deps.durable(history!.durable);
  return (burstEnd) => {
    try {
      ingest.flush();
    } catch (e) {
      onError(e);
    }
    if (!burstEnd || !history || now() - earlyTickAt < BURST_TICK_MS) return;
    earlyTickAt = now();
    void history.tick().then(durableNow, () => {});
  };
}
