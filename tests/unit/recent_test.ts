/** Recent windows: time-ordered rings bounded by time and points, and the per-instance store. */
import assert from "node:assert/strict";
import { RecentStore, Ring } from "../../lib/store/recent.ts";

Deno.test("ring keeps points in time order when pushes arrive out of order", () => {
  const r = new Ring(100);
  for (const t of [10, 30, 20, 50, 5, 40]) r.push(t, t * 2);
  assert.deepEqual(r.points(), [[5, 10], [10, 20], [20, 40], [30, 60], [40, 80], [50, 100]]);
  assert.equal(r.length, 6);
  assert.equal(r.lastTime, 50);
});

Deno.test("ring keeps time order out of order across a wrapped buffer", () => {
  const r = new Ring(4, 4);
  for (const t of [1, 2, 3, 4, 5, 6]) r.push(t, t); // wraps: holds 3..6, head moved
  r.push(4.5, 45);
  assert.deepEqual(r.points().map(([t]) => t), [4, 4.5, 5, 6]);
});

Deno.test("empty ring has no points and lastTime -Infinity", () => {
  const r = new Ring(10);
  assert.equal(r.length, 0);
  assert.equal(r.lastTime, -Infinity);
  assert.deepEqual(r.points(), []);
});

Deno.test("ring trimBefore drops points older than the bound and keeps the rest", () => {
  const r = new Ring(100);
  for (let t = 0; t < 10; t++) r.push(t * 100, t);
  r.trimBefore(500);
  assert.deepEqual(r.points().map(([t]) => t), [500, 600, 700, 800, 900]);
  r.trimBefore(10_000);
  assert.equal(r.length, 0);
  assert.equal(r.lastTime, -Infinity);
});

Deno.test("ring points(since) returns only points at or after since", () => {
  const r = new Ring(100);
  for (let t = 1; t <= 5; t++) r.push(t, t);
  assert.deepEqual(r.points(3), [[3, 3], [4, 4], [5, 5]]);
});

Deno.test("ring caps points at maxPoints by dropping the oldest", () => {
  const r = new Ring(5, 2);
  for (let t = 1; t <= 12; t++) r.push(t, t * 10);
  assert.equal(r.length, 5);
  assert.deepEqual(r.points(), [[8, 80], [9, 90], [10, 100], [11, 110], [12, 120]]);
});

Deno.test("a full ring drops a late point older than everything it holds", () => {
  const r = new Ring(3, 3);
  for (const t of [10, 20, 30]) r.push(t, t);
  r.push(5, 5); // the oldest point is the new one: it is the one to drop
  assert.deepEqual(r.points().map(([t]) => t), [10, 20, 30]);
  r.push(15, 15); // newer than the oldest: the oldest goes
  assert.deepEqual(r.points().map(([t]) => t), [15, 20, 30]);
});

Deno.test("ring grows from a small initial capacity without losing points", () => {
  const r = new Ring(1000, 2);
  for (let t = 0; t < 300; t++) r.push(t, -t);
  assert.equal(r.length, 300);
  const pts = r.points();
  assert.deepEqual(pts[0], [0, -0]);
  assert.deepEqual(pts[299], [299, -299]);
  for (let i = 1; i < pts.length; i++) assert.ok(pts[i][0] > pts[i - 1][0]);
});

Deno.test("ring grows correctly after it has wrapped", () => {
  const r = new Ring(8, 2);
  r.push(1, 1);
  r.push(2, 2);
  r.trimBefore(2); // head moves to 1
  for (let t = 3; t <= 8; t++) r.push(t, t); // grows from a wrapped state
  assert.deepEqual(r.points().map(([t]) => t), [2, 3, 4, 5, 6, 7, 8]);
});

Deno.test("recent store reads every metric of an instance, or only the named ones", () => {
  const s = new RecentStore({ windowMs: 60_000 });
  s.push("svc/a", "cpu.percent", 1000, 1);
  s.push("svc/a", "mem.rss_bytes", 1000, 2);
  s.push("svc/b", "cpu.percent", 1000, 3);
  assert.deepEqual(Object.keys(s.read("svc/a", 2000)).sort(), ["cpu.percent", "mem.rss_bytes"]);
  const only = s.read("svc/a", 2000, ["cpu.percent", "no.such"]);
  assert.deepEqual(Object.keys(only), ["cpu.percent"]);
  assert.deepEqual(only["cpu.percent"], [[1000, 1]]);
  assert.deepEqual(s.read("svc/b", 2000)["cpu.percent"], [[1000, 3]]);
  assert.deepEqual(Object.keys(s.read("svc/none", 2000)), []);
});

Deno.test("recent store read returns only points within the window ending at now", () => {
  const s = new RecentStore({ windowMs: 1000 });
  for (let t = 0; t <= 3000; t += 500) s.push("i", "m", t, t);
  assert.deepEqual(s.read("i", 3000)["m"].map(([t]) => t), [2000, 2500, 3000]);
});

Deno.test("recent store read result is a null-prototype object (metric names are never keys of Object)", () => {
  const s = new RecentStore();
  s.push("i", "m", 1, 1);
  assert.equal(Object.getPrototypeOf(s.read("i", 1)), null);
  assert.equal(Object.getPrototypeOf(s.read("nobody", 1)), null);
});

Deno.test("recent store trim drops points older than the window", () => {
  const s = new RecentStore({ windowMs: 1000 });
  for (let t = 0; t <= 3000; t += 500) s.push("i", "m", t, t);
  s.trim(3000);
  assert.deepEqual(s.read("i", 1_000_000_000_000, /* any now */ ["m"]).m, []);
  assert.deepEqual(s.read("i", 3000).m.map(([t]) => t), [2000, 2500, 3000]);
});

Deno.test("recent store caps points per series", () => {
  const s = new RecentStore({ windowMs: 60_000, maxPointsPerSeries: 3 });
  for (let t = 1; t <= 10; t++) s.push("i", "m", t, t);
  assert.deepEqual(s.read("i", 10).m.map(([t]) => t), [8, 9, 10]);
});

Deno.test("recent store default point cap is the window at 10 Hz", () => {
  const s = new RecentStore({ windowMs: 60_000 });
  assert.equal(s.maxPointsPerSeries, 600);
  assert.equal(new RecentStore().windowMs, 15 * 60_000);
});

Deno.test("recent store has/seriesCount track series per instance, and forget drops them", () => {
  const s = new RecentStore();
  assert.equal(s.seriesCount("i"), 0);
  assert.equal(s.has("i", "m"), false);
  s.push("i", "m", 1, 1);
  s.push("i", "m", 2, 2);
  s.push("i", "n", 1, 1);
  s.push("j", "m", 1, 1);
  assert.equal(s.seriesCount("i"), 2);
  assert.equal(s.has("i", "m"), true);
  assert.equal(s.has("i", "x"), false);
  s.forget("i");
  assert.equal(s.seriesCount("i"), 0);
  assert.equal(s.has("i", "m"), false);
  assert.deepEqual(Object.keys(s.read("i", 2)), []);
  assert.equal(s.seriesCount("j"), 1);
});

Deno.test("a ring takes a column as it takes its points one by one: growing, wrapping, capped, out of order", () => {
  // Column j of a batch starts at values[from]; times are shared by the batch's columns.
  const column = (times: number[], from: number) => ({
    times: new Float64Array([...times, -1, -1]), // longer than the batch: only `n` rows count
    values: new Float64Array([...Array(from).fill(-7), ...times.map((t) => t * 3), 99, 99]),
  });
  const batches: number[][] = [
    [1, 2, 3],
    [3, 4, 5, 6, 7, 8, 9, 10, 11, 12], // past the first capacity (8): grows
    [13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25], // past the cap (20): oldest go
    [26, 27],
    [26.5, 28], // older than the newest only (wrapped: its place is below the head's)
    [20.5, 30], // older than the newest: one by one, in order
    Array.from({ length: 30 }, (_, i) => 40 + i), // more than the ring holds at all
    [],
  ];
  const a = new Ring(20, 8);
  const b = new Ring(20, 8);
  for (const [k, times] of batches.entries()) {
    const from = k % 3;
    const { times: t, values: v } = column(times, from);
    a.pushColumn(t, v, from, times.length);
    for (const x of times) b.push(x, x * 3);
    assert.deepEqual(a.points(), b.points(), `after batch ${k}`);
    assert.equal(a.length, b.length);
    assert.equal(a.lastTime, b.lastTime);
  }
  assert.deepEqual(a.points().map((p) => p[0]), Array.from({ length: 20 }, (_, i) => 50 + i));
});
