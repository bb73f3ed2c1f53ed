/**
 * The instance cap protects memory and never locks out an agent that comes later (issue 16,
 * item 3): after 20 000 one-shot instances a new real agent was refused `instance_limit` for
 * three days, also across restarts. Silent instances make room, the longest gone first.
 */
import assert from "node:assert/strict";
import { instanceId, Instances, type PersistedView } from "../../lib/collector/instances.ts";
import { startCollector } from "../../lib/collector/collector.ts";
import { encode, type Identity, type Message } from "../../lib/protocol.ts";
import { connectPush } from "../../lib/transport/zmq.ts";
import type { InstanceView } from "../../lib/live/messages.ts";
import { waitFor } from "../support/live.ts";

const T0 = 1_700_000_000_000;

function who(service: string, instance: string): Identity {
  return { service, instance, pid: 1, host: "h", color: null, intervalMs: 1000 };
}

function oneShot(service: string, instance: string, seq = 0): Message {
  return {
    identity: who(service, instance),
    sent: T0,
    samples: [{ seq, ts: T0, metrics: { a: 1 } }],
    legacy: false,
  };
}

Deno.test("at the instance cap a new agent evicts the longest-gone instance, and is refused only while all are live", () => {
  const evicted: string[] = [];
  const reg = new Instances({ maxInstances: 100, onEvict: (id) => evicted.push(id) });
  // 100 one-shots, one a second: the first is silent longest.
  for (let i = 0; i < 100; i++) assert.ok(reg.observe(oneShot("bot", `b${i}`), T0 + i * 1000).ok);
  // The one silent longest goes first.
  const early = reg.observe(oneShot("real", "early"), T0 + 100_000);
  assert.ok(early.ok, "a stale one-shot made room");
  assert.deepEqual(evicted, [instanceId("bot", "b0")]);
  // Later, with 20 000 more one-shots, the real agents that report on are never refused.
  let t = T0 + 200_000;
  let refused = 0;
  for (let i = 0; i < 20_000; i++) {
    t += 10;
    if (!reg.observe(oneShot("bot", `x${i}`), t).ok) refused++;
    if (i % 100 === 0) assert.ok(reg.observe(oneShot("real", "early", 1 + i / 100), t).ok);
  }
  assert.equal(reg.size, 100);
  assert.ok(reg.get(instanceId("real", "early")), "the reporting agent was never evicted");
  // A new real agent after the flood: room is made for it.
  t += 5_000;
  const late = reg.observe(oneShot("real", "late"), t);
  assert.ok(late.ok, "a new agent after 20 000 one-shots is taken");
  assert.ok(refused > 0, "one-shots that all arrived within 3 s of each other were refused");

  // A cap full of live instances refuses, and holds.
  const full = new Instances({ maxInstances: 10 });
  for (let i = 0; i < 10; i++) full.observe(oneShot("live", `l${i}`), T0);
  const r = full.observe(oneShot("new", "n"), T0 + 500);
  assert.deepEqual(r, { ok: false, reason: "instance_limit" });
  assert.equal(full.size, 10);
});

Deno.test("after a restart, restored one-shot instances make room for a new agent", () => {
  const before = new Instances({ maxInstances: 50 });
  for (let i = 0; i < 50; i++) before.observe(oneShot("bot", `b${i}`), T0 + i);
  const persisted: PersistedView[] = before.list().map((v) => ({ ...structuredClone(v) }));
  const after = new Instances({ maxInstances: 50 });
  after.restore(persisted, T0 + 3 * 86_400_000);
  assert.equal(after.size, 50);
  const o = after.observe(oneShot("real", "agent"), T0 + 3 * 86_400_000);
  assert.ok(o.ok, "not refused instance_limit");
  assert.equal(after.size, 50);
});

Deno.test("real collector: one-shot instances persisted at the cap do not lock out a new agent after a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zeroapm-cap-" });
  let t = Date.now();
  const now = () => t;
  const opts = {
    httpPort: 0,
    zmq: "tcp://127.0.0.1:*",
    dataDir: dir,
    maxInstances: 40,
    now,
    log: () => {},
  };
  const list = async (url: string): Promise<InstanceView[]> =>
    await (await fetch(`${url}/api/instances`)).json();
  const sendAll = async (endpoint: string, frames: Uint8Array[]) => {
    const push = connectPush(endpoint, { sendHighWaterMark: 1000, lingerMs: 0 });
    try {
      for (const f of frames) {
        while (!(await push.trySend(f))) await new Promise((r) => setTimeout(r, 1));
      }
    } finally {
      push.close();
    }
  };
  try {
    const c1 = await startCollector(opts);
    try {
      const bots = Array.from(
        { length: 60 },
        (_, i) => encode(who("bot", `b${i}`), [{ seq: 0, ts: t, metrics: { a: 1 } }], t),
      );
      await sendAll(c1.zmqEndpoint, bots);
      await waitFor(async () => (await list(c1.httpUrl)).length === 40, "the cap filled");
    } finally {
      await c1.stop();
    }
    t += 3 * 3_600_000; // three hours later, within raw retention: all are kept, all gone
    const c2 = await startCollector(opts);
    try {
      assert.equal((await list(c2.httpUrl)).length, 40, "restored at the cap");
      const real = encode(who("real", "agent"), [{ seq: 0, ts: t, metrics: { a: 2 } }], t);
      await sendAll(c2.zmqEndpoint, [real]);
      const v = await waitFor(
        async () => (await list(c2.httpUrl)).find((v) => v.service === "real"),
        "the new agent listed",
      );
      assert.equal(v.status, "live");
      const stats = await (await fetch(`${c2.httpUrl}/api/stats`)).json();
      assert.equal(stats.rejected.byReason.instance_limit ?? 0, 0);
      assert.equal(stats.instances.evicted, 1);
    } finally {
      await c2.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
