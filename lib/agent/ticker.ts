/**
 * The agent's one timer when it measures its own process: the event-loop lag probe
 * (lag.ts), whose every k-th tick (k = interval / ~LAG_PROBE_MS) also takes the sample,
 * so samples are an interval apart, or a little more when ticks run late. Every timer wake-up
 * of an idle app costs tens of µs under Deno, more than the probe's own work
 * (bench/agent_cost.ts), so an app pays for one timer, not two.
 *
 * The probe fires about every {@link LAG_PROBE_MS} while the app works and once per
 * interval, on the sample's tick, while it is quiet ({@link isQuiet}): lag from JavaScript
 * work cannot exceed the CPU time the process used, and a stall from a blocking call (no
 * CPU) shows as lag, which brings the fast probe back at the next sample.
 *
 * @module
 */
import { type LagProbe, startLagProbe } from "./lag.ts";

/**
 * Lag probe period, about, ms: the interval is split into whole periods near this (1 s:
 * five of 200 ms).
 */
export const LAG_PROBE_MS = 200;
/** Below this CPU use over an interval (% of one core; 20 ms in a second)... */
export const QUIET_CPU_PERCENT = 2;
/** ...and this worst lag (ms) over it, the app is quiet. */
export const QUIET_LAG_MS = 10;

/** Whether an interval with this CPU use (%) and worst lag (ms) leaves the app quiet. */
export function isQuiet(cpuPercent: number, loopLagMs: number): boolean {
  return cpuPercent < QUIET_CPU_PERCENT && loopLagMs < QUIET_LAG_MS;
}

/** Options for {@link startTicker}. */
export interface TickerOptions {
  /** Sampling interval, ms. */
  intervalMs: number;
  /** Take a sample (called once per interval, from the timer). */
  onSample: () => void;
  /** Every lag the probe observes, ms (runtime.ts's percentiles). */
  onLag?: (lagMs: number) => void;
}

/** The running timer. */
export interface Ticker {
  /** The lag probe, for the process readers' worst lag per sample. */
  readonly lag: LagProbe;
  /** Probe once per interval (quiet) or every ~LAG_PROBE_MS (not quiet). */
  setQuiet(quiet: boolean): void;
  close(): void;
}

/** Start the agent's timer. It is unref'd: it never keeps the process alive. */
export function startTicker(opts: TickerOptions): Ticker {
  const { intervalMs, onSample } = opts;
  const perSample = Math.max(1, Math.round(intervalMs / LAG_PROBE_MS));
  const fast = intervalMs / perSample;
  let quiet = false;
  let ticks = 0;
  const lag = startLagProbe({
    intervalMs: fast,
    onLag: opts.onLag,
    onTick() {
      // Quiet, every tick samples; otherwise every `perSample`-th. Counting ticks, not
      // watching a due time: a tick is never early, so neither is a sample.
      if (!quiet && ++ticks < perSample) return;
      ticks = 0;
      onSample();
    },
  });
  return {
    lag,
    setQuiet(q) {
      if (q === quiet) return;
      // The probe restarts now (the sample's moment), so the count does too.
      quiet = q;
      ticks = 0;
      lag.setPeriod(q ? intervalMs : fast);
    },
    close: () => lag.close(),
  };
}
