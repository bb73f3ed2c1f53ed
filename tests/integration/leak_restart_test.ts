/**
 * A leak alert across a collector restart, with a real collector, its durable history and
 * real ZMQ frames. The collector's clock is injected, so 20 minutes of a leak take a moment:
 * frames carry samples on that clock and the clock moves on as they are sent.
 */
import assert from "node:assert/strict";
import { startTestCollector } from "../support/collector.ts";
import { connectPush, type Sender } from "../../lib/transport/zmq.ts";
import { encode, type Identity } from "../../lib/protocol.ts";
import { MB } from "../../lib/alerts/leak.ts";
import type { Alert } from "../../lib/alerts/types.ts";
import type { InstanceView } from "../../lib/live/messages.ts";
import { LiveClient, waitFor } from "../support/live.ts";

const ID = "backend/leaky";

async function alerts(httpUrl: string): Promise<{ active: Alert[]; recent: Alert[] }> {
  return await (await fetch(`${httpUrl}/api/alerts`)).json();
}

Deno.test("a leak alert goes on across a 2-minute collector restart: confirmed at the first new sample, never resolved", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "zeroapm-leak-restart-" });
  const clock = { now: Date.now() - 30 * 60_000 };
  const agentStart = clock.now;
  const identity: Identity = {
    service: "backend",
    instance: "leaky",
    pid: 4242,
    host: "h",
    color: "red",
    intervalMs: 1000,
    start: agentStart,
  };
  let seq = 0;
  /** Samples this collector run has received. */
  let received = 0;
  /** `n` samples a second apart, ending at the clock; RSS grows 1 MB/s from 100 MB. */
  const send = async (sender: Sender, n: number) => {
    const samples = Array.from({ length: n }, (_, i) => {
      const ts = clock.now - (n - 1 - i) * 1000;
      return {
        seq: seq++,
        ts,
        metrics: { "mem.rss_bytes": 100 * MB + (ts - agentStart) / 1000 * MB },
      };
    });
    const frame = encode(identity, samples, clock.now);
    await waitFor(() => sender.trySend(frame), "the collector takes the frame");
    // Ingested before the clock moves on: its arrival time is the time it was sent.
    await waitFor(async () => {
      const stats = await (await fetch(`${collector.httpUrl}/api/stats`)).json();
      return stats.received.samples >= received + n;
    }, "the frame is ingested");
    received += n;
  };
  const start = () => startTestCollector({ dataDir, now: () => clock.now });

  let collector = await start();
  let sender = connectPush(collector.zmqEndpoint);
  try {
    // 20 minutes of a steady leak, a minute a frame.
    for (let m = 0; m < 20; m++) {
      clock.now += 60_000;
      await send(sender, 60);
    }
    // Then a second at a time until the alert has held for its `for` and fires.
    const firing = await waitFor(
      async () => {
        clock.now += 1000;
        await send(sender, 1);
        return (await alerts(collector.httpUrl)).active.find((a) =>
          a.rule === "memory-leak" && a.instance === ID && a.state === "firing"
        );
      },
      "the leak alert fires",
      30_000,
    );
    sender.close();
    await collector.stop();

    // Down for two minutes; the same process is still running and leaking.
    clock.now += 120_000;
    collector = await start();
    sender = connectPush(collector.zmqEndpoint);
    received = 0;
    // One round of the restarted collector (sweep and alerts) before the app reconnects: it
    // could (wrongly) end the instance as gone. The round's last job sends live clients the
    // alert summary, after the sweep and the alerts have run.
    const status = async () =>
      ((await (await fetch(`${collector.httpUrl}/api/instances`)).json()) as InstanceView[])
        .find((v) => v.id === ID)?.status;
    const live = await LiveClient.connect(collector.httpUrl);
    try {
      await live.until(
        (f) => f.some((x) => x.type === "alerts"),
        "a round of the restarted collector",
      );
    } finally {
      await live.close();
    }
    const before = await alerts(collector.httpUrl);
    assert.equal(await status(), "stale", "not gone: silence while the collector was down");
    assert.equal(before.active.find((a) => a.rule === "memory-leak"), undefined, "not replayed");
    assert.deepEqual(before.recent.filter((a) => a.instance === ID), [], "not ended either");
    clock.now += 1000;
    await send(sender, 1); // its first sample after the restart
    const confirmed = await waitFor(
      async () => (await alerts(collector.httpUrl)).active.find((a) => a.rule === "memory-leak"),
      "the carried leak alert is confirmed without new minutes of data",
      10_000,
    );
    assert.equal(confirmed.id, firing.id, "the same alert goes on");
    assert.equal(confirmed.firedAt, firing.firedAt);
    const after = await alerts(collector.httpUrl);
    assert.deepEqual(
      after.recent.filter((a) => a.instance === ID),
      [],
      "nothing resolved: not 'instance gone' before it reconnected, not 'not confirmed'",
    );
  } finally {
    sender.close();
    await collector.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
