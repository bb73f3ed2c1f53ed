/**
 * OTLP metrics codec: `ExportMetricsServiceRequest` from protobuf bytes or OTLP/JSON text,
 * and the answers (`ExportMetricsServiceResponse`, `google.rpc.Status`) in either form.
 *
 * The decoding is npm:protobufjs's (reflection: no generated code, no .proto file in the
 * repository). The schema below is the part of opentelemetry-proto v1 (metrics.proto,
 * common.proto, resource.proto, metrics_service.proto) that the collector reads: field names
 * and numbers as the specification gives them. Fields left out (exemplars, metadata,
 * schema URLs) are skipped by the binary decoder and ignored in JSON, as the spec asks of
 * receivers. This is the only module that knows the OTLP wire shape; swap it for another
 * decoder behind {@link decodeRequest}.
 *
 * @module
 */
import { errorMessage } from "../errors.ts";
import protobuf from "protobufjs";

const SCHEMA = `
syntax = "proto3";
package otlp;

message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
message ExportMetricsServiceResponse { ExportMetricsPartialSuccess partial_success = 1; }
message ExportMetricsPartialSuccess { int64 rejected_data_points = 1; string error_message = 2; }
message Status { int32 code = 1; string message = 2; }

message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; }
message InstrumentationScope { string name = 1; string version = 2; }

message Metric {
  string name = 1;
  string description = 2;
  string unit = 3;
  oneof data {
    Gauge gauge = 5;
    Sum sum = 7;
    Histogram histogram = 9;
    ExponentialHistogram exponential_histogram = 10;
    Summary summary = 11;
  }
}
enum AggregationTemporality {
  AGGREGATION_TEMPORALITY_UNSPECIFIED = 0;
  AGGREGATION_TEMPORALITY_DELTA = 1;
  AGGREGATION_TEMPORALITY_CUMULATIVE = 2;
}
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum {
  repeated NumberDataPoint data_points = 1;
  AggregationTemporality aggregation_temporality = 2;
  bool is_monotonic = 3;
}
message Histogram {
  repeated HistogramDataPoint data_points = 1;
  AggregationTemporality aggregation_temporality = 2;
}
message ExponentialHistogram { repeated Unread data_points = 1; }
message Summary { repeated Unread data_points = 1; }
message Unread {}

message NumberDataPoint {
  repeated KeyValue attributes = 7;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  oneof value { double as_double = 4; sfixed64 as_int = 6; }
  uint32 flags = 8;
}
message HistogramDataPoint {
  repeated KeyValue attributes = 9;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  fixed64 count = 4;
  optional double sum = 5;
  repeated fixed64 bucket_counts = 6;
  repeated double explicit_bounds = 7;
  uint32 flags = 10;
  optional double min = 11;
  optional double max = 12;
}

message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
`;

/** A 64-bit integer as protobufjs gives it: a number, or a Long (npm:long) for large ones. */
export type Int64 = number | { toNumber(): number };

/** An attribute value (`AnyValue`): exactly one member is set, or none. */
export interface AnyValue {
  stringValue?: string | null;
  boolValue?: boolean | null;
  intValue?: Int64 | null;
  doubleValue?: number | null;
  arrayValue?: { values: AnyValue[] } | null;
  kvlistValue?: { values: KeyValue[] } | null;
  bytesValue?: Uint8Array | null;
}

/** One attribute. */
export interface KeyValue {
  key: string;
  value?: AnyValue | null;
}

/** A gauge or sum point. */
export interface NumberDataPoint {
  attributes: KeyValue[];
  startTimeUnixNano: Int64;
  timeUnixNano: Int64;
  asDouble?: number | null;
  asInt?: Int64 | null;
  flags: number;
}

/** An explicit-bucket histogram point. */
export interface HistogramDataPoint {
  attributes: KeyValue[];
  startTimeUnixNano: Int64;
  timeUnixNano: Int64;
  count: Int64;
  sum?: number | null;
  bucketCounts: Int64[];
  explicitBounds: number[];
  flags: number;
  min?: number | null;
  max?: number | null;
}

/** `AggregationTemporality`: 1 delta, 2 cumulative. */
export const TEMPORALITY = { unspecified: 0, delta: 1, cumulative: 2 } as const;

/** One metric; one of its kinds is set (see {@link metricKind}). */
export interface Metric {
  name: string;
  unit: string;
  gauge?: { dataPoints: NumberDataPoint[] } | null;
  sum?: {
    dataPoints: NumberDataPoint[];
    aggregationTemporality: number;
    isMonotonic: boolean;
  } | null;
  histogram?: { dataPoints: HistogramDataPoint[]; aggregationTemporality: number } | null;
  exponentialHistogram?: { dataPoints: unknown[] } | null;
  summary?: { dataPoints: unknown[] } | null;
}

/** The kinds of metric data. */
export type MetricKind = "gauge" | "sum" | "histogram" | "exponentialHistogram" | "summary";
const KINDS: readonly MetricKind[] = [
  "gauge",
  "sum",
  "histogram",
  "exponentialHistogram",
  "summary",
];

/** Metrics from one resource (one process, for an SDK). */
export interface ResourceMetrics {
  resource?: { attributes: KeyValue[] } | null;
  scopeMetrics: Array<{ metrics: Metric[] }>;
}

/**
 * A decoded `ExportMetricsServiceRequest`: a protobufjs message, or the parsed OTLP/JSON
 * object (the proto3 JSON mapping uses the same lowerCamelCase names). Read oneofs with
 * {@link metricKind}, {@link numberValue} and {@link scalarValue}, 64-bit integers with
 * {@link int64}: they answer the same for both forms. JSON values are as sent, so readers
 * check types where they use them.
 */
export interface ExportRequest {
  resourceMetrics: ResourceMetrics[];
}

/** The two encodings OTLP/HTTP defines. */
export type Encoding = "protobuf" | "json";

/** Result of {@link decodeRequest}: never an exception. */
export type DecodedRequest = { ok: true; request: ExportRequest } | { ok: false; detail: string };

/** The OTLP codec: decode requests, encode answers. */
export interface OtlpCodec {
  decodeRequest(body: Uint8Array, encoding: Encoding): DecodedRequest;
  /** The success answer: empty, or a partial success with the points rejected and why. */
  encodeResponse(rejected: number, message: string, encoding: Encoding): Uint8Array<ArrayBuffer>;
  /** The body of a 4xx answer: a `google.rpc.Status` (code 3, INVALID_ARGUMENT, by default). */
  encodeStatus(message: string, encoding: Encoding, code?: number): Uint8Array<ArrayBuffer>;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** Build the codec (parses the schema once; keep one per collector). */
export function createOtlpCodec(): OtlpCodec {
  const root = protobuf.parse(SCHEMA, { keepCase: false }).root;
  const Request = root.lookupType("otlp.ExportMetricsServiceRequest");
  const Response = root.lookupType("otlp.ExportMetricsServiceResponse");
  const Status = root.lookupType("otlp.Status");
  const encodeAs = (
    type: protobuf.Type,
    value: Record<string, unknown>,
    as: Encoding,
  ): Uint8Array<ArrayBuffer> =>
    as === "json"
      ? encoder.encode(JSON.stringify(value))
      : new Uint8Array(type.encode(type.fromObject(value)).finish());
  return {
    decodeRequest(body, encoding) {
      try {
        // JSON is read as parsed: protobufjs' fromObject would convert every 64-bit
        // string to a Long, which took three times as long as the parse itself.
        const message = encoding === "json" ? parseJsonObject(body) : Request.decode(body);
        return { ok: true, request: message as unknown as ExportRequest };
      } catch (e) {
        // protobufjs throws on bad wire types, truncation and invalid UTF-8; deep nesting
        // can end in a RangeError. None of them may stop ingest.
        return { ok: false, detail: errorMessage(e).slice(0, 120) };
      }
    },
    encodeResponse(rejected, message, encoding) {
      if (rejected === 0 && message === "") return encodeAs(Response, {}, encoding);
      // proto3 JSON writes int64 as a decimal string.
      const partialSuccess = {
        rejectedDataPoints: encoding === "json" ? String(rejected) : rejected,
        errorMessage: message,
      };
      return encodeAs(Response, { partialSuccess }, encoding);
    },
    encodeStatus(message, encoding, code = 3) {
      return encodeAs(Status, { code, message }, encoding);
    },
  };
}

function parseJsonObject(body: Uint8Array): Record<string, unknown> {
  const raw: unknown = JSON.parse(utf8.decode(body));
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new TypeError("the body must be a JSON object");
  }
  return raw as Record<string, unknown>;
}

/**
 * A 64-bit integer as a number: protobufjs gives a number or a Long, OTLP/JSON a decimal
 * string or a number. Exact below 2^53 (nanosecond times lose under 1 µs); NaN for anything
 * else, 0 when absent.
 */
export function int64(v: Int64 | string | null | undefined): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === "number") return v;
  if (typeof v === "string") return v === "" ? NaN : Number(v);
  return typeof v === "object" && typeof v.toNumber === "function" ? v.toNumber() : NaN;
}

/**
 * A 64-bit integer attribute value, exactly: a number while it is a safe integer (so
 * `process.pid` stays a number), else its decimal text (a span or user id past 2^53 would
 * otherwise become a neighbour's label); NaN for what is no integer.
 */
function exactInt(v: Int64 | string | null | undefined): number | string {
  const n = int64(v);
  if (Number.isSafeInteger(n) || typeof v === "number" || v === null || v === undefined) return n;
  const text = typeof v === "string" ? v.trim() : String(v);
  return /^-?\d+$/.test(text) ? text.replace(/^(-?)0+(?=\d)/, "$1") : NaN;
}

// A set field is an own property of a protobufjs message (unset ones sit on its prototype),
// and of a parsed JSON object: so one test answers for both forms.
const has = (o: object, key: string) => Object.hasOwn(o, key);

/** Which kind of data a metric holds, or undefined for none. */
export function metricKind(m: Metric): MetricKind | undefined {
  for (const k of KINDS) if (has(m, k) && m[k] != null) return k;
  return undefined;
}

/**
 * A double as OTLP/JSON may write it: a number, or (proto3's JSON mapping) a string such as
 * "1.5" or "NaN"; NaN for anything else.
 */
export function double(v: unknown): number {
  if (typeof v === "number") return v;
  return typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
}

/** A gauge or sum point's value; undefined when it has none, NaN when it is not a number. */
export function numberValue(p: NumberDataPoint): number | undefined {
  if (has(p, "asDouble")) return double(p.asDouble);
  if (has(p, "asInt")) return int64(p.asInt);
  return undefined;
}

/** An attribute's value when it is a string, boolean or number; undefined otherwise. */
export function scalarValue(v: AnyValue | null | undefined): string | number | boolean | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  if (has(v, "stringValue") && typeof v.stringValue === "string") return v.stringValue;
  if (has(v, "boolValue") && typeof v.boolValue === "boolean") return v.boolValue;
  if (has(v, "intValue")) return exactInt(v.intValue);
  if (has(v, "doubleValue") && !Number.isNaN(double(v.doubleValue))) return double(v.doubleValue);
  return undefined;
}
