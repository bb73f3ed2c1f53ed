/** Ingest: one path for every frame; bad frames are counted and never stop collection. */
import assert from "node:assert/strict";
import { createIngest } from "../../lib/collector/ingest.ts";
import { Instances } from "../../lib/collector/instances.ts";
import { CollectorStats } from "../../lib/collector/stats.ts";
import { RecentStore } from "../../lib/store/recent.ts";
import { Hub } from "../../lib/live/hub.ts";
import type { InstanceFrame, LiveFrame, SamplesFrame } from "../../lib/live/messages.ts";
import { SamplesColumns, samplesPoints } from "../../lib/live/samples.ts";
import { decodeMessage } from "../../lib/live/wire.ts";
import { FakeSocket, jsonForm } from "../support/live.ts";
import { identity } from "../support/views.ts";
import { decode, encode, type Identity, type OutgoingSample } from "../../lib/protocol.ts";
import { eachSeries, HistoryBatch } from "../../lib/collector/history_batch.ts";

const T0 = 1_700_000_000_000;

function setup(opts: { maxSeriesPerInstance?: number; maxInstances?: number } = {}) {
  let t = T0;
  const now = () => t;
  const logs: string[] = [];
  const instances = new Instances({ maxInstances: opts.maxInstances });
  const recent = new RecentStore({ windowMs: 60_000 });
  const stats = new CollectorStats({ now, log: (l) => logs.push(l) });
  // The hub sends at the end of a turn of the event loop: `endTurn` runs it. `ingest` below
  // ends the turn after each call (a receive loop that yields after every frame); `inTurn`
  // is the same ingest without it, for several messages in one turn.
  let turns: Array<() => void> = [];
  const endTurn = () => {
    const run = turns;
    turns = [];
    for (const fn of run) fn();
  };
  const hub = new Hub({
    now,
    hello: () => ({ type: "hello", now: t, windowMs: 60_000, instances: [], series: {} }),
    nextTurn: (fn) => turns.push(fn),
  });
  const socket = new FakeSocket();
  hub.add(socket, null);
  const inTurn = createIngest({
    instances,
    recent,
    hub,
    stats,
    now,
    ...(opts.maxSeriesPerInstance === undefined
      ? {}
      : { maxSeriesPerInstance: opts.maxSeriesPerInstance }),
  });
  const ingest = Object.assign((f: Uint8Array | string) => {
    inTurn(f);
    endTurn();
  }, {
    accept: (m: Parameters<typeof inTurn.accept>[0]) => {
      const r = inTurn.accept(m);
      endTurn();
      return r;
    },
  });
  /** Frames sent since the hello (the frames of a batch one by one). */
  const published = (): LiveFrame[] =>
    socket.sent.slice(1).flatMap((s) => (decodeMessage(s) as LiveFrame[]).map(jsonForm));
  return {
    ingest,
    inTurn,
    endTurn,
    instances,
    recent,
    stats,
    hub,
    logs,
    published,
    advance: (ms: number) => (t += ms),
  };
}

function frame(
  seq: number,
  ts: number,
  metrics: Record<string, number>,
  over: Partial<Identity> = {},
) {
  return encode(identity(over), [{ seq, ts, metrics }], ts);
}

Deno.test("ingest counts bad frames by reason and keeps collecting the next good frame", () => {
  const { ingest, stats, recent, instances } = setup();
  ingest(new TextEncoder().encode("{}"));
  ingest(new Uint8Array([0xff, 0xfe, 0x00, 0x80]));
  ingest("not json at all");
  ingest("[1,2,3]");
  ingest(new Uint8Array(0));
  ingest(frame(0, T0, { "cpu.percent": 12 }));
  assert.equal(stats.refused.missing_field, 1);
  assert.equal(stats.refused.invalid_utf8, 1);
  assert.equal(stats.refused.invalid_json, 2);
  assert.equal(stats.refused.not_object, 1);
  assert.equal(stats.refusedTotal, 5);
  assert.equal(stats.messages, 1);
  assert.equal(stats.samples, 1);
  assert.equal(instances.size, 1);
  assert.deepEqual(recent.read("svc/h%3A1", T0)["cpu.percent"], [[T0, 12]]);
});

Deno.test("ingest refuses bidi and invisible characters in names as invalid_name", () => {
  const { ingest, stats, instances } = setup();
  ingest(frame(0, T0, { "cpu.percent": 1 }, { service: "\u202Eevil\u202C" }));
  ingest(frame(0, T0, { "cpu.percent": 1 }, { instance: "web-1\u200B" }));
  ingest(frame(0, T0, { 'jobs_total{queue="\u2067a\u2069"}': 1 }));
  assert.equal(stats.refused.invalid_name, 3);
  assert.equal(stats.refusedTotal, 3);
  assert.equal(instances.size, 0, "no instance created from a refused frame");
});

Deno.test("ingest does not stop on a bad frame between good ones", () => {
  const { ingest, stats, instances, advance } = setup();
  ingest(frame(0, T0, { "cpu.percent": 1 }));
  advance(1000);
  ingest("{");
  ingest(frame(1, T0 + 1000, { "cpu.percent": 2 }));
  assert.equal(stats.messages, 2);
  const v = instances.list()[0];
  assert.equal(v.received, 2);
  assert.equal(v.lost, 0);
  assert.equal(v.latest["cpu.percent"], 2);
});

Deno.test("ingest logs a flood of bad frames once, rate-limited", () => {
  const { ingest, stats, logs } = setup();
  for (let i = 0; i < 1000; i++) ingest("{}");
  assert.equal(stats.refused.missing_field, 1000);
  assert.equal(logs.length, 1);
});

Deno.test("ingest counts the bytes it received, good and bad", () => {
  const { ingest, stats } = setup();
  const good = frame(0, T0, { "cpu.percent": 1 });
  ingest(good);
  ingest(new Uint8Array([1, 2, 3]));
  assert.equal(stats.bytes, good.byteLength + 3);
});

Deno.test("ingest publishes an instance frame on first sight, then samples with points", () => {
  const { ingest, published } = setup();
  ingest(frame(0, T0, { "cpu.percent": 12, "mem.rss_bytes": 1024 }));
  const frames = published();
  assert.deepEqual(frames.map((f) => f.type), ["instance", "samples"]);
  const inst = frames[0] as InstanceFrame;
  assert.equal(inst.instance.id, "svc/h%3A1");
  assert.equal(inst.instance.color, "red");
  assert.equal(inst.now, T0);
  const s = frames[1] as SamplesFrame;
  assert.equal(s.id, "svc/h%3A1");
  assert.deepEqual(s.t, [T0]);
  assert.deepEqual(s.v, { "cpu.percent": [12], "mem.rss_bytes": [1024] });
});

Deno.test("ingest publishes only samples while nothing about the instance changes", () => {
  const { ingest, published, advance } = setup();
  ingest(frame(0, T0, { "cpu.percent": 1 }));
  advance(1000);
  ingest(frame(1, T0 + 1000, { "cpu.percent": 2 }));
  assert.deepEqual(published().map((f) => f.type), ["instance", "samples", "samples"]);
});

Deno.test("ingest publishes an instance frame when the instance changes (colour, loss)", () => {
  const { ingest, published, advance } = setup();
  ingest(frame(0, T0, { "cpu.percent": 1 }));
  advance(1000);
  ingest(frame(1, T0 + 1000, { "cpu.percent": 1 }, { color: "blue" }));
  advance(1000);
  ingest(frame(5, T0 + 2000, { "cpu.percent": 1 }, { color: "blue" }));
  const frames = published();
  assert.deepEqual(frames.map((f) => f.type), [
    "instance",
    "samples",
    "instance",
    "samples",
    "instance",
    "samples",
  ]);
  assert.equal((frames[2] as InstanceFrame).instance.color, "blue");
  assert.equal((frames[4] as InstanceFrame).instance.lost, 3);
});

Deno.test("ingest publishes a batch's points in one samples frame, on the collector clock", () => {
  const { ingest, published, recent } = setup();
  const samples: OutgoingSample[] = [
    { seq: 0, ts: 1000, metrics: { "cpu.percent": 1 } },
    { seq: 1, ts: 2000, metrics: { "cpu.percent": 2 } },
    { seq: 2, ts: 3000, metrics: { "cpu.percent": 3 } },
  ];
  ingest(encode(identity(), samples, 3000)); // agent clock far behind: placed relative to arrival
  const s = published()[1] as SamplesFrame;
  assert.deepEqual(s.t, [T0 - 2000, T0 - 1000, T0], "each time once");
  assert.deepEqual(s.v, { "cpu.percent": [1, 2, 3] });
  assert.deepEqual(recent.read(s.id, T0)["cpu.percent"], samplesPoints(s)["cpu.percent"]);
});

Deno.test("ingest publishes no samples frame for a message of duplicates only", () => {
  const { ingest, published, stats } = setup();
  const f = frame(3, T0, { "cpu.percent": 1 });
  ingest(f);
  ingest(f);
  assert.deepEqual(published().map((x) => x.type), ["instance", "samples"]);
  assert.equal(stats.messages, 2);
  assert.equal(stats.samples, 1);
});

Deno.test("ingest refuses new metric names over the series limit while existing series continue", () => {
  const { ingest, recent, stats, published, advance } = setup({ maxSeriesPerInstance: 2 });
  ingest(frame(0, T0, { "a.x": 1, "b.x": 2 }));
  advance(1000);
  ingest(frame(1, T0 + 1000, { "a.x": 3, "b.x": 4, "c.x": 5 }));
  const id = "svc/h%3A1";
  assert.equal(recent.seriesCount(id), 2);
  assert.equal(recent.has(id, "c.x"), false);
  assert.equal(stats.refused.series_limit, 1);
  assert.deepEqual(recent.read(id, T0 + 1000)["a.x"], [[T0, 1], [T0 + 1000, 3]]);
  const last = published().at(-1) as SamplesFrame;
  assert.deepEqual(last.t, [T0 + 1000]);
  assert.deepEqual(last.v, { "a.x": [3], "b.x": [4] });
  // Another instance has its own budget.
  ingest(frame(0, T0 + 1000, { "c.x": 1 }, { instance: "h:2", pid: 2 }));
  assert.equal(recent.has("svc/h%3A2", "c.x"), true);
  assert.equal(stats.refused.series_limit, 1);
});

Deno.test("ingest counts instance_limit refusals and keeps existing instances", () => {
  const { ingest, stats, instances, published } = setup({ maxInstances: 1 });
  ingest(frame(0, T0, { "cpu.percent": 1 }));
  ingest(frame(0, T0, { "cpu.percent": 1 }, { instance: "h:2", pid: 2 }));
  ingest(frame(1, T0, { "cpu.percent": 1 }));
  assert.equal(stats.refused.instance_limit, 1);
  assert.equal(instances.size, 1);
  assert.equal(stats.messages, 2);
  assert.ok(published().every((f) => f.type !== "instance" || f.instance.instance === "h:1"));
});

Deno.test("accept takes a message another decoder made, and returns the values it refused", () => {
  const { ingest, stats, recent } = setup({ maxSeriesPerInstance: 2, maxInstances: 1 });
  const identity: Identity = {
    service: "otel",
    instance: "a",
    pid: null,
    host: null,
    color: null,
    intervalMs: 60_000,
  };
  const sample = { seq: null, ts: T0, metrics: { "a.one": 1, "a.two": 2, "a.three": 3 } };
  const refused = ingest.accept({ identity, sent: T0, samples: [sample], legacy: false });
  assert.equal(refused, 1, "the third series is over the cap of 2");
  assert.equal(stats.refused.series_limit, 1);
  assert.equal(recent.seriesOf("otel/a").size, 2);
  const other = { ...identity, instance: "b" };
  assert.equal(
    ingest.accept({ identity: other, sent: T0, samples: [sample], legacy: false }),
    3,
    "a new instance over the instance cap refuses all its values",
  );
  assert.equal(stats.refused.instance_limit, 1);
});

Deno.test("ingest measures queueing delay at arrival: send time on the collector clock vs now", () => {
  const { ingest, stats, advance } = setup();
  // The agent's clock runs 5 s behind; transit is instant for the first frames.
  const skew = -5_000;
  let t = T0;
  for (let seq = 1; seq <= 3; seq++) {
    ingest(frame(seq, t + skew, { "cpu.percent": seq }));
    advance(1000);
    t += 1000;
  }
  // This frame was sent 1000 ms ago (agent clock) and only read now: it sat in a queue.
  ingest(frame(4, t + skew - 1000, { "cpu.percent": 4 }));
  const d = stats.queueDelaySummary();
  assert.equal(d.count, 4);
  assert.equal(d.max, 1000);
  assert.equal(d.p50, 1, "frames that met the quickest transit fall in the first 1 ms bin");
  assert.equal(stats.queueDelay.total, 4);
  assert.equal(stats.queueDelay.sumMs, 1000);
});

Deno.test("ingest builds no live samples while no page is connected, and does once one is", async () => {
  let t = T0;
  const hub = new Hub({
    now: () => t,
    hello: () => ({ type: "hello", now: t, windowMs: 60_000, instances: [], series: {} }),
    nextTurn: (fn) => queueMicrotask(fn),
  });
  const kinds: string[] = [];
  const publishSoon = hub.publishSoon.bind(hub);
  hub.publishSoon = (f: LiveFrame) => {
    kinds.push(f.type);
    publishSoon(f);
  };
  const built: Array<SamplesColumns | null> = [];
  const samplesSoon = hub.samplesSoon.bind(hub);
  hub.samplesSoon = (id: string, at: number) => {
    const c = samplesSoon(id, at);
    built.push(c);
    return c;
  };
  const recent = new RecentStore({ windowMs: 60_000 });
  const ingest = createIngest({
    instances: new Instances({}),
    recent,
    hub,
    stats: new CollectorStats({ now: () => t, log: () => {} }),
    now: () => t,
  });
  ingest(frame(0, T0, { "cpu.percent": 12 }));
  assert.deepEqual(kinds, ["instance"]);
  assert.equal(built.length, 1);
  assert.equal(built[0], null, "no samples frame for nobody");
  assert.deepEqual(recent.read("svc/h%3A1", T0)["cpu.percent"], [[T0, 12]], "still kept");
  const socket = new FakeSocket();
  hub.add(socket, null);
  t += 1000;
  ingest(frame(1, T0 + 1000, { "cpu.percent": 13 }));
  assert.ok(built[1] instanceof SamplesColumns);
  await new Promise<void>((r) => queueMicrotask(r)); // the hub's turn ends
  const last = decodeMessage(socket.sent.at(-1)!)![0] as SamplesFrame;
  assert.deepEqual([Array.from(last.t), { ...last.v }], [[T0 + 1000], {
    "cpu.percent": new Float64Array([13]),
  }]);
});

Deno.test("a frame whose samples share their keys is stored as the same frame without the hint is", () => {
  // Message.keys (decode) lets ingest resolve series once per frame; the result must be what
  // the per-point way makes of the same message, counters and the latest values included.
  // All four messages in one turn of the event loop (one live frame, columns padded with
  // nulls where a sample lacks a metric), or a turn each.
  const run = (hint: boolean, oneTurn: boolean) => {
    const s = setup();
    // The history thread's own buffer behind the sink; what it hands over is compared by series.
    const batch = new HistoryBatch();
    let frameCalls = 0;
    const ingest = createIngest({
      instances: s.instances,
      recent: s.recent,
      hub: s.hub,
      stats: s.stats,
      now: () => at,
      maxSeriesPerInstance: 4,
      history: {
        append: (id, metric, t, v) => batch.append(id, metric, t, v),
        appendFrame: (id, keys, samples) => {
          frameCalls++;
          batch.appendFrame(id, keys, samples);
        },
        appendColumns: (id, keys, times, values, rows) => {
          frameCalls++;
          batch.appendColumns(id, keys, times, values, rows);
        },
        touch: () => {},
      },
    });
    const frames = [
      [{ "cpu.percent": 1, "mem.rss_bytes": 10 }, { "cpu.percent": 2, "mem.rss_bytes": 20 }],
      [{ "cpu.percent": 3, "mem.rss_bytes": 30 }, { "cpu.percent": 4, "mem.rss_bytes": 40 }],
      [{ "jobs_total": 5, "cpu.percent": 5 }, { "jobs_total": 9, "cpu.percent": 6 }],
      [{ "cpu.percent": 7, "b.x": 2 }, { "cpu.percent": 8, "b.x": 4 }], // b.x: over the limit
    ];
    let seq = 0;
    let refused = 0;
    let at = T0;
    for (const metrics of frames) {
      const samples = metrics.map((m) => ({ seq: seq++, ts: T0 + seq * 1000, metrics: m }));
      at = samples[samples.length - 1].ts;
      const d = decode(encode(identity(), samples, at));
      assert.ok(d.ok);
      assert.ok(d.message.keys, "decode gives the hint");
      if (!hint) delete d.message.keys;
      refused += ingest.accept(d.message);
      if (!oneTurn) s.endTurn();
    }
    s.endTurn();
    const id = "svc/h%3A1";
    const handed = batch.points;
    const appended: Record<string, Array<[number, number]>> = {};
    for (const block of batch.take().blocks) {
      eachSeries(block, (metric, times, values) => {
        const to = appended[`${block[0]} ${metric}`] ??= [];
        times.forEach((t, i) => to.push([t, values[i]]));
      });
    }
    return {
      points: s.recent.read(id, at),
      latest: s.instances.get(id)!.latest,
      appended,
      handed,
      refused,
      live: s.published(),
      frameCalls,
    };
  };
  const fast = run(true, false);
  const slow = run(false, false);
  assert.ok(fast.frameCalls > 0, "the hint hands history whole frames");
  assert.equal(slow.frameCalls, 0);
  assert.deepEqual({ ...fast, frameCalls: 0 }, slow);
  const fastOne = run(true, true);
  assert.deepEqual({ ...fastOne, frameCalls: 0 }, run(false, true));
  assert.deepEqual(fastOne.live.map((f) => f.type), ["instance", "samples"]);
  const live = fastOne.live[1] as SamplesFrame;
  assert.equal(live.t.length, 8, "each sample's time once");
  assert.ok(Object.values(live.v).every((col) => col.length === 8), "every column as long");
  assert.deepEqual(live.v["mem.rss_bytes"], [10, 20, 30, 40, null, null, null, null]);
  assert.deepEqual(
    samplesPoints(live),
    fastOne.points,
    "the live frame holds what the recent window does",
  );
  assert.equal(fast.refused, 2);
  assert.ok(fast.points["jobs.per_s"], "a counter still derives its rate");
  // 2 samples x 2 metrics in each of the first two frames, 2 x 2 + one rate, 2 of cpu.percent
  // (b.x refused).
  assert.equal(fast.handed, 4 + 4 + 5 + 2);
  assert.deepEqual(fast.appended["svc/h%3A1 cpu.percent"].map((p) => p[1]), [
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
  ]);
});

Deno.test("ingest sends an instance's samples of one turn as one frame, after its instance frame", () => {
  const { inTurn, endTurn, published, advance } = setup();
  const b = { instance: "h:2", pid: 2 };
  inTurn(frame(0, T0, { "cpu.percent": 1 })); // new: instance frame, then its samples
  inTurn(frame(0, T0, { "cpu.percent": 10 }, b));
  advance(1000);
  inTurn(frame(1, T0 + 1000, { "cpu.percent": 2 }));
  inTurn(frame(1, T0 + 1000, { "cpu.percent": 11 }, b));
  advance(1000);
  inTurn(frame(2, T0 + 2000, { "cpu.percent": 3 }, { color: "blue" })); // a new view
  advance(1000);
  inTurn(frame(3, T0 + 3000, { "cpu.percent": 4 }, { color: "blue" }));
  assert.deepEqual(published(), [], "nothing before the turn ends");
  endTurn();
  const frames = published();
  const a = "svc/h%3A1";
  const summary = frames.map((f) =>
    f.type === "instance"
      ? `instance ${f.instance.id} ${f.instance.color}`
      : f.type === "samples"
      ? `samples ${f.id} ${JSON.stringify([f.t, f.v])}`
      : f.type
  );
  assert.deepEqual(summary, [
    `instance ${a} red`,
    `samples ${a} [[${T0},${T0 + 1000}],{"cpu.percent":[1,2]}]`,
    "instance svc/h%3A2 red",
    `samples svc/h%3A2 [[${T0},${T0 + 1000}],{"cpu.percent":[10,11]}]`,
    // Samples after the instance's new view go after it, in a frame of their own.
    `instance ${a} blue`,
    `samples ${a} [[${T0 + 2000},${T0 + 3000}],{"cpu.percent":[3,4]}]`,
  ]);
  // One frame per instance per turn: the next turn starts new ones.
  advance(1000);
  inTurn(frame(4, T0 + 4000, { "cpu.percent": 5 }, { color: "blue" }));
  endTurn();
  assert.equal(published().length, 7);
  assert.deepEqual((published()[6] as SamplesFrame).t, [T0 + 4000]);
});

Deno.test("ingest fills a column with null where a sample of the turn lacks that metric", () => {
  const { inTurn, endTurn, published, advance } = setup();
  inTurn(frame(0, T0, { "a.x": 1, "b.x": 2 }));
  advance(1000);
  inTurn(frame(1, T0 + 1000, { "a.x": 3 })); // known series: the per-frame (keys) way
  advance(1000);
  inTurn(frame(2, T0 + 2000, { "a.x": 5, "c.x": 6 })); // a new series: the per-point way
  endTurn();
  const s = published()[1] as SamplesFrame;
  assert.equal(s.now, T0 + 2000, "the latest arrival");
  assert.deepEqual(s.t, [T0, T0 + 1000, T0 + 2000]);
  assert.deepEqual(s.v, { "a.x": [1, 3, 5], "b.x": [2, null, null], "c.x": [null, null, 6] });
  assert.deepEqual(samplesPoints(s)["b.x"], [[T0, 2]]);
  // Known series all: the per-frame way, a column new to this turn's frame padded first.
  advance(1000);
  inTurn(frame(3, T0 + 3000, { "c.x": 7 }));
  advance(1000);
  inTurn(frame(4, T0 + 4000, { "c.x": 8, "b.x": 9 }));
  endTurn();
  const next = published()[2] as SamplesFrame;
  assert.deepEqual(next.t, [T0 + 3000, T0 + 4000]);
  assert.deepEqual(next.v, { "c.x": [7, 8], "b.x": [null, 9] });
});

// Ingest remembers an instance's rings for its usual frame's keys array (decode shares one
// per shape): forgetting the instance's series must not leave points going to the old rings.
Deno.test("ingest puts points in an instance's new series after its old ones were forgotten", () => {
  const { ingest, recent, advance } = setup();
  const id = "svc/h%3A1";
  ingest(frame(1, T0, { "a.x": 1, "b.x": 2 }));
  ingest(frame(2, T0, { "a.x": 3, "b.x": 4 }));
  recent.forget(id);
  advance(1000);
  ingest(frame(3, T0 + 1000, { "a.x": 5, "b.x": 6 }));
  assert.deepEqual({ ...recent.read(id, T0 + 1000) }, {
    "a.x": [[T0 + 1000, 5]],
    "b.x": [[T0 + 1000, 6]],
  });
});

// A samples frame reuses the columns it found for the last keys array; a sample added the
// general way in between (set) leaves them short, and they must be padded before use.
Deno.test("samples columns taken again for the same keys are padded after a general sample", () => {
  const cols = new SamplesColumns("i", T0);
  const keys = ["a.x", "b.x"];
  // As ingest does: the columns, then each sample's time and values.
  const first = cols.columns(keys);
  cols.add(T0);
  first[0].push(1);
  first[1].push(2);
  cols.add(T0 + 1);
  cols.set("a.x", 10); // no b.x in this sample
  const again = cols.columns(keys);
  cols.add(T0 + 2);
  again[0].push(20);
  again[1].push(21);
  assert.deepEqual(cols.toJSON().v, { "a.x": [1, 10, 20], "b.x": [2, null, 21] });
});
