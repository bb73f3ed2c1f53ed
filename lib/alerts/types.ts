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
