/** /federate's families from instance views, and /metrics' collector families. */
import assert from "node:assert/strict";
import { federateFamilies, federateText } from "../../lib/prom/federate.ts";
import { renderFamilies } from "../../lib/prom/exposition.ts";
import { dirBytes, selfMetrics } from "../../lib/prom/self_metrics.ts";
import { CollectorStats } from "../../lib/collector/stats.ts";
import { instanceView } from "../support/views.ts";

Deno.test("federateFamilies exposes live instances only, named by the shared rule", () => {
  const views = [
    instanceView({
      service: "shop",
      instance: "a",
      latest: { "cpu.percent": 5, 'orders.done_total{job="x"}': 9 },
    }, 1000),
    instanceView({ service: "shop", instance: "b", latest: { "cpu.percent": 7 } }, 2000),
    instanceView({
      service: "shop",
      instance: "old",
      status: "stale",
      latest: { "cpu.percent": 1 },
    }),
  ];
  const families = federateFamilies(
    views,
    (id, key) => id === "shop/a" && key === "cpu.percent" ? 900 : null,
  );
  assert.deepEqual(families.map((f) => [f.name, f.type]), [
    ["cpu_percent", "gauge"],
    ["orders_done_total", "counter"],
  ]);
  assert.deepEqual(families[0].samples, [
    { labels: [["instance", "a"], ["job", "shop"]], value: 5, timestampMs: 900 },
    { labels: [["instance", "b"], ["job", "shop"]], value: 7, timestampMs: 2000 },
  ]);
  assert.deepEqual(families[1].samples[0].labels, [
    ["exported_job", "x"],
    ["instance", "a"],
    ["job", "shop"],
  ]);
  assert.match(renderFamilies(families), /^# HELP cpu_percent zeroapm series cpu\.percent/m);
});

Deno.test("federateText gives the same exposition in slices, letting other tasks run between", async () => {
  const views = Array.from({ length: 300 }, (_, i) =>
    instanceView({
      service: `svc${i % 7}`,
      instance: `host-${i}`,
      latest: {
        "cpu.percent": i,
        [`app.jobs_total{queue="q${i % 3}"}`]: 2 * i,
        "mem.rss_bytes": 1e6,
      },
    }, 1000 + i));
  const lastTime = (_id: string, key: string) => key === "cpu.percent" ? 500 : null;
  const whole = renderFamilies(federateFamilies(views, lastTime));
  let pauses = 0;
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  try {
    // A clock that moves 1 ms per reading: every slice of 3 ms ends after a few instances.
    let t = 0;
    const sliced = await federateText(views, lastTime, {
      sliceMs: 3,
      clock: () => t++,
      pause: async () => {
        pauses++;
        await new Promise((r) => setTimeout(r, 0));
      },
    });
    assert.equal(sliced.join(""), whole);
    assert.ok(sliced.length > 1, `${sliced.length} parts`);
    assert.ok(pauses > 50, `${pauses} pauses`);
    assert.ok(ticks > 0, "other tasks ran while it was built");
  } finally {
    clearInterval(timer);
  }
  // With the real clock and 5 ms slices, the same text.
  assert.equal((await federateText(views, lastTime)).join(""), whole);
});

Deno.test("selfMetrics reports refusals by reason (zeros too), instances by status and the process", () => {
  const stats = new CollectorStats({ now: () => 5000, log: () => {} });
  stats.messages = 3;
  stats.refuse("invalid_json", "x", 2);
  const provider = selfMetrics({
    stats,
    instances: {
      list: () => [instanceView(), instanceView({ instance: "b", status: "gone", lost: 4 })],
    },
    hub: { size: 2, dropped: 1, closedStuck: 0, bufferedBytes: 10 },
    history: { pending: 7, dropped: 0 },
    seriesInMemory: () => 11,
    diskBytes: () => null,
    alerts: null,
    process: () => ({ rssBytes: 123, cpuSeconds: 0.5 }),
  });
  const text = renderFamilies(provider());
  for (
    const line of [
      "zeroapm_frames_accepted_total 3",
      'zeroapm_refusals_total{reason="invalid_json"} 2',
      'zeroapm_refusals_total{reason="too_large"} 0',
      'zeroapm_instances{status="live"} 1',
      'zeroapm_instances{status="gone"} 1',
      'zeroapm_instances{status="stopped"} 0',
      "zeroapm_samples_lost 4",
      "zeroapm_websocket_clients 2",
      "zeroapm_websocket_buffered_bytes 10",
      "zeroapm_history_pending_points 7",
      "zeroapm_store_series 11",
      "zeroapm_process_resident_memory_bytes 123",
      "zeroapm_process_cpu_seconds_total 0.5",
      "zeroapm_process_start_time_seconds 5",
    ]
  ) {
    assert.ok(text.split("\n").includes(line), `${line} missing from\n${text}`);
  }
  assert.doesNotMatch(text, /store_disk_bytes|zeroapm_alerts/, "absent parts are left out");
  for (const m of text.matchAll(/^# TYPE (\S+) counter$/gm)) assert.match(m[1], /_total$/);
});

Deno.test("dirBytes sums a directory's files, and is null for one that is gone", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/a.db`, new Uint8Array(1000));
    await Deno.writeFile(`${dir}/a.db-wal`, new Uint8Array(24));
    await Deno.mkdir(`${dir}/sub`);
    assert.equal(dirBytes(dir), 1024);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(dirBytes(dir), null);
});
