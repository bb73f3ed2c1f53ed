/**
 * `/metrics`: the collector's own health as `zeroapm_*` families. What it received and
 * refused (by reason), its queues (history thread backlog, WebSocket send buffers, webhook
 * queue), WebSocket clients and drops, instances by status, store size, alerts, and the
 * process's RSS and CPU. Read from the live objects on each scrape; nothing is kept here.
 *
 * @module
 */
import process from "node:process";
import type { MetricFamily } from "./exposition.ts";
import type { CollectorStats, RefusalReason } from "../collector/stats.ts";
import { REFUSAL_REASONS } from "../collector/stats.ts";
import type { InstanceStatus, InstanceView } from "../live/messages.ts";
import type { AlertStats } from "../alerts/engine.ts";

/** The process's own numbers (injected in tests). */
export interface ProcessInfo {
  rssBytes: number;
  cpuSeconds: number;
}

/** What the collector's families are read from. */
export interface SelfMetricsDeps {
  stats: CollectorStats;
  instances: { list(): InstanceView[] };
  hub: { size: number; dropped: number; closedStuck: number; bufferedBytes: number };
  /** The history thread, when there is a data directory. */
  history: { pending: number; dropped: number } | null;
  /** Series held in memory (the recent store). */
  seriesInMemory: () => number;
  /** Bytes the data directory's files take, or null without one. */
  diskBytes: () => number | null;
  alerts: { stats(): AlertStats } | null;
  process?: () => ProcessInfo;
}

const STATUSES: readonly InstanceStatus[] = ["live", "stale", "gone", "stopped"];

/** This process's RSS and CPU time (user + system). */
export function readProcess(): ProcessInfo {
  const cpu = process.cpuUsage();
  return { rssBytes: Deno.memoryUsage().rss, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/**
 * Total size of the regular files directly in `dir` (databases and their WAL files), or null
 * when the directory cannot be read (removed under the collector): a scrape never fails on it.
 */
export function dirBytes(dir: string): number | null {
  let entries;
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return null;
  }
  let n = 0;
  for (const e of entries) {
    if (!e.isFile) continue;
    try {
      n += Deno.statSync(`${dir}/${e.name}`).size;
    } catch {
      // removed between the listing and the stat (a WAL file at checkpoint)
    }
  }
  return n;
}

const counter = (name: string, help: string, value: number): MetricFamily => ({
  name,
  help,
  type: "counter",
  samples: [{ value }],
});
const gauge = (name: string, help: string, value: number): MetricFamily => ({
  name,
  help,
  type: "gauge",
  samples: [{ value }],
});

/** The provider for the collector's own families. */
export function selfMetrics(deps: SelfMetricsDeps): () => MetricFamily[] {
  const readProc = deps.process ?? readProcess;
  return () => {
    const { stats, hub, history } = deps;
    const list = deps.instances.list();
    const byStatus: Record<InstanceStatus, number> = { live: 0, stale: 0, gone: 0, stopped: 0 };
    let lost = 0;
    for (const v of list) {
      byStatus[v.status]++;
      lost += v.lost;
    }
    const proc = readProc();
    const alerts = deps.alerts?.stats() ?? null;
    const delay = stats.queueDelaySummary();
    const out: MetricFamily[] = [
      counter("zeroapm_frames_accepted_total", "Frames decoded and accepted.", stats.messages),
      counter("zeroapm_samples_accepted_total", "Samples accepted.", stats.samples),
      counter("zeroapm_received_bytes_total", "Bytes of frames received.", stats.bytes),
      {
        name: "zeroapm_refusals_total",
        help: "Frames, instances or series refused, by reason.",
        type: "counter",
        samples: REFUSAL_REASONS.map((r: RefusalReason) => ({
          labels: [["reason", r]],
          value: stats.refused[r],
        })),
      },
      {
        name: "zeroapm_ingest_queue_delay_seconds",
        help: "Wait between an agent's send and ingest over the last minute: p50, p99, max.",
        type: "gauge",
        samples: delay.count === 0 ? [] : [
          { labels: [["stat", "p50"]], value: delay.p50! / 1000 },
          { labels: [["stat", "p99"]], value: delay.p99! / 1000 },
          { labels: [["stat", "max"]], value: delay.max! / 1000 },
        ],
      },
      counter(
        "zeroapm_ingest_queued_seconds_total",
        "Sum of every frame's wait between the agent's send and ingest.",
        stats.queueDelay.sumMs / 1000,
      ),
      counter(
        "zeroapm_ingest_queue_measured_frames_total",
        "Frames whose queueing delay was measured.",
        stats.queueDelay.total,
      ),
      gauge(
        "zeroapm_samples_lost",
        "Samples lost to sequence gaps, over the instances still known.",
        lost,
      ),
      {
        name: "zeroapm_instances",
        help: "Instances known, by status.",
        type: "gauge",
        samples: STATUSES.map((s) => ({ labels: [["status", s]], value: byStatus[s] })),
      },
      gauge("zeroapm_websocket_clients", "Dashboard WebSocket clients connected.", hub.size),
      gauge(
        "zeroapm_websocket_buffered_bytes",
        "Bytes queued to WebSocket clients and not yet sent.",
        hub.bufferedBytes,
      ),
      counter(
        "zeroapm_websocket_dropped_frames_total",
        "Live frames dropped for slow WebSocket clients.",
        hub.dropped,
      ),
      counter(
        "zeroapm_websocket_closed_stuck_total",
        "WebSocket clients closed after staying over their send-buffer bound.",
        hub.closedStuck,
      ),
      gauge(
        "zeroapm_history_pending_points",
        "Points waiting for the history thread (its backlog).",
        history?.pending ?? 0,
      ),
      counter(
        "zeroapm_history_dropped_points_total",
        "Points not kept in history (over its bound).",
        history?.dropped ?? 0,
      ),
      counter(
        "zeroapm_history_errors_total",
        "Failed history writes (disk full, read-only).",
        stats.historyErrors,
      ),
      gauge(
        "zeroapm_store_series",
        "Series held in memory for live charts.",
        deps.seriesInMemory(),
      ),
    ];
    const disk = deps.diskBytes();
    if (disk !== null) {
      out.push(gauge("zeroapm_store_disk_bytes", "Bytes of the data directory's files.", disk));
    }
    if (alerts) {
      out.push(
        gauge("zeroapm_alert_rules", "Alert rules loaded.", alerts.rules),
        {
          name: "zeroapm_alerts",
          help: "Active alerts, by state.",
          type: "gauge",
          samples: [
            { labels: [["state", "pending"]], value: alerts.pending },
            { labels: [["state", "firing"]], value: alerts.firing },
          ],
        },
      );
      if (alerts.notify) {
        const n = alerts.notify;
        out.push(
          gauge("zeroapm_webhook_queued", "Webhook deliveries waiting or being tried.", n.queued),
          {
            name: "zeroapm_webhook_deliveries_total",
            help: "Webhook deliveries, by outcome.",
            type: "counter",
            samples: [
              { labels: [["result", "sent"]], value: n.sent },
              { labels: [["result", "failed"]], value: n.failed },
              { labels: [["result", "dropped"]], value: n.dropped },
            ],
          },
          counter("zeroapm_webhook_retries_total", "Webhook tries after the first.", n.retried),
        );
      }
    }
    out.push(
      gauge("zeroapm_process_resident_memory_bytes", "Collector RSS.", proc.rssBytes),
      counter(
        "zeroapm_process_cpu_seconds_total",
        "Collector CPU time, user + system.",
        proc.cpuSeconds,
      ),
      gauge(
        "zeroapm_process_start_time_seconds",
        "When the collector started, seconds since the epoch.",
        stats.started / 1000,
      ),
    );
    return out;
  };
}
