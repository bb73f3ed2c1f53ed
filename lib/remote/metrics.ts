/**
 * Remote write and read figures in the Prometheus text exposition format, for the
 * collector's own `/metrics`: one series per remote, labelled with its URL (credentials
 * never included: the stats carry the redacted URL).
 *
 * @module
 */
import { escapeLabelValue } from "../prom/names.ts";
import type { RemoteStats } from "./writer.ts";
import type { RemoteReadStats } from "./reader.ts";

const WRITE: Array<
  [name: string, type: "counter" | "gauge", help: string, of: (s: RemoteStats) => number]
> = [
  [
    "zeroapm_remote_write_samples_sent_total",
    "counter",
    "Samples the remote accepted.",
    (s) => s.sent,
  ],
  [
    "zeroapm_remote_write_samples_pending",
    "gauge",
    "Samples queued, not yet sent (WAL: estimated).",
    (s) => s.pending,
  ],
  [
    "zeroapm_remote_write_oldest_pending_seconds",
    "gauge",
    "Age of the oldest queued sample (0 when none).",
    (s) => (s.oldestPendingAgeMs ?? 0) / 1000,
  ],
  [
    "zeroapm_remote_write_retries_total",
    "counter",
    "Requests retried (5xx, 429, network).",
    (s) => s.retries,
  ],
  [
    "zeroapm_remote_write_samples_dropped_total",
    "counter",
    "Samples the remote refused (4xx).",
    (s) => s.dropped,
  ],
  [
    "zeroapm_remote_write_samples_expired_total",
    "counter",
    "Samples that left the queue unsent (past retention, memory bound).",
    (s) => s.expired,
  ],
  ["zeroapm_remote_write_requests_total", "counter", "Requests sent.", (s) => s.requests],
  [
    "zeroapm_remote_write_bytes_total",
    "counter",
    "Request bytes sent (protobuf + snappy).",
    (s) => s.bytes,
  ],
];

/** `/metrics` lines for remote write (one series per remote) and remote read; none without. */
export function remoteMetricLines(write: RemoteStats[], read: RemoteReadStats | null): string[] {
  const out: string[] = [];
  if (write.length > 0) {
    for (const [name, type, help, of] of WRITE) {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const s of write) {
        out.push(`${name}{url="${escapeLabelValue(s.url)}",queue="${s.queue}"} ${of(s)}`);
      }
    }
  }
  if (read) {
    const url = `url="${escapeLabelValue(read.url)}"`;
    out.push(
      "# HELP zeroapm_remote_read_requests_total Query API requests sent.",
      "# TYPE zeroapm_remote_read_requests_total counter",
      `zeroapm_remote_read_requests_total{${url}} ${read.requests}`,
      "# HELP zeroapm_remote_read_errors_total Query API requests that failed.",
      "# TYPE zeroapm_remote_read_errors_total counter",
      `zeroapm_remote_read_errors_total{${url}} ${read.errors}`,
    );
  }
  return out;
}
