/**
 * After a collector restart, what durable history gives back before ingest starts: the
 * recent window the live charts draw, and each instance's RSS trend for its leak detector.
 *
 * @module
 */
import { type AlertEngine, RSS_METRIC } from "../alerts/mod.ts";
import { CHART_METRICS, type InstanceView } from "../model/instance.ts";
import type { RecentStore } from "../store/recent.ts";
import type { HistoryThread } from "./history.ts";
import { errorMessage } from "../errors.ts";

/** What {@link refillFromHistory} fills. */
export interface RefillTargets {
  history: HistoryThread;
  /** The instances restored from history. */
  views: InstanceView[];
  recent: RecentStore;
  alerts: AlertEngine;
  now: number;
  log: (line: string) => void;
}

/**
 * Both refills, once the instances are restored: the live window, then the leak trends. A
 * query that fails leaves its line or trend to start over; the first failure is logged and
 * the rest counted, in one line that also says how long the refill took.
 */
export async function refillFromHistory(t: RefillTargets): Promise<void> {
  if (t.views.length === 0) return;
  const started = performance.now();
  let failed = 0;
  const onError = (e: unknown) => {
    if (failed++ === 0) t.log(`history: could not refill from history: ${errorMessage(e)}`);
  };
  await refillWindow(t.history, t.views.map((v) => v.id), t.recent, t.now, onError);
  const primed = await primeLeaks(t.history, t.views, t.alerts, t.now, onError);
  t.log(
    `history: ${t.views.length} instances restored; live window and ${primed} leak trends ` +
      `refilled in ${Math.round(performance.now() - started)} ms` +
      (failed > 0 ? ` (${failed} queries failed)` : ""),
  );
}

/** Most instances whose leak trend is refilled after a restart (the most recently seen). */
export const MAX_PRIMED_INSTANCES = 1000;

/**
 * After a restart, hand the alert engine each restored instance's RSS over the leak window
 * (since its agent started, in the detectors' buckets), so its leak trend goes on when it
 * reports again instead of starting over (AlertEngine.primeLeak). Instances that said
 * goodbye, are gone, or were not seen within the window have nothing to go on; beyond
 * {@link MAX_PRIMED_INSTANCES} (a query each, before ingest starts) the trend starts over.
 * A query that fails leaves that instance to start over (`onError` hears why): the
 * collector starts anyway. Returns how many instances were primed.
 */
export async function primeLeaks(
  history: HistoryThread,
  views: InstanceView[],
  alerts: AlertEngine,
  now: number,
  onError: (e: unknown) => void,
): Promise<number> {
  const { windowMs, resolutionMs } = alerts.leakWindow;
  const wanted = views
    .filter((v) => v.status !== "stopped" && v.status !== "gone" && v.lastSeen >= now - windowMs)
    .sort((a, b) => b.lastSeen - a.lastSeen)
    .slice(0, MAX_PRIMED_INSTANCES);
  const asked = wanted.map((view) => {
    const from = Math.max(now - windowMs, view.startedAt ?? -Infinity);
    const points = Math.max(1, Math.ceil((now - from) / resolutionMs));
    return answered(history.query(view.id, RSS_METRIC, from, now, points), onError);
  });
  let primed = 0;
  for (const [i, answer] of (await Promise.all(asked)).entries()) {
    if (!answer) continue;
    alerts.primeLeak(
      wanted[i],
      answer.points.map(([t]) => t),
      answer.points.map(([, , avg]) => avg),
    );
    primed++;
  }
  return primed;
}

/** A query's answer, or null when it failed (said to `onError`). */
function answered<T>(query: Promise<T>, onError: (e: unknown) => void): Promise<T | null> {
  return query.catch((e) => {
    onError(e);
    return null;
  });
}

/**
 * After a restart, fill the in-memory window from durable history (1-second buckets of the
 * charted metrics), so live charts and a page opened now show the minutes before the restart.
 * A query that fails leaves that chart line empty before the restart (`onError` hears why).
 */
async function refillWindow(
  history: HistoryThread,
  ids: string[],
  recent: RecentStore,
  now: number,
  onError: (e: unknown) => void,
): Promise<void> {
  const from = now - recent.windowMs;
  const points = Math.min(5000, Math.ceil(recent.windowMs / 1000));
  // All asked at once: the history thread answers in turn, without a round trip each.
  const asked = ids.flatMap((id) =>
    CHART_METRICS.map(async (metric) => ({
      id,
      metric,
      answer: await answered(history.query(id, metric, from, now, points), onError),
    }))
  );
  for (const { id, metric, answer } of await Promise.all(asked)) {
    for (const [t, , avg] of answer?.points ?? []) recent.push(id, metric, t, avg);
  }
}
