/** OTLP explicit buckets onto our fixed buckets: where each count goes, and when it is exact. */
import assert from "node:assert/strict";
import { mapBuckets } from "../../lib/otlp/buckets.ts";
import { BUCKET_COUNT, BUCKETS } from "../../lib/histogram.ts";

const at = (bound: number) => BUCKETS.indexOf(bound);

Deno.test("each OTLP bucket's count goes to our bucket holding its upper bound", () => {
  const m = mapBuckets([3, 7, 40], [1, 2, 3, 4], 100);
  assert.ok(!("reason" in m));
  const expected = new Array(BUCKET_COUNT).fill(0);
  expected[at(5)] = 1; // (-inf, 3] -> 3 is in our (2, 5]
  expected[at(10)] = 2; // (3, 7] -> our (5, 10]
  expected[at(50)] = 3; // (7, 40] -> our (25, 50]
  expected[at(100)] = 4; // above 40, max 100 -> our (50, 100]
  assert.deepEqual(m.counts, expected);
  assert.equal(m.sumEstimate, 1 * 1.5 + 2 * 5 + 3 * 23.5 + 4 * 70);
});

Deno.test("bounds that are among ours map exactly; overflow without max goes to our overflow", () => {
  const bounds = [...BUCKETS];
  const counts = bounds.map((_, i) => i + 1).concat([99]);
  const m = mapBuckets(bounds, counts, Infinity);
  assert.ok(!("reason" in m));
  assert.deepEqual(m.counts, counts);
});

Deno.test("scale turns seconds into ms before mapping", () => {
  const m = mapBuckets([0.005, 0.025], [0, 3, 0], Infinity, 1000);
  assert.ok(!("reason" in m));
  assert.equal(m.counts[at(25)], 3);
});

Deno.test("malformed buckets say why", () => {
  assert.deepEqual(mapBuckets([1, 2], [1], Infinity), {
    reason: "wrong_type",
    detail: "1 bucket counts for 2 bounds",
  });
  assert.equal(
    (mapBuckets([2, 1], [0, 0, 0], Infinity) as { reason: string }).reason,
    "invalid_number",
  );
  assert.equal(
    (mapBuckets([1], [0.5, 1], Infinity) as { reason: string }).reason,
    "invalid_number",
  );
  assert.equal((mapBuckets([1], [-1, 1], Infinity) as { reason: string }).reason, "invalid_number");
  assert.equal(
    (mapBuckets([NaN], [0, 1], Infinity) as { reason: string }).reason,
    "invalid_number",
  );
});
