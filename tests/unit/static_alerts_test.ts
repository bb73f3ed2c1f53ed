import assert from "node:assert/strict";
import {
  countBadge,
  formatEta,
  formatLeakRate,
  leakBadges,
  leakText,
  parseAlerts,
  sortActive,
  trendLine,
} from "../../static/alerts_model.ts";
import type { Alert, LeakEstimate } from "../../lib/live/messages.ts";

function alert(over: Partial<Alert>): Alert {
  return {
    id: `${over.rule ?? "r"}|${over.instance ?? "a/b"}|${over.since ?? 0}`,
    rule: "r",
    kind: "threshold",
    instance: "a/b",
    service: "a",
    state: "pending",
    since: 0,
    value: 1,
    message: "m",
    ...over,
  };
}

function estimate(over: Partial<LeakEstimate>): LeakEstimate {
  return {
    at: 100_000,
    from: 0,
    spanMs: 100_000,
    points: 100,
    mbPerHour: 600,
    lowerMbPerHour: 500,
    upperMbPerHour: 700,
    sustainedMbPerHour: 550,
    confidence: 1,
    recentMbPerHour: 600,
    recentConfidence: 1,
    full: false,
    signalToNoise: 5,
    levelBytes: 200e6,
    trend: [[0, 100e6], [100_000, 200e6]],
    ...over,
  };
}

Deno.test("leak rates: in MiB as the charts, MiB/min from 60 MiB/h, MiB/h below", () => {
  // The detector's MB (10^6) per hour, said in MiB (2^20): 2880 MB/h is 45.8 MiB/min.
  assert.equal(formatLeakRate(2880), "45.8 MiB/min");
  assert.equal(formatLeakRate(540), "8.6 MiB/min");
  assert.equal(formatLeakRate(1884), "29.9 MiB/min");
  assert.equal(formatLeakRate(20), "19.1 MiB/h");
  assert.equal(formatLeakRate(59.94), "57.2 MiB/h");
  assert.equal(formatLeakRate(63 * 1.048576), "1.1 MiB/min");
  assert.equal(formatLeakRate(12_000), "191 MiB/min");
  assert.equal(formatEta(45_000), "45 s");
  assert.equal(formatEta(12 * 60_000), "12 min");
  assert.equal(formatEta(3 * 3_600_000 + 60_000), "~3 h");
  assert.equal(formatEta(3 * 86_400_000), "~3 d");
  assert.equal(leakText(540, 3 * 3_600_000), "leaking 8.6 MiB/min, limit in ~3 h");
  assert.equal(leakText(540), "leaking 8.6 MiB/min");
});

Deno.test("active alerts: firing first, then pending, oldest first within each", () => {
  const list = [
    alert({ rule: "p1", state: "pending", since: 5 }),
    alert({ rule: "f2", state: "firing", since: 1, firedAt: 9 }),
    alert({ rule: "f1", state: "firing", since: 3, firedAt: 4 }),
    alert({ rule: "p0", state: "pending", since: 2 }),
  ];
  assert.deepEqual(sortActive(list).map((a) => a.rule), ["f1", "f2", "p0", "p1"]);
  assert.deepEqual(countBadge(list), { text: "4 alerts", level: "firing", firing: 2, pending: 2 });
  assert.equal(countBadge([list[0]]).level, "pending");
  assert.equal(countBadge([list[0]]).text, "1 alert");
  assert.equal(countBadge([]).level, "none");
});

Deno.test("leak badges: alerting leaks by state, trends the default rule would flag, nothing else", () => {
  const active = [
    alert({ rule: "memory-leak", kind: "leak", instance: "s/firing", state: "firing" }),
    alert({ rule: "memory-leak", kind: "leak", instance: "s/pending", state: "pending" }),
    alert({ rule: "cpu", kind: "threshold", instance: "s/cpu", state: "firing" }),
  ];
  const leaks = {
    "s/firing": estimate({ mbPerHour: 540, timeToLimitMs: 3 * 3_600_000 }),
    "s/pending": estimate({ mbPerHour: 120 }),
    "s/cpu": estimate({ mbPerHour: 2, confidence: 0.3 }),
    "s/trend": estimate({ mbPerHour: 80, confidence: 0.97, full: true }),
    // A young process growing 600 MB/h for a minute (10 MB, under the 16 MiB warm-up): no
    // badge, as the default rule would not fire on it. The demo's apps showed "leaking".
    "s/warmup": estimate({ mbPerHour: 600, spanMs: 60_000 }),
    "s/stopped-growing": estimate({ mbPerHour: 300, full: true, recentMbPerHour: 0 }),
    "s/slow": estimate({ mbPerHour: 30, confidence: 0.99 }),
    "s/unsure": estimate({ mbPerHour: 300, confidence: 0.9 }),
  };
  const b = leakBadges(active, leaks);
  assert.deepEqual([...b.keys()].sort(), ["s/firing", "s/pending", "s/trend"]);
  assert.equal(b.get("s/firing")!.level, "firing");
  assert.equal(b.get("s/firing")!.text, "leaking 8.6 MiB/min, limit in ~3 h");
  assert.equal(b.get("s/pending")!.level, "pending");
  assert.equal(b.get("s/pending")!.text, "leaking 1.9 MiB/min");
  assert.equal(b.get("s/trend")!.level, "trend");
  // An alert without an estimate (e.g. restored after a restart) uses the alert's numbers.
  const restored = leakBadges([
    alert({
      kind: "leak",
      instance: "s/x",
      state: "firing",
      leak: { mbPerHour: 3000, confidence: 1 },
    }),
  ], {});
  assert.equal(restored.get("s/x")!.text, "leaking 47.7 MiB/min");
});

Deno.test("trend line: the fitted line, extended to now at the estimated slope", () => {
  const e = estimate({ mbPerHour: 3600 }); // 1 MB/s = 1000 bytes/ms
  assert.deepEqual(trendLine(e, 110_000), [[0, 100e6], [110_000, 210e6]]);
  assert.deepEqual(trendLine(e, 50_000), [[0, 100e6], [100_000, 200e6]], "never shortened");
  assert.equal(trendLine(estimate({ trend: [[0, NaN], [1, 2]] }), 5), null);
  assert.equal(trendLine({ mbPerHour: 1 } as unknown as LeakEstimate, 5), null);
});

Deno.test("wire alerts the page cannot show are left out", () => {
  const parsed = parseAlerts([
    alert({ rule: "ok" }),
    { id: 1 },
    null,
    alert({ rule: "bad-state", state: "weird" as Alert["state"] }),
  ]);
  assert.deepEqual(parsed.map((a) => a.rule), ["ok"]);
  assert.deepEqual(parseAlerts("nope"), []);
});
