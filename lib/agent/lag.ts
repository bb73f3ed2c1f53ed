/**
 * Event-loop lag probe. A light timer fires every `intervalMs`; how late it fires is the
 * time the loop was blocked (a CPU burst, a sync read). The probe keeps the worst lag seen
 * until it is taken, so a 1 s sample reports the worst stall inside that second.
 *
 * @module
 */
import { clearInterval, setInterval } from "node:timers";

/** Measures the worst event-loop lag since the last {@link LagProbe.takeMaxLagMs}. */
export interface LagProbe {
  /** Worst lag in ms since the previous call (0 when none), then start over. */
  takeMaxLagMs(): number;
  /** Stop the probe timer. */
  close(): void;
}

/** Options for {@link startLagProbe}. */
export interface LagProbeOptions {
  /** Probe period in ms (default 100): shorter sees shorter stalls and costs more. */
  intervalMs?: number;
  /** Monotonic clock in ms (default `performance.now`). */
  clock?: () => number;
  /** Every observed lag, ms (runtime.ts takes its percentiles from these: one timer, not two). */
  onLag?: (lagMs: number) => void;
}

/** Start a lag probe. Its timer is unref'd: it never keeps the process alive. */
export function startLagProbe(opts: LagProbeOptions = {}): LagProbe {
  const period = opts.intervalMs ?? 100;
  const clock = opts.clock ?? (() => performance.now());
  let last = clock();
  let worst = 0;
  const onLag = opts.onLag;
  const timer = setInterval(() => {
    const t = clock();
    const lag = t - last - period;
    worst = Math.max(worst, lag);
    last = t;
    onLag?.(lag);
  }, period);
  timer.unref();
  return {
    takeMaxLagMs() {
      // A stall still in progress (the probe has not fired yet) counts too.
      const pending = clock() - last - period;
      const lag = Math.max(worst, pending, 0);
      worst = 0;
      return lag;
    },
    close() {
      clearInterval(timer);
    },
  };
}
