/**
 * Demo acceptance as a recorded-trace test: the RSS of the seed's three demo apps
 * (red: no leak, blue: --leak 10000, green: --leak 100000), recorded from the real apps
 * reporting to a real collector for ~10 minutes (tests/fixtures/leak/record.ts), replayed
 * through the alert engine with the default rules, one sample and one evaluation a second.
 * Green must fire within 2 minutes, blue within 5, red never in 10.
 */
import assert from "node:assert/strict";
import { createAlertEngine } from "../../lib/alerts/engine.ts";
import { DEFAULT_RULES } from "../../lib/alerts/rules.ts";
import { instanceView } from "../support/views.ts";

const T0 = 1_700_000_000_000;

interface Trace {
  app: string;
  points: Array<[number, number]>;
}

async function trace(color: string): Promise<Trace> {
  const url = new URL(`../fixtures/leak/demo-${color}.json`, import.meta.url);
  return JSON.parse(await Deno.readTextFile(url));
}

/** Replay a trace for `seconds`; returns when the leak alert fired (s), or null, and the engine. */
function replay(t: Trace, seconds: number) {
  let now = T0;
  const engine = createAlertEngine({
    rules: DEFAULT_RULES.filter((r) => r.kind === "leak"),
    now: () => now,
  });
  const view = instanceView({ instance: "demo" }, T0);

  let i = 0;
  let fired: number | null = null;
  let pending: number | null = null;
  for (let s = 0; s <= seconds; s++) {
    now = T0 + s * 1000;
    const batch: Array<[number, Record<string, number>]> = [];
    for (; i < t.points.length && t.points[i][0] <= s; i++) {
      batch.push([T0 + t.points[i][0] * 1000, { "mem.rss_bytes": t.points[i][1] }]);
    }
    if (batch.length > 0) {
      view.lastSeen = batch[batch.length - 1][0];
      engine.observe(view, batch);
    }
    engine.evaluate(now, [view]);
    const active = engine.list().active;
    if (pending === null && active.length > 0) pending = s;
    if (fired === null && active.some((a) => a.state === "firing")) {
      fired = s;
      console.log(`${t.app}: pending at ${pending} s, fired at ${s} s`);
    }
  }
  return { fired, engine, view };
}

Deno.test("recorded demo: green (--leak 100000) fires within 2 minutes", async () => {
  const green = await trace("green");
  assert.ok(green.points.at(-1)![0] >= 600, "the trace covers 10 minutes");
  const { fired, engine, view } = replay(green, 600);
  assert.ok(fired !== null && fired <= 120, `green fired at ${fired} s`);
  const [alert] = engine.list().active;
  assert.equal(alert.rule, "memory-leak");
  assert.match(alert.message, /^leaking \d+(\.\d)? MiB\/min$/);
  const est = engine.leakOf(view.id)!;
  assert.ok(est.mbPerHour > 2000 && est.mbPerHour < 5000, `${est.mbPerHour} MB/h`);
});

Deno.test("recorded demo: blue (--leak 10000) fires within 5 minutes", async () => {
  const { fired, engine, view } = replay(await trace("blue"), 600);
  assert.ok(fired !== null && fired <= 300, `blue fired at ${fired} s`);
  const est = engine.leakOf(view.id)!;
  assert.ok(est.mbPerHour > 150 && est.mbPerHour < 600, `${est.mbPerHour} MB/h`);
});

Deno.test("recorded demo: red (no leak) does not fire in 10 minutes", async () => {
  const { fired, engine } = replay(await trace("red"), 600);
  assert.equal(fired, null, `red fired at ${fired} s`);
  assert.deepEqual(engine.list(), { active: [], recent: [] }, "not even pending");
});
