/** Remote write/read figures as /metrics families: one series per remote, none without remotes. */
import assert from "node:assert/strict";
import { remoteFamilies } from "../../lib/remote/metrics.ts";
import { renderFamilies } from "../../lib/prom/exposition.ts";
import type { RemoteStats } from "../../lib/remote/writer.ts";

const stats: RemoteStats = {
  url: 'http://vm:8428/api/v1/write?x="1"',
  queue: "wal",
  sent: 10,
  pending: 3,
  oldestPendingAgeMs: 2500,
  retries: 1,
  dropped: 2,
  expired: 0,
  requests: 4,
  bytes: 999,
  lastError: null,
};

Deno.test("remote families give one labelled series per remote, and none without remotes", () => {
  assert.deepEqual(remoteFamilies(() => [], () => null)(), []);
  const read = { url: "http://vm:8428", requests: 5, errors: 1, lastError: null, instances: 2 };
  const text = renderFamilies(remoteFamilies(() => [stats], () => read)());
  const label = 'queue="wal",url="http://vm:8428/api/v1/write?x=\\"1\\""';
  const lines = text.split("\n");
  assert.ok(lines.includes(`zeroapm_remote_write_samples_sent_total{${label}} 10`), text);
  assert.ok(lines.includes(`zeroapm_remote_write_oldest_pending_seconds{${label}} 2.5`), text);
  assert.ok(lines.includes(`zeroapm_remote_write_samples_dropped_total{${label}} 2`), text);
  assert.ok(lines.includes('zeroapm_remote_read_errors_total{url="http://vm:8428"} 1'), text);
  assert.ok(lines.includes("# TYPE zeroapm_remote_write_retries_total counter"), text);
});
