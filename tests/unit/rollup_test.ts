/** Rollup buckets: aggregation, merging, and sums that stay compressible. */
import assert from "node:assert/strict";
import {
  bucketPoints,
  bucketPointsPair,
  decodeBucketColumns,
  decodeBuckets,
  emptyBuckets,
  encodeBuckets,
  mergeBuckets,
  tidySum,
} from "../../lib/store/rollup.ts";
import { encodeChunkAs } from "../../lib/store/chunk.ts";

Deno.test("bucketPoints folds points into epoch-aligned buckets with min, max, sum and count", () => {
  const b = bucketPoints([0, 30_000, 59_999, 60_000], [5, 1, 9, 2], 60_000);
  assert.deepEqual([...b], [[0, { min: 1, max: 9, sum: 15, count: 3 }], [60_000, {
    min: 2,
    max: 2,
    sum: 2,
    count: 1,
  }]]);
});

Deno.test("mergeBuckets combines a late bucket with the stored one and keeps order", () => {
  const stored = mergeBuckets(emptyBuckets(), bucketPoints([60_000, 120_000], [4, 6], 60_000));
  const merged = mergeBuckets(stored, bucketPoints([0, 60_001], [1, 10], 60_000));
  assert.deepEqual(merged, {
    start: [0, 60_000, 120_000],
    min: [1, 4, 6],
    max: [1, 10, 6],
    sum: [1, 14, 6],
    count: [1, 2, 1],
  });
  assert.deepEqual(decodeBuckets(encodeBuckets(merged)), merged);
});

Deno.test("sums of hundredths stay exact hundredths, so rollups compress as scaled integers", () => {
  const values = Array.from(
    { length: 600 },
    (_, i) => Math.round(((i * 37) % 1000) / 10 * 100) / 100 + 0.01,
  );
  const b = bucketPoints(values.map((_, i) => i * 1000), values, 60_000);
  const sums = [...b.values()].map((a) => a.sum);
  for (const s of sums) {
    assert.equal(Math.round(s * 100) / 100, s, `${s} is a whole number of hundredths`);
  }
  const times = [...b.keys()];
  assert.ok(
    encodeChunkAs(times, sums, "auto").byteLength < encodeChunkAs(times, sums, "xor").byteLength,
  );
  assert.equal(tidySum(0.1 + 0.2), 0.3);
  assert.equal(tidySum(1e12 + 0.5), 1e12 + 0.5, "large sums are left alone");
});

Deno.test("decodeBucketColumns gives the same buckets as decodeBuckets, as typed columns", () => {
  const b = bucketPoints(
    Array.from({ length: 600 }, (_, i) => 1_700_000_000_000 + i * 1000),
    Array.from({ length: 600 }, (_, i) => Math.round(Math.sin(i / 9) * 5000) / 100),
    60_000,
  );
  const merged = mergeBuckets(emptyBuckets(), b);
  const blob = encodeBuckets(merged);
  const cols = decodeBucketColumns(blob);
  const plain = decodeBuckets(blob);
  assert.deepEqual(plain, merged);
  for (const k of ["start", "min", "max", "sum", "count"] as const) {
    assert.ok(cols[k] instanceof Float64Array, k);
    assert.deepEqual(Array.from(cols[k]), merged[k], k);
  }
  assert.throws(() => decodeBucketColumns(blob.subarray(0, blob.length - 3)), /corrupt/);
});

Deno.test("bucketPoints gives the same buckets whether points come in time order or not", () => {
  const times = [0, 1_000, 59_000, 61_000, 61_500, 3_600_000, 3_600_001, 30_000, 62_000, 500];
  const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const b = bucketPoints(times, values, 60_000);
  // Buckets revisited after another bucket still collect every point.
  assert.deepEqual(b.get(0), { min: 1, max: 10, sum: 24, count: 5 });
  assert.deepEqual(b.get(60_000), { min: 4, max: 9, sum: 18, count: 3 });
  assert.deepEqual(b.get(3_600_000), { min: 6, max: 7, sum: 13, count: 2 });
  assert.equal(b.size, 3);
});

Deno.test("bucketPointsPair's sums of whole millionths are bucketPoints' rounded sums, bit for bit", () => {
  // Runs it sums as integers (values of 1-6 decimals, sums crossing 0, -0 first values, sums
  // near 10^8; whole numbers to 2^53) and runs it must not (a value of 7 decimals, sums past
  // 10^8 of fractions, past 2^53 of whole numbers): each bucket's sum must be what tidySum
  // point by point makes of it, -0 included (deepStrictEqual compares with Object.is).
  let seed = 11;
  const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const shapes: Array<(i: number) => number> = [
    (i) => Math.round((rnd() - 0.5) * 10 ** (2 + (i % 6))) / 10 ** (1 + (i % 6)),
    (i) => (i % 2 ? 1 : -1) * Math.round(rnd() * 1e5) / 1e3, // pairs that cancel, sums near 0
    (i) => ((i % 7) - 3) * 0.01,
    (i) => (i % 60 === 0 ? -0 : i % 60 === 1 ? 0 : ((i % 5) - 2) * 0.5),
    (i) => (Math.floor(i / 60) % 3 === 0 ? -0 : (i % 5) * 0.5), // buckets of -0 only
    // Half millionths (after a bucket's first value, whole) on large sums.
    (i) => 80_000 + (i % 60 === 0 ? 0.25 : (Math.floor(rnd() * 1e6) + 0.5) / 1e6),
    (i) => 1_666_666.5 + (i % 3) * 0.25, // 60 of them pass 10^8 within a bucket
    (i) => (i % 9 === 4 ? 0.1234567 : Math.round(rnd() * 1e6) / 1e4), // a 7th decimal
    (i) => (i % 11) * 1e-6 - 5e-6,
    (i) => 48_000_000 + (i % 1000) * 4096, // whole numbers whose sums pass 10^8 and 10^9
    (i) => (i % 60 === 0 ? -0 : (i % 2 ? -0 : 0)) + (i % 120 < 60 ? 0 : 3e9), // ±0 and large
    (i) => 2 ** 50 + ((i * 7919) % 1001), // whole numbers whose sums pass 2^53: adds round
    (i) => (i % 60 < 2 ? 5 : 0.1234567 * (i % 5)), // whole values first, then 7 decimals
  ];
  const times = Array.from({ length: 3000 }, (_, i) => i * 1000 + (i % 4));
  for (const shape of shapes) {
    const values = times.map((_, i) => shape(i));
    const [a, b] = bucketPointsPair(times, values, 60_000, 3_600_000);
    assert.deepStrictEqual([...a], [...bucketPoints(times, values, 60_000)]);
    assert.deepStrictEqual([...b], [...bucketPoints(times, values, 3_600_000)]);
  }
});

Deno.test("bucketPointsPair gives each width what bucketPoints gives it alone, bucket order included", () => {
  // Sums of hundredths (rounded per point), out-of-order and revisited buckets, a first point
  // of a bucket that the other width has already seen, and a bucket of a single point.
  let seed = 7;
  const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const times: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < 5000; i++) {
    times.push(i < 4000 ? i * 997 + Math.floor(rnd() * 3) : Math.floor(rnd() * 9e6));
    values.push(i % 3 === 0 ? Math.round(rnd() * 10_000) / 100 : Math.floor(rnd() * 1e9) - 4e8);
  }
  times.push(5e8);
  values.push(0.1);
  const hundredths = values.map((_, i) => Math.round(((i * 37) % 1000) * 1.7) / 100);
  for (const vs of [values, hundredths]) {
    const [a, b] = bucketPointsPair(times, vs, 60_000, 3_600_000);
    assert.deepEqual([...a], [...bucketPoints(times, vs, 60_000)]);
    assert.deepEqual([...b], [...bucketPoints(times, vs, 3_600_000)]);
    assert.ok(a.size > 60 && b.size > 2);
  }
});

Deno.test("bucketPointsPair's runs keep times at a bucket's edge, fractions and NaN where bucketPoints puts them", () => {
  // Runs of one 1-minute bucket are found without a division: times within a millisecond of
  // the next bucket, fractional times and NaN must still land as a division puts them (times
  // this close to an epoch-sized edge round to it: the run's 1 ms margin is for safety).
  const T = Date.UTC(2026, 0, 1, 5); // a whole hour
  const times: number[] = [];
  for (let m = 0; m < 130; m++) {
    const start = T + m * 60_000;
    times.push(start, start + 1, start + 30_000.5, start + 59_998.999, start + 59_999);
    times.push(start + 59_999.5, start + 59_999.9999999, start + 60_000 - 2 ** -20);
  }
  times.splice(300, 0, NaN, NaN, T - 0.5, T + 59_999.75);
  const values = times.map((_, i) => Math.round(((i * 37) % 1000) * 1.7) / 100);
  const [a, b] = bucketPointsPair(times, values, 60_000, 3_600_000);
  assert.deepEqual([...a], [...bucketPoints(times, values, 60_000)]);
  assert.deepEqual([...b], [...bucketPoints(times, values, 3_600_000)]);
  assert.throws(() => bucketPointsPair(times, values, 60_000, 90_000), RangeError);
});
