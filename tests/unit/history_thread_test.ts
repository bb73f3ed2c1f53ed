/**
 * HistoryThread with whole frames (appendFrame) beside single points: queries see them at
 * once, backpressure and loss count points, and a tick makes them all durable, in order.
 * A real Worker and store on a temp dir; the stalled-thread cases are in
 * tests/reliability/overload_test.ts.
 */
import assert from "node:assert/strict";
import { HistoryThread } from "../../lib/collector/history.ts";
import type { PlacedSample } from "../../lib/collector/instances.ts";
import type { InstanceView } from "../../lib/live/messages.ts";

const T0 = 1_700_000_000_000;
const now = () => T0 + 60_000;
const KEYS = ["cpu", "mem", "rps"];

/** `n` samples from T0 + `from` ms, values `row * 10 + column`. */
function frame(from: number, n: number): PlacedSample[] {
  return Array.from({ length: n }, (_, r) => ({
    t: T0 + from + r,
    metrics: Object.fromEntries(KEYS.map((k, j) => [k, (from + r) * 10 + j])),
  }));
}

async function withThread(
  maxPendingPoints: number | undefined,
  fn: (h: HistoryThread) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "zeroapm-hthread-" });
  const h = await HistoryThread.open({ dir, now, maxPendingPoints });
  try {
    await fn(h);
  } finally {
    await h.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const values = async (h: HistoryThread, metric: string) =>
  (await h.query("svc/a", metric, T0, T0 + 10_000, 10_000)).points.map((p) => p[2]);

Deno.test("history thread: a query right after frames and single points sees them all, in order", async () => {
  await withThread(undefined, async (h) => {
    h.appendFrame("svc/a", KEYS, frame(0, 50));
    h.append("svc/a", "cpu", T0 + 50, 500); // the general path between two frames
    h.append("svc/a", "new", T0 + 50, 7);
    h.appendFrame("svc/a", KEYS, frame(51, 50));
    const cpu = Array.from({ length: 101 }, (_, i) => i * 10);
    assert.deepEqual(await values(h, "cpu"), cpu, "no tick has run: the query handed them over");
    assert.deepEqual(
      await values(h, "rps"),
      Array.from({ length: 100 }, (_, i) => (i < 50 ? i : i + 1) * 10 + 2),
    );
    assert.deepEqual(await values(h, "new"), [7]);
    // More after the query (a new batch), then a tick: every point durable.
    h.appendFrame("svc/a", KEYS, frame(101, 1000));
    assert.deepEqual(await values(h, "mem"), [
      ...Array.from({ length: 50 }, (_, i) => i * 10 + 1),
      ...Array.from({ length: 1050 }, (_, i) => (i + 51) * 10 + 1),
    ]);
    await h.tick();
    assert.equal(h.durable, 150 + 2 + 150 + 3000);
    assert.equal(h.pending, 0);
    assert.equal(h.dropped, 0);
  });
});

Deno.test("history thread: backpressure and loss count a frame's points, not its samples", async () => {
  await withThread(100, async (h) => {
    const unstall = h.hold(); // the thread takes nothing: pending only grows
    try {
      h.appendFrame("svc/a", KEYS, frame(0, 10)); // 30 points
      h.appendFrame("svc/a", KEYS, frame(10, 10));
      h.appendFrame("svc/a", KEYS, frame(20, 10));
      assert.equal(h.pending, 90);
      assert.equal(h.backpressure(), null, "under the bound: read on");
      h.appendFrame("svc/a", KEYS, frame(30, 10));
      assert.equal(h.pending, 120);
      assert.ok(h.backpressure(), "at the bound: ingest waits");
      // A caller that ignores it: frames are taken up to 4x the bound, then lost, counted.
      for (let f = 4; f < 20; f++) h.appendFrame("svc/a", KEYS, frame(f * 10, 10));
      assert.equal(h.pending, 420, "the frame that crossed 4x the bound is kept whole");
      assert.equal(h.dropped, 6 * 30);
      h.append("svc/a", "cpu", T0 + 500, 1);
      assert.equal(h.dropped, 6 * 30 + 1);
    } finally {
      unstall();
    }
    await h.tick();
    assert.equal(h.durable, 420);
    assert.deepEqual(await values(h, "cpu"), Array.from({ length: 140 }, (_, i) => i * 10));
  });
});

Deno.test("history thread: an eighth of the bound buffered is handed over at once, not at the tick", async () => {
  await withThread(240, async (h) => {
    h.appendFrame("svc/a", KEYS, frame(0, 5)); // 15 points: under an eighth (30)
    assert.equal(h.backpressure(), null);
    h.appendFrame("svc/a", KEYS, frame(5, 5)); // 30 points buffered
    assert.equal(h.backpressure(), null, "far under the bound: read on");
    // No tick runs here: only the early hand-over lets the thread take the points.
    const deadline = Date.now() + 10_000;
    while (h.pending > 0) {
      assert.ok(Date.now() < deadline, `still ${h.pending} points pending without a tick`);
      await new Promise((r) => setTimeout(r, 5)); // the thread's "done" arrives as a message
    }
    assert.equal(h.durable, 0, "taken, not yet flushed: durable waits for the tick");
    await h.tick();
    assert.equal(h.durable, 30);
    assert.deepEqual(await values(h, "cpu"), Array.from({ length: 10 }, (_, i) => i * 10));
  });
});

Deno.test("history thread: an instance touched many times between hand-overs persists its last view, lastSeq and agentStart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zeroapm-hthread-" });
  const view = (id: string, lastSeen: number) =>
    ({ id, service: "svc", instance: id, lastSeen, color: "#123456" }) as unknown as InstanceView;
  try {
    const h = await HistoryThread.open({ dir, now });
    // Two instances interleaved, as messages arrive; a hand-over (the tick) between rounds.
    for (let seq = 1; seq <= 3; seq++) {
      h.touch(view("svc/a", T0 + seq), seq, T0 - 5);
      h.touch(view("svc/b", T0 + seq), seq * 100, T0 - 7);
    }
    await h.tick();
    h.touch(view("svc/a", T0 + 10), 10, T0 - 6);
    h.touch(view("svc/a", T0 + 11), 11, T0 - 4);
    await h.close();
    const again = await HistoryThread.open({ dir, now });
    const byId = new Map(again.restored.map((v) => [v.id, v]));
    await again.close();
    assert.deepEqual(
      [byId.get("svc/a")?.lastSeen, byId.get("svc/a")?.lastSeq, byId.get("svc/a")?.agentStart],
      [T0 + 11, 11, T0 - 4],
    );
    assert.deepEqual(
      [byId.get("svc/b")?.lastSeen, byId.get("svc/b")?.lastSeq, byId.get("svc/b")?.agentStart],
      [T0 + 3, 300, T0 - 7],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
