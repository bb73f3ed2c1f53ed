/**
 * Request metrics under real servers: `Deno.serve` + `instrument`, `node:http` +
 * `instrumentNode` (in Deno, and bundled under Node 20), and backend_app's `--http` API
 * reporting over ZMQ.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { instrument, instrumentNode } from "../../lib/agent/middleware.ts";
import { createRegistry, type MetricsRegistry } from "../../lib/agent/registry.ts";
import { BUCKET_COUNT } from "../../lib/histogram.ts";
import { decode, type Sample } from "../../lib/protocol.ts";
import { bindPull } from "../../lib/transport/zmq.ts";
import { bundleAgentForNode } from "../support/node_bundle.ts";
import { freePort } from "../support/net.ts";

const NODE = "/usr/bin/node";
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const requests = (m: MetricsRegistry, method: string, route: string, status: string) =>
  m.snapshot()
    .metrics[`http.requests_total{method="${method}",route="${route}",status="${status}"}`];

/** Every duration histogram of a snapshot, summed: total count and sum. */
function durations(m: MetricsRegistry): { count: number; sum: number } {
  let count = 0;
  let sum = 0;
  for (const [key, h] of Object.entries(m.snapshot().hist)) {
    if (!key.startsWith("http.request_duration_ms{")) continue;
    assert.equal(h.counts.length, BUCKET_COUNT);
    count += h.counts.reduce((a, b) => a + b, 0);
    sum += h.sum;
  }
  return { count, sum };
}

/** The test app's routes, shared by the Deno and node:http servers. */
function routeOf(path: string): string | undefined {
  if (/^\/users\/\d+$/.test(path)) return "/users/:id";
  if (path === "/slow" || path === "/boom") return path;
  return undefined;
}

/** The requests both servers get, and the client-side latency of each. */
async function exercise(base: string): Promise<number[]> {
  const plan: Array<[string, string, number]> = [
    ["GET", "/users/1", 200],
    ["GET", "/users/2", 200],
    ["POST", "/users/3", 200],
    ["GET", "/missing/path", 404],
    ["GET", "/boom", 500],
    ["GET", "/slow", 200],
  ];
  const latencies: number[] = [];
  for (const [method, path, status] of plan) {
    const started = performance.now();
    const res = await fetch(base + path, { method });
    await res.body?.cancel();
    latencies.push(performance.now() - started);
    assert.equal(res.status, status, `${method} ${path}`);
  }
  return latencies;
}

function checkCounts(m: MetricsRegistry, latencies: number[]) {
  assert.equal(requests(m, "GET", "/users/:id", "2xx"), 2);
  assert.equal(requests(m, "POST", "/users/:id", "2xx"), 1);
  assert.equal(requests(m, "GET", "other", "4xx"), 1, "an unknown path counts as other");
  assert.equal(requests(m, "GET", "/boom", "5xx"), 1, "a thrown error counts as 5xx");
  assert.equal(requests(m, "GET", "/slow", "2xx"), 1);
  const d = durations(m);
  assert.equal(d.count, latencies.length, "one duration per request");
  const client = latencies.reduce((a, b) => a + b, 0);
  assert.ok(d.sum >= 60, `the slow request took at least 60 ms; sum ${d.sum}`);
  assert.ok(d.sum <= client, `server time ${d.sum} ms within client round trips ${client} ms`);
  const slow = m.snapshot().hist['http.request_duration_ms{method="GET",route="/slow"}'];
  assert.ok(slow.sum >= 60 && slow.sum <= Math.max(...latencies));
}

Deno.test("instrument under a real Deno.serve counts every request by route and status class", async () => {
  const m = createRegistry();
  const errors: unknown[] = [];
  const handler = instrument(async (req: Request) => {
    const path = new URL(req.url).pathname;
    if (path === "/boom") throw new Error("handler failed");
    if (path === "/slow") await new Promise((r) => setTimeout(r, 60));
    if (routeOf(path) === undefined) return new Response("no", { status: 404 });
    return new Response("ok");
  }, { metrics: m, route: (req) => routeOf(new URL(req.url).pathname) });
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
    onError(e) {
      errors.push(e);
      return new Response("error", { status: 500 });
    },
  }, handler);
  try {
    const latencies = await exercise(`http://127.0.0.1:${server.addr.port}`);
    checkCounts(m, latencies);
    assert.equal((errors[0] as Error).message, "handler failed", "rethrown unchanged");
  } finally {
    await server.shutdown();
  }
});

Deno.test("instrumentNode under a real node:http server counts every request by route and status class", async () => {
  const m = createRegistry();
  const errors: unknown[] = [];
  const listener = instrumentNode(
    async (req: http.IncomingMessage, res: http.ServerResponse) => {
      const path = req.url ?? "/";
      if (path === "/boom") {
        res.statusCode = 500; // what a framework's error handler does, after the throw
        res.end();
        throw new Error("listener failed");
      }
      if (path === "/slow") await new Promise((r) => setTimeout(r, 60));
      res.statusCode = routeOf(path) === undefined ? 404 : 200;
      res.end("ok");
    },
    { metrics: m, route: (req) => routeOf(req.url ?? "/") },
  );
  const server = http.createServer((req, res) => {
    listener(req, res).catch((e) => errors.push(e));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    const { port } = server.address() as AddressInfo;
    const latencies = await exercise(`http://127.0.0.1:${port}`);
    checkCounts(m, latencies);
    assert.equal((errors[0] as Error).message, "listener failed");
  } finally {
    await new Promise((r) => server.close(r));
  }
});

const NODE_SCRIPT = `
import http from "node:http";
import { createRegistry, instrumentNode } from "./agent.mjs";
const metrics = createRegistry();
const server = http.createServer(instrumentNode((req, res) => {
  res.statusCode = req.url === "/users/7" ? 200 : 404;
  res.end();
}, { metrics, route: (req) => req.url.startsWith("/users/") ? "/users/:id" : undefined }));
server.listen(0, "127.0.0.1", async () => {
  const base = "http://127.0.0.1:" + server.address().port;
  for (const p of ["/users/7", "/users/7", "/elsewhere"]) await (await fetch(base + p)).text();
  await new Promise((r) => setTimeout(r, 50)); // let the last "finish" fire
  server.close();
  console.log(JSON.stringify({ version: process.version, snapshot: metrics.snapshot() }));
});
`;

Deno.test({
  name: "instrumentNode counts requests in a Node 20 process",
  ignore: !existsSync(NODE) && !Deno.env.get("CI"),
  async fn() {
    const dir = await bundleAgentForNode("middleware-node-");
    try {
      await Deno.writeTextFile(`${dir}/main.mjs`, NODE_SCRIPT);
      const out = await new Deno.Command(NODE, { args: [`${dir}/main.mjs`], cwd: dir }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, stderr);
      const { version, snapshot } = JSON.parse(new TextDecoder().decode(out.stdout));
      assert.match(version, /^v\d+\./);
      assert.equal(
        snapshot.metrics['http.requests_total{method="GET",route="/users/:id",status="2xx"}'],
        2,
      );
      assert.equal(
        snapshot.metrics['http.requests_total{method="GET",route="other",status="4xx"}'],
        1,
      );
      const h = snapshot.hist['http.request_duration_ms{method="GET",route="/users/:id"}'];
      assert.equal(h.counts.reduce((a: number, b: number) => a + b, 0), 2);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("backend_app --http serves its API and reports requests by route template over ZMQ", async () => {
  const samples: Sample[] = [];
  let wake = () => {};
  const receiver = await bindPull("tcp://127.0.0.1:*", {
    onFrame(frame) {
      const d = decode(frame);
      if (!d.ok) throw new Error(`invalid frame from backend_app: ${d.error.detail}`);
      samples.push(...d.message.samples);
      wake();
    },
  });
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${ROOT}backend_app.ts`,
      "--collector",
      receiver.endpoint,
      "--interval",
      "100",
      "--http",
      String(port),
      "--load",
      "50",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const until = async (pred: () => boolean, what: string, ms = 15_000) => {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
  };
  const KEY = 'http.requests_total{method="GET",route="/users/:id",status="2xx"}';
  const usersCounted = () => samples.at(-1)?.metrics[KEY] ?? 0;
  try {
    await until(() => samples.length > 0, "a first sample");
    let res: Response | null = null;
    for (let i = 0; i < 50 && res === null; i++) {
      res = await fetch(`http://127.0.0.1:${port}/users/42`).catch(() => null);
      if (res === null) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(res, "the API never answered");
    const body = await res.json().catch(() => null);
    if (res.status === 200) assert.deepEqual(body, { id: 42, name: "user 42" });
    await until(() => usersCounted() > 0, "/users/:id requests in a sample");
    const last = samples.at(-1)!;
    const keys = Object.keys(last.metrics).filter((k) => k.startsWith("http.requests_total"));
    assert.ok(
      keys.every((k) => /route="(\/users\/:id|\/bookings|\/health|other)"/.test(k)),
      keys.join(),
    );
    assert.ok(!keys.some((k) => k.includes("/users/42")), "never the raw path");
    assert.ok(last.hist?.['http.request_duration_ms{method="GET",route="/users/:id"}']);
    child.kill("SIGTERM");
    const status = await child.status;
    assert.equal(status.code, 0, await stderr);
    assert.match(await stderr, /SIGTERM: stopped/);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
    await stderr;
    await receiver.close();
  }
});
