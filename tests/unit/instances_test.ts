/** Instance registry: identity, sequence accounting, clock placement, liveness, limits. */
import assert from "node:assert/strict";
import { instanceId, Instances } from "../../lib/collector/instances.ts";
import type { Identity, Message, Sample } from "../../lib/protocol.ts";
import { PALETTE } from "../../lib/colors.ts";

const T0 = 1_700_000_000_000;

function identity(over: Partial<Identity> = {}): Identity {
  return {
    service: "svc",
    instance: "host:1",
    pid: 1,
    host: "host",
    color: null,
    intervalMs: 1000,
    ...over,
  };
}

function metrics(v = 1): Record<string, number> {
  const m: Record<string, number> = Object.create(null);
  m["cpu.percent"] = v;
  return m;
}

/** A single-sample message sent at `ts` (agent clock). */
function msg(seq: number | null, ts: number, over: Partial<Identity> = {}): Message {
  return {
    identity: identity(over),
    sent: ts,
    samples: [{ seq, ts, metrics: metrics() }],
    legacy: false,
  };
}

function batch(samples: Sample[], sent: number, over: Partial<Identity> = {}): Message {
  return { identity: identity(over), sent, samples, legacy: false };
}

/** A copy of an observation (observe reuses its result and a single sample's: placed.ts). */
function ok(o: ReturnType<Instances["observe"]>) {
  assert.ok(o.ok, "observation refused");
  return { ...o, samples: o.samples.map((s) => ({ ...s })) };
}

Deno.test("instance ids are URL-safe and unique for tricky names", () => {
  const pairs: Array<[string, string]> = [
    ["a/b", "x"],
    ["a%2Fb", "x"],
    ["a", "b/x"],
    ["a/b/x", ""],
    ["__proto__", "constructor"],
    ["constructor", "__proto__"],
    ["svc", "__proto__"],
    ["svc", "constructor"],
    ["svc", "toString"],
    ["s p a c e", "ü?#&=%"],
  ];
  const ids = pairs.map(([s, i]) => instanceId(s, i));
  assert.equal(new Set(ids).size, ids.length, `ids collide: ${ids.join(" ")}`);
  for (const id of ids) {
    assert.match(id, /^[A-Za-z0-9\-_.!~*'()%]+\/[A-Za-z0-9\-_.!~*'()%]*$/, id);
    assert.equal(id.split("/").length, 2, `${id} has exactly one separator`);
  }
  assert.notEqual(instanceId("a/b", "x"), instanceId("a%2Fb", "x"));
  assert.notEqual(instanceId("a", "b/c"), instanceId("a/b", "c"));
});

Deno.test("instances keyed by prototype names are tracked like any other", () => {
  const reg = new Instances();
  for (const name of ["__proto__", "constructor", "hasOwnProperty"]) {
    const o = ok(reg.observe(msg(0, T0, { service: name, instance: name }), T0));
    assert.equal(o.created, true);
    assert.equal(reg.get(o.id)?.service, name);
  }
  assert.equal(reg.size, 3);
  assert.deepEqual(reg.list().map((v) => v.service), [
    "__proto__",
    "constructor",
    "hasOwnProperty",
  ]);
});

Deno.test("two instances with the same colour are two ids", () => {
  const reg = new Instances();
  const a = ok(reg.observe(msg(0, T0, { instance: "h:1", pid: 1, color: "red" }), T0));
  const b = ok(reg.observe(msg(0, T0, { instance: "h:2", pid: 2, color: "red" }), T0));
  assert.notEqual(a.id, b.id);
  assert.equal(reg.size, 2);
  assert.equal(reg.get(a.id)?.color, "red");
  assert.equal(reg.get(b.id)?.color, "red");
});

Deno.test("instances without a colour get ten different ones; one ended gives its back", () => {
  const reg = new Instances();
  // Pod-like names, whose hashed colours collide (h:0 to h:9 happen to hash to all ten).
  const name = (i: number) => `pod-${((i + 1) * 2654435761 % 2 ** 32).toString(36)}`;
  const observe = (i: number, seq: number, at: number, color: string | null = null) =>
    reg.get(ok(reg.observe(msg(seq, at, { instance: name(i), pid: i, color }), at)).id)!.color;
  const first = Array.from({ length: PALETTE.length }, (_, i) => observe(i, 0, T0));
  assert.equal(new Set(first).size, PALETTE.length, first.join());
  // h:0 falls silent; 20 min on it is gone and off the live charts, the other nine report.
  const later = T0 + 20 * 60_000;
  for (let i = 1; i < PALETTE.length; i++) observe(i, 1, later);
  reg.sweep(later, Infinity);
  assert.equal(observe(20, 0, later), first[0], "the one colour no drawn instance has");
  // With all ten taken, the next shares one; a colour asked for is kept whatever others use.
  assert.ok(PALETTE.includes(observe(21, 0, later)));
  assert.equal(observe(22, 0, later, first[1]), first[1]);
});

Deno.test("instances count a sequence gap as lost samples", () => {
  const reg = new Instances();
  ok(reg.observe(msg(0, T0), T0));
  ok(reg.observe(msg(1, T0 + 1000), T0 + 1000));
  const o = ok(reg.observe(msg(5, T0 + 5000), T0 + 5000));
  const v = reg.get(o.id)!;
  assert.equal(v.lost, 3);
  assert.equal(v.received, 3);
  assert.equal(o.changed, true, "a change in loss is a change to publish");
  const o2 = ok(reg.observe(msg(6, T0 + 6000), T0 + 6000));
  assert.equal(reg.get(o2.id)!.lost, 3);
  assert.equal(o2.changed, false);
});

Deno.test("instances count a gap inside a batch as lost", () => {
  const reg = new Instances();
  const o = ok(reg.observe(
    batch([
      { seq: 0, ts: T0, metrics: metrics() },
      { seq: 1, ts: T0 + 1, metrics: metrics() },
      { seq: 4, ts: T0 + 2, metrics: metrics() },
    ], T0 + 2),
    T0 + 2,
  ));
  assert.equal(reg.get(o.id)!.lost, 2);
  assert.equal(o.samples.length, 3);
});

Deno.test("instances drop and count duplicates (seq <= last)", () => {
  const reg = new Instances();
  ok(reg.observe(msg(5, T0), T0));
  ok(reg.observe(msg(6, T0 + 1000), T0 + 1000));
  const dupe = ok(reg.observe(msg(6, T0 + 1000), T0 + 1100));
  assert.equal(dupe.samples.length, 0);
  const older = ok(reg.observe(msg(3, T0 + 1000), T0 + 1200));
  assert.equal(older.samples.length, 0);
  const v = reg.get(dupe.id)!;
  assert.equal(v.received, 2);
  assert.equal(v.lost, 0);
  assert.equal(reg.duplicates().get(dupe.id), 2);
  // And the sequence continues without a false gap.
  ok(reg.observe(msg(7, T0 + 2000), T0 + 2000));
  assert.equal(reg.get(dupe.id)!.lost, 0);
  assert.equal(reg.get(dupe.id)!.received, 3);
});

Deno.test("a new pid resets the sequence without counting loss", () => {
  const reg = new Instances();
  ok(reg.observe(msg(0, T0, { pid: 100 }), T0));
  ok(reg.observe(msg(1, T0 + 1000, { pid: 100 }), T0 + 1000));
  ok(reg.observe(msg(500, T0 + 2000, { pid: 100 }), T0 + 2000)); // lost 498
  // Restarted process, same name: starts at 0 again (and a first seq of 3 is no loss either).
  const o = ok(reg.observe(msg(3, T0 + 3000, { pid: 200 }), T0 + 3000));
  assert.equal(o.samples.length, 1, "not taken for a duplicate");
  assert.equal(o.changed, true);
  const v = reg.get(o.id)!;
  assert.equal(v.pid, 200);
  assert.equal(v.lost, 498);
  assert.equal(reg.duplicates().get(o.id), 0);
  ok(reg.observe(msg(4, T0 + 4000, { pid: 200 }), T0 + 4000));
  assert.equal(reg.get(o.id)!.lost, 498);
});

Deno.test("a sequence restart at 0 or 1 with the same pid resets the sequence", () => {
  for (const restart of [0, 1]) {
    const reg = new Instances();
    for (let s = 0; s <= 10; s++) ok(reg.observe(msg(s, T0 + s), T0 + s));
    const o = ok(reg.observe(msg(restart, T0 + 20), T0 + 20));
    assert.equal(o.samples.length, 1, `restart at ${restart} is accepted`);
    ok(reg.observe(msg(restart + 1, T0 + 21), T0 + 21));
    const v = reg.get(o.id)!;
    assert.equal(v.lost, 0, `restart at ${restart}: no false loss`);
    assert.equal(reg.duplicates().get(o.id), 0);
    assert.equal(v.received, 13);
  }
});

Deno.test("samples are placed at ts + (arrival - sent), clamped to arrival", () => {
  const reg = new Instances();
  // Agent clock 5 s behind the collector; a batch of backlog sent at agent time 10_000.
  const o = ok(reg.observe(
    batch([
      { seq: 0, ts: 7_000, metrics: metrics() },
      { seq: 1, ts: 8_000, metrics: metrics() },
      { seq: 2, ts: 20_000, metrics: metrics() }, // claims to be from the future
    ], 10_000),
    15_000,
  ));
  assert.deepEqual(o.samples.map((s) => s.t), [12_000, 13_000, 15_000]);
  assert.equal(reg.get(o.id)!.clockOffsetMs, 5_000);
});

Deno.test("an agent whose clock is an hour ahead or behind lands at arrival time", () => {
  const hour = 3_600_000;
  for (const skew of [hour, -hour]) {
    const reg = new Instances();
    const arrival = T0;
    const o = ok(reg.observe(msg(0, arrival + skew), arrival));
    assert.equal(o.samples[0].t, arrival, `skew ${skew}`);
    assert.equal(reg.get(o.id)!.clockOffsetMs, -skew);
    const o2 = ok(reg.observe(msg(1, arrival + 1000 + skew), arrival + 1000));
    assert.equal(o2.samples[0].t, arrival + 1000);
  }
});

Deno.test("legacy messages (seq null) never count loss or duplicates", () => {
  const reg = new Instances();
  let id = "";
  for (let i = 0; i < 5; i++) {
    const m: Message = {
      identity: identity({
        service: "legacy",
        instance: "red",
        pid: null,
        host: null,
        color: "red",
        intervalMs: null,
      }),
      sent: T0 + i,
      samples: [{ seq: null, ts: T0 + i, metrics: metrics(i) }],
      legacy: true,
    };
    const o = ok(reg.observe(m, T0 + i));
    assert.equal(o.samples.length, 1);
    id = o.id;
  }
  const v = reg.get(id)!;
  assert.equal(v.received, 5);
  assert.equal(v.lost, 0);
  assert.equal(reg.duplicates().get(id), 0);
  assert.equal(v.latest["cpu.percent"], 4);
});

Deno.test("sweep marks an instance stale after 3 missed intervals, live again on a new sample", () => {
  const reg = new Instances();
  const o = ok(reg.observe(msg(0, T0, { intervalMs: 1000 }), T0));
  let r = reg.sweep(T0 + 3000, 60_000);
  assert.deepEqual(r.changed, []);
  assert.equal(reg.get(o.id)!.status, "live");
  r = reg.sweep(T0 + 3001, 60_000);
  assert.deepEqual(r.changed.map((v) => v.id), [o.id]);
  assert.equal(reg.get(o.id)!.status, "stale");
  r = reg.sweep(T0 + 4000, 60_000);
  assert.deepEqual(r.changed, [], "a status change is reported once");
  const back = ok(reg.observe(msg(1, T0 + 5000), T0 + 5000));
  assert.equal(back.changed, true);
  assert.equal(reg.get(o.id)!.status, "live");
});

Deno.test("sweep uses the default interval when the agent does not say", () => {
  const reg = new Instances({ defaultIntervalMs: 2000 });
  const o = ok(reg.observe(msg(0, T0, { intervalMs: null }), T0));
  assert.equal(reg.sweep(T0 + 6000, 60_000).changed.length, 0);
  assert.equal(reg.sweep(T0 + 6001, 60_000).changed.length, 1);
  assert.equal(reg.get(o.id)!.status, "stale");
});

Deno.test("sweep forgets an instance silent longer than the bound", () => {
  const reg = new Instances();
  const a = ok(reg.observe(msg(0, T0, { instance: "a" }), T0));
  const b = ok(reg.observe(msg(0, T0 + 50_000, { instance: "b" }), T0 + 50_000));
  assert.deepEqual(reg.sweep(T0 + 60_000, 60_000).forgotten, []);
  const r = reg.sweep(T0 + 60_001, 60_000);
  assert.deepEqual(r.forgotten, [a.id]);
  assert.equal(reg.get(a.id), undefined);
  assert.ok(reg.get(b.id));
  assert.equal(reg.size, 1);
  // It comes back as a new instance.
  const again = ok(reg.observe(msg(9, T0 + 70_000, { instance: "a" }), T0 + 70_000));
  assert.equal(again.created, true);
  assert.equal(reg.get(again.id)!.lost, 0);
});

Deno.test("the instance limit refuses new instances but keeps existing ones reporting", () => {
  const reg = new Instances({ maxInstances: 2 });
  ok(reg.observe(msg(0, T0, { instance: "a" }), T0));
  ok(reg.observe(msg(0, T0, { instance: "b" }), T0));
  const refused = reg.observe(msg(0, T0, { instance: "c" }), T0);
  assert.deepEqual(refused, { ok: false, reason: "instance_limit" });
  assert.equal(reg.size, 2);
  const a = ok(reg.observe(msg(1, T0 + 1000, { instance: "a" }), T0 + 1000));
  assert.equal(a.samples.length, 1);
  assert.equal(reg.get(a.id)!.received, 2);
});

Deno.test("a hostile colour gets a palette colour and requestedColor is kept verbatim", () => {
  const reg = new Instances();
  for (const hostile of ["red;background:url(x)", "__proto__", "constructor", "<img src=x>"]) {
    const o = ok(reg.observe(msg(0, T0, { instance: hostile, color: hostile }), T0));
    const v = reg.get(o.id)!;
    assert.ok(PALETTE.includes(v.color), `${hostile} -> ${v.color}`);
    assert.equal(v.requestedColor, hostile);
  }
  const good = ok(reg.observe(msg(0, T0, { instance: "good", color: "Blue" }), T0));
  assert.equal(reg.get(good.id)!.color, "blue");
  assert.equal(reg.get(good.id)!.requestedColor, "Blue");
});

Deno.test("a colour change is an instance change with a new safe colour", () => {
  const reg = new Instances();
  ok(reg.observe(msg(0, T0, { color: "red" }), T0));
  const o = ok(reg.observe(msg(1, T0 + 1, { color: "javascript:alert(1)" }), T0 + 1));
  assert.equal(o.changed, true);
  const v = reg.get(o.id)!;
  assert.ok(PALETTE.includes(v.color));
  assert.equal(v.requestedColor, "javascript:alert(1)");
});

Deno.test("observe reports created on first sight and changed only when something changed", () => {
  const reg = new Instances();
  const first = ok(reg.observe(msg(0, T0), T0));
  assert.equal(first.created, true);
  const second = ok(reg.observe(msg(1, T0 + 1000), T0 + 1000));
  assert.equal(second.created, false);
  assert.equal(second.changed, false);
  const v = reg.get(first.id)!;
  assert.equal(v.firstSeen, T0);
  assert.equal(v.lastSeen, T0 + 1000);
  assert.equal(v.latest["cpu.percent"], 1);
});

Deno.test("list is ordered by service then instance", () => {
  const reg = new Instances();
  for (const [s, i] of [["b", "2"], ["a", "9"], ["b", "1"], ["a", "10"]]) {
    ok(reg.observe(msg(0, T0, { service: s, instance: i }), T0));
  }
  assert.deepEqual(reg.list().map((v) => `${v.service}/${v.instance}`), [
    "a/10",
    "a/9",
    "b/1",
    "b/2",
  ]);
});

/** Place one single-sample message and return its collector time. */
function placeOne(reg: Instances, seq: number, ts: number, arrival: number): number {
  const obs = reg.observe(msg(seq, ts), arrival);
  assert.ok(obs.ok);
  return obs.samples[0].t;
}

Deno.test("transit jitter does not move samples: the offset is the smallest delay seen", () => {
  const reg = new Instances();
  const skew = 5_000; // the agent's clock is 5 s behind
  const delays = [3, 40, 1, 25, 60, 2, 35];
  const placed = delays.map((d, i) => placeOne(reg, i, T0 + i * 20, T0 + i * 20 + skew + d));
  // Once the 3 ms and then the 1 ms frame have been seen, spacing is the agent's own 20 ms.
  const spacing = placed.slice(3).map((t, i) => t - placed[2 + i]);
  assert.deepEqual(spacing, [20, 20, 20, 20]);
  for (let i = 1; i < placed.length; i++) assert.ok(placed[i] > placed[i - 1], "order kept");
  assert.equal(reg.get(instanceId("svc", "host:1"))!.clockOffsetMs, skew + 1);
});

Deno.test("the clock offset follows a stepped agent clock within a minute", () => {
  const reg = new Instances();
  let arrival = T0;
  for (let i = 0; i < 10; i++) placeOne(reg, i, (arrival += 1000) - 2, arrival); // offset 2 ms
  const id = instanceId("svc", "host:1");
  assert.equal(reg.get(id)!.clockOffsetMs, 2);
  // The agent's clock jumps 10 s ahead (NTP step): samples are clamped to arrival meanwhile.
  let seq = 10;
  let t = 0;
  for (let i = 0; i < 61; i++) t = placeOne(reg, seq++, (arrival += 1000) + 10_000, arrival);
  assert.equal(reg.get(id)!.clockOffsetMs, -10_000);
  assert.equal(t, arrival, "placed at its real time again");
});

Deno.test("one frame with a wild send time does not hold the instance's later samples", () => {
  const reg = new Instances();
  const id = instanceId("svc", "host:1");
  let arrival = T0;
  for (let i = 0; i < 5; i++) placeOne(reg, i, (arrival += 1000) - 2, arrival); // offset 2 ms
  // A glitch (or a hostile sender): the protocol's latest time. Its point lands at arrival.
  assert.equal(placeOne(reg, 5, 8.64e15, arrival += 1000), arrival);
  assert.equal(reg.get(id)!.clockOffsetMs, 2, "the estimate did not take it");
  // The next samples keep the agent's own spacing, on the collector's timeline.
  for (let i = 6; i < 10; i++) {
    assert.equal(placeOne(reg, i, (arrival += 1000) - 2, arrival), arrival, `sample ${i}`);
  }
  // A clock really stepped forward is taken at its second frame.
  assert.equal(placeOne(reg, 10, (arrival += 1000) + 60_000, arrival), arrival, "clamped");
  placeOne(reg, 11, (arrival += 1000) + 60_000, arrival);
  assert.equal(reg.get(id)!.clockOffsetMs, -60_000);
});

Deno.test("an instance that comes back with a new start time is one line with a restart counted", () => {
  const reg = new Instances();
  const id = instanceId("svc", "host:1");
  assert.ok(reg.observe(msg(0, T0, { start: T0 - 5000 }), T0).ok);
  assert.ok(reg.observe(msg(1, T0 + 1000, { start: T0 - 5000 }), T0 + 1000).ok);
  assert.equal(reg.get(id)!.startedAt, T0 - 5000);
  // Same pid (a container restarted with the same pid 1), new start, sequence from 0.
  const obs = reg.observe(msg(0, T0 + 9000, { start: T0 + 8000 }), T0 + 9000);
  assert.ok(obs.ok && obs.changed && !obs.created);
  const v = reg.get(id)!;
  assert.equal(v.restarts, 1);
  assert.equal(v.lastRestartAt, T0 + 9000);
  assert.equal(v.lost, 0, "a restart is not loss");
  assert.equal(reg.size, 1);
});

Deno.test("with a start time, an old sequence number is a duplicate, not a restart", () => {
  const reg = new Instances();
  const id = instanceId("svc", "host:1");
  for (let seq = 0; seq < 5; seq++) reg.observe(msg(seq, T0 + seq, { start: T0 }), T0 + seq);
  const obs = reg.observe(msg(1, T0 + 1, { start: T0 }), T0 + 10);
  assert.ok(obs.ok);
  assert.equal(obs.samples.length, 0);
  assert.equal(reg.get(id)!.restarts, 0);
  assert.equal(reg.duplicates().get(id), 1);
});

Deno.test("a silent instance goes live -> stale after 3 intervals -> gone after 60", () => {
  const reg = new Instances();
  reg.observe(msg(0, T0), T0);
  const status = (t: number) => {
    reg.sweep(t, Infinity);
    return reg.get(instanceId("svc", "host:1"))!.status;
  };
  assert.equal(status(T0 + 3000), "live");
  assert.equal(status(T0 + 3001), "stale");
  assert.equal(status(T0 + 60_001), "gone");
  reg.observe(msg(1, T0 + 70_000), T0 + 70_000);
  assert.equal(reg.get(instanceId("svc", "host:1"))!.status, "live");
});

Deno.test("derived series join the sample, so the store and the page see them", () => {
  const reg = new Instances();
  const m = (seq: number, ts: number, total: number): Message => ({
    identity: identity(),
    sent: ts,
    samples: [{ seq, ts, metrics: { "jobs_total": total } }],
    legacy: false,
  });
  reg.observe(m(0, T0, 10), T0);
  const obs = reg.observe(m(1, T0 + 2000, 30), T0 + 2000);
  assert.ok(obs.ok);
  assert.deepEqual(obs.samples[0].metrics, { "jobs_total": 30, "jobs.per_s": 10 });
  assert.equal(reg.get(instanceId("svc", "host:1"))!.latest["jobs.per_s"], 10);
});

Deno.test("after a collector restart, samples keep their own spacing though the first frames waited", () => {
  const skew = 5_000; // the agent's clock is 5 s behind
  const first = new Instances();
  for (let i = 0; i < 50; i++) placeOne(first, i, T0 + i * 20, T0 + i * 20 + skew + 1);
  const id = instanceId("svc", "host:1");
  const view = first.get(id)!;
  const restored = new Instances();
  restored.restore(
    [{ ...structuredClone(view), lastSeq: first.lastSeq(id), agentStart: null }],
    T0 + 1300,
  );
  // The collector is down for 300 ms; the backlog arrives as one frame that waited 100 ms in
  // the socket while the new collector started, then samples come as usual (1 ms transit).
  const backlog = Array.from({ length: 15 }, (_, k) => ({
    seq: 50 + k,
    ts: T0 + (50 + k) * 20,
    metrics: metrics(),
  }));
  const sent = T0 + 64 * 20 + 5;
  const obs = restored.observe(batch(backlog, sent), sent + skew + 100);
  assert.ok(obs.ok);
  const placed = obs.samples.map((s) => s.t);
  for (let k = 65; k < 75; k++) {
    placed.push(placeOne(restored, k, T0 + k * 20, T0 + k * 20 + skew + 1));
  }
  // Every sample at its own time on the collector's clock: 20 ms apart, none piled up.
  assert.deepEqual(placed.slice(1).map((t, i) => t - placed[i]), Array(24).fill(20));
  assert.equal(placed[0], T0 + 50 * 20 + skew + 1);
});

Deno.test("an instance's points never go back in time, so stores only ever append", () => {
  const reg = new Instances();
  const place = (seq: number, ts: number, arrival: number) => {
    const obs = reg.observe(msg(seq, ts), arrival);
    assert.ok(obs.ok);
    return obs.samples[0].t;
  };
  assert.equal(place(0, T0, T0), T0);
  assert.equal(place(1, T0 + 1000, T0 + 1000), T0 + 1000);
  // The agent's clock steps back 30 s (or a sender replays old timestamps): the point is
  // placed at the previous one, not 30 s in the past.
  assert.equal(place(2, T0 - 28_000, T0 + 2000), T0 + 1000);
  const obs = reg.observe(
    batch([3, 4, 5].map((seq) => ({ seq, ts: T0 - 60_000, metrics: metrics() })), T0 + 3000),
    T0 + 3000,
  );
  assert.ok(obs.ok);
  for (const s of obs.samples) assert.ok(s.t >= T0 + 1000);
});

Deno.test("a goodbye makes an instance stopped: the sweep keeps it so, a restore too, a report revives it", () => {
  const reg = new Instances();
  reg.observe(msg(0, T0), T0);
  const bye = { ...msg(1, T0 + 1000), bye: true };
  const obs = reg.observe(bye, T0 + 1000);
  assert.ok(obs.ok && obs.changed, "the status change is published");
  const id = instanceId("svc", "host:1");
  assert.equal(reg.get(id)!.status, "stopped");
  // Silent for far longer than 60 intervals: still stopped (not stale, not gone).
  assert.deepEqual(reg.sweep(T0 + 3_600_000, 86_400_000).changed, []);
  assert.equal(reg.get(id)!.status, "stopped");
  // A collector restart keeps stopped and gone; anything else is stale until it reports.
  const restored = new Instances();
  const views = [
    { ...reg.get(id)! },
    { ...reg.get(id)!, id: "svc/gone", instance: "gone", status: "gone" as const },
    { ...reg.get(id)!, id: "svc/live", instance: "live", status: "live" as const },
  ];
  restored.restore(views, T0 + 3_600_000);
  assert.deepEqual(restored.list().map((v) => `${v.instance} ${v.status}`), [
    "gone gone",
    "host:1 stopped",
    "live stale",
  ]);
  // The same instance reporting again (say, started again under the same name) is live.
  reg.observe(msg(0, T0 + 3_700_000, { pid: 2 }), T0 + 3_700_000);
  assert.equal(reg.get(id)!.status, "live");
});

Deno.test("after a collector restart, silence is counted from the restart: nothing is gone before it could report", () => {
  const reg = new Instances();
  reg.observe(msg(0, T0), T0);
  const id = instanceId("svc", "host:1");
  // The collector was down for 5 minutes (far more than 60 intervals) and starts again.
  const start = T0 + 300_000;
  const restored = new Instances();
  restored.restore([{ ...structuredClone(reg.get(id)!), lastSeq: 0, agentStart: null }], start);
  restored.sweep(start + 1000, 86_400_000);
  assert.equal(restored.get(id)!.status, "stale", "not gone: it could not be heard yet");
  assert.equal(restored.get(id)!.lastSeen, T0, "the last report is still shown as it was");
  restored.sweep(start + 59_000, 86_400_000);
  assert.equal(restored.get(id)!.status, "stale");
  // Still silent 60 intervals after the restart: gone.
  assert.deepEqual(restored.sweep(start + 61_000, 86_400_000).changed.map((v) => v.status), [
    "gone",
  ]);
  // Forgetting still counts from the last report itself.
  assert.deepEqual(restored.sweep(start + 61_000, 300_000).forgotten, [id]);
});

Deno.test("an instance gone before a collector restart stays gone through the sweeps, until it reports", () => {
  const reg = new Instances();
  reg.observe(msg(0, T0), T0);
  const id = instanceId("svc", "host:1");
  reg.sweep(T0 + 61_000, 86_400_000);
  assert.equal(reg.get(id)!.status, "gone");
  const start = T0 + 3_600_000;
  const restored = new Instances();
  restored.restore([{ ...structuredClone(reg.get(id)!), lastSeq: 0, agentStart: null }], start);
  for (const t of [start + 1000, start + 30_000, start + 120_000]) {
    assert.deepEqual(restored.sweep(t, 86_400_000).changed, [], "not stale again");
    assert.equal(restored.get(id)!.status, "gone");
  }
  restored.observe(msg(1, start + 121_000), start + 121_000);
  assert.equal(restored.get(id)!.status, "live", "a report brings it back");
});

// The usual frame writes `latest` by its shared keys array (Message.keys) once all its names
// are listed: a cap that left names out must keep them out on the next frame too.
Deno.test("latest keeps to maxLatest for frames sharing one keys array", () => {
  const reg = new Instances({ maxLatest: 2 });
  const keys = ["a.x", "b.x", "c.x"];
  const m = (v: number): Message => ({
    identity: identity(),
    sent: T0 + v,
    samples: [{ seq: v, ts: T0 + v, metrics: { "a.x": v, "b.x": v, "c.x": v } }],
    legacy: false,
    keys,
  });
  reg.observe(m(1), T0 + 1);
  reg.observe(m(2), T0 + 2);
  const latest = reg.get(instanceId("svc", "host:1"))!.latest;
  assert.deepEqual(latest, { "a.x": 2, "b.x": 2 });
  // Under the cap, the shared keys take the fast way and still write every value.
  const wide = new Instances();
  wide.observe(m(1), T0 + 1);
  wide.observe(m(2), T0 + 2);
  assert.deepEqual(wide.get(instanceId("svc", "host:1"))!.latest, { "a.x": 2, "b.x": 2, "c.x": 2 });
});

Deno.test("instance ids stay right for many instances, past the id cache's bound", () => {
  const reg = new Instances({ maxInstances: 30_000 });
  for (let i = 0; i < 25_000; i++) {
    const o = ok(reg.observe(msg(1, T0, { instance: `h/${i}?` }), T0));
    assert.equal(o.id, instanceId("svc", `h/${i}?`));
  }
  const again = ok(reg.observe(msg(2, T0 + 1, { instance: "h/7?" }), T0 + 1));
  assert.equal(again.id, "svc/h%2F7%3F");
  assert.equal(reg.size, 25_000);
  // The same instance name in another service is another instance.
  const other = ok(reg.observe(msg(1, T0 + 2, { service: "other", instance: "h/7?" }), T0 + 2));
  assert.equal(other.id, "other/h%2F7%3F");
});

// observe reuses its result and a single sample's array and object (placed.ts): a duplicate
// in between must not leave the reused array empty or the next sample short.
Deno.test("a one-sample message's observation is reused, and a duplicate between two leaves it whole", () => {
  const reg = new Instances();
  const a = reg.observe(msg(5, T0), T0);
  assert.ok(a.ok);
  const first = a.samples;
  assert.equal(first.length, 1);
  const dupe = reg.observe(msg(5, T0), T0 + 10);
  assert.equal(dupe, a, "the same object, filled again");
  assert.ok(dupe.ok);
  assert.equal(dupe.samples.length, 0, "the duplicate was dropped");
  const m = msg(6, T0 + 1000);
  m.samples[0].metrics["cpu.percent"] = 7;
  const b = reg.observe(m, T0 + 1000);
  assert.ok(b.ok);
  assert.equal(b.samples, first, "the same one-sample array");
  assert.deepEqual(b.samples.map((s) => ({ ...s })), [{
    t: T0 + 1000,
    metrics: m.samples[0].metrics,
  }]);
  assert.equal(first.length, 1, "never cut by the duplicate");
  // A batch after it gets its own array; the one-sample array is untouched.
  const two = batch([
    { seq: 7, ts: T0 + 2000, metrics: metrics(3) },
    { seq: 8, ts: T0 + 3000, metrics: metrics(4) },
  ], T0 + 3000);
  const c = reg.observe(two, T0 + 3000);
  assert.ok(c.ok);
  assert.notEqual(c.samples, first);
  assert.deepEqual(c.samples.map((s) => s.t), [T0 + 2000, T0 + 3000]);
  assert.equal(reg.get(c.id)!.received, 4);
});

Deno.test("the same Identity object again skips the identity checks, never past a change or a forget", () => {
  const reg = new Instances({ maxInstances: 1 });
  const same = identity(); // the decoder hands an unchanged identity back as one object
  const send = (seq: number, id: Identity, at: number) =>
    ok(
      reg.observe({
        identity: id,
        sent: at,
        samples: [{ seq, ts: at, metrics: metrics() }],
        legacy: false,
      }, at),
    );
  assert.equal(send(1, same, T0).created, true);
  assert.equal(send(2, same, T0 + 1000).created, false);
  // Another object with another pid: a restart, then the first object again is one more.
  assert.equal(send(3, identity({ pid: 2 }), T0 + 2000).changed, true);
  assert.equal(send(4, same, T0 + 3000).changed, true);
  assert.equal(reg.get(instanceId("svc", "host:1"))!.pid, 1);
  assert.equal(reg.get(instanceId("svc", "host:1"))!.restarts, 2);
  // Forgotten (sweep), or evicted for another: the same object makes a new instance.
  assert.deepEqual(reg.sweep(T0 + 10_000, 1000).forgotten, [instanceId("svc", "host:1")]);
  assert.equal(send(5, same, T0 + 11_000).created, true);
  assert.equal(reg.size, 1);
  assert.equal(send(1, identity({ instance: "host:2" }), T0 + 400_000).created, true); // evicts
  assert.equal(send(6, same, T0 + 800_000).created, true);
  assert.equal(reg.get(instanceId("svc", "host:1"))!.received, 1);
});
