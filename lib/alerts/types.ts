/**
 * The alert as the API, the store and webhooks see it. All times are the collector's clock,
 * ms since the epoch; memory rates are MB (10^6 bytes) per hour.
 *
 * @module
 */
import type { RuleKind } from "./rules.ts";

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
