/**
 * Hostile peers on the real ZMQ port of a real collector process (server.ts): many TCP
 * connections writing random bytes, and ZMTP peers whose frame header claims gigabytes.
 * The collector's resident memory stays flat and a good agent keeps delivering, in order.
 */
import assert from "node:assert/strict";
import { createAgent } from "../../lib/agent/mod.ts";
import { instanceId } from "../../lib/collector/instances.ts";
import type { InstanceView } from "../../lib/live/messages.ts";
import { waitFor } from "../support/live.ts";
import { startServer } from "../support/server_process.ts";
import { rssOf, tcpGarbage, zmtpHugeFrame } from "../support/hostile_net.ts";
import { countingReaders } from "../support/readers.ts";

const MB = 1024 * 1024;

async function instance(url: string, id: string): Promise<InstanceView | undefined> {
  const list: InstanceView[] = await (await fetch(`${url}/api/instances`)).json();
  return list.find((v) => v.id === id);
}

Deno.test("raw TCP garbage and ZMTP frames claiming gigabytes: collector memory flat, a good agent keeps delivering", async () => {
  const server = await startServer([]);
  const agent = createAgent({
    service: "good",
    instance: "steady",
    collector: server.zmqEndpoint,
    intervalMs: 20,
    readers: countingReaders(),
    runtime: null,
  });
  const id = instanceId("good", "steady");
  try {
    await waitFor(async () => ((await instance(server.httpUrl, id))?.received ?? 0) >= 25, "25");
    const rss0 = rssOf(server.child.pid);
    const before = (await instance(server.httpUrl, id))!.received;

    const garbage = await tcpGarbage(server.zmqEndpoint, {
      connections: 1000,
      bytesEach: 8 * 1024,
      parallel: 32,
    });
    const huge = [];
    for (let i = 0; i < 10; i++) {
      // 4 GiB, then 2^62 bytes claimed; 2 MiB actually sent behind each header.
      const claim = i % 2 === 0 ? 4n * 1024n * 1024n * 1024n : 1n << 62n;
      huge.push(await zmtpHugeFrame(server.zmqEndpoint, claim, 2 * MB, 1500));
    }
    const rss1 = rssOf(server.child.pid);

    // The good agent still delivers: more samples, no gap, nothing out of order.
    await waitFor(
      async () => ((await instance(server.httpUrl, id))?.received ?? 0) >= before + 50,
      "50 more good samples after the attack",
    );
    const view = (await instance(server.httpUrl, id))!;
    assert.equal(view.lost, 0, "no good sample lost");
    const stats = await (await fetch(`${server.httpUrl}/api/stats`)).json();
    const mine = stats.instances.list.find((i: { id: string }) => i.id === id);
    assert.equal(mine.duplicates, 0);
    assert.equal(stats.instances.total, 1, "garbage created no instance");
    assert.ok(huge.every((h) => h.closedByPeer), "every oversized frame got its peer dropped");
    assert.ok(rss1 - rss0 < 50 * MB, `RSS grew ${((rss1 - rss0) / MB).toFixed(1)} MB`);
    const health = await fetch(`${server.httpUrl}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    console.log(JSON.stringify({
      garbageConnections: 1000,
      garbageBytes: garbage.bytes,
      hugeFrames: huge.length,
      hugeDropped: huge.filter((h) => h.closedByPeer).length,
      rssBeforeMB: +(rss0 / MB).toFixed(1),
      rssAfterMB: +(rss1 / MB).toFixed(1),
      goodReceived: view.received,
      goodLost: view.lost,
      rejected: stats.rejected.total,
    }));
  } finally {
    await agent.stop();
    await server.stop();
  }
});
