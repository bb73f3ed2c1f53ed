/** Histogram buckets and percentile maths, checked against known distributions. */
import assert from "node:assert/strict";
import { BUCKET_COUNT, bucketIndex, BUCKETS, quantile } from "../../lib/histogram.ts";

function histogramOf(values: number[]): number[] {
  const counts = new Array(BUCKET_COUNT).fill(0);
  for (const v of values) counts[bucketIndex(v)]++;
  return counts;
}

/** The exact q-quantile of a sorted list (nearest rank). */
function exact(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/** Width of the bucket holding `v`: the most a bucketed estimate can be off by. */
function bucketWidth(v: number): number {
  const i = bucketIndex(v);
  return i >= BUCKETS.length ? Infinity : BUCKETS[i] - (i === 0 ? 0 : BUCKETS[i - 1]);
}

Deno.test("bucketIndex puts a value in the first bucket whose bound is at or above it", () => {
  assert.equal(bucketIndex(0), 0);
  assert.equal(bucketIndex(0.5), 0);
  assert.equal(bucketIndex(0.51), 1);
  assert.equal(bucketIndex(100), BUCKETS.indexOf(100));
  assert.equal(bucketIndex(1e9), BUCKETS.length);
});

Deno.test("quantiles of a uniform distribution are within one bucket of the exact values", () => {
  const values = Array.from({ length: 10_000 }, (_, i) => (i + 0.5) / 10_000 * 1000); // U(0, 1000)
  const counts = histogramOf(values);
  for (const q of [0.5, 0.95, 0.99]) {
    const want = exact([...values].sort((a, b) => a - b), q);
    const got = quantile(counts, q);
    assert.ok(Math.abs(got - want) <= bucketWidth(want), `p${q * 100}: ${got} vs ${want}`);
  }
  // Uniform within a bucket, linear interpolation is exact: the median of U(0,1000) is 500.
  assert.ok(Math.abs(quantile(counts, 0.5) - 500) < 1);
});

Deno.test("quantiles of a long-tailed latency distribution land in the right buckets", () => {
  // 88 % fast (2-5 ms), 10 % slow (200-250 ms), 2 % very slow (2-2.5 s): a typical API.
  const values = [
    ...Array.from({ length: 8800 }, (_, i) => 2 + 3 * (i / 8800)),
    ...Array.from({ length: 1000 }, (_, i) => 200 + 50 * (i / 1000)),
    ...Array.from({ length: 200 }, (_, i) => 2000 + 500 * (i / 200)),
  ];
  const counts = histogramOf(values);
  const p50 = quantile(counts, 0.5);
  const p95 = quantile(counts, 0.95);
  const p99 = quantile(counts, 0.99);
  assert.ok(p50 > 2 && p50 <= 5, `p50 ${p50}`);
  assert.ok(p95 > 100 && p95 <= 250, `p95 ${p95}`);
  assert.ok(p99 > 1000 && p99 <= 2500, `p99 ${p99}`);
});

Deno.test("quantile of an empty histogram is NaN, and the overflow bucket answers its lower bound", () => {
  assert.ok(Number.isNaN(quantile(new Array(BUCKET_COUNT).fill(0), 0.5)));
  const counts = new Array(BUCKET_COUNT).fill(0);
  counts[BUCKET_COUNT - 1] = 5;
  assert.equal(quantile(counts, 0.99), BUCKETS[BUCKETS.length - 1]);
});
