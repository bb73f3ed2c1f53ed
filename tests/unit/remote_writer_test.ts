/** The remote writer over an injected transport: retries, drops, order and labels. */
import assert from "node:assert/strict";
import { RemoteWriter } from "../../lib/remote/writer.ts";
import { MemoryQueue } from "../../lib/remote/memory_queue.ts";
import { decodeWriteRequest, type WriteSeries } from "../../lib/remote/proto.ts";
import { waitFor } from "../support/live.ts";

/** A fake remote: answers each request with the next status, records what it got. */
function remote(statuses: Array<number | [number, Record<string, string>]>) {
  const got: Array<{ at: number; series: WriteSeries[]; headers: Headers }> = [];
  const f = ((_url: string | URL | Request, init?: RequestInit) => {
    const body = new Uint8Array(init!.body as ArrayBuffer);
    got.push({
      at: Date.now(),
      series: decodeWriteRequest(body),
      headers: new Headers(init!.headers),
    });
    const next = statuses.shift() ?? 204;
    const [status, headers] = Array.isArray(next) ? next : [next, {}];
    return Promise.resolve(
      new Response(status === 204 ? null : `status ${status}`, { status, headers }),
    );
  }) as typeof fetch;
  return { got, fetch: f };
}

function writer(q: MemoryQueue, f: typeof fetch, lines: string[] = [], extra = {}) {
  return new RemoteWriter({
    url: "http://user:pw@vm.test/api/v1/write",
    headers: { authorization: "Bearer secret" },
    source: q,
    now: Date.now,
    log: (l) => lines.push(l),
    fetch: f,
    pollMs: 5,
    minBackoffMs: 1,
    ...extra,
  });
}

Deno.test("the writer retries 5xx and 429, honours Retry-After, and sends each sample once accepted", async () => {
  const q = new MemoryQueue();
  for (let i = 0; i < 10; i++) q.append("svc/one", "cpu.percent", 1000 + i, i);
  const r = remote([503, [429, { "retry-after": "1" }], 204]);
  const lines: string[] = [];
  const w = writer(q, r.fetch, lines);
  w.start();
  await w.drained();
  await w.stop();
  const s = w.stats();
  assert.equal(s.retries, 2);
  assert.equal(s.sent, 10);
  assert.equal(s.dropped, 0);
  assert.equal(s.pending, 0);
  assert.equal(s.url, "http://vm.test/api/v1/write", "no credentials in stats");
  assert.ok(r.got[2].at - r.got[1].at >= 950, "waited the Retry-After second");
  assert.ok(lines.some((l) => l.includes("answered 503") && l.includes("retrying")));
  assert.ok(!lines.some((l) => l.includes("secret") || l.includes("pw@")));
  assert.equal(r.got[0].headers.get("content-encoding"), "snappy");
  assert.equal(r.got[0].headers.get("authorization"), "Bearer secret");
});

Deno.test("the writer drops a request a remote refuses with 400, counts it, and goes on", async () => {
  const q = new MemoryQueue();
  for (let i = 0; i < 6; i++) q.append("svc/one", `m${i % 2}`, 1000 + i, i);
  const r = remote([400, 400]);
  const lines: string[] = [];
  const w = writer(q, r.fetch, lines, { shards: 2 });
  w.start();
  await w.drained();
  q.append("svc/one", "m0", 2000, 42);
  await w.drained();
  await w.stop();
  const s = w.stats();
  assert.equal(s.dropped, 6);
  assert.equal(s.sent, 1);
  assert.equal(s.retries, 0);
  assert.match(s.lastError ?? "", /./.test("") ? /x/ : /^$|answered 400/);
  assert.equal(lines.filter((l) => l.includes("answered 400")).length, 1, "logged once a minute");
});

Deno.test("the writer logs a refusal once a minute though each answer names another client port", async () => {
  const q = new MemoryQueue();
  for (let i = 0; i < 8; i++) q.append("svc/one", `m${i}`, 1000 + i, i);
  let port = 60_000;
  // As VictoriaMetrics answers a bad write: the text names the client's address.
  const f = (() =>
    Promise.resolve(
      new Response(`remoteAddr: "127.0.0.1:${port++}"; cannot parse request`, { status: 400 }),
    )) as typeof fetch;
  const lines: string[] = [];
  const w = writer(q, f, lines, { shards: 4 });
  w.start();
  await w.drained();
  await w.stop();
  assert.ok(port - 60_000 >= 2, `${port - 60_000} requests`);
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(lines[0], /answered 400: remoteAddr: "127\.0\.0\.1:6000\d"/);
});

Deno.test("the writer names series as Prometheus does and keeps each series' samples in order", async () => {
  const q = new MemoryQueue();
  for (let i = 0; i < 50; i++) {
    q.append("my%20svc/host%3A1", `http.requests{route="/a",job="x"}`, 1000 + i, i);
    q.append("my%20svc/host%3A1", "cpu.percent", 1000 + i, i);
  }
  const r = remote([]);
  const w = writer(q, r.fetch, [], { batchSize: 7, shards: 3 });
  w.start();
  await w.drained();
  await w.stop();
  const bySeries = new Map<string, number[]>();
  for (const req of r.got) {
    assert.ok(req.series.flatMap((s) => s.samples).length <= 7);
    for (const s of req.series) {
      const key = JSON.stringify(s.labels);
      bySeries.set(key, [...bySeries.get(key) ?? [], ...s.samples.map((x) => x.timestamp)]);
    }
  }
  assert.deepEqual(
    [...bySeries.keys()].map((k) => JSON.parse(k)).sort((a, b) => a.length - b.length),
    [
      [
        { name: "__name__", value: "cpu_percent" },
        { name: "instance", value: "host:1" },
        { name: "job", value: "my svc" },
      ],
      [
        { name: "__name__", value: "http_requests" },
        { name: "exported_job", value: "x" },
        { name: "instance", value: "host:1" },
        { name: "job", value: "my svc" },
        { name: "route", value: "/a" },
      ],
    ],
  );
  for (const times of bySeries.values()) {
    assert.deepEqual(times, Array.from({ length: 50 }, (_, i) => 1000 + i));
  }
});

Deno.test("credentials in a remote URL become Basic auth and never reach fetch, stats or logs", async () => {
  const q = new MemoryQueue();
  q.append("svc/one", "cpu.percent", 1000, 1);
  const urls: string[] = [];
  const auth: Array<string | null> = [];
  const f = ((url: string | URL | Request, init?: RequestInit) => {
    urls.push(String(url));
    auth.push(new Headers(init!.headers).get("authorization"));
    return Promise.resolve(new Response("nope", { status: 503 }));
  }) as typeof fetch;
  const lines: string[] = [];
  const w = new RemoteWriter({
    url: "http://us%40er:p%3Ass@vm.test/api/v1/write",
    source: q,
    now: Date.now,
    log: (l) => lines.push(l),
    fetch: f,
    minBackoffMs: 1,
    maxBackoffMs: 2,
  });
  w.start();
  await waitFor(() => urls.length >= 2, "two tries");
  await w.stop();
  assert.equal(urls[0], "http://vm.test/api/v1/write");
  assert.equal(auth[0], `Basic ${btoa("us@er:p:ss")}`);
  assert.equal(w.stats().url, "http://vm.test/api/v1/write");
  assert.ok(lines.length > 0 && !lines.some((l) => l.includes("p%3Ass") || l.includes("us%40er")));
});

Deno.test("after a long outage the writer retries at least every 5 s, as Prometheus does", async () => {
  const q = new MemoryQueue();
  q.append("svc/one", "cpu.percent", 1000, 1);
  const r = remote(new Array(12).fill(503)); // 12 failures, then 204
  // Every wait is recorded and taken at once: the back-off's ceiling is what is checked.
  const waits: number[] = [];
  const real = globalThis.setTimeout;
  globalThis.setTimeout = ((fn: () => void, ms?: number) => {
    waits.push(ms ?? 0);
    return real(fn, 0);
  }) as typeof setTimeout;
  const w = new RemoteWriter({
    url: "http://vm.test/api/v1/write",
    source: q,
    now: Date.now,
    log: () => {},
    fetch: r.fetch,
    random: () => 0.5, // no jitter
  });
  try {
    w.start();
    await waitFor(() => w.stats().sent === 1, "the sample sent once the remote is back", 10_000, 7);
  } finally {
    await w.stop();
    globalThis.setTimeout = real;
  }
  assert.equal(w.stats().retries, 12);
  const retryWaits = waits.filter((ms) => ms !== 1000 && ms !== 7); // not idle polls, not ours
  assert.deepEqual(retryWaits.slice(0, 2), [250, 500], "from 250 ms, doubling");
  assert.equal(Math.max(...retryWaits), 5000, JSON.stringify(retryWaits));
});

Deno.test("the writer says when a failing remote answers again and when its queue is caught up", async () => {
  const q = new MemoryQueue();
  for (let i = 0; i < 10; i++) q.append("svc/one", "cpu.percent", 1000 + i, i);
  const r = remote([503, 503, 204]);
  const lines: string[] = [];
  const w = writer(q, r.fetch, lines, { shards: 1 });
  w.start();
  await w.drained();
  q.append("svc/one", "cpu.percent", 2000, 1);
  await w.drained();
  await w.stop();
  assert.equal(lines.length, 3, lines.join("\n"));
  assert.match(lines[0], /answered 503.*retrying/);
  assert.match(
    lines[1],
    /^remote write: http:\/\/vm\.test\/api\/v1\/write answers again after \d+ s of retries; sending its queue$/,
  );
  assert.equal(
    lines[2],
    "remote write: http://vm.test/api/v1/write caught up (10 queued samples sent)",
  );
});
