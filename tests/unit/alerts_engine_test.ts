/** Alert engine: pending -> firing -> resolved with an injected clock, storage, notifications. */
import assert from "node:assert/strict";
import { createAlertEngine } from "../../lib/alerts/engine.ts";
import { openAlertStore } from "../../lib/alerts/store.ts";
import { parseRules } from "../../lib/alerts/rules.ts";
import type { Notifier } from "../../lib/alerts/notify.ts";
import type { Alert } from "../../lib/alerts/types.ts";
import type { InstanceView } from "../../lib/live/messages.ts";
import { MB } from "../../lib/alerts/leak.ts";
import { instanceView } from "../support/views.ts";

const T0 = 1_700_000_000_000;

/** An instance `backend/a` at T0, overridden by `over`. */
const view = (over: Partial<InstanceView> = {}) => instanceView(over, T0);

function recorder(): Notifier & { events: Array<[string, Alert]> } {
  const events: Array<[string, Alert]> = [];
  return {
    events,
    notify: (status, alert) => void events.push([status, alert]),
    stats: () => ({ sent: events.length, failed: 0, retried: 0, dropped: 0, queued: 0 }),
    idle: () => Promise.resolve(),
    close: () => {},
  };
}

const RULES = parseRules(`rules:
  - { name: cpu, kind: threshold, metric: cpu.percent, op: ">", value: 90, for: 1m }
  - { name: silent, kind: absence, for: 2m }
  - { name: leak, kind: leak, growth: 20MB/h, within: 1h, for: 20s, keep_firing_for: 1m }
`);

Deno.test("threshold alert goes pending, fires after 'for', resolves when the value drops", () => {
  let now = T0;
  const notifier = recorder();
  const engine = createAlertEngine({ rules: RULES, now: () => now, notifier });
  const v = view();
  const tick = (cpu: number) => {
    now += 1000;
    v.lastSeen = now;
    engine.observe(v, [[now, { "cpu.percent": cpu }]]);
    engine.evaluate(now, [v]);
  };
  tick(50);
  assert.deepEqual(engine.list().active, []);
  tick(95);
  const since = now;
  const [pending] = engine.list().active;
  assert.equal(pending.state, "pending");
  assert.equal(pending.since, since);
  assert.equal(pending.message, "cpu.percent is 95 (> 90)");
  for (let i = 0; i < 59; i++) tick(96);
  assert.equal(engine.list().active[0].state, "pending", "59 s is not 1 min");
  tick(97);
  const [firing] = engine.list().active;
  assert.equal(firing.state, "firing");
  assert.equal(firing.firedAt, since + 60_000);
  assert.equal(firing.value, 97);
  assert.deepEqual(notifier.events.map(([s]) => s), ["firing"]);
  tick(10);
  assert.deepEqual(engine.list().active, []);
  const [resolved] = engine.list().recent;
  assert.equal(resolved.state, "resolved");
  assert.equal(resolved.resolvedAt, now);
  assert.equal(resolved.id, firing.id);
  assert.match(resolved.message, /no longer > 90/);
  assert.deepEqual(notifier.events.map(([s]) => s), ["firing", "resolved"]);
  assert.deepEqual(engine.stats(), {
    rules: 3,
    pending: 0,
    firing: 0,
    notify: { sent: 2, failed: 0, retried: 0, dropped: 0, queued: 0 },
  });
});

Deno.test("a pending threshold alert that clears is dropped without a notification", () => {
  let now = T0;
  const notifier = recorder();
  const engine = createAlertEngine({ rules: RULES, now: () => now, notifier });
  const v = view();
  for (const cpu of [95, 95, 20]) {
    now += 1000;
    engine.observe(v, [[now, { "cpu.percent": cpu }]]);
    v.lastSeen = now;
    engine.evaluate(now, [v]);
  }
  assert.deepEqual(engine.list(), { active: [], recent: [] });
  assert.deepEqual(notifier.events, []);
});

Deno.test("absence alert is pending while stale, fires after 'for', resolves on report", () => {
  let now = T0;
  const notifier = recorder();
  const engine = createAlertEngine({ rules: RULES, now: () => now, notifier });
  const v = view({ lastSeen: T0 });
  engine.evaluate(now, [v]);
  assert.deepEqual(engine.list().active, []);
  now += 5000;
  v.status = "stale";
  engine.evaluate(now, [v]);
  const [pending] = engine.list().active;
  assert.equal(pending.rule, "silent");
  assert.equal(pending.state, "pending");
  assert.equal(pending.since, T0);
  now = T0 + 120_000;
  engine.evaluate(now, [v]);
  const [firing] = engine.list().active.filter((a) => a.rule === "silent");
  assert.equal(firing.state, "firing");
  assert.equal(firing.message, "silent for 2 min (stale)");
  assert.equal(firing.value, 120);
  now += 1000;
  v.status = "live";
  v.lastSeen = now;
  engine.evaluate(now, [v]);
  assert.deepEqual(engine.list().active, []);
  assert.equal(engine.list().recent[0].message, "reporting again");
  assert.deepEqual(notifier.events.map(([s, a]) => `${s} ${a.rule}`), [
    "firing silent",
    "resolved silent",
  ]);
});

Deno.test("an absence rule with for: 0 fires only for silent instances", () => {
  const engine = createAlertEngine({
    rules: parseRules(`rules: [{ name: s, kind: absence, for: 0 }]`),
    now: () => T0,
  });
  engine.evaluate(T0 + 500, [view()]);
  assert.deepEqual(engine.list().active, []);
  engine.evaluate(T0 + 5000, [view({ status: "stale" })]);
  assert.equal(engine.list().active[0].state, "firing");
});

Deno.test("a forgotten instance resolves its alerts", () => {
  let now = T0;
  const engine = createAlertEngine({ rules: RULES, now: () => now });
  const v = view({ status: "stale" });
  now += 300_000;
  engine.evaluate(now, [v]);
  assert.equal(engine.list().active[0].state, "firing");
  now += 1000;
  engine.evaluate(now, []);
  assert.deepEqual(engine.list().active, []);
  assert.equal(engine.list().recent[0].message, "instance forgotten");
});

Deno.test("leak alert fires on growth, carries the estimate, resets on restart", () => {
  let now = T0;
  const notifier = recorder();
  const engine = createAlertEngine({ rules: RULES, now: () => now, notifier });
  const v = view();
  assert.equal(engine.leakOf(v.id), null);
  for (let s = 0; s <= 150; s++) {
    now = T0 + s * 1000;
    v.lastSeen = now;
    engine.observe(v, [[now, {
      "mem.rss_bytes": 100 * MB + s * 0.8 * MB,
      "container.mem.limit_bytes": 1000 * MB,
    }]]);
    engine.evaluate(now, [v]);
  }
  const est = engine.leakOf(v.id)!;
  assert.ok(Math.abs(est.mbPerHour - 2880) < 1, `${est.mbPerHour}`);
  const [alert] = engine.list().active;
  assert.equal(alert.kind, "leak");
  assert.equal(alert.state, "firing");
  assert.ok(alert.firedAt! - T0 <= 120_000, `fired after ${alert.firedAt! - T0} ms`);
  assert.equal(alert.leak!.limitBytes, 1000 * MB);
  assert.ok(Math.abs(alert.leak!.timeToLimitMs! - 975 * 1000) < 5000);
  assert.equal(alert.message, "leaking 45.8 MiB/min, limit in 16 min");
  // Restart: the trend starts over; the alert stays firing for keep_firing_for (1 min).
  v.restarts = 1;
  v.startedAt = now;
  for (let s = 151; s <= 215; s++) {
    now = T0 + s * 1000;
    v.lastSeen = now;
    engine.observe(v, [[now, { "mem.rss_bytes": 100 * MB }]]);
    engine.evaluate(now, [v]);
  }
  assert.equal(engine.leakOf(v.id), null, "60 s since the restart: no estimate yet");
  assert.deepEqual(engine.list().active, []);
  assert.equal(engine.list().recent[0].message, "not enough memory data");
  assert.deepEqual(notifier.events.map(([s]) => s), ["firing", "resolved"]);
});

Deno.test("resolved alerts survive a restart through the store", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let now = T0;
    const v = view({ status: "stale" });
    const first = createAlertEngine({ rules: RULES, now: () => now, store: openAlertStore(dir) });
    now += 300_000;
    first.evaluate(now, [v]); // absence fires
    now += 1000;
    v.status = "live";
    v.lastSeen = now;
    first.evaluate(now, [v]); // and resolves
    const before = first.list().recent;
    assert.deepEqual(before.map((a) => `${a.rule} ${a.state}`), ["silent resolved"]);
    first.close();
    const second = createAlertEngine({ rules: RULES, now: () => now, store: openAlertStore(dir) });
    assert.deepEqual(second.list(), { active: [], recent: before });
    second.close();
    assert.ok((await Deno.stat(`${dir}/alerts.db`)).isFile);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("alerts of a rule that no longer exists are resolved on load", () => {
  const store = openAlertStore(null);
  store.save({
    id: "gone-rule|backend/a|1",
    rule: "gone-rule",
    kind: "absence",
    instance: "backend/a",
    service: "backend",
    state: "firing",
    since: 1,
    firedAt: 2,
    value: 0,
    message: "x",
  });
  const engine = createAlertEngine({ rules: RULES, now: () => T0, store });
  assert.deepEqual(engine.list().active, []);
  assert.equal(engine.list().recent[0].message, `rule "gone-rule" no longer exists`);
});

Deno.test("observe takes ingest's placed samples and onChange sees every state change", () => {
  let now = T0;
  const changes: string[] = [];
  const engine = createAlertEngine({
    rules: RULES,
    now: () => now,
    onChange: (a) => changes.push(`${a.rule} ${a.state}`),
  });
  const v = view();
  for (const cpu of [95, 95, 10]) {
    now += 60_000;
    v.lastSeen = now;
    engine.observe(v, [{ t: now, metrics: { "cpu.percent": cpu } }]);
    engine.evaluate(now, [v]);
  }
  assert.deepEqual(changes, ["cpu pending", "cpu firing", "cpu resolved"]);
});

Deno.test("leak estimates are refreshed stalest first within a time budget", () => {
  let now = T0;
  const engine = createAlertEngine({ rules: [], now: () => now, leakBudgetMs: 0 });
  const views = Array.from({ length: 4 }, (_, i) => view({ id: `s/${i}`, instance: `${i}` }));
  for (let s = 0; s <= 100; s++) {
    for (const v of views) engine.observe(v, [[T0 + s * 1000, { "mem.rss_bytes": 100 * MB }]]);
  }
  const refreshed = () => views.filter((v) => engine.leakOf(v.id) !== null).length;
  now = T0 + 100_000;
  engine.evaluate(now, views);
  assert.equal(refreshed(), 1, "a zero budget still refreshes one per call");
  for (let i = 1; i <= 3; i++) engine.evaluate(now + i * 1000, views);
  assert.equal(refreshed(), 4, "the others on the following calls");
  assert.ok(engine.leakOf("s/0")!.at === now, "without a leak rule, the badge still has data");
});
