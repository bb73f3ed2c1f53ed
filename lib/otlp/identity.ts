/**
 * Who an OTLP resource is, as the wire's {@link Identity}: `service.name` is the service;
 * `service.instance.id`, else `host.name:process.pid` (else `host.name`, else `unknown`) the
 * instance; its start is the earliest start time of its cumulative points (see
 * {@link earliestStart}). See docs/protocol.md, "Mapping".
 *
 * @module
 */
import type { Identity } from "../protocol.ts";
import { LIMITS } from "../protocol.ts";
import { type HistogramDataPoint, int64, type NumberDataPoint } from "./decode.ts";

/**
 * What an SDK is assumed to report every, ms, until its second export (intervals.ts then
 * learns its own): the OpenTelemetry SDKs' default export interval
 * (OTEL_METRIC_EXPORT_INTERVAL). An OTLP instance is stale after 3 of its intervals.
 */
export const OTLP_INTERVAL_MS = 60_000;

/**
 * The instance of a resource with neither `service.instance.id` nor `host.name`: every process
 * of its service reports as this one instance.
 */
export const UNNAMED_INSTANCE = "unknown";

/**
 * The identity of a resource (`attrs`: its scalar attributes) with no start yet, or why it
 * has none (every point of the resource is then rejected).
 */
export function identityOf(attrs: Map<string, string | number | boolean>): Identity | string {
  const service = attrs.get("service.name");
  if (typeof service !== "string" || !validText(service)) {
    return "resource attribute service.name missing or not 1-128 characters of text";
  }
  const host = attrs.get("host.name");
  const pidRaw = attrs.get("process.pid");
  const pid = typeof pidRaw === "number" && Number.isSafeInteger(pidRaw) && pidRaw >= 0
    ? pidRaw
    : null;
  const hostName = typeof host === "string" && validText(host) ? host : null;
  const given = attrs.get("service.instance.id");
  const instance = typeof given === "string" && validText(given)
    ? given
    : hostName !== null
    ? (pid !== null ? `${hostName}:${pid}` : hostName)
    : UNNAMED_INSTANCE;
  if (!validText(instance)) return "instance name (host.name:process.pid) too long";
  return {
    service,
    instance,
    pid,
    host: hostName,
    color: null,
    intervalMs: OTLP_INTERVAL_MS,
    start: null,
  };
}

/**
 * The earlier of `start` and a cumulative point's start time, ms (whole). A cumulative point
 * counts from when the SDK began (its `startTimeUnixNano`, the same in every export until the
 * process restarts): the earliest one is the instance's start, as an agent's `start` is. It
 * gives OpenTelemetry apps an uptime, and a restart under the same instance id and pid (pid 1
 * in a container) shows as one. Missing or later than the point: ignored.
 */
export function earliestStart(
  start: number | null,
  p: NumberDataPoint | HistogramDataPoint,
): number | null {
  const s = Math.floor(int64(p.startTimeUnixNano) / 1e6);
  if (!(s > 0 && s <= int64(p.timeUnixNano) / 1e6)) return start;
  return start === null ? s : Math.min(start, s);
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function validText(s: string): boolean {
  return s.length > 0 && s.length <= LIMITS.maxNameLength && !CONTROL.test(s);
}
