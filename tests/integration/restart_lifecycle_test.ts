/**
 * Instance status across a collector restart, with a real collector, its data directory and
 * real ZMQ frames on an injected clock: what went gone before the restart stays gone after
 * it (no new "instance-silent" alert for an instance that died long ago); an instance that
 * was live when the collector stopped is stale until it reports and raises nothing if it never
 * does (it ended with the collector, or while it was down); one the collector saw fall silent
 * before it stopped keeps its silent alert.
 */
import assert from "node:assert/strict";
import { startTestCollector } from "../support/collector.ts";
import type { Collector } from "../../lib/collector/collector.ts";
import { connectPush, type Sender } from "../../lib/transport/zmq.ts";
import { encode, type Identity } from "../../lib/protocol.ts";
import type { Alert } from "../../lib/alerts/types.ts";
import type { InstanceView } from "../../lib/live/messages.ts";
import { waitFor } from "../support/live.ts";

const MIB = 1024 * 1024;

function identity(instance: string, pid: number, start: number): Identity {
  return { service: "shop", instance, pid, host: "h", color: null, intervalMs: 1000, start };
}

async function alerts(c: Collector): Promise<{ active: Alert[]; recent: Alert[] }> {
  return await (await fetch(`${c.httpUrl}/api/alerts`)).json();
}

async function statusOf(c: Collector, id: string): Promise<string | undefined> {
  const views = (await (await fetch(`${c.httpUrl}/api/instances`)).json()) as InstanceView[];
  return views.find((v) => v.id === id)?.status;
}

Deno.test("after a collector restart, gone stays gone and only a silence seen before it alerts", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "zeroapm-restart-lifecycle-" });
  const clock = { now: Date.now() - 3 * 3600_000 };
  const start = () => startTestCollector({ dataDir, now: () => clock.now });
  const dead = identity("dead", 101, clock.now);
  const alive = identity("alive", 102, clock.now);
  const faded = identity("faded", 103, clock.now);
  const seqs = new Map<string, number>();
  let received = 0;
  /** `n` samples of `id`, a second apart, ending at the clock; waits until ingested. */
  const send = async (c: Collector, sender: Sender, id: Identity, n: number) => {
    let seq = seqs.get(id.instance) ?? 0;
    const samples = Array.from({ length: n }, (_, i) => ({
      seq: seq++,
      ts: clock.now - (n - 1 - i) * 1000,
      metrics: { "cpu.percent": 3, "mem.rss_bytes": 50 * MIB },
    }));
    seqs.set(id.instance, seq);
    const frame = encode(id, samples, clock.now);
    await waitFor(() => sender.trySend(frame), "the collector takes the frame");
    await waitFor(async () => {
      const stats = await (await fetch(`${c.httpUrl}/api/stats`)).json();
      return stats.received.samples >= received + n;
    }, "the frame is ingested");
    received += n;
  };

  let collector = await start();
  let sender = connectPush(collector.zmqEndpoint);
  try {
    await send(collector, sender, dead, 5);
    await send(collector, sender, alive, 5);
    // "dead" falls silent; "alive" and "faded" go on for 70 s: dead goes stale, then gone.
    for (let s = 0; s < 14; s++) {
      clock.now += 5000;
      await send(collector, sender, alive, 5);
      await send(collector, sender, faded, 5);
    }
    await waitFor(
      async () => (await statusOf(collector, "shop/dead")) === "gone",
      "dead is judged gone before the restart",
    );
    // "faded" falls silent 5 s before the stop: the collector sees it (its alert is pending).
    clock.now += 5000;
    await send(collector, sender, alive, 5);
    await waitFor(
      async () => (await alerts(collector)).active.some((x) => x.instance === "shop/faded"),
      "faded's silent alert is pending before the restart",
    );
    sender.close();
    await collector.stop();

    // An hour later. Neither reports again.
    clock.now += 3600_000;
    collector = await start();
    sender = connectPush(collector.zmqEndpoint);
    assert.equal(await statusOf(collector, "shop/dead"), "gone", "gone stays gone");
    assert.equal(await statusOf(collector, "shop/alive"), "stale", "alive is waited for");
    // A round of the restarted collector takes up faded's silent alert (pending), and one 35 s
    // later fires it: the same rounds would raise one for dead or alive, if they were silent.
    const silentOf = async (state: string) =>
      (await alerts(collector)).active.find((x) =>
        x.rule === "instance-silent" && x.instance === "shop/faded" && x.state === state
      );
    await waitFor(() => silentOf("pending"), "faded's silent alert is pending");
    clock.now += 35_000;
    const silent = await waitFor(() => silentOf("firing"), "faded's silent alert fires");
    assert.equal(silent.service, "shop");
    const a = await alerts(collector);
    assert.deepEqual(
      [...a.active, ...a.recent].filter((x) =>
        x.instance !== "shop/faded" && x.since >= clock.now - 3600_000
      )
        .map((x) => `${x.rule} ${x.instance} ${x.state}`),
      [],
      "nothing new for dead, nor for alive, live when the collector stopped",
    );
    assert.equal(await statusOf(collector, "shop/dead"), "gone");
  } finally {
    sender.close();
    await collector.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
