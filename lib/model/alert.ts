/**
 * The shapes of an alert that several layers share (alerts, the live view, HTTP, webhooks,
 * the page): the alert itself, its leak numbers and allocation sites, and the leak
 * detector's estimate. A leaf module: it imports nothing of zeroapm's. All times are the
 * collector's clock, ms since the epoch; memory rates are MB (10^6 bytes) per hour.
 *
 * @module
 */

/** The kinds of alert rule (lib/alerts/rules.ts defines each). */
export type RuleKind = "threshold" | "absence" | "leak";

/** pending (condition holds, not yet for long enough) -> firing -> resolved. */
export type AlertState = "pending" | "firing" | "resolved";

/** The leak detector's numbers behind a leak alert. */
export interface AlertLeak {
  mbPerHour: number;
  confidence: number;
  /** Time until the memory limit at the current trend, ms, when a limit is known. */
  timeToLimitMs?: number;
  limitBytes?: number;
  /**
   * Where the heap grows: the top allocation sites of the instance's latest heap profile
   * (lib/collector/profiles.ts), when its agent sent one.
   */
  sites?: LeakSite[];
}

/** An allocation site on a leak alert: where, how much, how fast, its share of the growth. */
export interface LeakSite {
  /** Function name, script URL, 1-based line and column. */
  fn: string;
  url: string;
  line: number;
  col: number;
  /** Bytes allocated here and still live (the profiler's estimate). */
  bytes: number;
  /** Growth of this site, bytes per minute (over the two profiles of one window). */
  bytesPerMin: number;
  /** This site's part of the growth over all sites, 0..1. */
  share: number;
}

/** One alert: one (rule, instance) from pending until resolved. */
export interface Alert {
  /** Unique per occurrence: `rule|instanceId|since`. */
  id: string;
  rule: string;
  kind: RuleKind;
  /** Instance id (`service/instance`, URL-encoded parts) as in /api/instances. */
  instance: string;
  service: string;
  state: AlertState;
  /** When the condition started to hold. */
  since: number;
  firedAt?: number;
  resolvedAt?: number;
  /** The value that decided it: the metric, seconds silent, or MB/h of growth. */
  value: number;
  /** One line for people, e.g. `leaking 48 MB/min, limit in ~3 h`. */
  message: string;
  leak?: AlertLeak;
}

/** What the detector makes of the window; numbers in MB (10^6 bytes) and ms. */
export interface LeakEstimate {
  /** Collector time of the estimate. */
  at: number;
  /** First point in the window and the span of data, ms. */
  from: number;
  spanMs: number;
  /** Points the slopes were taken over. */
  points: number;
  /** Theil–Sen slope over the whole window, MB per hour. */
  mbPerHour: number;
  /** 95 % rank-based (Kendall) confidence interval of that slope, MB per hour. */
  lowerMbPerHour: number;
  upperMbPerHour: number;
  /**
   * The smaller Theil–Sen slope of the two halves of the window, MB per hour: growth that
   * persisted through the window (a one-time step leaves one half flat).
   */
  sustainedMbPerHour: number;
  /**
   * Confidence that memory grows, 0..1: the smallest one-sided Mann–Kendall confidence of
   * the whole window and of each half.
   */
  confidence: number;
  /** Theil–Sen slope of the last `recentMs` of the window, MB per hour: growth going on now. */
  recentMbPerHour: number;
  /** One-sided Mann–Kendall confidence that memory grows over that recent part, 0..1. */
  recentConfidence: number;
  /**
   * True once the data spans the whole window. Until then the process is young (started or
   * restarted within the window), and growth may be its warm-up.
   */
  full: boolean;
  /**
   * Growth over the window (slope times span) divided by the spread around the trend (the
   * interquartile range of the residuals): above 1, memory rose by more than it wobbles. A
   * sawtooth seen over a window of a period or two has a slope but a ratio well below 1.
   */
  signalToNoise: number;
  /** Level of the fitted line at `at`, bytes (robust: a spike or GC drop does not move it). */
  levelBytes: number;
  /** The memory limit used for time-to-limit, bytes, when one is known. */
  limitBytes?: number;
  /** Estimated time until the fitted line reaches the limit, ms (absent: no limit or no growth). */
  timeToLimitMs?: number;
  /** The fitted line over the window, `[[t0, bytes], [t1, bytes]]`, for a chart's trend line. */
  trend: [[number, number], [number, number]];
}
