import assert from "node:assert/strict";
import { createBacklog } from "../../lib/agent/backlog.ts";
import { startSendLoop, type Transport } from "../../lib/agent/sender.ts";

/**
 * A send loop over a transport that refuses while `up` is false; every attempt moves the
 * clock on by `stepMs`. Records the loop's outage reports.
 */
function loop(stepMs: number) {
  const t = { up: false, attempts: 0, clock: 0 };
  const reports: Array<[string, number]> = [];
  const transport: Transport = {
    trySend() {
      t.attempts++;
      t.clock += stepMs;
      return Promise.resolve(t.up);
    },
    close() {},
  };
  const backlog = createBacklog<number>(1000);
  const sender = startSendLoop<number>({
    backlog,
    transport,
    encode: (items) => new Uint8Array(items),
    onError: () => {},
    minBackoffMs: 1,
    maxBackoffMs: 1,
    clock: () => t.clock,
    onOutage: (state, forMs) => reports.push([state, forMs]),
  });
  const push = () => {
    backlog.push(1);
    sender.wake();
  };
  const until = async (pred: () => boolean) => {
    for (let i = 0; i < 5000 && !pred(); i++) await new Promise((r) => setTimeout(r, 0));
    assert.ok(pred(), "condition reached");
  };
  return { t, reports, sender, push, until };
}

Deno.test("send loop tells an outage once after 10 s of refused sends, and its end once", async () => {
  const l = loop(1000);
  l.push();
  await l.until(() => l.t.attempts >= 25);
  assert.deepEqual(l.reports, [["down", 10_000]], "once, at 10 s, however long it lasts");
  l.t.up = true;
  await l.until(() => l.sender.sent === 1);
  assert.deepEqual(l.reports.map(([state]) => state), ["down", "up"]);
  assert.ok(l.reports[1][1] >= 24_000, `the end tells the whole outage: ${l.reports[1][1]} ms`);
  // Refusals shorter than 10 s are not an outage to tell.
  l.t.up = false;
  l.push();
  await l.until(() => l.t.attempts >= 30);
  l.t.up = true;
  await l.until(() => l.sender.sent === 2);
  assert.equal(l.reports.length, 2);
  await l.sender.stop(0);
});

Deno.test("send loop tells no outage while stopping", async () => {
  const l = loop(3000);
  l.push();
  await l.until(() => l.t.attempts >= 1);
  await l.sender.stop(60_000);
  assert.deepEqual(l.reports, []);
});
