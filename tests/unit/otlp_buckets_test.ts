/**
 * OTLP explicit buckets onto our fixed buckets: each narrowed by the point's min and max, then
 * spread over ours; where that is exact, and what percentiles read from the result.
 */
import assert from "node:assert/strict";
import { mapBuckets, type MappedBuckets, UNBOUNDED } from "../../lib/otlp/buckets.ts";
import { BUCKET_COUNT, BUCKETS, quantile } from "../../lib/histogram.ts";

const at = (bound: number) => BUCKETS.indexOf(bound);

function mapped(...args: Parameters<typeof mapBuckets>): MappedBuckets {
  const m = mapBuckets(...args);
  assert.ok(!("reason" in m), JSON.stringify(m));
  return m;
}

function near(actual: number, expected: number, what: string) {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual}, not ${expected}`);
}

Deno.test("each OTLP bucket, narrowed by min and max, lands in the bucket of ours that holds it", () => {
  const m = mapped([3, 7, 40], [1, 2, 3, 4], { min: 2.5, max: 100 });
  const expected = new Array(BUCKET_COUNT).fill(0);
  expected[at(5)] = 1; // (-inf, 3] narrowed to [2.5, 3]: in our (2, 5]
  // (3, 7] spreads over our (2, 5] and (5, 10]: 2/4 and 2/4 of the range.
  expected[at(5)] += 1;
  expected[at(10)] = 1;
  // (7, 40]: 3/33 in (5, 10], 15/33 in (10, 25], 15/33 in (25, 50].
  expected[at(10)] += 3 * 3 / 33;
  expected[at(25)] = 3 * 15 / 33;
  expected[at(50)] = 3 * 15 / 33;
  // Above 40, up to max 100: 10/60 in (25, 50], 50/60 in (50, 100].
  expected[at(50)] += 4 * 10 / 60;
  expected[at(100)] = 4 * 50 / 60;
  m.counts.forEach((c, i) => near(c, expected[i], `bucket ${i}`));
  near(m.counts.reduce((a, b) => a + b, 0), 10, "every count kept");
  assert.equal(m.sumEstimate, 1 * 2.75 + 2 * 5 + 3 * 23.5 + 4 * 70);
});

Deno.test("all observations of one value (min = max) land in our bucket holding it, whatever the OTLP bucket's width", () => {
  // 200 requests of 12 ms in the SDK's default (0, 5000] bucket: its upper bound alone
  // would say (2500, 5000], a p50 of 3750 ms.
  const m = mapped([0, 5000, 10_000], [0, 200, 0, 0], { min: 12, max: 12 });
  assert.equal(m.counts[at(25)], 200);
  assert.equal(quantile(m.counts, 0.5), 17.5, "interpolated within our (10, 25]");
  assert.equal(m.sumEstimate, 2400);
});

Deno.test("a max alone caps the last bucket; a min alone lifts the first", () => {
  const capped = mapped([0, 5000], [0, 10, 0], { min: -Infinity, max: 8 });
  near(capped.counts[at(0.5)], 10 * 0.5 / 8, "(0, 8] spread: our (0, 0.5]");
  near(capped.counts[at(5)], 10 * 3 / 8, "our (2, 5]");
  near(capped.counts[at(10)], 10 * 3 / 8, "our (5, 10] up to 8");
  const lifted = mapped([20, 1000], [6, 0, 0], { min: 11, max: Infinity });
  assert.equal(lifted.counts[at(25)], 6, "(-inf, 20] from 11: within our (10, 25]");
});

Deno.test("without min and max, a percentile is the one interpolated within the OTLP bucket", () => {
  // Bounds among ours: (0, 5] is our four buckets (0, .5], (.5, 1], (1, 2], (2, 5].
  const m = mapped([0, 5, 10], [0, 100, 0, 0]);
  near(quantile(m.counts, 0.5), 2.5, "p50 of 100 in (0, 5]");
  near(quantile(m.counts, 0.9), 4.5, "p90");
  const exact = mapped([...BUCKETS], [...BUCKETS.map((_, i) => i + 1), 0]);
  assert.deepEqual(exact.counts, [...BUCKETS.map((_, i) => i + 1), 0], "bounds ours: as sent");
});

Deno.test("overflow without max goes to our overflow; the first bucket starts at 0", () => {
  const m = mapped([10], [3, 4], UNBOUNDED);
  near(m.counts[at(10)], 3 * 5 / 10, "(-inf, 10] read as (0, 10]: half in our (5, 10]");
  assert.equal(m.counts[BUCKETS.length], 4);
  assert.equal(m.sumEstimate, 3 * 5 + 4 * 10);
});

Deno.test("a min or max that contradicts the counts puts them at the bucket's nearest edge", () => {
  const m = mapped([10, 20], [0, 5, 0], { min: 30, max: 40 });
  assert.equal(m.counts[at(25)], 5, "min above the bucket: at its upper bound, 20");
  const n = mapped([10, 20], [0, 5, 0], { min: 1, max: 2 });
  assert.equal(n.counts[at(10)], 5, "max below the bucket: at its lower bound, 10");
});

Deno.test("scale turns seconds into ms before mapping", () => {
  const m = mapped([0.01, 0.025], [0, 3, 0], { min: 20, max: 20 }, 1000);
  assert.equal(m.counts[at(25)], 3);
});

Deno.test("malformed buckets say why", () => {
  assert.deepEqual(mapBuckets([1, 2], [1]), {
    reason: "wrong_type",
    detail: "1 bucket counts for 2 bounds",
  });
  assert.equal((mapBuckets([2, 1], [0, 0, 0]) as { reason: string }).reason, "invalid_number");
  assert.equal((mapBuckets([1], [0.5, 1]) as { reason: string }).reason, "invalid_number");
  assert.equal((mapBuckets([1], [-1, 1]) as { reason: string }).reason, "invalid_number");
  assert.equal((mapBuckets([NaN], [0, 1]) as { reason: string }).reason, "invalid_number");
});
