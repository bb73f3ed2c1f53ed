/** Leak detector: Theil–Sen trend with confidence, on synthetic RSS series. */
import assert from "node:assert/strict";
import { LeakDetector, MB, theilSen } from "../../lib/alerts/leak.ts";
import { leakHolds } from "../../lib/alerts/engine.ts";
import { DEFAULT_RULES, type LeakRule } from "../../lib/alerts/rules.ts";

const RULE = DEFAULT_RULES.find((r) => r.kind === "leak") as LeakRule;
const BASE = 120 * MB;
const H = 3600;

/** Deterministic uniform random in [0, 1). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}
function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

type Series = (s: number, r: () => number) => number;

/**
 * Feed one sample a second for `seconds`, estimate every 5 s as the engine does, and
 * return the first second the default leak rule holds, how often it held, and when an
 * alert would fire (held without a break for the rule's `for`).
 */
function replay(series: Series, seconds: number, seed = 7) {
  const d = new LeakDetector();
  const r = rng(seed);
  let first: number | null = null;
  let fired: number | null = null;
  let run: number | null = null;
  let held = 0;
  let checks = 0;
  let last = null;
  for (let s = 0; s <= seconds; s++) {
    d.add(s * 1000, series(s, r));
    if (s % 5 !== 0) continue;
    const e = d.estimate(s * 1000);
    if (!e) continue;
    last = e;
    checks++;
    if (leakHolds(RULE, e, null).holds) {
      held++;
      first ??= s;
      run ??= s;
      if (s - run >= RULE.forMs / 1000) fired ??= s;
    } else run = null;
  }
  return { first, fired, held, checks, last: last! };
}

const sawtooth = (s: number, period = 37, amplitude = 25 * MB) =>
  amplitude * ((s % period) / period);

Deno.test("detector finds linear growth with noise, at the right rate", () => {
  for (const seed of [1, 7, 42]) {
    const { first, last } = replay((s, r) => BASE + 100 * MB * s / H + gauss(r) * MB, 3600, seed);
    // A young process must first outgrow the 16 MiB warm-up allowance: ~10 min at 100 MB/h.
    assert.ok(first !== null && first <= 660, `seed ${seed}: first flag at ${first}`);
    assert.ok(Math.abs(last.mbPerHour - 100) < 3, `slope ${last.mbPerHour}`);
    assert.ok(last.lowerMbPerHour > 0 && last.lowerMbPerHour <= 100 && last.upperMbPerHour >= 100);
    assert.ok(last.confidence > 0.99);
  }
});

Deno.test("detector does not flag a GC sawtooth with no growth", () => {
  for (const seed of [1, 7, 42]) {
    for (const period of [20, 37, 45]) {
      const { fired, held, last } = replay(
        (s, r) => BASE + sawtooth(s, period) + gauss(r) * 0.3 * MB,
        3600,
        seed,
      );
      // Before two full cycles are seen a ramp is a ramp: a check may hold, no alert fires.
      assert.equal(fired, null, `seed ${seed}, period ${period} s: fired at ${fired}`);
      assert.ok(held <= 2, `seed ${seed}, period ${period} s: held ${held} times`);
      assert.ok(Math.abs(last.mbPerHour) < 10, `slope ${last.mbPerHour}`);
    }
  }
});

Deno.test("detector is not moved by a single spike", () => {
  const { first, last } = replay(
    (s, r) => BASE + (s >= 200 && s < 203 ? 400 * MB : 0) + gauss(r) * 0.5 * MB,
    1800,
  );
  assert.equal(first, null);
  assert.ok(Math.abs(last.mbPerHour) < 1);
  assert.ok(Math.abs(last.levelBytes - BASE) < MB);
});

Deno.test("detector does not take a one-time step for a leak", () => {
  // 80 MB at once after 5 min, flat afterwards: one half of any window is flat.
  for (const seed of [1, 7, 42]) {
    const { first, last } = replay(
      (s, r) => BASE + (s >= 300 ? 80 * MB : 0) + gauss(r) * 0.5 * MB,
      3600,
      seed,
    );
    assert.equal(first, null, `seed ${seed}: flagged at ${first}`);
    assert.ok(Math.abs(last.mbPerHour) < 1, "flat once the window has passed the step");
  }
});

Deno.test("detector finds a slow leak under a sawtooth", () => {
  // 80 MB/h under a 25 MB sawtooth: hidden at first, found once growth beats the wobble.
  const { first, held, checks, last } = replay(
    (s, r) => BASE + 80 * MB * s / H + sawtooth(s) + gauss(r) * 0.3 * MB,
    3600,
  );
  assert.ok(first !== null && first <= 1200, `first flag at ${first}`);
  assert.ok(held / checks > 0.5, `held ${held} of ${checks}`);
  assert.ok(Math.abs(last.mbPerHour - 80) < 10, `slope ${last.mbPerHour}`);
});

Deno.test("detector resets on restart and needs 90 s of data again", () => {
  const d = new LeakDetector();
  for (let s = 0; s <= 300; s++) d.add(s * 1000, BASE + 100 * MB * s / 60);
  assert.ok(d.estimate(300_000)!.mbPerHour > 5000);
  d.reset();
  for (let s = 301; s <= 360; s++) d.add(s * 1000, BASE);
  assert.equal(d.estimate(360_000), null, "60 s of data is not enough");
  for (let s = 361; s <= 400; s++) d.add(s * 1000, BASE);
  const e = d.estimate(400_000)!;
  assert.equal(e.mbPerHour, 0);
  assert.equal(e.confidence, 0.5, "all values tied: no evidence either way");
});

Deno.test("detector estimates time to the memory limit", () => {
  const d = new LeakDetector();
  // 60 MB/min from 100 MB; limit 400 MB: reached at 300 s of growth.
  for (let s = 0; s <= 120; s++) d.add(s * 1000, 100 * MB + MB * s);
  const e = d.estimate(120_000, 400 * MB)!;
  assert.ok(Math.abs(e.mbPerHour - 3600) < 1);
  assert.equal(e.limitBytes, 400 * MB);
  assert.ok(Math.abs(e.timeToLimitMs! - 180_000) < 1000, `ttl ${e.timeToLimitMs}`);
  assert.equal(d.estimate(120_000)!.timeToLimitMs, undefined, "no limit, no time");
  assert.equal(e.trend[0][0], e.from);
  assert.equal(e.trend[1][0], 120_000);
});

Deno.test("detector keeps a bounded window and estimates over a bounded number of points", () => {
  const d = new LeakDetector({ windowMs: 30 * 60_000 });
  for (let s = 0; s < 4 * H; s++) d.add(s * 1000, BASE + s);
  assert.ok(d.size <= 601 + 75, `held ${d.size}`);
  const e = d.estimate(4 * H * 1000)!;
  assert.ok(e.points <= 150);
  assert.ok(e.spanMs <= 30 * 60_000 && e.spanMs >= 29 * 60_000);
  // Its time per estimate is measured in bench/leak_bench.ts (wall clocks belong there).
});

Deno.test("theilSen ignores outliers and gives a Kendall interval", () => {
  const ts = Array.from({ length: 50 }, (_, i) => i);
  const vs = ts.map((t) => 2 * t);
  vs[10] = 1e9;
  vs[40] = -1e9;
  const fit = theilSen(ts, vs);
  assert.equal(fit.slope, 2);
  assert.ok(fit.lower <= 2 && fit.upper >= 2);
  assert.ok(fit.confidence > 0.999);
});
