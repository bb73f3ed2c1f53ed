/**
 * OTLP metrics -> the collector's decoded {@link Message}s, so an OpenTelemetry SDK's points
 * take the same path as an agent's (instances, derived series, stores, alerts, live hub).
 *
 * One message per `ResourceMetrics`, its identity from identity.ts. Gauges and
 * non-monotonic sums are gauges; monotonic cumulative sums become `<name>_total` counters
 * (the collector derives `<name>.per_s`); delta sums arrive as `<name>.per_s` directly
 * (value / the point's time span). Explicit-bucket histograms are mapped into the fixed
 * buckets of lib/histogram.ts, narrowed by their points' `min` and `max` (buckets.ts,
 * histograms.ts): cumulative ones are taken apart into each export's interval (remembered per
 * series in an {@link OtlpMemory}) and arrive as running totals, histograms the collector
 * derives percentiles from and merges per service; delta ones arrive as their derived series.
 * Histograms in seconds (`unit: "s"`)
 * are scaled to ms and named `<name>_ms`. Point attributes are labels (`labelName`: dots and
 * other characters become underscores, camelCase snake_case). Metrics of OpenTelemetry's conventions that zeroapm has a series for (process
 * CPU and memory, HTTP server durations) arrive under zeroapm's names (conventions.ts). A
 * point that cannot be mapped is rejected and counted by reason; the rest of the request still
 * goes in (OTLP partial success). The instance's interval is learned from the time between its
 * exports (intervals.ts). See docs/protocol.md.
 *
 * @module
 */
import { errorMessage } from "../errors.ts";
import type { Histogram, Message, RejectReason, Sample } from "../protocol.ts";
import { LIMITS } from "../protocol.ts";
import { quantile } from "../histogram.ts";
import { cumulate, type OtlpMemory, pointBuckets, seriesKey } from "./histograms.ts";
import { formatKey, validName } from "../metric_key.ts";
import { derivedKey, PERCENTILES } from "../collector/derive.ts";
import { HTTP_METRICS } from "../agent/middleware.ts";
import { conventionOf, httpLabels, labelName, temporality } from "./conventions.ts";
import { earliestStart, identityOf } from "./identity.ts";
import {
  type ExportRequest,
  type HistogramDataPoint,
  int64,
  type KeyValue,
  type Metric,
  metricKind,
  type NumberDataPoint,
  numberValue,
  type ResourceMetrics,
  scalarValue,
  TEMPORALITY,
} from "./decode.ts";

/** Bounds on one request, beyond the body size. */
export const OTLP_LIMITS = {
  /** Most data points in one request; more refuses the whole request (`too_many`). */
  maxPoints: 20_000,
  /** Most attributes in any one list (resource or point); more refuses the whole request. */
  maxAttributes: 128,
  /** Most resources in one request. */
  maxResources: 1_000,
} as const;

/** Points rejected for one reason, with one example for the log and the answer. */
export interface Rejection {
  count: number;
  detail: string;
}

/** Result of {@link translate}. */
export type Translation =
  | { ok: true; messages: Message[]; rejected: Map<RejectReason, Rejection>; points: number }
  | { ok: false; reason: RejectReason; detail: string };

/** One point cannot be mapped: it is rejected, the rest goes in. */
class Refuse extends Error {
  constructor(readonly reason: RejectReason, readonly detail: string) {
    super(detail);
  }
}

/** The request is beyond a bound: all of it is refused. */
class RefuseRequest extends Refuse {}

/**
 * Translate a decoded request. `memory` holds each cumulative histogram's previous point and
 * totals from one request to the next: one per listener. Never throws.
 */
export function translate(request: ExportRequest, memory: OtlpMemory): Translation {
  const rejected = new Map<RejectReason, Rejection>();
  const reject = (reason: RejectReason, detail: string) => {
    const r = rejected.get(reason);
    if (r) r.count++;
    else rejected.set(reason, { count: 1, detail });
  };
  try {
    const resources = request.resourceMetrics ?? [];
    if (!Array.isArray(resources)) throw new RefuseRequest("wrong_type", "resourceMetrics");
    if (resources.length > OTLP_LIMITS.maxResources) {
      throw new RefuseRequest(
        "too_many",
        `${resources.length} resources exceed ${OTLP_LIMITS.maxResources}`,
      );
    }
    let points = 0;
    for (const rm of resources) {
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) points += pointsOf(m).length;
      }
    }
    if (points > OTLP_LIMITS.maxPoints) {
      throw new RefuseRequest("too_many", `${points} data points exceed ${OTLP_LIMITS.maxPoints}`);
    }
    const messages: Message[] = [];
    for (const rm of resources) {
      const message = translateResource(rm, reject, memory);
      if (message) messages.push(message);
    }
    return { ok: true, messages, rejected, points };
  } catch (e) {
    if (e instanceof Refuse) return { ok: false, reason: e.reason, detail: e.detail };
    return { ok: false, reason: "wrong_type", detail: errorMessage(e) };
  }
}

function pointsOf(m: Metric): unknown[] {
  const kind = metricKind(m);
  const points = kind ? m[kind]?.dataPoints : undefined;
  return Array.isArray(points) ? points : [];
}

type Reject = (reason: RejectReason, detail: string) => void;

function translateResource(
  rm: ResourceMetrics,
  reject: Reject,
  memory: OtlpMemory,
): Message | null {
  const attrs = scalars(rm.resource?.attributes ?? []);
  const metrics = (rm.scopeMetrics ?? []).flatMap((sm) => sm.metrics ?? []);
  const identity = identityOf(attrs);
  if (typeof identity === "string") {
    for (const m of metrics) {
      for (const _ of pointsOf(m)) reject("missing_field", identity);
    }
    return null;
  }
  const byTime = new Map<number, Sample>();
  const sampleAt = (ts: number) => {
    let s = byTime.get(ts);
    if (!s) byTime.set(ts, s = { seq: null, ts, metrics: {} });
    return s;
  };
  let start: number | null = null;
  const whose = `${identity.service}\u0000${identity.instance}`;
  for (const m of metrics) {
    const points = pointsOf(m) as Array<NumberDataPoint | HistogramDataPoint>;
    if (points.length === 0) continue;
    let plan: Plan;
    try {
      plan = planOf(m);
    } catch (e) {
      if (!(e instanceof Refuse)) throw e;
      for (const _ of points) reject(e.reason, e.detail);
      continue;
    }
    for (const p of points) {
      if ((p.flags & 1) === 1) continue; // FLAG_NO_RECORDED_VALUE: nothing to store
      try {
        translatePoint(plan, p, sampleAt, { memory, whose });
      } catch (e) {
        if (!(e instanceof Refuse) || e instanceof RefuseRequest) throw e;
        reject(e.reason, e.detail);
        continue;
      }
      if (CUMULATIVE.has(plan.kind)) start = earliestStart(start, p);
    }
  }
  // A histogram point refused after its sample was made leaves that sample empty.
  const samples = [...byTime.values()].filter((s) => s.hist || Object.keys(s.metrics).length)
    .sort((a, b) => a.ts - b.ts);
  if (samples.length === 0) return null;
  cumulate(samples, whose, memory.totals);
  const intervalMs = memory.intervals.observe(whose, samples[samples.length - 1].ts);
  return {
    identity: { ...identity, start, intervalMs },
    sent: samples[samples.length - 1].ts,
    samples,
    legacy: false,
  };
}

/** Plans whose points count from a start time that stays the same export after export. */
const CUMULATIVE: ReadonlySet<Plan["kind"]> = new Set(["counter", "histogram", "http"]);

/** How one metric's points are stored, worked out (and its names checked) once per metric. */
interface Plan {
  metric: Metric;
  kind: "gauge" | "counter" | "delta" | "histogram" | "delta_histogram" | "http";
  /** The series name a point is keyed by (before its labels); for delta histograms the base. */
  series: string;
  /** Values are multiplied by this (histograms: 1000 for seconds; delta CPU seconds: 100). */
  scale: number;
  /** The key of a point without attributes (most points), formatted once. */
  bare: string;
  /** The points at one time add up into one series without labels (CPU time by state). */
  merge?: boolean;
  /** HTTP durations sent as deltas: each point is one interval's. */
  delta?: boolean;
}

function planOf(m: Metric): Plan {
  const name = m.name;
  if (typeof name !== "string") throw new Refuse("wrong_type", "metric name is not a string");
  // Derived series add up to 6 characters (".per_s"); the name must still be valid then.
  if (!validName(name) || !validName(`${name}.per_s`)) {
    throw new Refuse("invalid_name", `metric name ${JSON.stringify(name.slice(0, 40))} invalid`);
  }
  const plan = (kind: Plan["kind"], series: string, scale = 1): Plan => {
    if (!validName(series)) throw new Refuse("invalid_name", `${name}: name too long`);
    return { metric: m, kind, series, scale, bare: series };
  };
  const convention = conventionOf(m);
  if (convention) {
    switch (convention.kind) {
      case "gauge":
        return plan("gauge", convention.series);
      case "counter_sum":
        return { ...plan("counter", convention.series), merge: true };
      case "delta_sum":
        return { ...plan("delta", convention.series, convention.scale), merge: true };
      case "http":
        return {
          ...plan("http", HTTP_METRICS.duration, convention.scale),
          delta: convention.delta,
        };
    }
  }
  const kind = metricKind(m);
  switch (kind) {
    case "gauge":
      return plan("gauge", name);
    case "sum": {
      const t = temporality(m.sum!.aggregationTemporality);
      if (t === TEMPORALITY.delta) {
        const base = name.endsWith("_total") ? name.slice(0, -"_total".length) : name;
        return plan("delta", `${base}.per_s`);
      }
      if (t !== TEMPORALITY.cumulative) {
        throw new Refuse("wrong_type", `${name}: sum without aggregation temporality`);
      }
      if (!m.sum!.isMonotonic) return plan("gauge", name);
      return plan("counter", name.endsWith("_total") ? name : `${name}_total`);
    }
    case "histogram": {
      const inSeconds = m.unit === "s";
      const series = inSeconds ? `${name}_ms` : name;
      if (!validName(`${series}.per_s`)) throw new Refuse("invalid_name", `${name}: name too long`);
      const t = temporality(m.histogram!.aggregationTemporality);
      if (t === TEMPORALITY.cumulative) return plan("histogram", series, inSeconds ? 1000 : 1);
      if (t === TEMPORALITY.delta) return plan("delta_histogram", series, inSeconds ? 1000 : 1);
      throw new Refuse("wrong_type", `${name}: histogram without aggregation temporality`);
    }
    default:
      throw new Refuse("wrong_type", `${kind} is not supported (${name})`);
  }
}

function translatePoint(
  plan: Plan,
  p: NumberDataPoint | HistogramDataPoint,
  sampleAt: (ts: number) => Sample,
  memo: Memo,
): void {
  const name = plan.metric.name;
  const ts = int64(p.timeUnixNano) / 1e6;
  if (!(ts > 0 && ts <= 8.64e15)) throw new Refuse("invalid_number", `${name}: time missing`);
  const attributes = p.attributes ?? [];
  if (plan.kind === "http") {
    translateHttp(plan, p as HistogramDataPoint, ts, sampleAt, memo);
    return;
  }
  const labels = attributes.length === 0 || plan.merge ? null : labelsOf(name, attributes);
  if (plan.kind === "histogram" || plan.kind === "delta_histogram") {
    translateHistogram(plan, p as HistogramDataPoint, ts, labels, sampleAt, memo);
    return;
  }
  const np = p as NumberDataPoint;
  const value = numberValue(np);
  if (value === undefined) throw new Refuse("missing_field", `${name}: point has no value`);
  if (!Number.isFinite(value)) throw new Refuse("invalid_number", `${name}: value not finite`);
  const k = labels === null ? plan.bare : key(plan.series, labels);
  const v = plan.kind === "delta" ? round(value * plan.scale / spanSeconds(np, ts, name)) : value;
  const metrics = sampleAt(ts).metrics;
  metrics[k] = plan.merge && Object.hasOwn(metrics, k) ? metrics[k] + v : v;
}

/** Where a histogram point's series is remembered: the memory, and whose series it is. */
interface Memo {
  memory: OtlpMemory;
  whose: string;
}

/**
 * A point's counts in our fixed buckets (values × the plan's scale), with its sum: for a
 * cumulative plan, those of its interval since the series' previous point (histograms.ts).
 */
function ourHistogram(plan: Plan, p: HistogramDataPoint, memo: Memo) {
  const name = plan.metric.name;
  if (!Array.isArray(p.explicitBounds ?? []) || !Array.isArray(p.bucketCounts)) {
    throw new Refuse("wrong_type", `${name}: bucket counts and bounds must be arrays`);
  }
  const cumulative = plan.kind === "delta_histogram" || plan.delta
    ? null
    : { memory: memo.memory, key: seriesKey(memo.whose, name, p.attributes ?? []) };
  const mapped = pointBuckets(p, plan.scale, cumulative);
  if ("reason" in mapped) throw new Refuse(mapped.reason, `${name}: ${mapped.detail}`);
  return { counts: mapped.counts, sum: mapped.sumEstimate, observed: mapped.observed };
}

/** Refuse a new histogram `k` in the sample past the per-sample bound. */
function checkSlot(sample: Sample, k: string): void {
  const hist = sample.hist ?? {};
  if (!Object.hasOwn(hist, k) && Object.keys(hist).length >= LIMITS.maxHistogramsPerSample) {
    throw new Refuse(
      "too_many",
      `more than ${LIMITS.maxHistogramsPerSample} histograms at one time`,
    );
  }
}

/** Add an interval's counts to the sample's histogram `k` (cumulated per resource later). */
function addInterval(sample: Sample, k: string, h: Histogram): void {
  const hist = sample.hist ??= {};
  const had = hist[k];
  hist[k] = had ? { counts: had.counts.map((c, i) => c + h.counts[i]), sum: had.sum + h.sum } : h;
}

/**
 * An HTTP server duration point (conventions.ts): its counts join the histogram of its method
 * and route, and its number of requests the counter of its method, route and status class.
 */
function translateHttp(
  plan: Plan,
  p: HistogramDataPoint,
  ts: number,
  sampleAt: (ts: number) => Sample,
  memo: Memo,
): void {
  const { method, route, status } = httpLabels(scalars(p.attributes ?? [], "point attributes"));
  const sample = sampleAt(ts);
  const k = key(plan.series, { method, route });
  const requests = key(HTTP_METRICS.requests, { method, route, status });
  checkSlot(sample, k);
  const h = ourHistogram(plan, p, memo);
  addInterval(sample, k, h);
  // A delta point's count is one interval's: its rate is what the counter would derive.
  const [name, n] = plan.delta
    ? [derivedKey(requests, "per_s", true), h.observed / spanSeconds(p, ts, plan.metric.name)]
    : [requests, h.observed];
  sample.metrics[name] = round((sample.metrics[name] ?? 0) + n);
}

function translateHistogram(
  plan: Plan,
  p: HistogramDataPoint,
  ts: number,
  labels: Record<string, string> | null,
  sampleAt: (ts: number) => Sample,
  memo: Memo,
): void {
  const k = labels === null ? plan.bare : key(plan.series, labels);
  const sample = sampleAt(ts);
  if (plan.kind === "histogram") {
    checkSlot(sample, k);
    const { counts, sum } = ourHistogram(plan, p, memo);
    addInterval(sample, k, { counts, sum });
    return;
  }
  // A delta point is already one interval's counts: derive its series here.
  const seconds = spanSeconds(p, ts, plan.metric.name);
  const { counts: ours, sum } = ourHistogram(plan, p, memo);
  const n = ours.reduce((a, b) => a + b, 0);
  sample.metrics[derivedKey(k, "per_s")] = round(n / seconds);
  if (n === 0) return;
  sample.metrics[derivedKey(k, "avg")] = round(sum / n);
  for (const [suffix, q] of PERCENTILES) {
    sample.metrics[derivedKey(k, suffix)] = round(quantile(ours, q));
  }
}

function spanSeconds(p: NumberDataPoint | HistogramDataPoint, ts: number, name: string): number {
  const start = int64(p.startTimeUnixNano) / 1e6;
  if (!(start > 0 && start < ts)) {
    throw new Refuse("invalid_number", `${name}: delta point without a start time before its time`);
  }
  return (ts - start) / 1000;
}

function key(name: string, labels: Record<string, string>): string {
  try {
    return formatKey(name, labels);
  } catch (e) {
    throw new Refuse("invalid_name", errorMessage(e).slice(0, 120));
  }
}

/** Point attributes as labels (see {@link labelName}); scalar values only. */
function labelsOf(name: string, attributes: KeyValue[]): Record<string, string> {
  refuseMany(attributes, "attributes");
  const labels: Record<string, string> = {};
  for (const kv of attributes) {
    const v = scalarValue(kv.value);
    if (typeof kv.key !== "string") throw new Refuse("wrong_type", `${name}: attribute key`);
    if (v === undefined) {
      throw new Refuse("wrong_type", `${name}: attribute ${kv.key.slice(0, 40)} is not a scalar`);
    }
    const label = labelName(kv.key);
    if (Object.hasOwn(labels, label)) {
      throw new Refuse("invalid_name", `${name}: attribute ${label} given twice`);
    }
    labels[label] = String(v);
  }
  return labels;
}

/** Attributes with scalar values, by key (`what` names them in a refusal). */
function scalars(
  attributes: KeyValue[],
  what = "resource attributes",
): Map<string, string | number | boolean> {
  refuseMany(attributes, what);
  const out = new Map<string, string | number | boolean>();
  for (const kv of attributes) {
    const v = scalarValue(kv.value);
    if (v !== undefined) out.set(kv.key, v);
  }
  return out;
}

/** Too many attributes in one list refuse the whole request. */
function refuseMany(attributes: KeyValue[], what: string): void {
  const n = attributes.length;
  if (n > OTLP_LIMITS.maxAttributes) {
    throw new RefuseRequest("too_many", `${n} ${what} exceed ${OTLP_LIMITS.maxAttributes}`);
  }
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
