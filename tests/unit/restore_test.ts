/** After a restart: which instances get their leak trend back from history, over what span. */
import assert from "node:assert/strict";
import {
  MAX_PRIMED_INSTANCES,
  primeLeaks,
  refillFromHistory,
} from "../../lib/collector/restore.ts";
import { RecentStore } from "../../lib/store/recent.ts";
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
  assert.equal(
    await primeLeaks(history, views, alerts, NOW, (e) => {
      throw e;
    }),
    MAX_PRIMED_INSTANCES,
  );
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

Deno.test("a history query that fails leaves its instance and chart line empty; the rest refill", async () => {
  const history = {
    query(id: string, metric: string, from: number, to: number) {
      if (id === "backend/broken") {
        return Promise.reject(new Error("database disk image is malformed"));
      }
      return Promise.resolve({ points: [[from, 1, 100, 1], [to, 1, metric.length, 1]] });
    },
  } as unknown as HistoryThread;
  const primed: string[] = [];
  const alerts = {
    leakWindow: { windowMs: WINDOW, resolutionMs: 3000 },
    primeLeak: (view: InstanceView) => void primed.push(view.id),
  } as unknown as AlertEngine;
  const views = ["ok", "broken"].map((instance) => instanceView({ instance }, NOW - 1000));
  const recent = new RecentStore({ windowMs: 60_000 });
  const logs: string[] = [];
  await refillFromHistory({ history, views, recent, alerts, now: NOW, log: (l) => logs.push(l) });
  assert.deepEqual(primed, ["backend/ok"]);
  assert.deepEqual(recent.read("backend/ok", NOW - 60_000)["cpu.percent"], [
    [NOW - 60_000, 100],
    [NOW, 11],
  ]);
  assert.deepEqual(Object.keys(recent.read("backend/broken", NOW - 60_000)), []);
  // The first failure said, the others counted: one for the leak trend, one per chart metric.
  assert.equal(logs.length, 2, logs.join("\n"));
  assert.equal(
    logs[0],
    "history: could not refill from history: database disk image is malformed",
  );
  assert.match(
    logs[1],
    /^history: 2 instances restored; live window and 1 leak trends refilled in \d+ ms \(3 queries failed\)$/,
  );
});
