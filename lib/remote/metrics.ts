/**
 * Remote write and read figures as `/metrics` families (lib/prom/exposition.ts): one series
 * per remote, labelled with its URL (the stats carry the URL without credentials) and, for
 * remote write, its queue (`wal` or `memory`). No remote, no family.
 *
 * @module
 */
import type { FamilyProvider, MetricFamily, PromType } from "../prom/exposition.ts";
import type { RemoteStats } from "./writer.ts";
import type { RemoteReadStats } from "./reader.ts";

const WRITE: Array<[name: string, type: PromType, help: string, of: (s: RemoteStats) => number]> = [
  [
    "zeroapm_remote_write_samples_sent_total",
    "counter",
    "Samples the remote accepted.",
    (s) => s.sent,
  ],
  [
    "zeroapm_remote_write_samples_pending",
    "gauge",
    "Samples queued, not yet sent (the WAL queue: estimated from its bytes).",
    (s) => s.pending,
  ],
  [
    "zeroapm_remote_write_oldest_pending_seconds",
    "gauge",
    "Age of the oldest queued sample (0 when none waits).",
    (s) => (s.oldestPendingAgeMs ?? 0) / 1000,
  ],
  [
    "zeroapm_remote_write_retries_total",
    "counter",
    "Requests retried (5xx, 429, network errors).",
    (s) => s.retries,
  ],
  [
    "zeroapm_remote_write_samples_dropped_total",
    "counter",
    "Samples the remote refused (4xx other than 429).",
    (s) => s.dropped,
  ],
  [
    "zeroapm_remote_write_samples_expired_total",
    "counter",
    "Samples that left the queue unsent (past the raw retention, or over the memory bound).",
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

/** A `/metrics` provider over the current remote write and read figures. */
export function remoteFamilies(
  write: () => RemoteStats[],
  read: () => RemoteReadStats | null,
): FamilyProvider {
  return () => {
    const out: MetricFamily[] = [];
    const w = write();
    if (w.length > 0) {
      for (const [name, type, help, of] of WRITE) {
        out.push({
          name,
          help,
          type,
          samples: w.map((s) => ({
            labels: [["queue", s.queue], ["url", s.url]] as const,
            value: of(s),
          })),
        });
      }
    }
    const r = read();
    if (r) {
      const labels = [["url", r.url]] as const;
      out.push(
        {
          name: "zeroapm_remote_read_requests_total",
          help: "Query API requests sent.",
          type: "counter",
          samples: [{ labels, value: r.requests }],
        },
        {
          name: "zeroapm_remote_read_errors_total",
          help: "Query API requests that failed (answered from local history only).",
          type: "counter",
          samples: [{ labels, value: r.errors }],
        },
      );
    }
    return out;
  };
}
