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
import { statusAt } from "../lib/model/instance.ts";

/** Live, stale, gone or stopped, judged at collector time `now`. */
export function statusOf(view: InstanceView, now: number): InstanceStatus {
  if (view.status === "stopped" || view.status === "gone" || view.status === "stale") {
    return view.status;
  }
  // The collector's rule, with a second's grace for delivery: a live view may be a moment old.
  const own = statusAt(view, now, 1000);
  return own === "gone" ? "stale" : own; // gone is the collector's word to give
}
