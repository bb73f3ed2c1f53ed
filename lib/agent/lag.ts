/**
 * Event-loop lag probe. A light timer is due every period on a fixed grid of times; how late
 * it fires is the time the loop was blocked (a CPU burst, a sync read). The probe keeps the
 * worst lag seen until it is taken, so a 1 s sample reports the worst stall inside that second.
 *
 * The grid is absolute: late firings do not push the later ones back (node:timers' setInterval,
 * Deno's too, re-arms a period after each firing, so it drifts by every firing's lateness:
 * 100 ms ticks that each burn 30 ms took 2.35 s for 20). A stall longer than a period skips the
 * grid points it swallowed rather than firing for each.
 *
 * Yet the timer is a repeating one while it keeps to the grid: creating a timer costs more
 * than its firing (under Deno 2.9 a one-shot `setTimeout` re-armed every second cost ~100 µs
 * of CPU per firing more than a `setInterval`, measured in an app doing nothing else:
 * docs/benchmarks-changes.md, stop 33). A firing is late by how long after the time it was
 * asked for it ran; the repeating timer runs on as long as its next firing stays within
 * {@link driftToleranceMs} after the grid point. A firing further off (a late one, or the
 * millisecond each firing of a repeating timer loses, added up) is followed by a one-shot
 * armed for the next grid point, and a firing on time by a repeating timer again. So a quiet
 * app creates a timer about once a minute, not once a second, and firings are not before
 * their grid points (a repeating timer re-arms from its timer pass, µs before the callback
 * reads the clock), at most the tolerance after them.
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
   * last firing's due time): the next firing is the first grid point after now, or after
   * the pending firing's grid point when that is already past.
   */
  setPeriod(ms: number, anchor?: number): void;
  /** Stop the probe timer. */
  close(): void;
}

/** Timers the probe arms (tests inject a fake clock's). */
export interface ProbeTimers {
  /** Call `fn` once after `ms`; the timer must not keep the process alive. */
  set(fn: () => void, ms: number): unknown;
  /**
   * Call `fn` every `ms`, each call `ms` after the previous one fired (as setInterval does);
   * the timer must not keep the process alive. Absent: the probe arms one-shots only.
   */
  every?(fn: () => void, ms: number): unknown;
  /** Cancel a timer `set` or `every` returned. */
  clear(timer: unknown): void;
}

/** node:timers, unref'd. */
const UNREF_TIMERS: ProbeTimers = {
  set(fn, ms) {
    const t = setTimeout(fn, ms);
    unrefTimer(t);
    return t;
  },
  every(fn, ms) {
    const t = setInterval(fn, ms);
    unrefTimer(t);
    return t;
  },
  // clearTimeout clears an interval too (one id space, in Deno and in Node).
  clear: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
};

/**
 * How far after its grid point a repeating timer's firing may fall before the probe arms a
 * one-shot for the grid point instead, ms: 5 % of the period, at least 1 ms (50 ms at 1 s).
 */
export function driftToleranceMs(periodMs: number): number {
  return Math.max(1, periodMs * 0.05);
}

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
  let last = clock(); // the grid point of the last firing (at first, the start)
  let due = last + period; // the grid point the next firing stands for
  let expected = due; // when the timer now armed is asked to fire
  let repeating = false; // whether that timer is a repeating one
  let worst = 0;
  let closed = false;
  let timer: unknown;
  // Rounded up: a timer that fires before its due time would count as a firing early.
  const armOnce = () => {
    repeating = false;
    expected = due;
    timer = timers.set(fire, Math.max(0, Math.ceil(due - clock())));
  };
  const fire = () => {
    if (closed) return;
    const t = clock();
    const lag = Math.max(0, t - expected);
    worst = Math.max(worst, lag);
    last = due;
    // Never before the due time, however early the timer fired, and past any grid point
    // a stall swallowed.
    due = nextOnGrid(last, period, Math.max(t, last));
    // Before the callbacks, which may call setPeriod. The repeating timer's next firing is
    // a period after this one; it goes on while that is within the tolerance of the grid.
    const next = t + period;
    const after = next - due;
    if (after >= 0 && after <= driftToleranceMs(period) && timers.every) {
      if (!repeating) {
        timers.clear(timer);
        timer = timers.every(fire, period);
        repeating = true;
      }
      expected = next;
    } else {
      if (repeating) timers.clear(timer);
      armOnce();
    }
    onLag?.(lag);
    onTick?.(t, last);
  };
  armOnce();
  return {
    takeMaxLagMs() {
      // A stall still in progress (the probe has not fired yet) counts too.
      const pending = clock() - expected;
      const lag = Math.max(worst, pending, 0);
      worst = 0;
      return lag;
    },
    setPeriod(ms, anchor = last) {
      if (closed) return;
      // From the pending firing's grid point when it is overdue (a repeating timer fires up
      // to the tolerance after it): the new grid must not skip the time it stands for.
      const next = nextOnGrid(anchor, ms, Math.min(clock(), due - 1e-6));
      if (ms === period && Math.abs(next - due) < 1e-6) return;
      timers.clear(timer);
      period = ms;
      due = next;
      armOnce();
    },
    close() {
      closed = true;
      timers.clear(timer);
    },
  };
}
