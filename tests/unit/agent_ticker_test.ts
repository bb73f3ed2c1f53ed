import assert from "node:assert/strict";
import { createAgent } from "../../lib/agent/agent.ts";
import { isQuiet, QUIET_CPU_PERCENT, QUIET_LAG_MS, startTicker } from "../../lib/agent/ticker.ts";
import { startLagProbe } from "../../lib/agent/lag.ts";
import type { RuntimeReaders } from "../../lib/agent/runtime.ts";
import { waitFor } from "../support/live.ts";

Deno.test("lag probe fires at a new period after setPeriod, and not after close", async () => {
  const ticks: number[] = [];
  const probe = startLagProbe({ intervalMs: 20, onTick: (t) => ticks.push(t) });
  try {
    await waitFor(() => ticks.length >= 3, "fast ticks");
    probe.setPeriod(150);
    const from = ticks.length;
    await waitFor(() => ticks.length >= from + 3, "slow ticks");
    const slow = ticks.slice(from);
    for (let i = 1; i < slow.length; i++) {
      // Timers never fire early (1 ms of rounding aside).
      assert.ok(
        slow[i] - slow[i - 1] >= 149,
        `gap ${slow[i] - slow[i - 1]} ms after setPeriod(150)`,
      );
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
  const agent = createAgent({
    service: "probe-test",
    intervalMs,
    runtime,
    transport: { trySend: () => Promise.resolve(true), close() {} },
    onError: () => {},
  });
  return { agent, perSample, sampledAt };
}

Deno.test("agent samples once per interval on the lag probe's ticks", async () => {
  const { agent, sampledAt } = countingAgent(300);
  try {
    await waitFor(() => sampledAt.length >= 4, "four samples");
    for (let i = 1; i < sampledAt.length; i++) {
      // Every second probe tick (150 ms) samples, and ticks are never early (a few ms of
      // timer rounding aside); samples on every tick would be 150 ms apart.
      const gap = sampledAt[i] - sampledAt[i - 1];
      assert.ok(gap >= 295, `samples ${gap.toFixed(0)} ms apart at a 300 ms interval`);
    }
  } finally {
    await agent.stop();
  }
});

Deno.test("ticker probes once per interval when quiet and every ~LAG_PROBE_MS otherwise", async () => {
  const perSample: number[] = [];
  let fired = 0;
  const sampledAt: number[] = [];
  // 300 ms: two probe periods of 150 ms per sample when not quiet.
  const ticker = startTicker({
    intervalMs: 300,
    onLag: () => fired++,
    onSample: () => {
      perSample.push(fired);
      sampledAt.push(performance.now());
      fired = 0;
    },
  });
  try {
    await waitFor(() => perSample.length >= 2, "two samples");
    assert.ok(perSample.slice(1).every((n) => n >= 1 && n <= 3), `fast: ${perSample}`);
    ticker.setQuiet(true);
    let from = perSample.length;
    await waitFor(() => perSample.length >= from + 3, "three quiet samples");
    assert.deepEqual(perSample.slice(from + 1), [1, 1], "one firing per sample, the sample's");
    for (let i = from + 1; i < from + 3; i++) {
      // Still one sample per interval: the probe slowed down, not the sampling sped up.
      const gap = sampledAt[i] - sampledAt[i - 1];
      assert.ok(gap >= 295, `quiet samples ${gap.toFixed(0)} ms apart at a 300 ms interval`);
    }
    ticker.setQuiet(false);
    from = perSample.length;
    await waitFor(() => perSample.length >= from + 3, "three fast samples");
    const fast = perSample.slice(from + 1);
    assert.ok(fast.includes(2) && fast.every((n) => n >= 1 && n <= 3), `fast again: ${fast}`);
  } finally {
    ticker.close();
  }
});

Deno.test("agent in a quiet app probes once per interval, and fast again once the app is busy", async () => {
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
    JSON.parse(l) as { fired: number; busy: boolean; at: number }
  );
  const quiet = lines.filter((l) => !l.busy).slice(1); // the first interval loads the modules
  const busy = lines.filter((l) => l.busy).slice(1); // the first one saw no burning yet
  assert.ok(quiet.some((l) => l.fired === 1), `quiet app: ${JSON.stringify(quiet)}`);
  for (let i = 1; i < lines.length; i++) {
    // One sample per interval throughout, quiet, busy and across the switches.
    const gap = lines[i].at - lines[i - 1].at;
    assert.ok(gap >= 295, `samples ${gap.toFixed(0)} ms apart at a 300 ms interval`);
  }
  assert.ok(busy.some((l) => l.fired >= 2), `busy app: ${JSON.stringify(busy)}`);
  assert.ok(QUIET_CPU_PERCENT < 40, "the fixture burns ~40 % of a core");
});
