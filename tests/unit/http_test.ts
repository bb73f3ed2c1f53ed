/** HTTP in-process: `createHandler(deps)(new Request(...))` for the API, the page and `/ws`. */
import assert from "node:assert/strict";
import { createHandler, type HandlerDeps } from "../../lib/http/handler.ts";
import { sameOrigin } from "../../lib/http/ws.ts";
import { Instances } from "../../lib/collector/instances.ts";
import { CollectorStats, REFUSAL_REASONS } from "../../lib/collector/stats.ts";
import { Hub } from "../../lib/live/hub.ts";
import { RecentStore } from "../../lib/store/recent.ts";
import { Services } from "../../lib/collector/services.ts";
import { type HistoryReader, recentReader, seriesHandler } from "../../lib/http/series.ts";
import type { Identity, Message } from "../../lib/protocol.ts";
import type { InstanceView } from "../../lib/live/messages.ts";

const BASE = "http://127.0.0.1:8000";
const T0 = 1_700_000_000_000;

async function staticDir(files: Record<string, string>): Promise<URL> {
  const dir = await Deno.makeTempDir({ prefix: "zeroapm_http_test_" });
  for (const [name, body] of Object.entries(files)) {
    const path = `${dir}/${name}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(path, body);
  }
  return new URL(`file://${dir}/`);
}

function msg(instance: string, seq: number, over: Partial<Identity> = {}): Message {
  const metrics: Record<string, number> = Object.create(null);
  metrics["cpu.percent"] = 5;
  return {
    identity: {
      service: "svc",
      instance,
      pid: 1,
      host: "h",
      color: null,
      intervalMs: 1000,
      ...over,
    },
    sent: T0,
    samples: [{ seq, ts: T0, metrics }],
    legacy: false,
  };
}

async function setup(
  files: Record<string, string> = { "index.html": "<!doctype html><p>zeroapm" },
) {
  let t = T0;
  const now = () => t;
  const instances = new Instances();
  const stats = new CollectorStats({ now, log: () => {} });
  const hub = new Hub({
    now,
    hello: () => ({ type: "hello", now: t, windowMs: 1, instances: [], series: {} }),
  });
  const dir = await staticDir(files);
  const recent = new RecentStore({ windowMs: 3_600_000 });
  const history = recentReader(recent, now);
  const services = new Services();
  const deps: HandlerDeps = { instances, services, stats, hub, now, staticDir: dir, history };
  const handle = createHandler(deps);
  const get = (path: string, init?: RequestInit) => handle(new Request(BASE + path, init));
  return {
    recent,
    handle,
    get,
    instances,
    stats,
    advance: (ms: number) => (t += ms),
    [Symbol.asyncDispose]: () => Deno.remove(new URL(dir), { recursive: true }),
  };
}

Deno.test("/api/instances lists every instance as JSON", async () => {
  await using s = await setup();
  s.instances.observe(msg("b", 0), T0);
  s.instances.observe(msg("a", 0, { color: "<script>" }), T0);
  const res = await s.get("/api/instances");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^application\/json/);
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  assert.equal(res.headers.get("cache-control"), "no-store");
  const list = (await res.json()) as InstanceView[];
  assert.deepEqual(list.map((v) => v.id), ["svc/a", "svc/b"]);
  assert.equal(list[0].requestedColor, "<script>");
  assert.equal(list[0].status, "live");
  assert.equal(list[0].latest["cpu.percent"], 5);
});

Deno.test("/api/instances is an empty list before anything reported", async () => {
  await using s = await setup();
  assert.deepEqual(await (await s.get("/api/instances")).json(), []);
});

Deno.test("/api/stats reports received, rejected by reason with zeros, and lost per instance and total", async () => {
  await using s = await setup();
  s.stats.messages = 4;
  s.stats.samples = 4;
  s.stats.bytes = 400;
  s.stats.refuse("invalid_json", "x");
  s.stats.refuse("invalid_json", "y");
  s.stats.refuse("series_limit", "z");
  s.instances.observe(msg("a", 0), T0);
  s.instances.observe(msg("a", 4), T0); // 3 lost
  s.instances.observe(msg("a", 4), T0); // duplicate
  s.instances.observe(msg("b", 0), T0);
  s.instances.observe(msg("b", 2), T0); // 1 lost
  s.advance(5000);
  const body = await (await s.get("/api/stats")).json();
  assert.equal(body.uptimeMs, 5000);
  assert.deepEqual(body.received, { messages: 4, samples: 4, bytes: 400 });
  assert.equal(body.rejected.total, 3);
  assert.deepEqual(Object.keys(body.rejected.byReason).sort(), [...REFUSAL_REASONS].sort());
  assert.equal(body.rejected.byReason.invalid_json, 2);
  assert.equal(body.rejected.byReason.series_limit, 1);
  assert.equal(body.rejected.byReason.too_large, 0);
  assert.equal(body.rejected.byReason.instance_limit, 0);
  assert.equal(body.lost.total, 4);
  assert.equal(body.instances.total, 2);
  assert.deepEqual(body.instances.list, [
    { id: "svc/a", received: 2, lost: 3, duplicates: 1 },
    { id: "svc/b", received: 2, lost: 1, duplicates: 0 },
  ]);
  assert.deepEqual(body.live, {
    clients: 0,
    droppedFrames: 0,
    closedStuck: 0,
    refused: 0,
    bufferedBytes: 0,
    hellosBuilt: 0,
  });
});

Deno.test("/healthz answers ok with uptime and instance count", async () => {
  await using s = await setup();
  s.instances.observe(msg("a", 0), T0);
  s.advance(1234);
  const res = await s.get("/healthz");
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { ok: true, uptimeMs: 1234, instances: 1 });
});

Deno.test("an unknown path is a 404 JSON error", async () => {
  await using s = await setup();
  for (
    const path of ["/nope", "/api", "/api/instances/", "/constructor", "/__proto__", "/toString"]
  ) {
    const res = await s.get(path);
    assert.equal(res.status, 404, path);
    assert.match(res.headers.get("content-type")!, /^application\/json/);
    assert.ok(typeof (await res.json()).error === "string");
  }
});

Deno.test("POST (or any method but GET and HEAD) is a 405", async () => {
  await using s = await setup();
  for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
    for (const path of ["/api/instances", "/", "/nope"]) {
      const res = await s.get(path, { method, body: method === "DELETE" ? undefined : "{}" });
      assert.equal(res.status, 405, `${method} ${path}`);
      await res.body?.cancel();
    }
  }
  const head = await s.get("/api/instances", { method: "HEAD" });
  assert.equal(head.status, 200);
  await head.body?.cancel();
});

Deno.test("/ serves index.html with a Content-Security-Policy and nosniff", async () => {
  await using s = await setup();
  for (const path of ["/", "/index.html"]) {
    const res = await s.get(path);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "<!doctype html><p>zeroapm");
    assert.match(res.headers.get("content-type")!, /^text\/html/);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  }
});

Deno.test("dist/app.js is served as JavaScript when built", async () => {
  await using s = await setup({ "index.html": "x", "dist/app.js": "console.log(1)" });
  const res = await s.get("/dist/app.js");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^text\/javascript/);
  assert.equal(await res.text(), "console.log(1)");
});

Deno.test("a missing dist/app.js is a 503 that says to run deno task build", async () => {
  await using s = await setup();
  const res = await s.get("/dist/app.js");
  assert.equal(res.status, 503);
  assert.match(await res.text(), /deno task build/);
});

Deno.test("/ws without an upgrade header is 426", async () => {
  await using s = await setup();
  const res = await s.get("/ws", { headers: { host: "127.0.0.1:8000" } });
  assert.equal(res.status, 426);
  await res.body?.cancel();
});

Deno.test("a cross-origin /ws is 403", async () => {
  await using s = await setup();
  for (const origin of ["http://evil.example", "http://127.0.0.1:8001", "null", "not a url"]) {
    const res = await s.get("/ws", {
      headers: { host: "127.0.0.1:8000", origin, upgrade: "websocket", connection: "Upgrade" },
    });
    assert.equal(res.status, 403, origin);
    await res.body?.cancel();
  }
});

Deno.test("sameOrigin accepts no Origin or the same host, and refuses others", () => {
  const req = (headers: Record<string, string>) => new Request(BASE + "/ws", { headers });
  assert.equal(sameOrigin(req({ host: "127.0.0.1:8000" })), true);
  assert.equal(sameOrigin(req({ host: "127.0.0.1:8000", origin: "http://127.0.0.1:8000" })), true);
  assert.equal(sameOrigin(req({ host: "127.0.0.1:8000", origin: "http://evil.example" })), false);
  assert.equal(sameOrigin(req({ host: "127.0.0.1:8000", origin: "http://localhost:8000" })), false);
});

Deno.test("paths outside the dashboard's file list are not served", async () => {
  await using s = await setup();
  for (
    const path of [
      "/../deno.json",
      "/static/../server.ts",
      "/%2e%2e/deno.json",
      "/..%2fdeno.json",
      "/index.html/../../deno.json",
      "/dist/../../server.ts",
      "/static/index.html",
    ]
  ) {
    const res = await s.get(path);
    assert.ok(res.status === 404 || res.status === 503, `${path}: ${res.status}`);
    const text = await res.text();
    assert.doesNotMatch(text, /"tasks"|startCollector|import /, path);
  }
});

Deno.test("/api/series answers buckets [ts, min, avg, max] for each instance x metric", async () => {
  await using s = await setup();
  const { get, recent } = s;
  for (let i = 0; i < 60; i++) recent.push("svc/a", "cpu.percent", T0 - 60_000 + i * 1000, i);
  recent.push("svc/b", "cpu.percent", T0 - 30_000, 7);
  const res = await get(
    `/api/series?instance=svc/a&instance=svc/b&metric=cpu.percent&from=${
      T0 - 60_000
    }&to=${T0}&points=6`,
  );
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.tier, "raw");
  assert.equal(body.bucketMs, 10_000);
  assert.deepEqual(body.series.map((s: { instance: string }) => s.instance), ["svc/a", "svc/b"]);
  const a = body.series[0].points;
  assert.equal(a.length, 6);
  assert.deepEqual(a[0], [T0 - 60_000, 0, 4.5, 9]);
  assert.deepEqual(a[5], [T0 - 10_000, 50, 54.5, 59]);
  assert.deepEqual(body.series[1].points, [[T0 - 30_000, 7, 7, 7]]);
});

Deno.test("/api/series refuses bad parameters with a 400 that names the parameter", async () => {
  await using s = await setup();
  const { get } = s;
  const cases: Array<[string, RegExp]> = [
    ["/api/series?metric=cpu.percent", /^instance:/],
    ["/api/series?instance=a", /^metric:/],
    ["/api/series?instance=a&metric=m&from=abc", /^from: must be an integer/],
    ["/api/series?instance=a&metric=m&to=1.5", /^to: must be an integer/],
    ["/api/series?instance=a&metric=m&from=10&to=5", /^from: must be before to/],
    ["/api/series?instance=a&metric=m&points=0", /^points: must be 1\.\.5000/],
    ["/api/series?instance=a&metric=m&points=5001", /^points:/],
    // Issue 16.1: the range a history query may ask for is bounded by the clock.
    ["/api/series?instance=a&metric=m&from=0&to=8640000000000000&points=1", /^to: must be at most/],
    ["/api/series?instance=a&metric=m&from=-5&to=10", /^from: must be at least 0/],
    // Only `to` given, and wrong: the error names `to`, not the `from` derived from it.
    ["/api/series?instance=a&metric=m&to=-1", /^to: must be after 0/],
    [
      `/api/series?${Array.from({ length: 11 }, (_, i) => `instance=i${i}`).join("&")}&${
        Array.from({ length: 10 }, (_, i) => `metric=m${i}`).join("&")
      }`,
      /at most 100 series/,
    ],
  ];
  for (const [path, re] of cases) {
    const res = await get(path);
    assert.equal(res.status, 400, path);
    const { error } = await res.json();
    assert.match(error, re, path);
  }
});

Deno.test("/api/series asks the history for every series at once and answers in request order", async () => {
  // A reader on another thread: answers come back later, and the last asked answers first.
  const asked: string[] = [];
  const release: Array<() => void> = [];
  const reader: HistoryReader = {
    query(instance, metric, from, to, points) {
      asked.push(`${instance} ${metric}`);
      return new Promise((resolve) => {
        release.push(() =>
          resolve({
            tier: 1,
            bucketMs: (to - from) / points,
            points: [[from, asked.length, 0.1 + 0.2, instance.length]],
          })
        );
      });
    },
  };
  const url = new URL(
    `${BASE}/api/series?instance=a&instance=bb&metric=m1&metric=m2&from=0&to=6000&points=3`,
  );
  const pending = seriesHandler(url, reader, () => 6000);
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(asked, ["a m1", "a m2", "bb m1", "bb m2"]); // all before any answer
  for (const r of release.reverse()) r();
  const res = await pending;
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
  const text = await res.text();
  const body = JSON.parse(text);
  assert.equal(text, JSON.stringify(body)); // the very text JSON.stringify would give
  assert.deepEqual(Object.keys(body), ["from", "to", "points", "tier", "bucketMs", "series"]);
  assert.equal(body.tier, "1m");
  assert.deepEqual(
    body.series.map((s: { instance: string; metric: string }) => `${s.instance} ${s.metric}`),
    ["a m1", "a m2", "bb m1", "bb m2"],
  );
  assert.deepEqual(body.series[3].points, [[0, 4, 0.30000000000000004, 2]]);
});

Deno.test("/api/series answers a failed history query with an error, not a partial body", async () => {
  const reader: HistoryReader = {
    query: (instance) =>
      instance === "bad" ? Promise.reject(new Error("disk gone")) : Promise.resolve({
        tier: 0,
        bucketMs: 1,
        points: [],
      }),
  };
  const url = new URL(
    `${BASE}/api/series?instance=ok&instance=bad&instance=ok2&metric=m&from=0&to=9`,
  );
  await assert.rejects(seriesHandler(url, reader, () => 9), /disk gone/);
});
