/**
 * Real agents -> real collector (ZMQ PULL on an ephemeral port) -> real WebSocket client.
 */
import assert from "node:assert/strict";
import { startTestCollector } from "../support/collector.ts";
import { startCollector } from "../../lib/collector/collector.ts";
import { createAgent } from "../../lib/agent/mod.ts";
import { instanceId } from "../../lib/collector/instances.ts";
import { LiveClient, pointsByInstance, waitFor } from "../support/live.ts";
import type { InstanceView } from "../../lib/live/messages.ts";

const quiet = () => {};

Deno.test("three agents reach a WebSocket client through a real collector, one line each", async () => {
  const collector = await startTestCollector();
  const live = await LiveClient.connect(collector.httpUrl);
  const colors = ["red", "blue", "green"];
  const agents = colors.map((color) =>
    createAgent({
      service: "backend",
      instance: `app-${color}`,
      color,
      collector: collector.zmqEndpoint,
      intervalMs: 50,
    })
  );
  try {
    const ids = colors.map((c) => instanceId("backend", `app-${c}`));
    const byId = await live.until((frames) => {
      const pts = pointsByInstance(frames, "mem.rss_bytes");
      return ids.every((id) => (pts.get(id)?.length ?? 0) >= 5) && pts;
    }, "5 memory points from each of three instances");
    for (const id of ids) {
      const pts = byId.get(id)!;
      assert.ok(pts.every(([, v]) => v > 1024 * 1024), `${id} reports resident memory in bytes`);
      for (let i = 1; i < pts.length; i++) {
        assert.ok(pts[i][0] >= pts[i - 1][0], "points in time order");
      }
    }
    const res = await fetch(`${collector.httpUrl}/api/instances`);
    const list: InstanceView[] = await res.json();
    assert.deepEqual(list.map((v) => [v.instance, v.color, v.status]), [
      ["app-blue", "blue", "live"],
      ["app-green", "green", "live"],
      ["app-red", "red", "live"],
    ]);
    for (const v of list) {
      assert.equal(v.pid, Deno.pid);
      assert.ok(
        v.latest["cpu.percent"] >= 0 && "loop.lag_ms" in v.latest &&
          "mem.heap_used_bytes" in v.latest,
      );
    }
  } finally {
    await Promise.all(agents.map((a) => a.stop()));
    await live.close();
    await collector.stop();
  }
});

Deno.test("a collector stopped for 3 s loses nothing: the backlog arrives in order, in its time place", async () => {
  const first = await startTestCollector();
  const endpoint = first.zmqEndpoint; // the port the second collector must take over
  const agent = createAgent({
    service: "steady",
    instance: "one",
    collector: endpoint,
    intervalMs: 50,
  });
  const id = instanceId("steady", "one");
  const instanceOf = async (url: string) => {
    const list: InstanceView[] = await (await fetch(`${url}/api/instances`)).json();
    return list.find((v) => v.id === id);
  };
  let second: Awaited<ReturnType<typeof startCollector>> | null = null;
  try {
    await waitFor(
      async () => ((await instanceOf(first.httpUrl))?.received ?? 0) >= 10,
      "10 samples at the first collector",
    );
    await first.stop();
    // The first collector is gone. Samples from here on are the backlog, which must all arrive.
    // A frame the agent wrote as the collector closed is lost: PUSH/PULL has no acknowledgement,
    // so the next collector counts it as a sequence gap (docs/operations.md, "what is lost when").
    const backlogFrom = agent.stats().seq;
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, 3000)); // the outage itself: elapsed time is the point
    assert.ok(
      agent.stats().backlog >= 40,
      `the agent holds the samples taken while down (${agent.stats().backlog})`,
    );
    second = await startTestCollector({ zmq: endpoint });
    const live = await LiveClient.connect(second.httpUrl, "?metrics=*");
    await waitFor(
      () => agent.stats().backlog === 0 && agent.stats().seq > backlogFrom + 60,
      "the backlog to drain",
    );
    await agent.stop();
    const produced = agent.stats().seq;
    const view = await waitFor(async () => {
      const v = await instanceOf(second!.httpUrl);
      return v && v.status === "stopped" && v; // the goodbye came last, after the backlog
    }, "the agent's goodbye at the second collector");
    // Every sample taken while the collector was down arrived (but the one or two written into
    // the closing socket, which no collector received).
    assert.ok(
      view.received >= produced - backlogFrom - 2,
      `${view.received} received of ${produced - backlogFrom} taken since the stop`,
    );
    const stats = await (await fetch(`${second.httpUrl}/api/stats`)).json();
    const mine = stats.instances.list.find((i: { id: string }) => i.id === id);
    assert.ok(view.lost <= 2, `at most the frames in flight at the stop are lost (${view.lost})`);
    assert.equal(mine.duplicates, 0, "nothing delivered twice or out of order");
    assert.equal(agent.stats().dropped, 0);
    // Backlog samples keep their own spacing: the oldest sits near the start of the outage,
    // not stacked at the moment of delivery.
    const hello = live.frames.find((f) => f.type === "hello");
    assert.ok(hello && hello.type === "hello");
    const pts = [
      ...(hello.series[id]?.["cpu.percent"] ?? []),
      ...(pointsByInstance(live.frames, "cpu.percent").get(id) ?? []),
    ];
    const oldest = Math.min(...pts.map(([t]) => t));
    assert.ok(
      oldest <= downAt + 500,
      `oldest backlog sample at ${oldest - downAt} ms after the stop`,
    );
    await live.close();
  } finally {
    await agent.stop();
    await first.stop();
    await second?.stop();
  }
});

/** Open files of this process whose path starts with `prefix`. */
function openFilesUnder(prefix: string): string[] {
  const out: string[] = [];
  for (const fd of Deno.readDirSync("/proc/self/fd")) {
    try {
      const target = Deno.readLinkSync(`/proc/self/fd/${fd.name}`);
      if (target.startsWith(prefix)) out.push(target);
    } catch { /* closed meanwhile */ }
  }
  return out;
}

Deno.test("a collector that cannot listen closes what it opened: sockets, history, alert store", async () => {
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const zmqPort = probe.addr.port;
  probe.close();
  const dir = await Deno.makeTempDir();
  const zmq = `tcp://127.0.0.1:${zmqPort}`;
  try {
    await assert.rejects(
      startCollector({ httpPort: busy.addr.port, zmq, dataDir: dir, log: quiet }),
      /cannot listen on HTTP 127\.0\.0\.1:\d+/,
    );
    assert.deepEqual(openFilesUnder(dir), [], "no file of the data directory is left open");
    // The ZMQ port is free again: the failed start closed its socket.
    const again = await startTestCollector({ zmq, dataDir: dir });
    assert.equal(again.zmqEndpoint, zmq);
    await again.stop();
    assert.deepEqual(openFilesUnder(dir), [], "stop closes every file too");
  } finally {
    busy.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a live client that asks for a labelled metric gets its recent points in the hello", async () => {
  const collector = await startTestCollector();
  const agent = createAgent({
    service: "jobs",
    instance: "w-1",
    collector: collector.zmqEndpoint,
    intervalMs: 50,
  });
  const key = 'queue.depth{queue="email",shard="1"}';
  const id = instanceId("jobs", "w-1");
  let live: LiveClient | null = null;
  try {
    agent.metrics.gauge("queue.depth").set(7, { queue: "email", shard: "1" });
    await waitFor(async () => {
      const list: InstanceView[] = await (await fetch(`${collector.httpUrl}/api/instances`))
        .json();
      return list.find((v) => v.id === id)?.latest[key] === 7;
    }, "the labelled gauge at the collector");
    // Two keys; the first one's labels hold a comma of their own.
    live = await LiveClient.connect(
      collector.httpUrl,
      `?metrics=${encodeURIComponent(`${key},cpu.percent`)}`,
    );
    const hello = await live.until((frames) => frames.find((f) => f.type === "hello"), "hello");
    assert.ok(hello.type === "hello");
    assert.ok((hello.series[id]?.[key]?.length ?? 0) >= 1, JSON.stringify(hello.series[id]));
    assert.ok((hello.series[id]?.["cpu.percent"]?.length ?? 0) >= 1);
  } finally {
    await agent.stop();
    await live?.close();
    await collector.stop();
  }
});
