/** The collector's round of named jobs: order, isolation of failures, rate-limited logs. */
import assert from "node:assert/strict";
import { startPeriodic } from "../../lib/collector/periodic.ts";

Deno.test("periodic runs its jobs in order and a throwing job stops neither the others nor the round", () => {
  let t = 0;
  const ran: string[] = [];
  const lines: string[] = [];
  const round = startPeriodic([
    { name: "first", run: () => void ran.push("first") },
    {
      name: "broken",
      run: () => {
        throw new Error("disk full");
      },
    },
    { name: "last", run: (now) => void ran.push(`last@${now}`) },
  ], { everyMs: 60_000, now: () => t, log: (l) => lines.push(l) });
  try {
    round.runOnce();
    t = 1000;
    round.runOnce();
    assert.deepEqual(ran, ["first", "last@0", "first", "last@1000"]);
    assert.deepEqual(round.failures(), { broken: 2 });
    assert.deepEqual(lines, ["broken: disk full"], "logged once a minute, not every second");
    t = 61_000;
    round.runOnce();
    assert.deepEqual(lines.at(-1), "broken: disk full (3 failures so far)");
  } finally {
    round.stop();
  }
});

Deno.test("periodic says once when a job whose failure it logged works again", async () => {
  let t = 0;
  let broken = true;
  const lines: string[] = [];
  const round = startPeriodic([
    {
      name: "history",
      run: () => broken ? Promise.reject(new Error("database or disk is full")) : Promise.resolve(),
    },
    { name: "quiet", run: () => {} },
  ], { everyMs: 60_000, now: () => t, log: (l) => lines.push(l) });
  const settle = () => new Promise((r) => setTimeout(r, 0));
  try {
    for (; t < 3000; t += 1000) round.runOnce();
    await settle();
    broken = false;
    round.runOnce();
    await settle();
    round.runOnce(); // still fine: nothing more to say
    await settle();
    assert.deepEqual(lines, [
      "history: database or disk is full",
      "history: working again after 3 failed rounds",
    ]);
    // Failing again within the minute is not logged, so neither is working again after it.
    broken = true;
    round.runOnce();
    await settle();
    broken = false;
    round.runOnce();
    await settle();
    assert.equal(lines.length, 2, lines.join("\n"));
  } finally {
    round.stop();
  }
});

Deno.test("periodic logs a job's rejected promise under its name", async () => {
  const lines: string[] = [];
  let rejected!: () => void;
  const seen = new Promise<void>((r) => rejected = r);
  const round = startPeriodic([{
    name: "history",
    run: () => Promise.reject("thread gone").finally(() => setTimeout(rejected, 0)),
  }], { everyMs: 60_000, now: () => 0, log: (l) => lines.push(l) });
  try {
    round.runOnce();
    await seen;
    assert.deepEqual(lines, ["history: thread gone"]);
  } finally {
    round.stop();
  }
});

Deno.test("periodic stops ticking once disposed", async () => {
  let runs = 0;
  {
    using _round = startPeriodic([{ name: "count", run: () => void runs++ }], {
      everyMs: 1,
      now: () => 0,
      log: () => {},
    });
  }
  const before = runs;
  await new Promise((r) => setTimeout(r, 20)); // twenty periods with no tick: nothing runs
  assert.equal(runs, before);
});
