/**
 * The alert engine fed a batch as columns (observeColumns, ingest's columnar path) knows what
 * it knows when fed the same samples one by one: leak detector, container limit, thresholds.
 */
import assert from "node:assert/strict";
import { InstanceState } from "../../lib/alerts/instance_state.ts";
import { DEFAULT_RULES } from "../../lib/alerts/default_rules.ts";
import type { Rule } from "../../lib/alerts/rules.ts";
import { blankView } from "../../lib/model/instance.ts";

const T0 = 1_700_000_000_000;
const RULES: Rule[] = [
  ...DEFAULT_RULES,
  {
    name: "lag-high",
    kind: "threshold",
    metric: "loop.lag_ms",
    op: ">=",
    value: 50,
    forMs: 0,
    keepFiringForMs: 0,
    origin: "file",
  },
  {
    name: "rss-any", // holds from the first row on: `since` is that row's time
    kind: "threshold",
    metric: "mem.rss_bytes",
    op: ">",
    value: 0,
    forMs: 0,
    keepFiringForMs: 0,
    origin: "file",
  },
  {
    name: "absent-metric",
    kind: "threshold",
    metric: "not.sent",
    op: ">",
    value: 0,
    forMs: 0,
    keepFiringForMs: 0,
    origin: "file",
  },
];

Deno.test("alerts fed a batch as columns end as fed its samples one by one", () => {
  const view = blankView("svc/a", "svc", "a", "red", "live");
  const byColumns = new InstanceState(view, RULES);
  const byPoints = new InstanceState(view, RULES);
  const primed = { times: [T0 - 2000, T0 - 1000], values: [5e8, 5.1e8] };
  byColumns.prime(primed.times, primed.values);
  byPoints.prime(primed.times, primed.values);
  const keysA = ["cpu.percent", "container.mem.limit_bytes", "mem.rss_bytes", "loop.lag_ms"];
  const keysB = ["loop.lag_ms", "cpu.percent"]; // no RSS, no limit: those stay as they were
  let t = T0;
  for (const [batch, keys] of [[0, keysA], [1, keysA], [2, keysB], [3, keysA]] as const) {
    const n = 40 + batch;
    const rows = n + 3; // the arrays are longer than the batch: only `n` rows count
    const times = new Float64Array(rows);
    const values = new Float64Array(rows * keys.length).fill(1e12);
    const points: Array<{ t: number; metrics: Record<string, number> }> = [];
    for (let r = 0; r < n; r++) {
      times[r] = t += 1000;
      const metrics: Record<string, number> = {};
      keys.forEach((k, j) => {
        const v = k === "cpu.percent"
          ? (r * 37 + batch * 11) % 100
          : k === "mem.rss_bytes"
          ? 5.2e8 + r * 1e6
          : k === "loop.lag_ms"
          ? (r * 13) % 80
          : batch === 3 && r === n - 1
          ? 0 // the last limit of the last batch is 0: no limit
          : 2e9 + r * 1e6; // the limit that stays is the batch's last
        metrics[k] = v;
        values[j * n + r] = v;
      });
      points.push({ t: times[r], metrics });
    }
    byColumns.feedColumns(keys, times, values, n);
    byPoints.feed(points);
    assert.deepEqual(byColumns.thresholds, byPoints.thresholds, `thresholds after ${batch}`);
    assert.equal(byColumns.limit, byPoints.limit, `limit after ${batch}`);
    assert.equal(byColumns.detector.size, byPoints.detector.size);
    assert.deepEqual(byColumns.detector.estimate(t, null), byPoints.detector.estimate(t, null));
  }
  assert.equal(byColumns.limit, null, "the last batch's limit was 0");
  assert.equal(byColumns.thresholds.get("lag-high")!.value, (42 * 13) % 80);
  assert.ok(byColumns.detector.size > 0);
  assert.equal(byColumns.thresholds.has("absent-metric"), false);
  assert.equal(byColumns.thresholds.get("rss-any")!.since, T0 + 1000);
});
