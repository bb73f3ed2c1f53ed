/** Remote write/read figures as /metrics lines: one series per remote, none without remotes. */
import assert from "node:assert/strict";
import { remoteMetricLines } from "../../lib/remote/metrics.ts";

Deno.test("remote metric lines give one labelled series per remote and nothing without remotes", () => {
  assert.deepEqual(remoteMetricLines([], null), []);
  const lines = remoteMetricLines([{
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
  }], { url: "http://vm:8428", requests: 5, errors: 1, lastError: null, instances: 2 });
  const label = 'url="http://vm:8428/api/v1/write?x=\\"1\\"",queue="wal"';
  assert.ok(lines.includes(`zeroapm_remote_write_samples_sent_total{${label}} 10`));
  assert.ok(lines.includes(`zeroapm_remote_write_oldest_pending_seconds{${label}} 2.5`));
  assert.ok(lines.includes(`zeroapm_remote_write_samples_dropped_total{${label}} 2`));
  assert.ok(lines.includes('zeroapm_remote_read_errors_total{url="http://vm:8428"} 1'));
  assert.ok(lines.includes("# TYPE zeroapm_remote_write_retries_total counter"));
});
