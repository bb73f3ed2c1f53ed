import assert from "node:assert/strict";
import { createAgent } from "../../lib/agent/agent.ts";
import {
  createQuietness,
  isQuiet,
  LAG_PROBE_MS,
  QUIET_CPU_PERCENT,
  QUIET_LAG_MS,
  startTicker,
} from "../../lib/agent/ticker.ts";
import { driftToleranceMs, startLagProbe } from "../../lib/agent/lag.ts";
import type { RuntimeReaders } from "../../lib/agent/runtime.ts";
import { waitFor } from "../support/live.ts";
import { fakeTimers, type FakeTimersOptions, seededRandom } from "../support/fake_timers.ts";

/** A busy app's event loop: most timers fire a little late, some up to 250 ms late. */
function busyLoop(seed: number): () => number {
  const random = seededRandom(seed);
  return () => random() < 0.4 ? 250 * random() : 5 * random();
}

/** A ticker on a fake clock, recording when each sample was taken and how many lags per sample. */
function fakeTicker(
  intervalMs: number,
  opts: { alwaysQuiet?: boolean; sampleCostMs?: number } = {},
) {
  const clock = fakeTimers(1_000);
  const start = clock.now();
  const sampledAt: number[] = [];
  const lagsPerSample: number[] = [];
  let lags = 0;
  const ticker = startTicker({
    intervalMs,
    clock: clock.now,
    timers: clock.timers,
    alwaysQuiet: opts.alwaysQuiet,
    onLag: () => lags++,
    onSample() {
      sampledAt.push(clock.now());
      lagsPerSample.push(lags);
      lags = 0;
      clock.work(opts.sampleCostMs ?? 2); // reading /proc, encoding
    },
  });
  return { clock, start, ticker, sampledAt, lagsPerSample };
}

/** Every sample at or after its due time, start + n * interval (n from 1). */
function assertNeverEarly(sampledAt: number[], start: number, intervalMs: number) {
  let n = 1;
  for (const at of sampledAt) {
    const due = start + n * intervalMs;
    assert.ok(at >= due - 1e-6, `sample ${n} at ${at - start} ms, due at ${due - start} ms`);
    n = Math.floor((at - start) / intervalMs) + 1; // the next due time after this sample
  }
}

Deno.test("ticker takes 60 samples in a busy minute, never before their due times", () => {
  const { clock, start, ticker, sampledAt, lagsPerSample } = fakeTicker(1000);
  clock.runUntil(start + 60_000 + 1, busyLoop(0x5eed));
  ticker.close();
  assert.ok(Math.abs(sampledAt.length - 60) <= 1, `${sampledAt.length} samples in 60 s`);
  assertNeverEarly(sampledAt, start, 1000);
  // Still the fast probe: about interval / LAG_PROBE_MS firings per sample.
  const perSample = 1000 / LAG_PROBE_MS;
  assert.ok(lagsPerSample.slice(1).every((n) => n >= 1 && n <= perSample + 1), `${lagsPerSample}`);
  assert.equal(clock.pending(), 0, "closed: no timer left");
});

Deno.test("ticker keeps one sample per interval while quiet, and across quiet/busy switches", () => {
  const { clock, start, ticker, sampledAt, lagsPerSample } = fakeTicker(1000);
  const late = busyLoop(7);
  // Quiet for 20 s: one firing per sample, the sample's.
  ticker.setQuiet(true);
  clock.runUntil(start + 20_000 + 1, late);
  const quiet = lagsPerSample.slice(1);
  assert.ok(quiet.every((n) => n === 1), `quiet: ${quiet}`);
  // Then switching at every sample for 40 s (the app hovering at the quiet bound).
  for (let s = 21; s <= 60; s++) {
    ticker.setQuiet(s % 2 === 0);
    clock.runUntil(start + s * 1000 + 1, late);
  }
  ticker.close();
  assert.ok(Math.abs(sampledAt.length - 60) <= 1, `${sampledAt.length} samples in 60 s`);
  assertNeverEarly(sampledAt, start, 1000);
});

Deno.test("ticker after a stall longer than an interval: one late sample, then back on time", () => {
  const { clock, start, ticker, sampledAt } = fakeTicker(1000);
  clock.runUntil(start + 10_000 + 1);
  assert.equal(sampledAt.length, 10);
  // A blocking call holds the loop from t = 10.1 s to 13.6 s.
  const [from, to] = [start + 10_100, start + 13_600];
  clock.runUntil(start + 20_000 + 1, (due) => due > from && due < to ? to - due : 0);
  ticker.close();
  const after = sampledAt.slice(10).map((t) => t - start);
  // 11 s, 12 s and 13 s are swallowed: one sample when the loop is back, then on the grid.
  assert.deepEqual(after, [13_600, 14_000, 15_000, 16_000, 17_000, 18_000, 19_000, 20_000]);
});

Deno.test("ticker with alwaysQuiet fires once per interval and ignores setQuiet", () => {
  const { clock, start, ticker, sampledAt, lagsPerSample } = fakeTicker(500, { alwaysQuiet: true });
  ticker.setQuiet(false);
  clock.runUntil(start + 30_000 + 1, busyLoop(3));
  ticker.close();
  assert.ok(Math.abs(sampledAt.length - 60) <= 1, `${sampledAt.length} samples in 30 s at 500 ms`);
  assert.ok(lagsPerSample.every((n) => n === 1), `${lagsPerSample}`);
  assertNeverEarly(sampledAt, start, 500);
});

Deno.test("lag probe keeps its grid when firings run late, and skips what a stall swallowed", () => {
  const { clock, probe, ticks, lags } = recordedProbe(100);
  clock.runUntil(1_001, () => 30); // every firing 30 ms late
  assert.deepEqual(ticks.map(([, due]) => due), [
    100,
    200,
    300,
    400,
    500,
    600,
    700,
    800,
    900,
    1000,
  ]);
  assert.ok(lags.every((l) => l === 30), `${lags}`);
  assert.equal(probe.takeMaxLagMs(), 30);
  let once = true;
  clock.runUntil(2_001, () => once ? (once = false, 450) : 0); // one 450 ms stall
  assert.deepEqual(ticks.slice(10).map(([, due]) => due), [1100, 1600, 1700, 1800, 1900, 2000]);
  assert.equal(probe.takeMaxLagMs(), 450);
  probe.setPeriod(300, 2000); // every 300 ms on the grid through 2 000
  clock.runUntil(3_001);
  assert.deepEqual(ticks.slice(16).map(([, due]) => due), [2300, 2600, 2900]);
  probe.close();
  assert.equal(clock.pending(), 0);
  probe.setPeriod(10); // must not restart a closed probe
  assert.equal(clock.pending(), 0);
});

/** A lag probe every `intervalMs` on a fake clock from 0, recording its ticks and lags. */
function recordedProbe(intervalMs: number, opts: FakeTimersOptions = {}) {
  const clock = fakeTimers(0, opts);
  const ticks: Array<[number, number]> = [];
  const lags: number[] = [];
  const probe = startLagProbe({
    intervalMs,
    clock: clock.now,
    timers: clock.timers,
    onLag: (l) => lags.push(l),
    onTick: (at, due) => ticks.push([at, due]),
  });
  return { clock, probe, ticks, lags };
}

Deno.test("lag probe in a quiet app keeps one repeating timer, re-anchored to its grid", () => {
  const { clock, probe, ticks, lags } = recordedProbe(1000, { repeating: true });
  // Each firing 1 ms late: a repeating timer, armed again from its firing, drifts 1 ms a time.
  clock.runUntil(120_100, () => 1); // past the last firing, up to 50 ms late
  // Every grid point once, in order, none before its time and at most the tolerance after.
  assert.deepEqual(
    ticks.map(([, due]) => due),
    Array.from({ length: 120 }, (_, i) => (i + 1) * 1000),
  );
  for (const [at, due] of ticks) {
    assert.ok(at >= due && at - due <= driftToleranceMs(1000) + 2, `tick at ${at} for ${due}`);
  }
  // A timer created about once per 50 firings (the 50 ms tolerance), not once per firing.
  assert.ok(clock.created() <= 8, `${clock.created()} timers for 120 firings`);
  assert.ok(lags.every((l) => l <= 1 + 1e-9), `lags measured from when each firing was asked for`);
  // A stall on the repeating timer is seen whole, and the grid points it swallowed skipped.
  let once = true;
  clock.runUntil(130_100, () => once ? (once = false, 2_500) : 1);
  const after = ticks.slice(120);
  assert.equal(after[0][1], 121_000);
  assert.ok(lags.slice(120)[0] >= 2_500, `stall lag ${lags.slice(120)[0]}`);
  assert.deepEqual(after.slice(1).map(([, due]) => due), [
    124_000,
    125_000,
    126_000,
    127_000,
    128_000,
    129_000,
    130_000,
  ]);
  probe.close();
  assert.equal(clock.pending(), 0, "closed: no timer left");
});

Deno.test("lag probe without repeating timers arms a one-shot per firing, on the same grid", () => {
  const { clock, probe, ticks } = recordedProbe(1000, { repeating: false });
  clock.runUntil(60_001, () => 1);
  assert.deepEqual(
    ticks.map(([, due]) => due),
    Array.from({ length: 60 }, (_, i) => (i + 1) * 1000),
  );
  assert.equal(clock.created(), 61);
  probe.close();
});

Deno.test("lag probe fires at a new period after setPeriod, and not after close", async () => {
  const ticks: Array<[number, number]> = [];
  const probe = startLagProbe({ intervalMs: 20, onTick: (at, due) => ticks.push([at, due]) });
  try {
    await waitFor(() => ticks.length >= 3, "fast ticks");
    probe.setPeriod(150);
    const from = ticks.length;
    await waitFor(() => ticks.length >= from + 3, "slow ticks");
    const slow = ticks.slice(from);
    for (let i = 0; i < slow.length; i++) {
      const [at, due] = slow[i];
      assert.ok(at >= due, `tick at ${at} before its due time ${due}`);
      if (i > 0) {
        assert.ok(due - slow[i - 1][1] >= 149.99, `due times ${due - slow[i - 1][1]} apart`);
      }
    }
  } finally {
    probe.close();
  }
  const closedAt = ticks.length;
  probe.setPeriod(10); // must not restart a closed probe
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(ticks.length, closedAt);
});

Deno.test("an app is quiet below the CPU and lag bounds only", () => {
  assert.equal(isQuiet(0.4, 0.2), true);
  assert.equal(isQuiet(QUIET_CPU_PERCENT, 0), false, "at the CPU bound");
  assert.equal(isQuiet(0.1, QUIET_LAG_MS), false, "a stall without CPU (a blocking call)");
  assert.equal(isQuiet(NaN, 0), false, "an unknown reading is not quiet");
  // A lag without CPU counts when the previous interval lagged too: a single late firing
  // (a loaded machine's scheduler) leaves a quiet app quiet; CPU use counts at once.
  assert.equal(isQuiet(0.1, QUIET_LAG_MS, false), true, "a single late firing");
  assert.equal(isQuiet(0.1, QUIET_LAG_MS, true), false, "a stall that repeats");
  assert.equal(isQuiet(QUIET_CPU_PERCENT, 0, false), false, "CPU, whatever came before");
  assert.equal(isQuiet(NaN, 0, false), false);
});

Deno.test("quietness over intervals: a lag without CPU makes an app busy when it repeats", () => {
  const q = createQuietness();
  const late = QUIET_LAG_MS + 2;
  assert.deepEqual(
    [[0.1, 0.2], [0.1, late], [0.1, 0.3], [0.1, late], [0.1, late], [0.1, late], [0.1, 0.2]]
      .map(([cpu, lag]) => q(cpu, lag)),
    [true, true, true, true, false, false, true],
  );
  // CPU at the bound is busy at once, and a lag right after it counts as repeating only
  // when that interval lagged too.
  assert.deepEqual(
    [[QUIET_CPU_PERCENT, 0.2], [0.1, late], [0.1, 0.2]].map(([cpu, lag]) => q(cpu, lag)),
    [false, true, true],
  );
});

/**
 * An agent measuring this process, with runtime readers that count the lag probe's
 * firings between samples (each firing gives one lag observation).
 */
function countingAgent(intervalMs: number) {
  const perSample: number[] = [];
  const sampledAt: number[] = [];
  let observed = 0;
  const runtime: RuntimeReaders = {
    observeLag() {
      observed++;
    },
    read() {
      perSample.push(observed);
      sampledAt.push(performance.now());
      observed = 0;
      return {};
    },
    close() {},
  };
  const started = performance.now();
  const agent = createAgent({
    service: "probe-test",
    intervalMs,
    runtime,
    transport: { trySend: () => Promise.resolve(true), close() {} },
    onError: () => {},
  });
  return { agent, perSample, sampledAt, started };
}

Deno.test("agent samples once per interval on the lag probe's ticks", async () => {
  const { agent, sampledAt, started } = countingAgent(300);
  try {
    await waitFor(() => sampledAt.length >= 4, "four samples");
    // Never before its due time (a few ms of timer rounding aside); samples on every probe
    // tick (150 ms) would be.
    sampledAt.forEach((at, i) => {
      const due = started + (i + 1) * 300;
      assert.ok(at >= due - 5, `sample ${i + 1} at ${(at - started).toFixed(0)} ms`);
    });
  } finally {
    await agent.stop();
  }
});

Deno.test("agent in a quiet app probes once per interval, fast once busy, and keeps time", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../fixtures/ticker_app.ts", import.meta.url).pathname,
      "300",
      "12",
      "12",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.equal(out.code, 0);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n").map((l) =>
    JSON.parse(l) as { fired: number; busy: boolean; at: number; started: number }
  );
  const quiet = lines.filter((l) => !l.busy).slice(1); // the first interval loads the modules
  const busy = lines.filter((l) => l.busy).slice(1); // the first one saw no burning yet
  assert.ok(quiet.some((l) => l.fired === 1), `quiet app: ${JSON.stringify(quiet)}`);
  assert.ok(busy.some((l) => l.fired >= 2), `busy app: ${JSON.stringify(busy)}`);
  assert.ok(QUIET_CPU_PERCENT < 40, "the fixture burns ~40 % of a core");
  // One sample per interval throughout, quiet, busy and across the switches: the n-th
  // sample is never before its due time, and the last is less than an interval late, so
  // the count matches the time (the k-th-tick rule lost ~5 % of samples while busy).
  const { started } = lines[0];
  lines.forEach((l, i) => {
    const due = started + (i + 1) * 300;
    assert.ok(l.at >= due - 5, `sample ${i + 1} at ${(l.at - started).toFixed(0)} ms: early`);
  });
  const last = lines.at(-1)!;
  const lateMs = last.at - (started + lines.length * 300);
  assert.ok(lateMs < 300, `sample ${lines.length} ${lateMs.toFixed(0)} ms late: samples drift`);
});
