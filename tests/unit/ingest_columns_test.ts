/**
 * Ingest's columnar path: a batch whose samples share their keys is decoded to columns
 * (Message.columns), and the rings, the live frame, history and the alerts take them from
 * there. What they end up holding must be what the path without columns makes of the same
 * frames; a frame with a bad value is still refused whole, and a frame whose samples differ
 * in their keys goes the general way.
 */
import assert from "node:assert/strict";
import { createIngest } from "../../lib/collector/ingest.ts";
import { Instances } from "../../lib/collector/instances.ts";
import { CollectorStats } from "../../lib/collector/stats.ts";
import { RecentStore } from "../../lib/store/recent.ts";
import { Hub } from "../../lib/live/hub.ts";
import type { LiveFrame } from "../../lib/live/messages.ts";
import { decodeMessage } from "../../lib/live/wire.ts";
import { FakeSocket, jsonForm } from "../support/live.ts";
import { identity } from "../support/views.ts";
import { decode, encode, FrameColumns, type OutgoingSample } from "../../lib/protocol.ts";
import { eachSeries, HistoryBatch } from "../../lib/collector/history_batch.ts";
import type { AlertEngine, Point } from "../../lib/alerts/mod.ts";

const T0 = 1_700_000_000_000;
const ID = "svc/h%3A1";

const IDENT = identity();

/** What the alert engine was fed, by metric, whichever way (observe or observeColumns). */
function recordingAlerts() {
  const fed: Record<string, Array<[number, number]>> = {};
  const calls = { observe: 0, observeColumns: 0 };
  const add = (metric: string, t: number, v: number) => (fed[metric] ??= []).push([t, v]);
  const engine = {
    observe(_view: unknown, points: ReadonlyArray<Point>) {
      calls.observe++;
      for (const p of points) {
        const [t, metrics] = "t" in p ? [p.t, p.metrics] : p;
        for (const k in metrics) add(k, t, metrics[k]);
      }
    },
    observeColumns(
      _view: unknown,
      keys: readonly string[],
      times: Float64Array,
      values: Float64Array,
      rows: number,
    ) {
      calls.observeColumns++;
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < keys.length; j++) add(keys[j], times[r], values[j * rows + r]);
      }
    },
  } as unknown as AlertEngine;
  return { engine, fed, calls };
}

/**
 * An ingest with one live page, history (a HistoryBatch behind the sink) and alerts; `send`
 * takes each frame the receive loop's way (`ingest(bytes)`: columns) or decoded first and
 * given to `accept` (the message has no columns: the path before them).
 */
function run(
  frames: Uint8Array[],
  columns: boolean | "staged",
  maxPointsPerSeries?: number,
  turnEvery = 1,
) {
  let now = T0;
  const instances = new Instances();
  const recent = new RecentStore({ windowMs: 600_000, maxPointsPerSeries });
  const stats = new CollectorStats({ now: () => now, log: () => {} });
  let turns: Array<() => void> = [];
  const hub = new Hub({
    now: () => now,
    hello: () => ({ type: "hello", now, windowMs: 60_000, instances: [], series: {} }),
    nextTurn: (fn) => turns.push(fn),
  });
  const socket = new FakeSocket();
  hub.add(socket, null);
  const batch = new HistoryBatch();
  const sink = { frames: 0, columns: 0 };
  const alerts = recordingAlerts();
  const ingest = createIngest({
    instances,
    recent,
    hub,
    stats,
    now: () => now,
    alerts: alerts.engine,
    history: {
      append: (id, metric, t, v) => batch.append(id, metric, t, v),
      appendFrame: (id, keys, samples) => {
        sink.frames++;
        batch.appendFrame(id, keys, samples);
      },
      appendColumns: (id, keys, times, values, rows) => {
        sink.columns++;
        batch.appendColumns(id, keys, times, values, rows);
      },
      touch: () => {},
    },
    staged: columns === "staged",
  });
  const delays: unknown[] = [];
  for (const [i, f] of frames.entries()) {
    now += 1000;
    if (columns) ingest(f);
    else {
      const d = decode(f);
      if (d.ok) {
        assert.equal(d.message.columns, undefined);
        ingest.accept(d.message);
      } else stats.refuse(d.error.reason, d.error.detail);
    }
    if (i % turnEvery !== turnEvery - 1 && i !== frames.length - 1) continue;
    ingest.flush(); // staged: as the receive loop does before it yields
    delays.push(stats.queueDelay.summary(now));
    const run = turns;
    turns = [];
    for (const fn of run) fn();
  }
  const history: Record<string, Array<[number, number]>> = {};
  for (const block of batch.take().blocks) {
    eachSeries(block, (metric, times, values) => {
      const to = history[metric] ??= [];
      times.forEach((t, i) => to.push([t, values[i]]));
    });
  }
  const live = socket.sent.slice(1).flatMap((s) => (decodeMessage(s) as LiveFrame[]).map(jsonForm));
  return {
    result: {
      points: recent.read(ID, now),
      latest: { ...instances.get(ID)!.latest },
      history,
      live,
      alerts: alerts.fed,
      samples: stats.samples,
      messages: stats.messages,
      refused: { ...stats.refused },
      // The queueing delay at each turn's end, and its running sums (held frames' are settled
      // at the flush: the same record, in the same order).
      delays,
      delayTotal: [stats.queueDelay.total, stats.queueDelay.sumMs],
      view: { ...instances.get(ID)!, latest: undefined },
    },
    sink,
    calls: alerts.calls,
  };
}

/** A batch of `n` samples from `seq`, each holding `keys(i)`'s metrics. */
function batchFrame(
  seq: number,
  n: number,
  metrics: (i: number) => Record<string, number>,
): Uint8Array {
  const samples: OutgoingSample[] = Array.from({ length: n }, (_, i) => ({
    seq: seq + i,
    ts: T0 + (seq + i) * 10,
    metrics: metrics(seq + i),
  }));
  return encode(IDENT, samples, T0 + (seq + n) * 10);
}

const usual = (i: number) => ({
  "cpu.percent": i % 100,
  "mem.rss_bytes": 1e6 + i,
  "loop.lag_ms": i / 7,
});

Deno.test("a batch decoded to columns ends up in rings, live frame, history and alerts as without them", () => {
  const frames = [
    batchFrame(0, 50, usual), // new series: point by point, from the columns
    batchFrame(50, 50, usual), // the columnar path
    batchFrame(100, 3, usual),
    batchFrame(90, 20, usual), // overlaps: 13 duplicates, so no columns for this one
    batchFrame(110, 20, (i) => i % 2 ? usual(i) : { "cpu.percent": i }), // keys differ
    batchFrame(130, 40, usual),
    batchFrame(170, 40, (i) => ({ "loop.lag_ms": i, "cpu.percent": -i })), // another shape
    batchFrame(210, 40, usual),
  ];
  const cols = run(frames, true);
  const plain = run(frames, false);
  assert.deepEqual(cols.result, plain.result);
  // The columns were taken where they could be, and only there.
  assert.equal(cols.sink.columns, 5, "frames 2, 3, 6, 7 and 8 hand history their columns");
  assert.equal(plain.sink.columns, 0);
  assert.equal(cols.calls.observeColumns, 6, "the new series' batches feed alerts columns too");
  assert.equal(cols.calls.observe, 2, "the frame with duplicates, the one whose keys differ");
  // And the points are the ones sent (placed on the collector clock: in order, all of them).
  assert.equal(cols.result.samples, 250, "seq 0 to 249, once each");
  assert.deepEqual(
    cols.result.points["mem.rss_bytes"].map((p) => p[1]),
    Array.from({ length: 250 }, (_, i) => i)
      .filter((i) => !(i >= 110 && i < 130 && i % 2 === 0) && !(i >= 170 && i < 210))
      .map((i) => 1e6 + i),
  );
  assert.equal(cols.result.alerts["cpu.percent"].length, 250);
});

Deno.test("a ring at its point cap takes a batch's columns as it takes the points one by one", () => {
  const frames = [0, 30, 60, 90, 120].map((seq) => batchFrame(seq, 30, usual));
  frames.push(batchFrame(150, 70, usual)); // more than the ring holds, in one batch
  const cols = run(frames, true, 50);
  assert.deepEqual(cols.result, run(frames, false, 50).result);
  assert.deepEqual(
    cols.result.points["cpu.percent"].map((p) => p[1]),
    Array.from({ length: 50 }, (_, i) => (170 + i) % 100),
  );
});

Deno.test("a batch with one bad value is refused whole, and the next batch's columns are its own", () => {
  const bad = JSON.parse(new TextDecoder().decode(batchFrame(50, 50, usual)));
  bad.samples[37].metrics["mem.rss_bytes"] = "1e6";
  const frames = [
    batchFrame(0, 50, usual),
    new TextEncoder().encode(JSON.stringify(bad)),
    batchFrame(100, 50, (i) => ({ ...usual(i), "mem.rss_bytes": 2e6 + i })),
  ];
  const cols = run(frames, true);
  assert.deepEqual(cols.result, run(frames, false).result);
  assert.equal(cols.result.refused.wrong_type, 1);
  assert.deepEqual(
    cols.result.points["mem.rss_bytes"].map((p) => p[1]),
    [
      ...Array.from({ length: 50 }, (_, i) => 1e6 + i),
      ...Array.from({ length: 50 }, (_, i) => 2e6 + 100 + i),
    ],
  );
});

Deno.test("decode gives columns only to batches whose samples share their keys, when asked", () => {
  const columns = new FrameColumns();
  const columnsOf = (f: Uint8Array) => {
    const d = decode(f, columns);
    assert.ok(d.ok);
    return d.message.columns;
  };
  assert.equal(columnsOf(batchFrame(0, 5, usual)), columns);
  assert.equal(columns.rows, 5);
  assert.equal(columnsOf(batchFrame(0, 1, usual)), undefined, "a batch of one");
  assert.equal(
    columnsOf(encode(IDENT, [{ seq: 0, ts: T0, metrics: usual(0) }], T0)),
    undefined,
    "the single form",
  );
  assert.equal(columnsOf(batchFrame(0, 5, (i) => i === 4 ? { "x.y": 1 } : usual(i))), undefined);
  assert.equal(
    columnsOf(batchFrame(0, 5, (i) => i === 4 ? { ...usual(i), "x.y": 1 } : usual(i))),
    undefined,
    "a later sample with one key more",
  );
  assert.equal(
    columnsOf(batchFrame(0, 5, (i) => i === 0 ? { ...usual(i), "x.y": 1 } : usual(i))),
    undefined,
    "a first sample with one key more",
  );
  const big = batchFrame(
    0,
    300,
    (i) => Object.fromEntries(Array.from({ length: 9 }, (_, j) => [`m${j}`, i * 10 + j])),
  );
  const c = columnsOf(big)!;
  assert.equal(c.rows, 300);
  assert.equal(c.values[8 * 300 + 299], 2998, "the columns grew to hold it");
  assert.equal(c.values[0], 0, "the first sample's row too");
  assert.equal(c.values[5 * 300 + 0], 5);
});

/** A single-form frame of `ident` with sequence number `seq`. */
function singleFrame(seq: number, metrics: Record<string, number>, ident = IDENT): Uint8Array {
  return encode(ident, [{ seq, ts: T0 + seq * 10, metrics }], T0 + seq * 10);
}

Deno.test("single frames take the decoder's values on ingest's path as the general path takes their metrics", () => {
  const other = identity({ instance: "h:2" });
  const frames = [
    singleFrame(0, usual(0)), // new series: point by point
    ...[1, 2, 3, 4].flatMap((s) => [singleFrame(s, usual(s)), singleFrame(s, usual(s + 9), other)]),
    singleFrame(3, usual(3)), // a duplicate: nothing placed
    singleFrame(5, { "loop.lag_ms": 0.25, "cpu.percent": 55, "mem.rss_bytes": 7 }), // reordered
    singleFrame(6, usual(6), identity({ pid: 2 })), // restarted: another identity
    singleFrame(7, usual(7), identity({ pid: 2 })),
    batchFrame(8, 4, usual),
    singleFrame(12, { ...usual(12), "x.y": 1 }), // a new series: point by point
    singleFrame(13, { ...usual(13), "x.y": 2 }),
    singleFrame(14, usual(14)), // fewer keys than the last frame
  ];
  const fast = run(frames, true);
  assert.deepEqual(fast.result, run(frames, false).result);
  assert.deepEqual(fast.result.points["loop.lag_ms"].map((p) => p[1]), [
    ...[0, 1, 2, 3, 4].map((i) => i / 7),
    0.25,
    ...[6, 7, 8, 9, 10, 11, 12, 13, 14].map((i) => i / 7),
  ]);
  assert.deepEqual(fast.result.points["x.y"].map((p) => p[1]), [1, 2]);
  assert.equal(fast.result.latest["mem.rss_bytes"], 1e6 + 14);
});

Deno.test("single frames held for a burst (staged) end up where they go one by one", () => {
  const other = identity({ instance: "h:2" });
  const frames = [
    singleFrame(0, usual(0)), // new series: point by point
    ...Array.from({ length: 40 }, (_, s) => s + 1).flatMap((s) => [
      singleFrame(s, usual(s)),
      ...(s < 35 ? [singleFrame(s, usual(s + 9), other)] : []), // then silent
    ]),
    singleFrame(30, usual(30)), // a duplicate: nothing held
    singleFrame(41, { "loop.lag_ms": 0.25, "cpu.percent": 55, "mem.rss_bytes": 7 }), // reordered
    singleFrame(43, usual(43)), // a gap: the instance is published, so not held
    singleFrame(44, usual(44), identity({ pid: 2 })), // restarted
    ...Array.from(
      { length: 300 },
      (_, i) => singleFrame(45 + i, usual(45 + i), identity({ pid: 2 })),
    ),
    batchFrame(345, 4, usual), // a batch after held rows
    singleFrame(349, { ...usual(349), "x.y": 1 }), // a new series: point by point
    singleFrame(350, { ...usual(350), "x.y": 2 }),
    singleFrame(351, usual(351)), // fewer keys than the last frame
  ];
  // History and alerts here are by metric over both instances: held rows come an instance at
  // a time, so their interleaving differs (each instance's own points are in `points`).
  type Result = ReturnType<typeof run>["result"];
  const sorted = (by: Record<string, Array<[number, number]>>) =>
    Object.fromEntries(
      Object.entries(by).map(([k, ps]) => [k, [...ps].sort((a, b) => a[0] - b[0] || a[1] - b[1])]),
    );
  const canon = (r: Result) => ({ ...r, history: sorted(r.history), alerts: sorted(r.alerts) });
  for (const turnEvery of [1, 7, 1000]) {
    const staged = run(frames, "staged", undefined, turnEvery);
    const plain = run(frames, false, undefined, turnEvery);
    assert.deepEqual(canon(staged.result), canon(plain.result), `a turn every ${turnEvery}`);
    assert.equal(staged.result.points["loop.lag_ms"].length, 351);
    assert.equal(staged.result.points["x.y"].length, 2);
  }
  // Held rows went to history and the alerts as columns: fewer calls than frames.
  const staged = run(frames, "staged", undefined, 1000);
  assert.ok(
    staged.sink.columns > 0 && staged.sink.columns < 20,
    `${staged.sink.columns} hand-overs`,
  );
  assert.ok(staged.calls.observeColumns < 20, `${staged.calls.observeColumns} alert calls`);
});
