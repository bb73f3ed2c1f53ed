/// <reference lib="dom" />
/**
 * The page's read-only test surface, `window.__zeroapm`: what the browser tests (and a
 * curious developer in the console) read instead of scraping pixels and text. It exposes
 * state; it changes nothing.
 *
 * @module
 */
import type { LeakEstimate, ServicesFrame } from "../lib/live/messages.ts";
import type { ConnectionState } from "./socket.ts";
import type { ChartFrame, LineInfo, TrendInfo } from "./charts.ts";
import type { View } from "./url_state.ts";
import type { HistoryInfo } from "./history.ts";
import type { PanelInfo } from "./services.ts";
import type { AlertsInfo } from "./alerts.ts";
import type { LeakBadge } from "./alerts_model.ts";

/** What `window.__zeroapm` answers. */
export interface Debug {
  snapshot(): {
    state: ConnectionState;
    frames: number;
    dropped: number;
    offsetMs: number;
    windowMs: number;
    instances: string[];
    charts: Record<
      "cpu" | "mem" | "custom",
      {
        lines: LineInfo[];
        range: { min: number; max: number } | null;
        /** The last frame: canvas width and the gutter kept clear for the y labels. */
        frame: ChartFrame | null;
      }
    >;
    /** Instance id -> container memory limit (bytes) drawn on the live memory chart. */
    memLimits: Record<string, number>;
    /** Leak trend lines drawn on the live memory chart's last frame (CSS pixels). */
    memTrends: TrendInfo[];
    /** The picked custom metric. */
    metric: string | null;
    collectorNow: number;
    view: View;
    hidden: string[];
  };
  /** The history view: range, tier, last request, and what each chart drew. */
  history(): HistoryInfo;
  /** The newest service summaries received. */
  services(): ServicesFrame["services"];
  /** The service panels as shown. */
  panels(): PanelInfo[];
  /** The metric picker's options. */
  picker(): Array<{ key: string; group: string; text: string }>;
  /** The instance table's group headers. */
  groups(): Array<{ service: string; text: string }>;
  /** The alerts panel as shown, and each instance's leak badge and estimate. */
  alerts(): AlertsInfo & {
    badges: Record<string, LeakBadge>;
    leaks: Record<string, LeakEstimate>;
  };
}

/** Publish the test surface as `window.__zeroapm`. */
export function exposeDebug(debug: Debug): void {
  Object.defineProperty(globalThis, "__zeroapm", { value: Object.freeze(debug) });
}
