/**
 * The durable store's bounds under abuse (issue 16): a query's work follows the data that
 * exists, not the range asked for; and when too many points wait to be written, the
 * instances that send the most lose points, not the well-behaved ones.
 */
import assert from "node:assert/strict";
import { DurableStore } from "../../lib/store/durable.ts";
import { tempDir } from "../support/temp_dir.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

Deno.test("a query over [0, 8.64e15) walks only the rollup rows that exist", () => {
  using dirDir = tempDir("zeroapm-bounds-");
  const dir = dirDir.path;
  const clock = { t: T0 };
  const s = DurableStore.open({ dir, now: () => clock.t, sealEveryMs: 60_000 });
  for (let i = 0; i < 120; i++) {
    clock.t = T0 + i * 1000;
    s.append("svc/a", "cpu.percent", clock.t, 10 + (i % 3));
  }
  s.close(); // sealed: raw chunks and 1-minute and 1-hour rollups
  const again = DurableStore.open({ dir, now: () => clock.t + 400 * DAY });
  // Before the fix the 1-hour tier was walked a row (7 days) at a time from two years ago to
  // `to`: 14 million lookups, ~20 s. Now the walk stops at the newest row the tier holds.
  const started = performance.now();
  const a = again.query("svc/a", "cpu.percent", 0, 8_640_000_000_000_000, 1);
  const ms = performance.now() - started;
  assert.equal(a.tier, 2);
  assert.equal(a.points.length, 1);
  assert.deepEqual(a.points[0].slice(1), [10, 11, 12]);
  assert.ok(ms < 2000, `the query took ${ms.toFixed(0)} ms`);
  again.close();
});

Deno.test("past half the bound, the flooding instance loses points and the steady ones none", () => {
  using dirDir = tempDir("zeroapm-bounds-");
  const dir = dirDir.path;
  const clock = { t: T0 };
  // A seal round is due only hourly, and none runs here: points pile up as they do when
  // writes fall behind a flood.
  const s = DurableStore.open({
    dir,
    now: () => clock.t,
    sealEveryMs: 3_600_000,
    maxOpenPoints: 2000,
  });
  const steady = ["svc/a", "svc/b"];
  let sent = 0;
  for (let second = 0; second < 60; second++) {
    const t = T0 + second * 1000;
    for (let i = 0; i < 100; i++) s.append("flood/x", "m", t + i, i); // 100 points a second
    for (const id of steady) s.append(id, "cpu.percent", t, second); // 1 point a second
    sent++;
  }
  const { openPoints, dropped } = s.stats();
  assert.ok(openPoints <= 2000, `${openPoints} points held`);
  assert.ok(dropped > 0, "the flood was shed");
  for (const id of steady) {
    const a = s.query(id, "cpu.percent", T0, T0 + 60_000, 60);
    assert.equal(a.points.length, sent, `${id} kept every point`);
  }
  assert.deepEqual(s.shedFrom(), [["flood/x", dropped]]);
  s.close();
});

Deno.test("a single instance over the bound is shed too, and the whole bound holds", () => {
  using dirDir = tempDir("zeroapm-bounds-");
  const dir = dirDir.path;
  const clock = { t: T0 };
  const s = DurableStore.open({
    dir,
    now: () => clock.t,
    sealEveryMs: 3_600_000,
    maxOpenPoints: 1000,
  });
  for (let i = 0; i < 5000; i++) s.append(`svc/${i % 7}`, "m", T0 + i, i);
  assert.ok(s.stats().openPoints <= 1000);
  assert.equal(s.stats().openPoints + s.stats().dropped, 5000);
  s.close();
});
