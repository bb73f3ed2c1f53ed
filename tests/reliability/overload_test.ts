/**
 * Overload (docs/reliability.md, row 3b): durable history runs on its own thread, so its
 * writes and seal rounds never hold the thread that serves HTTP; when that thread falls
 * behind, ingest waits (frames stay in ZMQ, then in the agents' backlogs) instead of
 * growing memory or losing points. The latency numbers are in bench/stress/overload.ts;
 * these tests check the mechanism with events, not timings.
 */
import assert from "node:assert/strict";
import { bindPull, connectPush } from "../../lib/transport/zmq.ts";
import { HistoryThread } from "../../lib/collector/history.ts";
import { waitFor } from "../support/live.ts";

Deno.test("the receive loop reads nothing while backpressure holds it, then everything sent", async () => {
  let release = () => {};
  const gate = new Promise<void>((r) => release = r);
  let held = true;
  let asked = 0;
  const received: number[] = [];
  const receiver = await bindPull("tcp://127.0.0.1:*", {
    onFrame: (f) => received.push(f[0]),
    backpressure: () => {
      asked++;
      return held ? gate : null;
    },
    receiveHighWaterMark: 4,
  });
  // Frames big enough that the kernel's socket buffers hold only a few of them, and small
  // queues on both sides: a sender meets the high-water mark after a few dozen frames.
  const push = connectPush(receiver.endpoint, { sendHighWaterMark: 4, lingerMs: 0 });
  const frame = (i: number) => new Uint8Array(256 * 1024).fill(i % 256);
  let sent = 0;
  try {
    await waitFor(
      async () => {
        if (!(await push.trySend(frame(sent)))) return sent > 0;
        sent++;
        return false;
      },
      "the sender to meet the high-water mark (the receiver not reading)",
      20_000,
      0,
    );
    // The queues are full and the loop asked once: it is waiting on the gate, reading nothing.
    await waitFor(() => asked > 0, "the loop to see frames waiting");
    assert.equal(received.length, 0);
    assert.equal(asked, 1);
    held = false;
    release();
    await waitFor(() => received.length === sent, `all ${sent} frames after the release`);
    assert.deepEqual(received, Array.from({ length: sent }, (_, i) => i % 256));
  } finally {
    push.close();
    await receiver.close();
  }
});

Deno.test("a stalled history thread holds ingest at the bound, loses nothing, and has it all after", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zeroapm-hthread-" });
  const t0 = Date.now();
  const now = () => t0 + 60_000;
  let history = await HistoryThread.open({ dir, now, maxPendingPoints: 100 });
  let unstall = () => {};
  try {
    // Queries see points not yet handed over (no tick has run).
    for (let i = 0; i < 10; i++) history.append("svc/a", "m", t0 + i, i);
    const early = await history.query("svc/a", "m", t0, t0 + 1000, 1000);
    assert.deepEqual(early.points.map((p) => p[2]), Array.from({ length: 10 }, (_, i) => i));

    unstall = history.hold(); // a stalled disk: the thread takes nothing until released
    for (let i = 10; i < 109; i++) history.append("svc/a", "m", t0 + i, i);
    assert.equal(history.backpressure(), null, "under the bound: read on");
    history.append("svc/a", "m", t0 + 109, 109);
    const waiting = history.backpressure();
    assert.ok(waiting, "at the bound: ingest waits");
    assert.equal(history.pending, 100);
    unstall();
    await waiting;
    assert.equal(history.backpressure(), null);
    assert.equal(history.dropped, 0);
    assert.equal(history.durable, 0, "taken but not yet flushed is not durable");
    await history.tick();
    assert.equal(history.durable, 110, "a tick's flush makes every taken point durable");
    await history.close();

    // Closed and opened again: every point is on disk.
    history = await HistoryThread.open({ dir, now });
    const all = await history.query("svc/a", "m", t0, t0 + 1000, 1000);
    assert.deepEqual(all.points.map((p) => p[2]), Array.from({ length: 110 }, (_, i) => i));
  } finally {
    unstall();
    await history.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a caller that ignores backpressure loses points past 4x the bound, and they are counted", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zeroapm-hthread-" });
  const now = () => 1_000_000;
  const history = await HistoryThread.open({ dir, now, maxPendingPoints: 10 });
  const unstall = history.hold();
  try {
    for (let i = 0; i < 45; i++) history.append("svc/b", "m", 1_000_000 + i, i);
    assert.ok(history.backpressure());
    assert.equal(history.pending, 40);
    assert.equal(history.dropped, 5);
  } finally {
    unstall();
    await history.close();
    await Deno.remove(dir, { recursive: true });
  }
});
