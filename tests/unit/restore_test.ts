/** After a restart: which instances get their leak trend back from history, over what span. */
import assert from "node:assert/strict";
import { MAX_PRIMED_INSTANCES, primeLeaks } from "../../lib/collector/restore.ts";
import type { HistoryThread } from "../../lib/collector/history.ts";
import type { AlertEngine } from "../../lib/alerts/mod.ts";
import type { InstanceView } from "../../lib/live/messages.ts";
import { instanceView } from "../support/views.ts";

const NOW = 1_700_000_000_000;
const WINDOW = 30 * 60_000;

Deno.test("leak trends come back for the most recently seen instances that may report again", async () => {
  const asked: Array<{ id: string; metric: string; from: number; to: number; points: number }> = [];
  const history = {
    query(id: string, metric: string, from: number, to: number, points: number) {
      asked.push({ id, metric, from, to, points });
      return Promise.resolve({ points: [[from, 1, 100, 1], [to, 1, 200, 1]] });
    },
  } as unknown as HistoryThread;
  const primed: Array<{ id: string; times: number[]; values: number[] }> = [];
  const alerts = {
    leakWindow: { windowMs: WINDOW, resolutionMs: 3000 },
    primeLeak(view: InstanceView, times: ArrayLike<number>, values: ArrayLike<number>) {
      primed.push({ id: view.id, times: Array.from(times), values: Array.from(values) });
    },
  } as unknown as AlertEngine;
  // More recently seen instances than are primed; the oldest of them seen 40 s before NOW.
  const views = Array.from(
    { length: MAX_PRIMED_INSTANCES + 200 },
    (_, i) =>
      instanceView(
        { instance: `i${i}`, status: "stale", startedAt: NOW - 7_200_000 },
        NOW - 40_000 - i * 10,
      ),
  );
  const young = instanceView({ instance: "young", status: "stale" }, NOW - 1000);
  young.startedAt = NOW - 5 * 60_000; // started 5 minutes ago: only its own RSS
  views.push(
    young,
    instanceView({ instance: "stopped", status: "stopped" }, NOW - 1000),
    instanceView({ instance: "gone", status: "gone" }, NOW - 1000),
    instanceView({ instance: "old", status: "stale" }, NOW - WINDOW - 1000),
  );
  assert.equal(await primeLeaks(history, views, alerts, NOW), MAX_PRIMED_INSTANCES);
  const ids = new Set(primed.map((p) => p.id));
  assert.equal(ids.size, MAX_PRIMED_INSTANCES);
  assert.ok(ids.has("backend/young") && ids.has("backend/i0"));
  assert.ok(!ids.has(`backend/i${MAX_PRIMED_INSTANCES + 199}`), "the least recently seen wait");
  for (const gone of ["stopped", "gone", "old"]) assert.ok(!ids.has(`backend/${gone}`), gone);
  const q = asked.find((a) => a.id === "backend/young")!;
  assert.deepEqual(q, {
    id: "backend/young",
    metric: "mem.rss_bytes",
    from: NOW - 5 * 60_000,
    to: NOW,
    points: 100,
  });
  assert.equal(asked.find((a) => a.id === "backend/i0")!.from, NOW - WINDOW);
  assert.deepEqual(primed.find((p) => p.id === "backend/young")!.values, [100, 200], "averages");
});
