/**
 * Cardinality attacks: one agent trying to create a million series, many instances filling
 * the collector-wide series cap, more instances than the instance cap. The caps hold, every
 * refusal is counted (`series_limit`, `instance_limit`), memory stays bounded, and an agent
 * that was already reporting is unaffected.
 */
import assert from "node:assert/strict";
import { createIngest } from "../../lib/collector/ingest.ts";
import { instanceId, Instances } from "../../lib/collector/instances.ts";
import { CollectorStats } from "../../lib/collector/stats.ts";
import { RecentStore } from "../../lib/store/recent.ts";
import { Hub } from "../../lib/live/hub.ts";
import { encode, type Identity } from "../../lib/protocol.ts";
import { connectPush } from "../../lib/transport/zmq.ts";
import { createAgent } from "../../lib/agent/mod.ts";
import type { InstanceView } from "../../lib/live/messages.ts";
import { waitFor } from "../support/live.ts";
import { startServer } from "../support/server_process.ts";
import { rssOf } from "../support/hostile_net.ts";
import { countingReaders } from "../support/readers.ts";

const T0 = 1_700_000_000_000;
const MB = 1024 * 1024;
const PER_FRAME = 256; // the protocol's most metrics per sample

function who(service: string, instance: string): Identity {
  return { service, instance, pid: 1, host: "h", color: null, intervalMs: 1000 };
}

/** Frames from `identity` carrying `names` distinct metric names, 256 per frame. */
function* wideFrames(identity: Identity, names: number, prefix: string, seq0 = 0) {
  let seq = seq0;
  for (let start = 0; start < names; start += PER_FRAME) {
    const metrics: Record<string, number> = {};
    for (let k = start; k < Math.min(names, start + PER_FRAME); k++) metrics[`${prefix}.m${k}`] = k;
    yield encode(identity, [{ seq, ts: T0 + seq, metrics }], T0 + seq);
    seq++;
  }
}

Deno.test("in process: a million series from one agent, the total cap and the instance cap hold and are counted", () => {
  let t = T0;
  const now = () => t;
  const instances = new Instances({ maxInstances: 1000 });
  const recent = new RecentStore({ windowMs: 60_000 });
  const stats = new CollectorStats({ now, log: () => {} });
  const hub = new Hub({
    now,
    hello: () => ({ type: "hello", now: t, windowMs: 0, instances: [], series: {} }),
    nextTurn: (fn) => fn(), // frames go out at once (no timers in this synchronous run)
  });
  const ingest = createIngest({ instances, recent, hub, stats, now, maxSeriesTotal: 100_000 });
  const good = who("good", "steady");
  const goodId = instanceId("good", "steady");
  let goodSeq = 0;
  const goodSent: Array<[number, number]> = [];
  const tick = () => {
    t += 1;
    ingest(encode(good, [{ seq: goodSeq, ts: t, metrics: { "cpu.percent": goodSeq } }], t));
    goodSent.push([t, goodSeq++]);
  };
  tick();
  const heap0 = Deno.memoryUsage().heapUsed;

  // 1. One instance, a million distinct names: 512 kept, the rest refused one by one.
  let frames = 0;
  for (const f of wideFrames(who("evil", "one"), 1_000_000, "x")) {
    ingest(f);
    if (++frames % 100 === 0) tick();
  }
  assert.equal(recent.seriesCount(instanceId("evil", "one")), 512);
  assert.equal(stats.refused.series_limit, 1_000_000 - 512);
  // Its view lists the latest value of 512 names, not a million (the view is copied to the
  // history thread with every write).
  const evil = instances.get(instanceId("evil", "one"))!;
  assert.equal(Object.keys(evil.latest).length, 512);
  assert.equal(evil.latest["x.m0"], 0);

  // 2. 300 instances x 512 names: the collector-wide cap of 100 000 holds.
  const before = stats.refused.series_limit;
  for (let i = 0; i < 300; i++) {
    for (const f of wideFrames(who("evil", `many-${i}`), 512, "y")) ingest(f);
    tick();
  }
  assert.equal(recent.seriesTotal, 100_000);
  assert.equal(stats.refused.series_limit - before, 300 * 512 - (100_000 - 513));

  // 3. More instances than the instance cap (1000 here): refused whole, counted.
  for (let i = 0; i < 1500; i++) {
    ingest(encode(who("evil", `inst-${i}`), [{ seq: 0, ts: t, metrics: {} }], t));
  }
  assert.equal(instances.size, 1000);
  assert.equal(stats.refused.instance_limit, 1 + 301 + 1500 - 1000);
  const heapGrowth = Deno.memoryUsage().heapUsed - heap0;

  // The agent that was there first is untouched: every point, no loss.
  tick();
  assert.deepEqual(recent.read(goodId, t)["cpu.percent"], goodSent);
  assert.equal(instances.get(goodId)!.lost, 0);
  assert.equal(recent.seriesTotal, 100_000);
  console.log(JSON.stringify({
    seriesAttempted: 1_000_000 + 300 * 512,
    seriesHeld: recent.seriesTotal,
    series_limit: stats.refused.series_limit,
    instance_limit: stats.refused.instance_limit,
    heapGrowthMB: +(heapGrowth / MB).toFixed(1),
  }));
});

async function instance(url: string, id: string): Promise<InstanceView | undefined> {
  const list: InstanceView[] = await (await fetch(`${url}/api/instances`)).json();
  return list.find((v) => v.id === id);
}

Deno.test("real collector: a million-series agent and 10 500 instances: caps hold, memory bounded, a good agent unaffected", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zeroapm-card-" });
  const server = await startServer([
    "--data",
    dir,
  ]);
  const agent = createAgent({
    service: "good",
    instance: "steady",
    collector: server.zmqEndpoint,
    intervalMs: 20,
    readers: countingReaders(),
    runtime: null,
  });
  const goodId = instanceId("good", "steady");
  const push = connectPush(server.zmqEndpoint, { sendHighWaterMark: 1000, lingerMs: 0 });
  const send = async (f: Uint8Array) => {
    while (!(await push.trySend(f))) await new Promise((r) => setTimeout(r, 1));
  };
  const stats = async () => await (await fetch(`${server.httpUrl}/api/stats`)).json();
  try {
    await waitFor(
      async () => ((await instance(server.httpUrl, goodId))?.received ?? 0) >= 10,
      "good",
    );
    const rss0 = rssOf(server.child.pid);
    let frames = 0;
    for (const f of wideFrames(who("evil", "one"), 1_000_000, "x")) {
      await send(f);
      frames++;
    }
    const expectedSeriesRefused = 1_000_000 - 512;
    await waitFor(
      async () => (await stats()).rejected.byReason.series_limit >= expectedSeriesRefused,
      "series refusals counted",
      20_000,
      100,
    );
    const rssSeries = rssOf(server.child.pid);
    // 10 500 more instances: the default cap of 10 000 holds.
    for (let i = 0; i < 10_500; i++) {
      await send(encode(who("evil", `inst-${i}`), [{ seq: 0, ts: T0, metrics: { a: 1 } }], T0));
      frames++;
    }
    const s = await waitFor(
      async () => {
        const s = await stats();
        const over = (s.rejected.byReason.instance_limit ?? 0) + s.instances.evicted;
        return s.instances.total === 10_000 && over >= 10_500 + 2 - 10_000 && s;
      },
      "instance cap reached",
      20_000,
      100,
    );
    const rss1 = rssOf(server.child.pid);
    const before = (await instance(server.httpUrl, goodId))!.received;
    await waitFor(
      async () => ((await instance(server.httpUrl, goodId))?.received ?? 0) >= before + 25,
      "good agent still delivering",
    );
    const good = (await instance(server.httpUrl, goodId))!;
    assert.equal(good.lost, 0);
    assert.ok(
      s.rejected.byReason.series_limit >= expectedSeriesRefused,
      `series_limit ${s.rejected.byReason.series_limit}`,
    );
    // 10 000 instances held; 10 500 + 2 asked: the rest refused, or took the place of one
    // silent for 3 intervals (the sends take seconds).
    assert.equal(
      (s.rejected.byReason.instance_limit ?? 0) + s.instances.evicted,
      10_500 + 2 - 10_000,
    );
    assert.ok(rss1 - rss0 < 600 * MB, `RSS grew ${((rss1 - rss0) / MB).toFixed(0)} MB`);
    console.log(JSON.stringify({
      frames,
      series_limit: s.rejected.byReason.series_limit,
      instance_limit: s.rejected.byReason.instance_limit,
      evicted: s.instances.evicted,
      instances: s.instances.total,
      rssBeforeMB: +(rss0 / MB).toFixed(0),
      rssAfterSeriesMB: +(rssSeries / MB).toFixed(0),
      rssAfterInstancesMB: +(rss1 / MB).toFixed(0),
      goodLost: good.lost,
    }));
  } finally {
    push.close();
    await agent.stop();
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
