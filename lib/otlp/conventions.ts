/**
 * OpenTelemetry's semantic conventions in zeroapm's own names: the metrics whose meaning
 * zeroapm already has a series for, so an app instrumented with OpenTelemetry draws the same
 * charts, service cards and alerts as an app with the agent. translate.ts asks once per
 * metric; any other metric keeps its own name.
 *
 * - `process.memory.usage` (Gauge, or cumulative UpDownCounter) is `mem.rss_bytes`.
 * - `process.cpu.time` in seconds: its states at one time add up into `cpu.seconds_total`,
 *   the counter the collector derives `cpu.percent` from; sent as deltas, `cpu.percent` at once.
 * - The HTTP server duration histogram (`http.server.request.duration` in s, or the older
 *   `http.server.duration` in ms), is the agent's middleware's pair: the histogram
 *   `http.request_duration_ms{method,route}` (its points for every status added up) and the
 *   counter `http.requests_total{method,route,status}` (each point's count, by status class);
 *   sent as deltas, the rate `http.requests.per_s{method,route,status}` the counter would give.
 *   The service card's request rate, errors and latency come from these.
 *
 * @module
 */
import { METRICS } from "../protocol.ts";
import { CPU_SECONDS } from "../collector/derive.ts";
import { methodLabel, OTHER_ROUTE, statusClass } from "../agent/middleware.ts";
import { type Metric, metricKind, TEMPORALITY } from "./decode.ts";

/** How a metric of the conventions is stored. */
export type Convention =
  /** Points are values of `series`, labels kept. */
  | { kind: "gauge"; series: string }
  /** The points at one time add up into one unlabelled `series` (a counter). */
  | { kind: "counter_sum"; series: string }
  /** The points at one time add up into one unlabelled `series`: value × scale / span (s). */
  | { kind: "delta_sum"; series: string; scale: number }
  /** An HTTP server duration histogram; values × scale are ms; `delta`: its temporality. */
  | { kind: "http"; scale: number; delta: boolean };

/** The temporality as a number; OTLP/JSON should send the number, some send the name. */
export function temporality(v: unknown): number {
  if (v === "AGGREGATION_TEMPORALITY_DELTA") return TEMPORALITY.delta;
  if (v === "AGGREGATION_TEMPORALITY_CUMULATIVE") return TEMPORALITY.cumulative;
  return typeof v === "number" ? v : TEMPORALITY.unspecified;
}

/** The HTTP server duration metrics, by name: the unit each must have, and its scale to ms. */
const HTTP_DURATION: Record<string, { unit: string; scale: number }> = {
  "http.server.request.duration": { unit: "s", scale: 1000 },
  "http.server.duration": { unit: "ms", scale: 1 },
};

/**
 * How a metric of the conventions is stored, or null to keep it under its own name (any
 * other metric, or one of these in a shape or unit the conventions do not give it).
 */
export function conventionOf(m: Metric): Convention | null {
  const kind = metricKind(m);
  switch (m.name) {
    case "process.memory.usage": {
      const gauge = kind === "gauge" ||
        kind === "sum" && !m.sum!.isMonotonic &&
          temporality(m.sum!.aggregationTemporality) === TEMPORALITY.cumulative;
      return gauge ? { kind: "gauge", series: METRICS.rssBytes } : null;
    }
    case "process.cpu.time": {
      if (kind !== "sum" || (m.unit && m.unit !== "s")) return null;
      const t = temporality(m.sum!.aggregationTemporality);
      if (t === TEMPORALITY.cumulative) return { kind: "counter_sum", series: CPU_SECONDS };
      if (t === TEMPORALITY.delta) {
        return { kind: "delta_sum", series: METRICS.cpuPercent, scale: 100 };
      }
      return null;
    }
  }
  const http = Object.hasOwn(HTTP_DURATION, m.name) ? HTTP_DURATION[m.name] : undefined;
  if (!http || kind !== "histogram" || m.unit !== http.unit) return null;
  const t = temporality(m.histogram!.aggregationTemporality);
  if (t === TEMPORALITY.cumulative) return { kind: "http", scale: http.scale, delta: false };
  if (t === TEMPORALITY.delta) return { kind: "http", scale: http.scale, delta: true };
  return null;
}

/** Attribute values by key, as translate.ts reads them. */
export type Attributes = ReadonlyMap<string, string | number | boolean>;

/**
 * The series keys' labels of one HTTP server duration point, as the agent's middleware labels
 * its own: method (a standard one, else `OTHER`), route template (else `other`), status class
 * (a request without a status code is counted as a `5xx`).
 */
export function httpLabels(attrs: Attributes): { method: string; route: string; status: string } {
  const text = (...keys: string[]) => {
    for (const k of keys) {
      const v = attrs.get(k);
      if (v !== undefined) return String(v);
    }
    return undefined;
  };
  const code = Number(text("http.response.status_code", "http.status_code"));
  const route = text("http.route");
  return {
    method: methodLabel(text("http.request.method", "http.method")),
    route: route !== undefined && route.length > 0 ? route : OTHER_ROUTE,
    status: statusClass(Number.isInteger(code) ? code : 0),
  };
}

/**
 * An attribute key as a label name (`[a-z_][a-z0-9_]*`): `http.route` -> `http_route`,
 * `customerTier` -> `customer_tier`, `Weird-Key` -> `weird_key`. An SDK's keys follow no one
 * rule, and a key we could not name refused its whole data point.
 */
export function labelName(key: string): string {
  const snake = key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase()
    .replace(/[^a-z0-9_]/g, "_");
  return /^[0-9]/.test(snake) ? `_${snake}` : snake;
}
