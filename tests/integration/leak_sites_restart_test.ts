/**
 * A leak alert names the sites of the process that is leaking, not of an earlier process of
 * the same instance: with a stable instance id (a container's pid 1, `--instance web-1`) a
 * restarted app's alert fired with the previous process's heap profile, kept for days, and
 * pointed at code that may no longer exist. A real collector on an injected clock, real ZMQ
 * frames: samples and heap profiles as an agent sends them.
 */
import assert from "node:assert/strict";
import { startTestCollector } from "../support/collector.ts";
import { connectPush } from "../../lib/transport/zmq.ts";
import { encode, type Identity } from "../../lib/protocol.ts";
import { encodeHeapProfile, type HeapProfile } from "../../lib/protocol_profile.ts";
import { MB } from "../../lib/alerts/leak.ts";
import type { Alert } from "../../lib/alerts/types.ts";
import { waitFor } from "../support/live.ts";

const ID = "web/web-1";

Deno.test("after a restart under the same id, the leak alert names no site until the new process sends its profile", async () => {
  const clock = { now: Date.now() - 60 * 60_000 };
  const identity: Identity = {
    service: "web",
    instance: "web-1",
    pid: 1, // a container's pid: the same in every process
    host: "h",
    color: null,
    intervalMs: 1000,
    start: clock.now,
  };
  const collector = await startTestCollector({ now: () => clock.now });
  const sender = connectPush(collector.zmqEndpoint);
  let seq = 0;
  let received = 0;
  const stats = async () => await (await fetch(`${collector.httpUrl}/api/stats`)).json();
  /** `n` samples a second apart, ending at the clock; RSS grows 1 MB/s from the start. */
  const send = async (n: number) => {
    const start = identity.start!;
    const samples = Array.from({ length: n }, (_, i) => {
      const ts = clock.now - (n - 1 - i) * 1000;
      return { seq: seq++, ts, metrics: { "mem.rss_bytes": 100 * MB + (ts - start) / 1000 * MB } };
    });
    const frame = encode(identity, samples, clock.now);
    await waitFor(() => sender.trySend(frame), "the collector takes the frame");
    await waitFor(async () => (await stats()).received.samples >= received + n, "ingested");
    received += n;
  };
  const profile = async (fn: string) => {
    const before = (await stats()).profiles.received;
    const p: HeapProfile = {
      service: identity.service,
      instance: identity.instance,
      pid: identity.pid,
      at: clock.now,
      spanMs: 15_000,
      samplingInterval: 32768,
      heapUsedBytes: 80e6,
      totalBytes: 30e6,
      totalGrowth: 15e6,
      sites: [{
        fn,
        url: "file:///app/main.ts",
        line: 10,
        col: 1,
        bytes: 30e6,
        samples: 9,
        growth: 15e6,
      }],
    };
    await waitFor(() => sender.trySend(encodeHeapProfile(p)), "the collector takes the profile");
    await waitFor(async () => (await stats()).profiles.received > before, "the profile is kept");
  };
  const leakAlert = async () => {
    const { active } = await (await fetch(`${collector.httpUrl}/api/alerts`)).json() as {
      active: Alert[];
    };
    return active.find((a) =>
      a.rule === "memory-leak" && a.instance === ID && a.state === "firing"
    );
  };
  /** A second at a time until `ok` holds of the firing leak alert. */
  const until = (ok: (a: Alert) => boolean, what: string) =>
    waitFor(
      async () => {
        clock.now += 1000;
        await send(1);
        const a = await leakAlert();
        return a && ok(a) ? a : null;
      },
      what,
      30_000,
    );
  const fnOf = (a: Alert) => a.leak?.sites?.[0]?.fn;

  try {
    // The first process leaks for 3 minutes and sends its profile: the alert names its site.
    for (let m = 0; m < 3; m++) {
      clock.now += 60_000;
      await send(60);
    }
    await profile("oldCache");
    const first = await until((a) => fnOf(a) === "oldCache", "the first process's alert");
    assert.equal(first.leak?.sites?.length, 1);

    // Redeployed: same id, same pid, a new start. The new code leaks elsewhere, and its
    // agent has not profiled it yet (or cannot: another debugger, heapProfile off).
    clock.now += 5000;
    identity.start = clock.now;
    seq = 0;
    for (let m = 0; m < 3; m++) {
      clock.now += 60_000;
      await send(60);
    }
    // The alert goes on (the new process leaks too), but not with the old process's site.
    const second = await until(
      (a) => fnOf(a) !== "oldCache",
      "the alert without the previous process's site",
    );
    assert.equal(fnOf(second), undefined, JSON.stringify(second.leak));

    // Its own profile names its own site.
    await profile("newQueue");
    const named = await until((a) => fnOf(a) === "newQueue", "the new process's site");
    assert.equal(named.leak?.sites?.length, 1);
  } finally {
    sender.close();
    await collector.stop();
  }
});
