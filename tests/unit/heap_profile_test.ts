/**
 * The heap-profile pieces without a process: the frame's decoder refuses each kind of bad
 * input with its reason, sites are attributed to the app's nearest frame, TypeScript lines
 * are found by name, and the trigger starts a window only for sustained growth.
 */
import assert from "node:assert/strict";
import {
  decodeHeapProfile,
  encodeHeapProfile,
  type HeapProfile,
  isHeapProfileFrame,
} from "../../lib/protocol_profile.ts";
import { type ProfileNode, siteTotals, topSites } from "../../lib/agent/heap_sites.ts";
import { findDefinition, sourceLines } from "../../lib/agent/heap_lines.ts";
import { createHeapTrigger } from "../../lib/agent/heap_trigger.ts";
import {
  agentScripts,
  heapProfileEnabled,
  type InspectorModule,
  startHeapProfiler,
} from "../../lib/agent/heap_profile.ts";
import { leakSites } from "../../lib/collector/profiles.ts";
import { serialSends } from "../../lib/agent/serial.ts";
import { decode } from "../../lib/protocol.ts";

const PROFILE: HeapProfile = {
  service: "svc",
  instance: "i1",
  pid: 7,
  at: 1_700_000_000_000,
  spanMs: 15_000,
  samplingInterval: 32768,
  heapUsedBytes: 50e6,
  totalBytes: 40e6,
  totalGrowth: 20e6,
  sites: [{
    fn: "grow",
    url: "file:///app.ts",
    line: 3,
    col: 10,
    bytes: 30e6,
    samples: 9,
    growth: 15e6,
  }],
};

Deno.test("heap-profile frame round-trips, and an old-style decoder refuses it cleanly", () => {
  const bytes = encodeHeapProfile(PROFILE);
  assert.ok(isHeapProfileFrame(bytes));
  assert.ok(!isHeapProfileFrame(new TextEncoder().encode('{"v":1,"service":"a"}')));
  const d = decodeHeapProfile(bytes);
  assert.ok(d.ok);
  assert.deepEqual(d.profile, PROFILE);
  const old = decode(bytes); // what a collector without profiles does with it
  assert.ok(!old.ok);
  assert.equal(old.error.reason, "missing_field");
});

Deno.test("heap-profile decoder refuses each bad frame with its reason", () => {
  const base = JSON.parse(new TextDecoder().decode(encodeHeapProfile(PROFILE)));
  const site = base.sites[0];
  const cases: Array<[string | Uint8Array, string]> = [
    [JSON.stringify({ ...base, pad: "x".repeat(70_000) }), "too_large"],
    ['{"kind":"heap_profile","a":' + "[".repeat(10) + "]".repeat(10) + "}", "too_deep"],
    [JSON.stringify({ ...base, sites: [{ ...site, more: {} }] }), "too_deep"],
    [new Uint8Array([0x7b, 0x22, 0xff, 0xfe]), "invalid_utf8"],
    ['{"kind":"heap_profile",', "invalid_json"],
    [JSON.stringify({ ...base, v: 9 }), "unknown_version"],
    [JSON.stringify({ ...base, sites: Array(21).fill(site) }), "too_many"],
    [JSON.stringify({ ...base, sites: [{ ...site, fn: "a\u0007b" }] }), "invalid_name"],
    [JSON.stringify({ ...base, sites: [{ ...site, url: "u".repeat(513) }] }), "invalid_name"],
    [JSON.stringify({ ...base, service: "" }), "invalid_name"],
    [JSON.stringify({ ...base, sites: [{ ...site, line: "3" }] }), "wrong_type"],
    [JSON.stringify({ ...base, sites: [{ ...site, bytes: -1 }] }), "invalid_number"],
    [JSON.stringify({ ...base, totalGrowth: 1e300 }), "invalid_number"],
    [JSON.stringify({ ...base, at: undefined }), "missing_field"],
  ];
  for (const [frame, reason] of cases) {
    const d = decodeHeapProfile(frame);
    assert.ok(!d.ok, `accepted: ${String(frame).slice(0, 60)}`);
    assert.equal(d.error.reason, reason, d.error.detail);
  }
});

Deno.test("encoder cuts long strings and replaces control characters, so the frame is valid", () => {
  const p = {
    ...PROFILE,
    sites: [{
      ...PROFILE.sites[0],
      fn: "f\n" + "x".repeat(500),
      url: "file:///" + "d/".repeat(400) + "app.ts",
    }],
  };
  const d = decodeHeapProfile(encodeHeapProfile(p));
  assert.ok(d.ok);
  assert.ok(d.profile.sites[0].fn.startsWith("f?x"));
  assert.ok(d.profile.sites[0].url.endsWith("/app.ts"));
});

const node = (
  fn: string,
  url: string,
  selfSize: number,
  id: number,
  children: ProfileNode[] = [],
): ProfileNode => ({
  callFrame: { functionName: fn, url, lineNumber: 4, columnNumber: 0 },
  selfSize,
  id,
  children,
});

Deno.test("sites: builtin and runtime allocations count for the app function that called them", () => {
  const tree = (pushBytes: number) =>
    node("(root)", "", 0, 1, [
      node("leak", "file:///app.ts", 100, 2, [
        node("push", "", pushBytes, 3),
        node("setTimeout", "ext:deno_node/timers.ts", 50, 4),
      ]),
      node("(V8 API)", "", 70, 5),
    ]);
  const first = siteTotals({ head: tree(1000), samples: [{ size: 8, nodeId: 3 }] });
  const second = siteTotals({
    head: tree(5000),
    samples: [{ size: 8, nodeId: 3 }, { size: 8, nodeId: 3 }, { size: 8, nodeId: 2 }],
  });
  const { sites, totalBytes, totalGrowth } = topSites(first, second, 10);
  assert.deepEqual(sites[0], {
    fn: "leak",
    url: "file:///app.ts",
    line: 5,
    col: 1,
    bytes: 5150,
    samples: 3,
    growth: 4000,
  });
  // "(V8 API)" holds 70 bytes in both profiles: it explains no growth, so it is not listed.
  assert.equal(sites.length, 1);
  assert.equal(totalBytes, 5220);
  assert.equal(totalGrowth, 4000);
  // Nothing grew: the largest holders, so a window that missed the growth still says something.
  const flat = topSites(second, second, 10).sites;
  assert.deepEqual(flat.map((s) => [s.fn, s.growth]), [["leak", 0], ["(V8 API)", 0]]);
});

Deno.test("sites: a call tree 100 000 frames deep is walked without overflowing the stack", () => {
  let head = node("deep", "file:///a.ts", 8, 0);
  for (let i = 1; i < 100_000; i++) head = node("deep", "file:///a.ts", 0, i, [head]);
  const totals = siteTotals({ head });
  assert.equal([...totals.values()][0].bytes, 8);
});

Deno.test("TypeScript lines: the named function's definition at or after V8's line", () => {
  const src = [
    "import x from 'y';", // 1
    "interface A { a: number }", // 2
    "/** doc */", // 3
    "function grow(n: number): void {", // 4
    "  grow(1);", // 5
    "}", // 6
    "const keep = (a: number) => a;", // 7
    "class C {", // 8
    "  private async fill<T>(x: T): Promise<void> {", // 9
  ];
  assert.deepEqual(findDefinition(src, "grow", 3), { line: 4, col: 10 });
  assert.deepEqual(findDefinition(src, "keep", 6), { line: 7, col: 7 });
  assert.deepEqual(findDefinition(src, "fill", 8), { line: 9, col: 17 });
  assert.equal(findDefinition(src, "missing", 1), null);
  const sites = sourceLines(
    [
      { ...PROFILE.sites[0], fn: "grow", url: "file:///x.ts", line: 3 },
      { ...PROFILE.sites[0], fn: "grow", url: "file:///x.js", line: 3 },
      { ...PROFILE.sites[0], fn: "(anonymous)", url: "file:///x.ts", line: 3 },
    ],
    () => src.join("\n"),
  );
  assert.deepEqual(sites.map((s) => s.line), [4, 3, 3]);
});

Deno.test("trigger: a sawtooth heap never estimates; sustained growth triggers", () => {
  const flat = createHeapTrigger();
  for (let t = 0; t < 20 * 60_000; t += 1000) {
    assert.equal(flat.add(t, 8e6 + ((t / 1000) % 30) * 200_000), false);
  }
  assert.equal(flat.estimates, 0);
  const leak = createHeapTrigger();
  let fired = -1;
  for (let t = 0; t < 5 * 60_000 && fired < 0; t += 1000) {
    if (leak.add(t, 8e6 + t * 800 + ((t / 1000) % 7) * 300_000)) fired = t; // 48 MB/min
  }
  assert.ok(fired >= 45_000 && fired <= 60_000, `fired at ${fired}`);
});

/** An inspector that answers with canned profiles and records what was asked. */
function fakeInspector(calls: string[]): InspectorModule {
  let n = 0;
  return {
    Session: class {
      connect() {
        calls.push("connect");
      }
      disconnect() {
        calls.push("disconnect");
      }
      post(method: string, _p: object, cb: (e: Error | null, r?: unknown) => void) {
        calls.push(method);
        const bytes = ++n * 1e6;
        const head = node("(root)", "", 0, 1, [node("grow", "file:///app.js", bytes, 2)]);
        queueMicrotask(() => cb(null, { profile: { head, samples: [] } }));
      }
    },
  };
}

Deno.test("profiler: loads the inspector only on growth, one window per gap, frames it", async () => {
  const calls: string[] = [];
  const loads: number[] = [];
  const frames: Uint8Array[] = [];
  let sent: () => void = () => {};
  const arrived = new Promise<void>((r) => sent = r);
  const p = startHeapProfiler({
    identity: { service: "s", instance: "i", pid: 1, host: null, color: null, intervalMs: 1000 },
    windowMs: 1000,
    loadInspector: () => (loads.push(1), Promise.resolve(fakeInspector(calls))),
    send: (f) => (frames.push(f), sent(), Promise.resolve(true)),
    onError: (e) => assert.fail(String(e)),
    samplingInterval: 1024,
  });
  for (let t = 0; t < 10 * 60_000; t += 1000) p.observe(t, 8e6 + ((t / 1000) % 30) * 200_000);
  assert.equal(loads.length, 0, "flat heap: the inspector is never loaded");
  // Growth of 48 MB/min, until the trend over the window (flat minutes included) holds.
  let t = 10 * 60_000;
  const heap = (t: number) => 8e6 + (t - 10 * 60_000) * 800;
  for (; loads.length === 0 && t < 20 * 60_000; t += 1000) p.observe(t, heap(t));
  assert.equal(loads.length, 1);
  const firedAt = t;
  // The window's timers are unref'd (they never keep an app alive): this test's loop waits.
  const keepAlive = setInterval(() => {}, 20);
  await arrived.finally(() => clearInterval(keepAlive));
  assert.equal(loads.length, 1);
  assert.deepEqual(calls.filter((c) => c.startsWith("HeapProfiler.startSampling")).length, 1);
  const d = decodeHeapProfile(frames[0]);
  assert.ok(d.ok);
  assert.equal(d.profile.samplingInterval, 32768, "never finer than 32 KiB");
  assert.equal(d.profile.sites[0].fn, "grow");
  assert.equal(d.profile.sites[0].growth, 1e6);
  await waitUntil(() => calls.includes("disconnect"));
  assert.equal(p.stats().sent, 1);
  // Still growing, within ten minutes of the last window: no second one.
  for (; t < firedAt + 9 * 60_000; t += 1000) p.observe(t, heap(t));
  assert.equal(loads.length, 1);
  p.close();
});

Deno.test("profiler: asks whether it may profile only when a window would start, and once", () => {
  const asked: number[] = [];
  const loads: number[] = [];
  const p = startHeapProfiler({
    identity: { service: "s", instance: "i", pid: 1, host: null, color: null, intervalMs: 1000 },
    enabled: () => (asked.push(1), false),
    loadInspector: () => (loads.push(1), Promise.resolve(fakeInspector([]))),
    send: () => Promise.resolve(true),
    onError: (e) => assert.fail(String(e)),
  });
  for (let t = 0; t < 10 * 60_000; t += 1000) p.observe(t, 8e6 + ((t / 1000) % 30) * 200_000);
  assert.equal(asked.length, 0, "flat heap: the environment is never read");
  // Growth of 48 MB/min for an hour: windows would start every 10 minutes.
  for (let t = 10 * 60_000; t < 70 * 60_000; t += 1000) p.observe(t, 8e6 + (t - 600_000) * 800);
  assert.equal(asked.length, 1, "asked once");
  assert.equal(loads.length, 0, "turned off: no window, the inspector never loaded");
  assert.equal(p.stats().sampling, false);
  p.close();
});

Deno.test("heapProfileEnabled: off by option or by ZEROAPM_HEAP_PROFILE=0/false/off/no", () => {
  const before = Deno.env.get("ZEROAPM_HEAP_PROFILE");
  try {
    Deno.env.delete("ZEROAPM_HEAP_PROFILE");
    assert.equal(heapProfileEnabled(undefined), true);
    assert.equal(heapProfileEnabled({ windowMs: 5000 }), true);
    assert.equal(heapProfileEnabled(false), false);
    for (const off of ["0", "false", " OFF ", "no"]) {
      Deno.env.set("ZEROAPM_HEAP_PROFILE", off);
      assert.equal(heapProfileEnabled(undefined), false, off);
    }
    Deno.env.set("ZEROAPM_HEAP_PROFILE", "1");
    assert.equal(heapProfileEnabled(true), true);
  } finally {
    if (before === undefined) Deno.env.delete("ZEROAPM_HEAP_PROFILE");
    else Deno.env.set("ZEROAPM_HEAP_PROFILE", before);
  }
});

Deno.test("leak sites: top growing sites with their rate per minute and share, not the crumbs", () => {
  const sites = leakSites({
    ...PROFILE,
    sites: [
      PROFILE.sites[0],
      { ...PROFILE.sites[0], fn: "b", growth: 5e6 },
      { ...PROFILE.sites[0], fn: "crumb", growth: 1e5 }, // 0.5 % of the growth
      { ...PROFILE.sites[0], fn: "flat", growth: 0 },
    ],
  }, 3);
  assert.deepEqual(sites.map((s) => [s.fn, s.bytesPerMin, s.share]), [
    ["grow", 60e6, 0.75],
    ["b", 20e6, 0.25],
  ]);
});

async function waitUntil(f: () => boolean) {
  for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(f());
}

Deno.test("serialSends: samples and a profile never overlap on the transport, and keep order", async () => {
  let pending = 0;
  let maxPending = 0;
  const order: number[] = [];
  const t = serialSends({
    async trySend(frame) {
      maxPending = Math.max(maxPending, ++pending);
      await new Promise((r) => setTimeout(r, frame[0] % 3));
      order.push(frame[0]);
      pending--;
      return frame[0] !== 2;
    },
    close() {},
  });
  const results = await Promise.all([0, 1, 2, 3, 4].map((i) => t.trySend(new Uint8Array([i]))));
  assert.equal(maxPending, 1);
  assert.deepEqual(order, [0, 1, 2, 3, 4]);
  assert.deepEqual(results, [true, true, false, true, true]);
});

Deno.test("sites: the agent's own code is no site; what it allocates for app code counts there", () => {
  const AGENT = "file:///srv/lib/agent/";
  const ours = (url: string) => url.startsWith(AGENT);
  const tree = (n: number) =>
    node("(root)", "", 0, 1, [
      // The app's handler creates series through the agent: counted for the handler.
      node("handle", "file:///srv/app.ts", 0, 2, [
        node("counter", `${AGENT}registry.ts`, 300 * n, 3, [node("set", "", 100 * n, 4)]),
      ]),
      // The agent's own timer keeps samples and takes the profile: nobody's site.
      node("tick", `${AGENT}agent.ts`, 500 * n, 5, [
        node("push", "", 700 * n, 6),
        node("onError", "file:///srv/app.ts", 40 * n, 7), // an app callback it calls
      ]),
      node("(anonymous)", `${AGENT}heap_profile.ts`, 900 * n, 8),
    ]);
  const { sites, totalGrowth } = topSites(
    siteTotals({ head: tree(1) }, ours),
    siteTotals({ head: tree(3) }, ours),
    10,
  );
  assert.deepEqual(sites.map((s) => [s.fn, s.url, s.growth]), [
    ["handle", "file:///srv/app.ts", 800],
    ["onError", "file:///srv/app.ts", 80],
  ]);
  assert.equal(totalGrowth, 880, "shares are of the app's growth");
});

Deno.test("sites: the heap trigger's readings in lib/alerts/leak.ts are the agent's, not a site", () => {
  // Seen in the demo: "add (leak.ts:76) · 3 %" under the blue app's leak.
  const ours = agentScripts("file:///srv/lib/agent/heap_profile.ts");
  const tree = (n: number) =>
    node("(root)", "", 0, 1, [
      node("cacheReadings", "file:///srv/backend_app.ts", 0, 2, [node("push", "", 1000 * n, 3)]),
      node("observe", "file:///srv/lib/agent/heap_trigger.ts", 0, 4, [
        node("add", "file:///srv/lib/alerts/leak.ts", 30 * n, 5),
      ]),
      node("load", "file:///srv/lib/demo_app/load.ts", 50 * n, 6),
    ]);
  const { sites } = topSites(
    siteTotals({ head: tree(1) }, ours),
    siteTotals({ head: tree(2) }, ours),
    10,
  );
  assert.deepEqual(sites.map((s) => s.fn), ["cacheReadings", "load"]);
});

Deno.test("sites: the inspector session delivering the profile is the window's cost, no site", () => {
  // Seen in the demo's second window: "#onMessage (inspector.js:1)", allocated by the
  // session's message handler with no app frame above it.
  for (
    const here of ["file:///srv/lib/agent/heap_profile.ts", "file:///srv/node_modules/x/mod.js"]
  ) {
    const ours = agentScripts(here);
    for (const url of ["ext:deno_node/inspector.js", "node:inspector"]) {
      const tree = (n: number) =>
        node("(root)", "", 0, 1, [
          node("cacheReadings", "file:///srv/backend_app.ts", 1000 * n, 2),
          node("#onMessage", url, 0, 3, [node("parse", "", 40 * n, 4)]),
        ]);
      const { sites } = topSites(
        siteTotals({ head: tree(1) }, ours),
        siteTotals({ head: tree(2) }, ours),
        10,
      );
      assert.deepEqual(sites.map((s) => s.fn), ["cacheReadings"], `${here} ${url}`);
    }
  }
});
