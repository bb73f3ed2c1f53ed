import assert from "node:assert/strict";
import {
  formatBucket,
  formatSpan,
  isRangeKey,
  MIN_SPAN_MS,
  pointsFor,
  PRESETS,
  refreshEvery,
  resolveRange,
  zoomTo,
} from "../../static/range.ts";
import { align, gapFor, parseAnswer } from "../../static/history_data.ts";

const H = 3_600_000;

Deno.test("presets are 15 min, 1 h, 6 h, 24 h, 7 d and 30 d", () => {
  assert.deepEqual(PRESETS.map((p) => p.key), ["15m", "1h", "6h", "24h", "7d", "30d"]);
  assert.deepEqual(PRESETS.map((p) => p.ms), [H / 4, H, 6 * H, 24 * H, 168 * H, 720 * H]);
  assert.ok(isRangeKey("7d"));
  assert.ok(!isRangeKey("toString"));
});

Deno.test("resolveRange: a preset ends now, a zoomed range stays put", () => {
  assert.deepEqual(resolveRange("6h", null, 10 * H + 0.4), { from: 4 * H, to: 10 * H });
  assert.deepEqual(resolveRange("6h", { from: 5, to: 50_000 }, 10 * H), { from: 5, to: 50_000 });
});

Deno.test("zoomTo orders, widens tiny selections and stops at now", () => {
  assert.deepEqual(zoomTo(9000, 1000, 1e9), { from: 1000 - 1000, to: 9000 + 1000 });
  const tiny = zoomTo(100_000, 100_200, 1e9);
  assert.equal(tiny.to - tiny.from, MIN_SPAN_MS);
  assert.deepEqual(zoomTo(0, 200_000, 100_000), { from: 0, to: 100_000 });
});

Deno.test("pointsFor asks about one point per pixel, within bounds", () => {
  assert.equal(pointsFor(612.4), 612);
  assert.equal(pointsFor(10), 60);
  assert.equal(pointsFor(99_999), 4000);
  assert.equal(pointsFor(Number.NaN), 600);
});

Deno.test("refreshEvery and span formatting", () => {
  assert.equal(refreshEvery(H / 4), 18_000);
  assert.equal(refreshEvery(60_000), 10_000);
  assert.equal(refreshEvery(720 * H), 300_000);
  assert.equal(formatSpan(45_000), "45 s");
  assert.equal(formatSpan(12 * 60_000), "12 min");
  assert.equal(formatSpan(2.5 * H), "2.5 h");
  assert.equal(formatSpan(7 * 24 * H), "7 d");
  assert.equal(formatBucket(250), "250 ms");
  assert.equal(formatBucket(60_000), "1 min");
  assert.equal(formatBucket(H), "1 h");
});

Deno.test("parseAnswer keeps good buckets and reports errors as text", () => {
  assert.equal(parseAnswer({ error: "from: must be before to" }), "from: must be before to");
  assert.equal(parseAnswer(null), "answer is not an object");
  const a = parseAnswer({
    from: 0,
    to: 10,
    points: 10,
    tier: "raw",
    bucketMs: 1,
    series: [
      { instance: "a/b", metric: "cpu.percent", points: [[3, 1, 2, 3], [1, 0, 1, 2], ["x"], null] },
      { instance: 5, metric: "cpu.percent", points: [] },
    ],
  });
  assert.ok(typeof a === "object");
  assert.deepEqual(a.series, [
    { instance: "a/b", metric: "cpu.percent", points: [[1, 0, 1, 2], [3, 1, 2, 3]] },
  ]);
});

Deno.test("align spans sparse buckets and breaks real silences", () => {
  const a: Array<[number, number, number, number]> = [[0, 1, 2, 3], [10, 1, 2, 3], [100, 4, 5, 6]];
  const b: Array<[number, number, number, number]> = [[5, 10, 20, 30], [10, 10, 20, 30]];
  const { x, lines } = align([a, b], [30, 30], (v) => v * 2);
  assert.deepEqual(x, [0, 5, 10, 100]);
  assert.deepEqual(lines[0].avg, [4, undefined, 4, 10], "5 is spanned; 10 -> 100 has no x between");
  assert.deepEqual(lines[1].avg, [undefined, 40, 40, undefined]);
  const gap = align([[[0, 1, 1, 1], [100, 1, 1, 1]], [[50, 1, 1, 1]]], [30, 30]);
  assert.deepEqual(gap.lines[0].avg, [1, null, 1], "a 100 ms silence breaks a 30 ms line");
  assert.deepEqual(gap.lines[0].min, [1, null, 1]);
  assert.equal(gapFor(3000, 1000), 7500);
  assert.equal(gapFor(250, 1000), 2500);
  assert.equal(gapFor(250, Number.NaN), 2500);
});
