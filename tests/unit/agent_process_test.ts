import assert from "node:assert/strict";
import { startLagProbe } from "../../lib/agent/lag.ts";
import { cpuPercent, createProcessReaders, hundredths } from "../../lib/agent/process.ts";
import { AgentNotice, rateLimitedReporter } from "../../lib/agent/report.ts";
import { probeSelfRss } from "../support/self_rss.ts";

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* burn CPU, block the loop */ }
};
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("cpuPercent is CPU time over wall time and may exceed 100", () => {
  assert.equal(cpuPercent(500_000, 1000), 50);
  assert.equal(cpuPercent(3_000_000, 1000), 300);
  assert.equal(cpuPercent(1000, 0), 0);
  assert.equal(cpuPercent(-5, 1000), 0);
});

Deno.test("process readers report CPU and memory since the previous read from their sources", () => {
  let cpu = 0;
  let wall = 0;
  const readers = createProcessReaders({
    sources: {
      cpuUsage: () => ({ user: cpu * 0.75, system: cpu * 0.25 }),
      memoryUsage: () => ({ rss: 123, heapUsed: 45 }),
      clock: () => wall,
    },
  });
  try {
    cpu = 2_000_000; // 2 s of CPU in 1 s of wall time: two cores busy
    wall = 1000;
    const r = readers.read();
    assert.equal(r.cpuPercent, 200);
    assert.equal(r.rssBytes, 123);
    assert.equal(r.heapUsedBytes, 45);
    wall = 2000; // idle second
    assert.equal(readers.read().cpuPercent, 0);
  } finally {
    readers.close();
  }
});

Deno.test("process readers pass on the heap figures of the same memory reading", () => {
  const readers = createProcessReaders({
    container: false,
    sources: {
      memoryUsage: () => ({ rss: 10, heapUsed: 4, heapTotal: 8, external: 2 }),
    },
  });
  const bare = createProcessReaders({
    container: false,
    sources: { memoryUsage: () => ({ rss: 10, heapUsed: 4 }) },
  });
  try {
    assert.deepEqual(readers.read().heap, { heapTotal: 8, external: 2 });
    assert.equal(bare.read().heap, undefined);
  } finally {
    readers.close();
    bare.close();
  }
});

Deno.test("process readers' default sources read RSS from statm and the heap from V8", async () => {
  const p = await probeSelfRss(); // in a process of its own: parallel tests move this one's RSS
  assert.ok(p.readerHeapTotal !== null && p.readerHeapTotal >= p.readerHeapUsed);
  const near = Math.abs(p.readerRss - p.readersMemoryUsage) < p.readersMemoryUsage * 0.1;
  assert.ok(near, `${p.readerRss} vs ${p.readersMemoryUsage}`);
});

Deno.test("process readers see a real CPU burst in this process", () => {
  const readers = createProcessReaders();
  try {
    readers.read();
    busy(200);
    const r = readers.read();
    // An idle process reads ~0-2 %; the busy loop gets a full core when the machine is quiet
    // but may share it with parallel tests on 2 cores, so only "clearly busy" is asserted.
    assert.ok(r.cpuPercent > 10, `cpu ${r.cpuPercent}%`);
    assert.ok(r.rssBytes > 1_000_000, `rss ${r.rssBytes}`);
    assert.ok(r.heapUsedBytes > 0);
  } finally {
    readers.close();
  }
});

Deno.test("lag probe reports the worst event-loop stall since the last take, then resets", async () => {
  const probe = startLagProbe({ intervalMs: 20 });
  try {
    await tick(50);
    probe.takeMaxLagMs();
    busy(150);
    await tick(30); // let the late probe fire
    const lag = probe.takeMaxLagMs();
    assert.ok(lag >= 100, `lag ${lag} ms after a 150 ms stall`);
    await tick(60);
    const calm = probe.takeMaxLagMs();
    assert.ok(calm < 100, `lag ${calm} ms with no stall`);
  } finally {
    probe.close();
  }
});

Deno.test("lag probe counts a stall still in progress when read", () => {
  let now = 0;
  const probe = startLagProbe({ intervalMs: 100, clock: () => now });
  try {
    now = 400; // the probe timer could not fire: the loop was blocked
    assert.equal(probe.takeMaxLagMs(), 300);
  } finally {
    probe.close();
  }
});

Deno.test("rate-limited reporter logs the first error, then at most one line per period with a count", () => {
  let t = 0;
  const lines: string[] = [];
  const report = rateLimitedReporter({
    prefix: "agent",
    everyMs: 60_000,
    now: () => t,
    log: (l) => lines.push(l),
  });
  report(new Error("collector away"));
  t = 1000;
  report(new Error("again"));
  report("and again");
  assert.deepEqual(lines, ["agent: collector away"]);
  t = 61_000;
  report(new Error("still away"));
  assert.deepEqual(lines[1], "agent: still away (2 more since the last report)");
});

Deno.test("rate-limited reporter logs every notice at once, outside the errors' budget", () => {
  let t = 0;
  const lines: string[] = [];
  const report = rateLimitedReporter({ prefix: "w", now: () => t, log: (l) => lines.push(l) });
  report(new Error("send failed"));
  t = 10_000;
  report(new AgentNotice("no collector at tcp://h:5555 for 10 s"));
  t = 20_000;
  report(new AgentNotice("connected to tcp://h:5555 after 20 s"));
  report(new Error("send failed again")); // still within the errors' minute
  t = 61_000;
  report(new Error("later"));
  assert.deepEqual(lines, [
    "w: send failed",
    "w: no collector at tcp://h:5555 for 10 s",
    "w: connected to tcp://h:5555 after 20 s",
    "w: later (1 more since the last report)",
  ]);
});

Deno.test("cpu percent is rounded to hundredths, so stored history compresses as scaled integers", () => {
  assert.equal(cpuPercent(123_456, 1000), 12.35);
  assert.equal(cpuPercent(1, 3), 0.03);
  assert.equal(hundredths(1.005 * 1000), 1005);
  assert.equal(hundredths(0.123456), 0.12);
});
