import assert from "node:assert/strict";
import { serviceLive, serviceUsage, usageLine } from "../../static/services.ts";
import type { Entry } from "../../static/store.ts";
import type { InstanceView } from "../../lib/model/instance.ts";
import { instanceView } from "../support/views.ts";

const NOW = 1_000_000;
const MIB = 1024 * 1024;

function entry(
  service: string,
  instance: string,
  latest: Record<string, number>,
  over: Partial<InstanceView> = {},
): Entry {
  const view = instanceView({
    service,
    instance,
    color: "#ffffff",
    firstSeen: NOW - 60_000,
    lastSeen: NOW - 500,
    latest,
    ...over,
  }, NOW);
  return { view, color: view.color, points: new Map() };
}

Deno.test("serviceUsage sums CPU and memory over the service's live instances only", () => {
  const entries = [
    entry("api", "a", { "cpu.percent": 12.5, "mem.rss_bytes": 64 * MIB }),
    entry("api", "b", { "cpu.percent": 30, "mem.rss_bytes": 80 * MIB }),
    entry("api", "silent", { "cpu.percent": 99, "mem.rss_bytes": 999 * MIB }, {
      lastSeen: NOW - 10_000, // more than 3 intervals: stale on the page's own check
    }),
    entry("api", "bye", { "cpu.percent": 99, "mem.rss_bytes": 999 * MIB }, { status: "stopped" }),
    entry("api", "old", { "cpu.percent": 99, "mem.rss_bytes": 999 * MIB }, { status: "gone" }),
    entry("worker", "w", { "cpu.percent": 5, "mem.rss_bytes": 10 * MIB }),
  ];
  assert.deepEqual(serviceUsage(entries, "api", NOW), { cpuPercent: 42.5, rssBytes: 144 * MIB });
  assert.deepEqual(serviceUsage(entries, "worker", NOW), { cpuPercent: 5, rssBytes: 10 * MIB });
});

Deno.test("serviceUsage is null without a live instance; what none reports stays null", () => {
  const entries = [
    entry("api", "bye", { "cpu.percent": 1 }, { status: "stopped" }),
    entry("otel", "x", { "http.requests.per_s": 3 }),
  ];
  assert.equal(serviceUsage(entries, "api", NOW), null);
  assert.equal(serviceUsage(entries, "nope", NOW), null);
  assert.deepEqual(serviceUsage(entries, "otel", NOW), { cpuPercent: null, rssBytes: null });
  const half = [entry("otel", "x", { "mem.rss_bytes": MIB }), entry("otel", "y", {})];
  assert.deepEqual(serviceUsage(half, "otel", NOW), { cpuPercent: null, rssBytes: MIB });
});

Deno.test("usageLine: the figures reported; a compact card without them says why", () => {
  assert.equal(
    usageLine({ cpuPercent: 12.5, rssBytes: 144 * MIB }, true),
    "CPU 12.5 % · 144.0 MiB",
  );
  assert.equal(usageLine({ cpuPercent: null, rssBytes: MIB }, false), "1.0 MiB");
  assert.equal(usageLine({ cpuPercent: null, rssBytes: null }, false), "no CPU or memory reported");
  assert.equal(usageLine(null, false), "no live instance");
  assert.equal(usageLine({ cpuPercent: null, rssBytes: null }, true), "", "a full card: nothing");
  assert.equal(usageLine(null, true), "");
});

Deno.test("serviceLive counts by the page's own check: silent too long is not live", () => {
  const entries = [
    entry("api", "a", {}),
    entry("api", "silent", {}, { lastSeen: NOW - 10_000 }),
    entry("api", "bye", {}, { status: "stopped" }),
    entry("worker", "w", {}),
  ];
  assert.equal(serviceLive(entries, "api", NOW), 1);
  assert.equal(serviceLive(entries, "worker", NOW), 1);
  // Cut off from the collector, no frame comes; time alone makes every instance stale.
  assert.equal(serviceLive(entries, "api", NOW + 60_000), 0);
  assert.equal(serviceLive(entries, "nope", NOW), 0);
});
