/**
 * Event-loop lag probe. A light timer fires every period; how late it fires is the time the
 * loop was blocked (a CPU burst, a sync read). The probe keeps the worst lag seen until it
 * is taken, so a 1 s sample reports the worst stall inside that second.
 *
 * The agent takes its samples on this timer (`onTick`) and slows it down while its app is
 * quiet (`setPeriod`): see ticker.ts.
 *
 * @module
 */
import { clearInterval, setInterval } from "node:timers";

/** Measures the worst event-loop lag since the last {@link LagProbe.takeMaxLagMs}. */
export interface LagProbe {
  /** Worst lag in ms since the previous call (0 when none), then start over. */
  takeMaxLagMs(): number;
  /** Fire every `ms` from now on (no change when it already does). */
  setPeriod(ms: number): void;
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
  /** Called after every firing with its clock time (the agent samples on these ticks). */
  onTick?: (at: number) => void;
}

/** Start a lag probe. Its timer is unref'd: it never keeps the process alive. */
export function startLagProbe(opts: LagProbeOptions = {}): LagProbe {
  let period = opts.intervalMs ?? 100;
  const clock = opts.clock ?? (() => performance.now());
  const { onLag, onTick } = opts;
  let last = clock();
  let worst = 0;
  let closed = false;
  const start = () => {
    const timer = setInterval(() => {
      const t = clock();
      const lag = t - last - period;
      worst = Math.max(worst, lag);
      last = t;
      onLag?.(lag);
      onTick?.(t);
    }, period);
    timer.unref();
    return timer;
  };
  let timer = start();
  return {
    takeMaxLagMs() {
      // A stall still in progress (the probe has not fired yet) counts too.
      const pending = clock() - last - period;
      const lag = Math.max(worst, pending, 0);
      worst = 0;
      return lag;
    },
    setPeriod(ms) {
      if (ms === period || closed) return;
      clearInterval(timer);
      period = ms;
      last = clock();
      timer = start();
    },
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}
