/// <reference lib="dom" />
/**
 * Whether an instance counts as live, stale, gone or stopped: the collector's verdict (gone
 * after 60 missed reports, or replaced; stopped when it said goodbye), and also the page's own check
 * that a sample arrived within three reporting intervals (so a tab that lost its connection
 * or a silent app is not shown as live forever).
 *
 * @module
 */
import type { InstanceStatus, InstanceView } from "../lib/live/messages.ts";

/** Live, stale, gone or stopped, judged at collector time `now`. */
export function statusOf(view: InstanceView, now: number): InstanceStatus {
  if (view.status === "stopped") return "stopped";
  if (view.status === "gone") return "gone";
  if (view.status === "stale") return "stale";
  const interval = Number.isFinite(view.intervalMs) && view.intervalMs > 0 ? view.intervalMs : 1000;
  if (view.lastSeen > 0 && now - view.lastSeen > 3 * interval + 1000) return "stale";
  return "live";
}
