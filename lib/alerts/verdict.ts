/**
 * What a rule says about one instance now (a verdict), and the parts of it that need no
 * engine state: when an instance's alerts end with it (stopped, gone), and when a leak rule
 * holds for the detector's estimate, weighing its numbers (lib/alerts/leak.ts) against the
 * rule's `growth`, `within`, `confidence` and `warmup` (docs/alerts.md, "The leak detector").
 *
 * @module
 */
import type { InstanceView } from "../model/instance.ts";
import { type LeakEstimate, MB } from "./leak.ts";
import { formatEta, formatLeakRate, leakText } from "./leak_text.ts";
import type { LeakRule } from "./rules.ts";
import type { AlertLeak } from "./types.ts";

/** What one rule makes of one instance at one evaluation. */
export interface Verdict {
  holds: boolean;
  since: number;
  value: number;
  message: string;
  leak?: AlertLeak;
  /** The instance stopped or is gone: resolve now, whatever `keep_firing_for` says. */
  final?: boolean;
  /**
   * With `final`, for rules about the instance's data (not its silence): when it ended, its
   * last report. The alert resolved then, not when the engine saw it (after a collector
   * restart, that can be hours later).
   */
  endedAt?: number;
  /** A pending alert fires now rather than being dropped (a silent instance that went gone). */
  promote?: boolean;
}

/** Why an alert is about nothing any more, by status; null while the instance may report. */
export function ended(status: InstanceView["status"]): string | null {
  return status === "stopped"
    ? "instance stopped (said goodbye)"
    : status === "gone"
    ? "instance gone"
    : null;
}

/** What {@link absenceVerdict} needs to know besides the view. */
export interface AbsenceContext {
  /** When this collector run started (the engine's clock). */
  started: number;
  now: number;
  /** Why the instance's alerts are over (stopped, gone), or null (see {@link ended}). */
  gone: string | null;
  /** It reported live in this run (its pending silent alert fires when it goes gone). */
  seenLive: boolean;
  /** A silent alert of this rule and instance is active or carried over from the last run. */
  alerted: boolean;
}

/**
 * An absence rule's verdict: silent once stale (3 missed intervals; a shorter pause is the
 * instance's rhythm, an OTel SDK exports once a minute), whatever `for` says.
 *
 * Silence is alerted only where a collector watched it begin. After a restart, silence is
 * counted from the restart (an instance gets `for` to report again), and an instance not
 * heard since is silent only if the previous run had seen it fall silent already (its silent
 * alert, pending or firing, was carried over: it goes on). One that was live when the
 * collector stopped, or died, and never reports again ended with the collector or while it
 * was down: stopped together with it (a stack stopped at once, a demo whose terminal was
 * closed: its goodbye reached no one), replaced under a new id (pid-based ids), or crashed.
 * Nothing tells which, nor when, so it raises no alert: it is listed `stale`, then `gone`
 * (not `stopped`, which only a goodbye makes) 60 intervals after the restart, and alerts of
 * it carried over the restart end as carried.ts says. A running agent reconnects within
 * seconds; the cost is an app that dies just as the collector restarts: shown, not alerted.
 */
export function absenceVerdict(view: InstanceView, c: AbsenceContext): Verdict {
  const since = Math.max(view.lastSeen, c.started);
  const value = Math.round(Math.max(0, c.now - view.lastSeen) / 1000);
  if (c.gone !== null) {
    return { holds: false, since, value, message: c.gone, final: true, promote: c.seenLive };
  }
  if (view.status === "live") return { holds: false, since, value, message: "reporting again" };
  if (view.lastSeen < c.started && !c.alerted) {
    return { holds: false, since, value, message: "not heard since the collector restarted" };
  }
  const message = `silent for ${formatEta(c.now - view.lastSeen)} (${view.status})`;
  return { holds: true, since, value, message };
}

/** Rounded to two decimals, as alert values are kept. */
export function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/**
 * A leak rule's verdict from the instance's latest estimate (null: not enough data yet) and
 * its memory limit. `leakSince` (rule name -> since when it holds) is the instance's, kept
 * up to date here.
 */
export function leakVerdict(
  rule: LeakRule,
  e: LeakEstimate | null,
  limit: number | null,
  leakSince: Map<string, number>,
  now: number,
): Verdict {
  if (!e) {
    leakSince.delete(rule.name);
    return { holds: false, since: now, value: 0, message: "not enough memory data" };
  }
  const { holds, timeToLimitMs: ttl } = leakHolds(rule, e, limit);
  if (holds) {
    if (!leakSince.has(rule.name)) leakSince.set(rule.name, now);
  } else leakSince.delete(rule.name);
  const leak: AlertLeak = { mbPerHour: round(e.mbPerHour), confidence: round(e.confidence) };
  if (ttl !== undefined) leak.timeToLimitMs = Math.round(ttl);
  if (limit !== null) leak.limitBytes = limit;
  return {
    holds,
    since: leakSince.get(rule.name) ?? now,
    value: round(e.mbPerHour),
    message: holds
      ? leakText(e.mbPerHour, ttl)
      : `not leaking: ${formatLeakRate(e.mbPerHour)}, confidence ${round(e.confidence)}`,
    leak,
  };
}

/**
 * Least Mann–Kendall confidence that the last few minutes grow. Lower than a rule's
 * `confidence` (0.95) on purpose: the whole window has proved the trend already; the recent
 * part, a few minutes under a GC sawtooth, need only show that it has not stopped.
 */
export const RECENT_CONFIDENCE = 0.8;

/**
 * Whether a leak estimate meets a leak rule: a trend (confidence at least the rule's,
 * growth over the window larger than the wobble around it, both halves growing) that goes on
 * (the last few minutes grow too, confidently), that is more than a warm-up (a young process
 * must have grown by more than the rule's `warmup`), and that is fast (at least `growth`,
 * each half and the recent part at least half of it) or reaches `limit` within `within`.
 */
export function leakHolds(
  rule: LeakRule,
  e: LeakEstimate,
  limit: number | null,
): { holds: boolean; timeToLimitMs?: number } {
  const slope = e.mbPerHour * MB / 3_600_000;
  const ttl = limit !== null && slope > 0 ? Math.max(0, (limit - e.levelBytes) / slope) : undefined;
  const trend = e.confidence >= rule.minConfidence && e.signalToNoise >= 1 &&
    e.sustainedMbPerHour > 0;
  const goingOn = e.recentConfidence >= RECENT_CONFIDENCE && e.recentMbPerHour > 0;
  const beyondWarmup = e.full || slope * e.spanMs >= (rule.warmupBytes ?? 0);
  const growth = rule.growthMbPerHour;
  const fast = growth !== undefined && e.mbPerHour >= growth &&
    e.sustainedMbPerHour >= growth / 2 && e.recentMbPerHour >= growth / 2;
  const soon = rule.withinMs !== undefined && ttl !== undefined && ttl <= rule.withinMs;
  return { holds: trend && goingOn && beyondWarmup && (fast || soon), timeToLimitMs: ttl };
}
