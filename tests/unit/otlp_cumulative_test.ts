/**
 * Cumulative OTLP histograms -> intervals (cumulative.ts), their running totals in our buckets
 * (totals.ts) and the bounded memory both keep (lru.ts): first points, resets, retries,
 * eviction, and what the collector's deriver reads from the totals after each.
 */
import assert from "node:assert/strict";
import { CumulativeDeltas, type CumulativePoint } from "../../lib/otlp/cumulative.ts";
import { RunningTotals } from "../../lib/otlp/totals.ts";
import { BoundedLru } from "../../lib/otlp/lru.ts";
import { Deriver } from "../../lib/collector/derive.ts";
import { BUCKET_COUNT } from "../../lib/histogram.ts";

const BOUNDS = [10, 100];
const T0 = 1_700_000_000_000;

function pt(time: number, counts: number[], sum: number, start = T0): CumulativePoint {
  return { start, time, bounds: BOUNDS, counts, sum };
}

Deno.test("a series' first point is its baseline; each later one gives what it added", () => {
  const d = new CumulativeDeltas();
  assert.equal(d.next("a", pt(T0 + 1000, [1, 2, 0], 50)), null);
  assert.deepEqual(d.next("a", pt(T0 + 2000, [1, 5, 1], 400)), {
    counts: [0, 3, 1],
    sum: 350,
    reset: false,
  });
  assert.deepEqual(
    d.next("a", pt(T0 + 3000, [1, 5, 1], 400)),
    { counts: [0, 0, 0], sum: 0, reset: false },
    "exported again with nothing new: nothing",
  );
  assert.equal(d.next("b", pt(T0 + 3000, [9, 9, 9], 1)), null, "series apart");
});

Deno.test("a later start time is a restart: the interval is everything since", () => {
  const d = new CumulativeDeltas();
  d.next("a", pt(T0 + 1000, [10, 20, 0], 500));
  assert.deepEqual(d.next("a", pt(T0 + 9000, [1, 30, 0], 600, T0 + 8000)), {
    counts: [1, 30, 0],
    sum: 600,
    reset: true,
  }, "more counts in a bucket than before, but a new life");
  assert.deepEqual(d.next("a", pt(T0 + 10_000, [2, 30, 0], 605, T0 + 8000)), {
    counts: [1, 0, 0],
    sum: 5,
    reset: false,
  }, "the new life goes on");
});

Deno.test("a count that goes down with the same start is a reset too", () => {
  const d = new CumulativeDeltas();
  d.next("a", pt(T0 + 1000, [10, 20, 0], 500));
  assert.deepEqual(d.next("a", pt(T0 + 2000, [12, 3, 0], 90)), {
    counts: [12, 3, 0],
    sum: 90,
    reset: true,
  });
});

Deno.test("an earlier start, other bounds or an older point give no interval", () => {
  const d = new CumulativeDeltas();
  d.next("a", pt(T0 + 5000, [1, 1, 0], 20, T0 + 1000));
  assert.equal(d.next("a", pt(T0 + 6000, [9, 9, 9], 1, T0)), null, "an earlier start");
  assert.deepEqual(d.next("a", pt(T0 + 7000, [9, 10, 9], 2, T0))?.counts, [0, 1, 0]);
  assert.equal(
    d.next("a", { ...pt(T0 + 8000, [9, 10, 9], 2, T0), bounds: [10, 200] }),
    null,
    "other bounds: a new baseline",
  );
  assert.equal(d.next("a", pt(T0 + 7500, [0, 0, 0], 0, T0)), null, "older: a retried export");
  assert.deepEqual(
    d.next("a", { ...pt(T0 + 9000, [9, 12, 9], 3, T0), bounds: [10, 200] })?.counts,
    [0, 2, 0],
    "the older point changed nothing",
  );
});

Deno.test("a point without sum gives an interval without sum", () => {
  const d = new CumulativeDeltas();
  d.next("a", pt(T0 + 1000, [1, 0, 0], NaN));
  assert.ok(Number.isNaN(d.next("a", pt(T0 + 2000, [2, 0, 0], NaN))!.sum));
});

Deno.test("the series used least recently are forgotten past the entry bound; they start again", () => {
  const d = new CumulativeDeltas({ maxEntries: 2, maxWeight: 1_000 });
  d.next("a", pt(T0 + 1000, [1, 0, 0], 1));
  d.next("b", pt(T0 + 1000, [1, 0, 0], 1));
  d.next("a", pt(T0 + 2000, [2, 0, 0], 2)); // a used again: b is now the oldest
  d.next("c", pt(T0 + 2000, [1, 0, 0], 1));
  assert.equal(d.size, 2);
  assert.equal(d.evicted, 1);
  assert.deepEqual(d.next("a", pt(T0 + 3000, [3, 0, 0], 3))?.counts, [1, 0, 0], "a kept");
  assert.equal(d.next("b", pt(T0 + 3000, [5, 0, 0], 5)), null, "b forgotten: a baseline again");
});

Deno.test("the memory is bounded by the numbers it holds, too", () => {
  const lru = new BoundedLru<string>({ maxEntries: 100, maxWeight: 10 });
  lru.set("a", "a", 4);
  lru.set("b", "b", 4);
  lru.set("c", "c", 4);
  assert.deepEqual([lru.size, lru.weight, lru.get("a")], [2, 8, undefined]);
  lru.set("huge", "huge", 50);
  assert.deepEqual([lru.size, lru.get("huge")], [1, "huge"], "the newest stays, alone");
  lru.set("huge", "small", 1);
  assert.equal(lru.weight, 1, "replacing an entry replaces its weight");
  const d = new CumulativeDeltas({ maxEntries: 100, maxWeight: 6 });
  d.next("a", pt(T0, [1, 0, 0], 1));
  d.next("b", pt(T0, [1, 0, 0], 1));
  d.next("c", pt(T0, [1, 0, 0], 1));
  assert.equal(d.size, 2, "3 counts each, 6 at most");
});

Deno.test("running totals only grow, so the deriver reads each interval; a forgotten one restarts", () => {
  const totals = new RunningTotals({ maxEntries: 1, maxWeight: 1_000 });
  const zero = new Array(BUCKET_COUNT).fill(0);
  const one = (i: number, n: number) => zero.map((_, j) => j === i ? n : 0);
  const deriver = new Deriver();
  const derive = (t: number, h: { counts: number[]; sum: number }) => {
    const out: Record<string, number> = {};
    deriver.derive(t, {}, { lat: h }, out);
    return out;
  };
  assert.deepEqual(derive(0, totals.add("x lat", zero, 0)), {}, "baseline");
  assert.equal(derive(1000, totals.add("x lat", one(5, 4), 80))["lat.per_s"], 4);
  assert.equal(derive(2000, totals.add("x lat", zero, 0))["lat.per_s"], 0, "nothing new");
  totals.add("y lat", one(1, 1), 1); // x is forgotten
  const after = derive(3000, totals.add("x lat", one(5, 2), 40));
  assert.equal(after["lat.per_s"], 2, "the restarted total read as one interval, not 4 + 2");
  assert.equal(after["lat.avg"], 20);
});
