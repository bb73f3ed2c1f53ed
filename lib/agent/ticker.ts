/**
 * The agent's one timer when it measures its own process: the event-loop lag probe
 * (lag.ts), whose tick at or after each sample's due time also takes the sample. Every timer
 * wake-up of an idle app costs tens of µs under Deno, more than the probe's own work
 * (bench/agent_cost.ts), so an app pays for one timer, not two.
 *
 * Samples are due on absolute times, start + n * interval, and the probe's ticks fall on
 * those times, so N seconds give N samples whatever the load: a late tick makes its sample
 * late, not the ones after it. (Sampling on every k-th tick drifted by the ticks' lateness:
 * 500 samples in 541 s from a busy app.) A sample is never taken before its due time; two
 * samples are less than an interval apart only when the first was late. A stall longer than
 * an interval gives one sample for the intervals it swallowed, not a burst of them.
 *
 * The probe fires about every {@link LAG_PROBE_MS} while the app works and once per
 * interval, on the sample's tick, while it is quiet ({@link isQuiet}): lag from JavaScript
 * work cannot exceed the CPU time the process used, and a stall from a blocking call (no
 * CPU) shows as lag, which brings the fast probe back when it repeats in the next interval
 * (a single late firing is as often the machine's scheduler as the app).
 *
 * @module
 */
import { type LagProbe, type ProbeTimers, startLagProbe } from "./lag.ts";

/**
 * Lag probe period, about, ms: the interval is split into whole periods near this (1 s:
 * five of 200 ms).
 */
export const LAG_PROBE_MS = 200;
/** Below this CPU use over an interval (% of one core; 20 ms in a second)... */
export const QUIET_CPU_PERCENT = 2;
/** ...and this worst lag (ms) over it, the app is quiet. */
export const QUIET_LAG_MS = 10;

/**
 * Whether an interval with this CPU use (%) and worst lag (ms) leaves the app quiet.
 * `laggedBefore`: whether the previous interval's worst lag was at or above
 * {@link QUIET_LAG_MS}. A lag without CPU counts only when it repeats (default: it does):
 * on a loaded machine the one firing of a quiet second is now and then 10+ ms late from
 * the scheduler alone, and each such second switched the probe to fast ticks for the next
 * one (four more firings and two timers re-armed, ~0.5 ms of CPU: docs/benchmarks-changes.md,
 * stop 34). A stall that repeats (an app blocking every second) still brings the fast
 * probe back, one interval later; any CPU use at or above {@link QUIET_CPU_PERCENT} at once.
 */
export function isQuiet(cpuPercent: number, loopLagMs: number, laggedBefore = true): boolean {
  if (!(cpuPercent < QUIET_CPU_PERCENT)) return false;
  return loopLagMs < QUIET_LAG_MS || !laggedBefore;
}

/**
 * {@link isQuiet} over successive intervals: call it once per sample with that interval's
 * CPU use and worst lag; it remembers whether the previous interval lagged.
 */
export function createQuietness(): (cpuPercent: number, loopLagMs: number) => boolean {
  let lagged = false;
  return (cpuPercent, loopLagMs) => {
    const quiet = isQuiet(cpuPercent, loopLagMs, lagged);
    lagged = !(loopLagMs < QUIET_LAG_MS);
    return quiet;
  };
}

/** Options for {@link startTicker}. */
export interface TickerOptions {
  /** Sampling interval, ms. */
  intervalMs: number;
  /** Take a sample (called once per interval, from the timer). */
  onSample: () => void;
  /** Every lag the probe observes, ms (runtime.ts's percentiles). */
  onLag?: (lagMs: number) => void;
  /**
   * Fire once per interval only, whatever `setQuiet` says (an agent with injected readers
   * has no loop of its own to watch: the sidecar).
   */
  alwaysQuiet?: boolean;
  /** Monotonic clock in ms (default `performance.now`). */
  clock?: () => number;
  /** Timers (default node:timers, unref'd). */
  timers?: ProbeTimers;
}

/** The running timer. */
export interface Ticker {
  /** The lag probe, for the process readers' worst lag per sample. */
  readonly lag: LagProbe;
  /** Probe once per interval (quiet) or every ~LAG_PROBE_MS (not quiet). */
  setQuiet(quiet: boolean): void;
  close(): void;
}

/** Slack for float error between the probe's grid and the sample times, ms. */
const EPSILON_MS = 1e-3;

/** Start the agent's timer. It is unref'd: it never keeps the process alive. */
export function startTicker(opts: TickerOptions): Ticker {
  const { intervalMs, onSample, alwaysQuiet = false } = opts;
  const clock = opts.clock ?? (() => performance.now());
  const perSample = Math.max(1, Math.round(intervalMs / LAG_PROBE_MS));
  const fast = intervalMs / perSample;
  let quiet = alwaysQuiet;
  let due = clock() + intervalMs; // the next sample's due time
  const lag = startLagProbe({
    intervalMs: quiet ? intervalMs : fast,
    clock,
    timers: opts.timers,
    onLag: opts.onLag,
    onTick(at, tickDue) {
      // The tick due at the sample's time (or, after a stall, the first one to fire after it).
      if (Math.max(at, tickDue) < due - EPSILON_MS) return;
      // The next due time on the same grid; due times a stall swallowed are skipped.
      due += intervalMs * Math.max(1, Math.floor((at - due) / intervalMs) + 1);
      onSample();
    },
  });
  return {
    lag,
    setQuiet(q) {
      if (alwaysQuiet || q === quiet) return;
      quiet = q;
      // Fast ticks or one per interval, on the grid through the next sample's due time.
      lag.setPeriod(q ? intervalMs : fast, due);
    },
    close: () => lag.close(),
  };
}
