/**
 * The collector's once-a-second round, job by job (run by periodic.ts in this order): hand
 * points to the history thread, move instances through their lifecycle, evaluate alerts,
 * publish service and alert summaries to live clients, trim the recent window, prune heap
 * profiles of forgotten instances, and list instances only the remote-read cluster knows.
 * Its live frames go out together (hub.ts `publishSoon`): 10 000 instances going stale at
 * once are one message per client, not 10 000.
 *
 * @module
 */
import type { PeriodicJob } from "./periodic.ts";
import type { Instances } from "./instances.ts";
import type { RecentStore } from "../store/recent.ts";
import type { Services } from "./services.ts";
import type { Hub } from "../live/hub.ts";
import type { CollectorStats } from "./stats.ts";
import type { AlertEngine } from "../alerts/mod.ts";
import type { LeakEstimate } from "../model/alert.ts";
import type { HistoryThread } from "./history.ts";
import type { ProfileStore } from "./profiles.ts";

/** The parts of a running collector the round works on. */
export interface JobDeps {
  instances: Instances;
  recent: RecentStore;
  services: Services;
  hub: Hub;
  stats: CollectorStats;
  alerts: AlertEngine;
  profiles: ProfileStore;
  history: HistoryThread | null;
  /** Silent instances are forgotten after this long, ms. */
  forgetAfterMs: number;
  /** Refresh the list of instances only the remote-read cluster knows (every 30 s). */
  refreshRemote(now: number): void;
  /** Null while the history database is the file opened, else what happened (data_file.ts). */
  checkDataFile: (() => string | null) | null;
}

/** The round's jobs, in order. */
export function collectorJobs(deps: JobDeps): PeriodicJob[] {
  const { instances, recent, services, hub, stats, alerts, profiles, history } = deps;
  const { forgetAfterMs, refreshRemote, checkDataFile } = deps;
  let prunedAt = -Infinity;
  return [
    {
      // Hand buffered points to the history thread. Disk full, read-only directory...:
      // counted always, logged once a minute; the live view continues.
      name: "history",
      run: () => {
        if (!history) return;
        stats.historyDropped = history.dropped;
        stats.historyShed = history.shedFrom;
        return history.tick().then(() => {
          stats.historyDurable = history.durable;
        }, (e) => {
          stats.historyErrors++;
          throw e;
        });
      },
    },
    {
      // The database deleted or replaced under us: logged once a minute, in /api/stats.
      name: "data-dir",
      run: () => {
        stats.historyProblem = checkDataFile?.() ?? null;
        if (stats.historyProblem) throw new Error(stats.historyProblem);
      },
    },
    {
      // live -> stale -> gone, forgetting what outlived the retention. A new status is kept
      // in history too: after a restart, an instance gone before it is still gone (restored
      // as last stored, it looked silent again and raised a new silent alert).
      name: "lifecycle",
      run: (t) => {
        const { changed, forgotten } = instances.sweep(t, forgetAfterMs);
        for (const view of changed) {
          hub.publishSoon({ type: "instance", now: t, instance: view });
          history?.touch(view, instances.lastSeq(view.id), instances.agentStart(view.id));
        }
        for (const id of forgotten) recent.forget(id);
        if (forgotten.length > 0) services.retain(new Set(instances.list().map((v) => v.service)));
      },
    },
    { name: "alerts", run: (t) => alerts.evaluate(t, instances.list()) },
    {
      name: "services",
      run: (t) => {
        const list = instances.list();
        services.advance(list);
        if (hub.size === 0) return;
        hub.publishSoon({ type: "services", now: t, services: services.summarise(list, t) });
      },
    },
    {
      name: "alert-feed",
      run: (t) => {
        if (hub.size === 0) return;
        const leaks: Record<string, LeakEstimate> = {};
        for (const v of instances.list()) {
          const leak = alerts.leakOf(v.id);
          if (leak) leaks[v.id] = leak;
        }
        hub.publishSoon({ type: "alerts", now: t, active: alerts.list().active, leaks });
      },
    },
    {
      // The page's header shows the queueing delay at arrival (queue_delay.ts).
      name: "ingest-feed",
      run: (t) => {
        if (hub.size === 0) return;
        hub.publishSoon({ type: "ingest", now: t, queueDelayMs: stats.queueDelay.summary(t) });
      },
    },
    { name: "trim", run: (t) => recent.trim(t) },
    {
      name: "profiles",
      run: (t) => {
        if (t - prunedAt < 60_000) return;
        prunedAt = t;
        profiles.prune(new Set(instances.list().map((v) => v.id)));
      },
    },
    // Instances only the remote-read cluster knows, listed again every 30 s.
    { name: "remote-read", run: (t) => refreshRemote(t) },
  ];
}
