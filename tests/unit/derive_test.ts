/** Derived series: counter rates and histogram percentiles computed at the collector. */
import assert from "node:assert/strict";
import { CPU_SECONDS, derivedKey, Deriver } from "../../lib/collector/derive.ts";
import { BUCKET_COUNT, bucketIndex } from "../../lib/histogram.ts";
import type { Histogram } from "../../lib/protocol.ts";

const REQ = 'http.requests_total{route="/a",status="2xx"}';
const DUR = 'http.request_duration_ms{route="/a"}';

function run(
  d: Deriver,
  t: number,
  metrics: Record<string, number>,
  hist?: Record<string, Histogram>,
) {
  const out: Record<string, number> = {};
  d.derive(t, metrics, hist, out);
  return out;
}

/** A cumulative histogram after observing `values` on top of `base`. */
function observe(base: Histogram, values: number[]): Histogram {
  const counts = [...base.counts];
  let sum = base.sum;
  for (const v of values) {
    counts[bucketIndex(v)]++;
    sum += v;
  }
  return { counts, sum };
}

Deno.test("a counter becomes a per-second rate named without _total, labels kept", () => {
  const d = new Deriver();
  assert.deepEqual(run(d, 1000, { [REQ]: 100 }), {}, "the first sample is only the baseline");
  assert.deepEqual(run(d, 3000, { [REQ]: 150 }), {
    'http.requests.per_s{route="/a",status="2xx"}': 25,
  });
  assert.equal(derivedKey(REQ, "per_s", true), 'http.requests.per_s{route="/a",status="2xx"}');
});

Deno.test("a counter that goes down (the app restarted) counts from zero, never negative", () => {
  const d = new Deriver();
  run(d, 0, { "jobs_total": 1000 });
  assert.deepEqual(run(d, 1000, { "jobs_total": 4 }), { "jobs.per_s": 4 });
});

Deno.test("CPU seconds become cpu.percent (100 = one core), unless the sample has its own", () => {
  const d = new Deriver();
  assert.deepEqual(run(d, 0, { [CPU_SECONDS]: 10 }), {}, "the first sample is only the baseline");
  // 1.5 CPU seconds in 2 s: 75 % of one core; no cpu.seconds.per_s beside it.
  assert.deepEqual(run(d, 2000, { [CPU_SECONDS]: 11.5 }), { "cpu.percent": 75 });
  assert.deepEqual(run(d, 62_000, { [CPU_SECONDS]: 131.5 }), { "cpu.percent": 200 }, "two cores");
  assert.deepEqual(run(d, 63_000, { [CPU_SECONDS]: 132, "cpu.percent": 9 }), {}, "its own wins");
});

Deno.test("plain gauges derive nothing", () => {
  const d = new Deriver();
  run(d, 0, { "cpu.percent": 5, "queue.depth": 3 });
  assert.deepEqual(run(d, 1000, { "cpu.percent": 9, "queue.depth": 1 }), {});
});

Deno.test("a histogram yields percentiles, average and rate of the observations in the interval", () => {
  const d = new Deriver();
  const empty = { counts: new Array(BUCKET_COUNT).fill(0), sum: 0 };
  const first = observe(empty, [3, 3, 3]); // before the baseline: must not count
  run(d, 0, {}, { [DUR]: first });
  // In the next 2 s: 90 fast requests (4 ms) and 10 slow ones (400 ms).
  const second = observe(first, [...new Array(90).fill(4), ...new Array(10).fill(400)]);
  const out = run(d, 2000, {}, { [DUR]: second });
  assert.equal(out['http.request_duration_ms.per_s{route="/a"}'], 50);
  assert.equal(out['http.request_duration_ms.avg{route="/a"}'], (90 * 4 + 10 * 400) / 100);
  const p50 = out['http.request_duration_ms.p50{route="/a"}'];
  const p99 = out['http.request_duration_ms.p99{route="/a"}'];
  assert.ok(p50 > 2 && p50 <= 5, `p50 ${p50} in the 2-5 ms bucket`);
  assert.ok(p99 > 250 && p99 <= 500, `p99 ${p99} in the 250-500 ms bucket`);
});

Deno.test("an interval with no observations gives a zero rate and no percentiles", () => {
  const d = new Deriver();
  const h = observe({ counts: new Array(BUCKET_COUNT).fill(0), sum: 0 }, [10]);
  run(d, 0, {}, { [DUR]: h });
  assert.deepEqual(run(d, 1000, {}, { [DUR]: h }), {
    'http.request_duration_ms.per_s{route="/a"}': 0,
  });
});

Deno.test("reset forgets baselines, so a restarted app's first sample is a baseline again", () => {
  const d = new Deriver();
  run(d, 0, { [REQ]: 10 });
  d.reset();
  assert.deepEqual(run(d, 1000, { [REQ]: 500 }), {});
});

Deno.test("a sample at the same time as the last one loses nothing: the next interval counts it", () => {
  const d = new Deriver();
  const empty = { counts: new Array(BUCKET_COUNT).fill(0), sum: 0 };
  run(d, 0, { [REQ]: 100 }, { [DUR]: empty });
  const a = observe(empty, [4, 4]);
  run(d, 1000, { [REQ]: 110 }, { [DUR]: a });
  // A second export in the same millisecond (an OTLP SDK's, say): no interval of its own.
  const b = observe(a, [400]);
  assert.deepEqual(run(d, 1000, { [REQ]: 130 }, { [DUR]: b }), {});
  // The next second counts what both added since t = 1000: 30 requests, two slow ones.
  const out = run(d, 2000, { [REQ]: 140 }, { [DUR]: observe(b, [400]) });
  assert.equal(out['http.requests.per_s{route="/a",status="2xx"}'], 30);
  assert.equal(out['http.request_duration_ms.per_s{route="/a"}'], 2);
  assert.equal(out['http.request_duration_ms.avg{route="/a"}'], 400);
});
