/**
 * Event-loop lag probe. A light timer is due every period on a fixed grid of times; how late
 * it fires is the time the loop was blocked (a CPU burst, a sync read). The probe keeps the
 * worst lag seen until it is taken, so a 1 s sample reports the worst stall inside that second.
 *
 * The grid is absolute: each firing is armed for its due time, not for a period after the
 * previous firing, so late firings do not push the later ones back (node:timers' setInterval
 * drifts by the callback's lateness: 100 ms ticks that each burn 30 ms took 2.35 s for 20). A
 * stall longer than a period skips the grid points it swallowed rather than firing for each.
 *
 * The agent takes its samples on this timer (`onTick`) and slows it down while its app is
 * quiet (`setPeriod`): see ticker.ts.
 *
 * @module
 */
import { unrefTimer } from "../platform.ts";

/** Measures the worst event-loop lag since the last {@link LagProbe.takeMaxLagMs}. */
export interface LagProbe {
  /** Worst lag in ms since the previous call (0 when none), then start over. */
  takeMaxLagMs(): number;
  /**
   * Fire every `ms` from now on, on the grid through `anchor` (a clock time; default the
   * last firing's due time): the next firing is the first grid point after now.
   */
  setPeriod(ms: number, anchor?: number): void;
  /** Stop the probe timer. */
  close(): void;
}

/** One-shot timers the probe arms (tests inject a fake clock's). */
export interface ProbeTimers {
  /** Call `fn` once after `ms`; the timer must not keep the process alive. */
  set(fn: () => void, ms: number): unknown;
  /** Cancel a timer `set` returned. */
  clear(timer: unknown): void;
}

/** node:timers, unref'd. */
const UNREF_TIMERS: ProbeTimers = {
  set(fn, ms) {
    const t = setTimeout(fn, ms);
    unrefTimer(t);
    return t;
  },
  clear: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
};

/** Options for {@link startLagProbe}. */
export interface LagProbeOptions {
  /** Probe period in ms (default 100): shorter sees shorter stalls and costs more. */
  intervalMs?: number;
  /** Monotonic clock in ms (default `performance.now`). */
  clock?: () => number;
  /** Timers (default node:timers, unref'd). */
  timers?: ProbeTimers;
  /** Every observed lag, ms (runtime.ts takes its percentiles from these: one timer, not two). */
  onLag?: (lagMs: number) => void;
  /**
   * Called after every firing with its clock time and the time it was due (the agent samples
   * on these ticks).
   */
  onTick?: (at: number, due: number) => void;
}

/** The first point after `now` on the grid of period `ms` through `anchor`. */
function nextOnGrid(anchor: number, ms: number, now: number): number {
  return anchor + ms * (Math.floor((now - anchor) / ms) + 1);
}

/** Start a lag probe. Its timer is unref'd: it never keeps the process alive. */
export function startLagProbe(opts: LagProbeOptions = {}): LagProbe {
  let period = opts.intervalMs ?? 100;
  const clock = opts.clock ?? (() => performance.now());
  const timers = opts.timers ?? UNREF_TIMERS;
  const { onLag, onTick } = opts;
  let last = clock(); // the due time of the last firing (at first, the start)
  let due = last + period;
  let worst = 0;
  let closed = false;
  let timer: unknown;
  // Rounded up: a timer that fires before its due time would count as a firing early.
  const arm = () => timer = timers.set(fire, Math.max(0, Math.ceil(due - clock())));
  const fire = () => {
    if (closed) return;
    const t = clock();
    const lag = Math.max(0, t - due);
    worst = Math.max(worst, lag);
    last = due;
    // Never before the due time, however early the timer fired, and past any grid point
    // a stall swallowed.
    due = nextOnGrid(last, period, Math.max(t, last));
    arm(); // before the callbacks, which may call setPeriod
    onLag?.(lag);
    onTick?.(t, last);
  };
  arm();
  return {
    takeMaxLagMs() {
      // A stall still in progress (the probe has not fired yet) counts too.
      const pending = clock() - due;
      const lag = Math.max(worst, pending, 0);
      worst = 0;
      return lag;
    },
    setPeriod(ms, anchor = last) {
      if (closed) return;
      const next = nextOnGrid(anchor, ms, clock());
      if (ms === period && Math.abs(next - due) < 1e-6) return;
      timers.clear(timer);
      period = ms;
      due = next;
      arm();
    },
    close() {
      closed = true;
      timers.clear(timer);
    },
  };
}
