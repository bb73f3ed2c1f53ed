/**
 * The summary bar's remotes line: remote write ok, behind, retrying, dropping; remote read ok
 * or not answering; hidden with no remote.
 */
import assert from "node:assert/strict";
import { remotesStatus, remoteStatus } from "../../static/remote_status.ts";

const row = {
  url: "http://vm:8428/api/v1/write",
  queue: "wal",
  sent: 10,
  pending: 0,
  oldestPendingAgeMs: null,
  retries: 0,
  dropped: 0,
  expired: 0,
  lastError: null,
};

Deno.test("remote status is hidden without remotes and ok when a remote keeps up", () => {
  assert.equal(remoteStatus([]), null);
  assert.equal(remoteStatus(undefined), null);
  assert.deepEqual(remoteStatus([row]), { text: "→ vm:8428: ok", warn: false });
});

Deno.test("remote status warns when a remote is behind or dropped samples, and names a memory queue", () => {
  const s = remoteStatus([
    { ...row, oldestPendingAgeMs: 42_000, retries: 3 },
    { ...row, url: "http://mimir:9009/api/v1/push", queue: "memory", dropped: 5, expired: 2 },
  ]);
  assert.deepEqual(s, {
    text: "→ vm:8428: 42 s behind, 3 retries · → mimir:9009: ok, queue in memory, 7 dropped",
    warn: true,
  });
});

Deno.test("remote status says when the remote-read source does not answer, whose history is then missing", () => {
  const read = { url: "http://vm:8428", requests: 9, errors: 0, lastError: null, instances: 3 };
  assert.equal(remotesStatus({ remoteWrite: [], remoteRead: null }), null);
  assert.deepEqual(remotesStatus({ remoteWrite: [], remoteRead: read }), {
    text: "← vm:8428: ok",
    warn: false,
  });
  const failing = { ...read, errors: 2, lastError: "remote read http://vm:8428/api/v1/series: x" };
  assert.deepEqual(remotesStatus({ remoteWrite: [row], remoteRead: failing }), {
    text: "→ vm:8428: ok · ← vm:8428: not answering, its history is not shown",
    warn: true,
  });
});
