/**
 * What the collector tells the dashboard: the JSON shapes of `/api/instances` rows and of
 * every WebSocket frame on `/ws`. Shared by the hub (server) and `static/` (page), so both
 * sides change together. All times are the collector's clock, ms since the epoch.
 *
 * @module
 */

import type { Alert, LeakEstimate } from "../model/alert.ts";
import type { InstanceStatus, InstanceView } from "../model/instance.ts";
import type { QueueDelaySummary } from "../model/queue_delay.ts";

export type { Alert, InstanceStatus, InstanceView, LeakEstimate };

/** One service: its instances and, when it reports request metrics, its HTTP health. */
export interface ServiceView {
  service: string;
  /** Instances counted: all but the retired (ended over 15 minutes ago). */
  instances: number;
  live: number;
  /** Of `instances`, those that said goodbye: not expected up, so not missing. */
  stopped: number;
  restarts: number;
  /** Null when the service reports no request metrics. */
  http: {
    requestsPerS: number;
    errorsPerS: number;
    /** Share of requests answered 5xx, 0..1. */
    errorRatio: number;
    /** Latency percentiles over the last 10 s, ms (null with no requests). */
    p50: number | null;
    p95: number | null;
    p99: number | null;
  } | null;
}

/** Points of one instance: `[collector time, value]` pairs per metric. */
export type SeriesPoints = Record<string, Array<[number, number]>>;

/** First frame on connect: everything a late page needs to draw the last window at once. */
export interface HelloFrame {
  type: "hello";
  /** Collector clock when the frame was built, so the page can place points on it. */
  now: number;
  windowMs: number;
  instances: InstanceView[];
  /** Instance id -> recent points of the requested metrics (thinned evenly past a bound). */
  series: Record<string, SeriesPoints>;
  /**
   * Instances left out of this hello to bound its size (the least recently seen first);
   * their later frames still arrive. Absent: none.
   */
  omitted?: number;
  /**
   * Where an app on the collector's machine reports: its PULL endpoint, a wildcard host as
   * loopback (lib/banner.ts `connectEndpoint`). The page's first-run hint names it.
   */
  agents?: string;
  /**
   * Where an OpenTelemetry SDK on the collector's machine exports (its
   * `OTEL_EXPORTER_OTLP_ENDPOINT`): the OTLP listener's base URL, a wildcard host as loopback.
   * Absent when the listener is off. The page's first-run hint names it.
   */
  otlp?: string;
}

/**
 * New samples from one instance: all it sent in one turn of the collector's event loop, in
 * columns (lib/live/samples.ts builds and reads them). Sample `j` was taken at `t[j]`, and
 * `v[metric][j]` is its value of `metric`, or a gap when that sample lacks it. The hub sends
 * it in the binary form (lib/live/wire.ts, docs/api.md), which reads back as Float64Arrays
 * with NaN gaps; its JSON form has arrays with null gaps. Every column is as long as `t`.
 */
export interface SamplesFrame {
  type: "samples";
  /** Collector clock when the latest of these samples arrived. */
  now: number;
  id: string;
  /** Collector time of each sample, ms (in arrival order; not necessarily ascending). */
  t: ArrayLike<number>;
  /** Metric -> one value per sample in `t` (NaN or null: that sample lacks the metric). */
  v: Record<string, ArrayLike<number | null>>;
}

/** An instance appeared or changed (status, colour, pid, loss). */
export interface InstanceFrame {
  type: "instance";
  now: number;
  instance: InstanceView;
}

/** Every service's summary, once a second. */
export interface ServicesFrame {
  type: "services";
  now: number;
  services: ServiceView[];
}

/** Active alerts and each instance's current leak estimate, once a second. */
export interface AlertsFrame {
  type: "alerts";
  now: number;
  active: Alert[];
  /** Instance id -> the leak detector's estimate (for badges and the trend line). */
  leaks: Record<string, LeakEstimate>;
}

/** Sent when the server had to drop frames for this client because it read too slowly. */
export interface DroppedFrame {
  type: "dropped";
  now: number;
  count: number;
}

/**
 * How long frames waited between the agents' sends and ingest over the last minute, once a
 * second (lib/collector/queue_delay.ts): the page shows it in its header.
 */
export interface IngestFrame {
  type: "ingest";
  now: number;
  queueDelayMs: QueueDelaySummary;
}

/**
 * Frames ingest published in one turn of the collector's event loop, in order, as one
 * WebSocket message (lib/live/hub.ts `publishSoon`): a reader takes them one by one. With
 * samples frames in it, it is the header of a binary message (lib/live/wire.ts).
 */
export interface BatchFrame {
  type: "batch";
  frames: LiveFrame[];
}

/** Every frame the server sends on `/ws` (some of them inside a {@link BatchFrame}). */
export type LiveFrame =
  | HelloFrame
  | SamplesFrame
  | InstanceFrame
  | ServicesFrame
  | AlertsFrame
  | DroppedFrame
  | IngestFrame;
