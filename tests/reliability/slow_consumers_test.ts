/**
 * Slow consumers: 50 WebSocket clients that never read, while data flows. The server's
 * memory stays bounded (each client may hold `maxBufferedBytes` unsent, then frames are
 * dropped and counted), the stuck clients are closed after `stuckCloseMs`, and a client
 * that reads keeps receiving every frame.
 *
 * The collector is assembled from its real parts here (ingest, Hub, createHandler,
 * Deno.serve), as startCollector does, because startCollector has no `stuckCloseMs` option
 * yet: the default (30 s) would make this test too slow.
 */
import assert from "node:assert/strict";
import { createIngest } from "../../lib/collector/ingest.ts";
import { instanceId, Instances } from "../../lib/collector/instances.ts";
import { CollectorStats } from "../../lib/collector/stats.ts";
import { Services } from "../../lib/collector/services.ts";
import { RecentStore } from "../../lib/store/recent.ts";
import { Hub } from "../../lib/live/hub.ts";
import { createHandler } from "../../lib/http/handler.ts";
import { recentReader } from "../../lib/http/series.ts";
import { encode, type Identity } from "../../lib/protocol.ts";
import { LiveClient, pointsByInstance, waitFor } from "../support/live.ts";
import { stuckWebSocket } from "../support/hostile_net.ts";

const MB = 1024 * 1024;
const STUCK = 50;
const STUCK_CLOSE_MS = 2000;

Deno.test(`${STUCK} WebSocket clients that never read: memory bounded, closed when stuck, a reader keeps up`, async () => {
  const now = Date.now;
  const windowMs = 60_000;
  const instances = new Instances();
  const recent = new RecentStore({ windowMs });
  const stats = new CollectorStats({ now, log: () => {} });
  const services = new Services();
  const hub = new Hub({
    now,
    stuckCloseMs: STUCK_CLOSE_MS,
    // A small hello: the point is the stream, not the snapshot.
    hello: () => ({ type: "hello", now: now(), windowMs, instances: [], series: {} }),
  });
  const ingest = createIngest({ instances, recent, hub, stats, now });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    createHandler({
      instances,
      services,
      stats,
      hub,
      now,
      staticDir: new URL("../../static/", import.meta.url),
      history: recentReader(recent, now),
    }),
  );
  const httpUrl = `http://127.0.0.1:${server.addr.port}`;
  const stuck: Deno.Conn[] = [];
  let reader: LiveClient | null = null;
  let flowing = true;
  try {
    for (let i = 0; i < STUCK; i++) stuck.push(await stuckWebSocket(httpUrl));
    reader = await LiveClient.connect(httpUrl, "?metrics=*");
    await waitFor(() => hub.size === STUCK + 1, "all clients registered");
    const rss0 = Deno.memoryUsage().rss;

    // Data flows: 200 wide frames/s (256 metrics each, ~8 KB per live frame per client).
    const id: Identity = {
      service: "flow",
      instance: "wide",
      pid: 1,
      host: null,
      color: null,
      intervalMs: 5,
    };
    let seq = 0;
    let peakRss = rss0;
    const flow = (async () => {
      while (flowing) {
        const t = Date.now();
        const metrics: Record<string, number> = {};
        for (let k = 0; k < 256; k++) metrics[`w.m${k}`] = seq + k;
        ingest(encode(id, [{ seq, ts: t, metrics }], t));
        seq++;
        peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    // Every stuck client fills its socket, goes over the bound, stays there and is closed.
    await waitFor(() => hub.closedStuck >= STUCK, `${STUCK} stuck clients closed`, 25_000, 50);
    flowing = false;
    await flow;
    const wid = instanceId("flow", "wide");
    // The reader got a hello and (unless it fell behind, which it must not) every frame.
    const got = await reader.until(
      (f) => (pointsByInstance(f, "w.m0").get(wid)?.length ?? 0) >= seq && f,
      "the reader to receive every point",
    );
    assert.equal(got.filter((f) => f.type === "dropped").length, 0, "the reader never fell behind");
    assert.equal(hub.size, 1, "only the reader is left");
    assert.ok(hub.dropped > 0, "frames were dropped for stuck clients, and counted");
    const stats = await (await fetch(`${httpUrl}/api/stats`)).json();
    assert.equal(stats.live.closedStuck, STUCK);
    assert.equal(stats.live.droppedFrames, hub.dropped);
    // 50 clients x 1 MiB of unsent frames is the designed bound. This RSS is the test
    // process's, which also holds the reader's frames and runs the load: measured +71 MB
    // alone, +168 MB beside the other tests; unbounded growth would be gigabytes.
    assert.ok(peakRss - rss0 < 300 * MB, `RSS grew ${((peakRss - rss0) / MB).toFixed(0)} MB`);
    console.log(JSON.stringify({
      stuckClients: STUCK,
      framesPublished: seq,
      droppedFrames: hub.dropped,
      closedStuck: hub.closedStuck,
      rssBeforeMB: +(rss0 / MB).toFixed(0),
      rssPeakMB: +(peakRss / MB).toFixed(0),
    }));
  } finally {
    flowing = false;
    for (const c of stuck) {
      try {
        c.close();
      } catch { /* closed by the server */ }
    }
    await reader?.close();
    hub.closeAll();
    await server.shutdown();
  }
});
