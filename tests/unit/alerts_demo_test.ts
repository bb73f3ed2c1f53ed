/**
 * Demo acceptance as a recorded-trace test: the RSS of the seed's three demo apps
 * (red: no leak, blue: --leak 10000, green: --leak 100000), recorded from the real apps
 * reporting to a real collector for ~10 minutes (tests/fixtures/leak/record.ts), replayed
 * through the alert engine with the default rules, one sample and one evaluation a second.
 * Green must fire within 2 minutes, blue within 5, red never in 10. (Warm-up-then-flat
 * traces, including red with HTTP load: alerts_warmup_test.ts.)
 */
import assert from "node:assert/strict";
import { readTrace, replayTrace } from "../support/leak_replay.ts";

Deno.test("recorded demo: green (--leak 100000) fires within 2 minutes", async () => {
  const green = await readTrace("demo-green");
  assert.ok(green.points.at(-1)![0] >= 600, "the trace covers 10 minutes");
  const { fired, engine, view } = replayTrace(green, 600);
  assert.ok(fired !== null && fired <= 120, `green fired at ${fired} s`);
  const [alert] = engine.list().active;
  assert.equal(alert.rule, "memory-leak");
  assert.match(alert.message, /^leaking \d+(\.\d)? MiB\/min$/);
  const est = engine.leakOf(view.id)!;
  assert.ok(est.mbPerHour > 2000 && est.mbPerHour < 5000, `${est.mbPerHour} MB/h`);
});

Deno.test("recorded demo: blue (--leak 10000) fires within 5 minutes", async () => {
  const { fired, engine, view } = replayTrace(await readTrace("demo-blue"), 600);
  assert.ok(fired !== null && fired <= 300, `blue fired at ${fired} s`);
  const est = engine.leakOf(view.id)!;
  assert.ok(est.mbPerHour > 150 && est.mbPerHour < 600, `${est.mbPerHour} MB/h`);
  assert.equal(engine.list().active[0].state, "firing", "and is still firing at 10 minutes");
});

Deno.test("recorded demo: red (no leak) does not fire in 10 minutes", async () => {
  const { fired, engine } = replayTrace(await readTrace("demo-red"), 600);
  assert.equal(fired, null, `red fired at ${fired} s`);
  assert.deepEqual(engine.list(), { active: [], recent: [] }, "not even pending");
});
