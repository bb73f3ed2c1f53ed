/**
 * Stress: many instances and many live clients (issue 16, item 2). Fills a real collector
 * (child process, `--data none` unless `--data DIR`) with `--instances` one-shot instances,
 * then opens `--clients` WebSockets that upgrade and never read, one by one, and prints the
 * collector's RSS and `/api/stats` live counters as it goes, the slowest `/healthz`, and the
 * RSS peak over `--hold-s` seconds after. Before the fix (10 000 instances, 300 clients): a
 * ~5 MB hello per client, every upgrade accepted, RSS 353 MB -> 4.6 GB.
 *
 *   deno run -A bench/stress/live_clients.ts [--instances 10000] [--clients 300] [--hold-s 10]
 *
 * Bounded: stops by itself (at most ~2 minutes); loopback only.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { encode, type Identity } from "../../lib/protocol.ts";
import { connectPush } from "../../lib/transport/zmq.ts";
import { startServer } from "../../tests/support/server_process.ts";
import { rssOf, stuckWebSocket } from "../../tests/support/hostile_net.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    instances: { type: "string", default: "10000" },
    clients: { type: "string", default: "300" },
    "hold-s": { type: "string", default: "10" },
    data: { type: "string", default: "none" },
  },
});
const N = Number(values.instances);
const C = Number(values.clients);
const HOLD = Number(values["hold-s"]);
const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const server = await startServer([
  "--data",
  values.data,
]);
const push = connectPush(server.zmqEndpoint, { sendHighWaterMark: 1000, lingerMs: 0 });
const rss = () => Math.round(rssOf(server.child.pid) / MB);
const stats = async () => await (await fetch(`${server.httpUrl}/api/stats`)).json();
const conns: Deno.Conn[] = [];
try {
  console.log(`start: RSS ${rss()} MB`);
  const t = Date.now();
  for (let i = 0; i < N; i++) {
    const who: Identity = {
      service: `svc-${i % 50}`,
      instance: `one-shot-${i}`,
      pid: 1,
      host: "h",
      color: null,
      intervalMs: 1000,
    };
    const m: Record<string, number> = { "cpu.percent": i % 100, "mem.rss_bytes": 5e7 + i };
    for (let k = 0; k < 10; k++) m[`runtime.metric_${k}`] = i + k;
    const f = encode(who, [{ seq: 0, ts: t, metrics: m }], t);
    while (!(await push.trySend(f))) await sleep(1);
  }
  for (let i = 0; i < 120 && (await stats()).instances.total < Math.min(N, 10_000); i++) {
    await sleep(500);
  }
  console.log(`${(await stats()).instances.total} instances: RSS ${rss()} MB`);
  let refused = 0;
  let slowestHealthMs = 0;
  let peak = rss();
  for (let i = 0; i < C; i++) {
    try {
      conns.push(await stuckWebSocket(server.httpUrl, "/ws"));
    } catch {
      refused++;
    }
    if (i % 50 === 49 || i === C - 1) {
      const t0 = Date.now();
      await (await fetch(`${server.httpUrl}/healthz`)).body?.cancel();
      slowestHealthMs = Math.max(slowestHealthMs, Date.now() - t0);
      peak = Math.max(peak, rss());
      console.log(
        `${i + 1} clients: RSS ${rss()} MB, live ${JSON.stringify((await stats()).live)}`,
      );
    }
  }
  for (let s = 0; s < HOLD; s++) {
    await sleep(1000);
    const t0 = Date.now();
    await (await fetch(`${server.httpUrl}/healthz`)).body?.cancel();
    slowestHealthMs = Math.max(slowestHealthMs, Date.now() - t0);
    peak = Math.max(peak, rss());
  }
  const live = (await stats()).live;
  console.log(JSON.stringify({
    instances: N,
    clients: C,
    upgraded: conns.length,
    refused,
    rssPeakMB: peak,
    rssEndMB: rss(),
    slowestHealthMs,
    live,
  }));
} finally {
  for (const c of conns) {
    try {
      c.close();
    } catch { /* closed by the server */ }
  }
  push.close();
  await server.stop();
}
