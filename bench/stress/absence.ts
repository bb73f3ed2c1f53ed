/**
 * Stress: the collector is away for a long time (default 10 minutes) while an app keeps
 * running with an agent. Measures the app's event-loop lag and this process's memory while
 * the collector is away, then restarts the collector on the same port and checks the
 * backlog arrives: everything within the backlog bound delivered, anything beyond it
 * counted as lost.
 *
 *   deno run -A bench/stress/absence.ts [--minutes 10] [--interval-ms 1000] [--backlog 3600]
 *
 * Bounded: stops by itself after the absence plus at most 60 s of delivery; loopback only.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { createAgent } from "../../lib/agent/mod.ts";
import { instanceId } from "../../lib/collector/instances.ts";
import type { InstanceView } from "../../lib/live/messages.ts";
import { startServer } from "../../tests/support/server_process.ts";
import { waitFor } from "../../tests/support/live.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "10" },
    "interval-ms": { type: "string", default: "1000" },
    backlog: { type: "string", default: "3600" },
  },
});
const awayMs = Number(values.minutes) * 60_000;
const intervalMs = Number(values["interval-ms"]);
const backlogLimit = Number(values.backlog);
const MB = 1024 * 1024;

const dir = await Deno.makeTempDir({ prefix: "zeroapm-absence-" });
const args = ["--data", dir];
const first = await startServer(args);
const endpoint = first.zmqEndpoint;
const agent = createAgent({
  service: "stress",
  instance: "absence",
  collector: endpoint,
  intervalMs,
  backlogLimit,
  onError: () => {},
});
const id = instanceId("stress", "absence");
const instance = async (url: string) =>
  ((await (await fetch(`${url}/api/instances`)).json()) as InstanceView[]).find((v) => v.id === id);

await waitFor(
  async () => ((await instance(first.httpUrl))?.received ?? 0) >= 3,
  "3 samples",
  30_000,
);
await first.stop("SIGTERM");
const downAt = Date.now();
console.error(`collector stopped; away for ${awayMs / 60_000} min...`);

// The "app": a 10 ms timer whose lateness is the event-loop lag the agent adds.
const lags: number[] = [];
let maxRss = Deno.memoryUsage().rss;
const rss0 = maxRss;
let maxBacklog = 0;
let expected = performance.now() + 10;
const app = setInterval(() => {
  const now = performance.now();
  lags.push(now - expected);
  expected = now + 10;
}, 10);
while (Date.now() - downAt < awayMs) {
  await new Promise((r) => setTimeout(r, 1000));
  maxRss = Math.max(maxRss, Deno.memoryUsage().rss);
  maxBacklog = Math.max(maxBacklog, agent.stats().backlog);
}
clearInterval(app);
const beforeRestart = agent.stats();

const second = await startServer([...args, "--zmq", endpoint]);
const t0 = Date.now();
await waitFor(() => agent.stats().backlog === 0, "the backlog to drain", 60_000, 50);
const drainMs = Date.now() - t0;
await agent.stop();
const s = agent.stats();
const view = await waitFor(
  async () => {
    const v = await instance(second.httpUrl);
    return v && v.received === s.sent && v;
  },
  "everything sent to arrive",
  30_000,
);
await second.stop();
await Deno.remove(dir, { recursive: true });

lags.sort((a, b) => a - b);
const q = (p: number) => +lags[Math.min(lags.length - 1, Math.floor(p * lags.length))].toFixed(2);
const result = {
  awayMinutes: awayMs / 60_000,
  intervalMs,
  backlogLimit,
  samplesTakenWhileAway: beforeRestart.seq - (beforeRestart.sent),
  maxBacklog,
  agentDropped: s.dropped,
  collectorLost: view.lost,
  received: view.received,
  sent: s.sent,
  seq: s.seq,
  drainMs,
  appLagMs: { p50: q(0.5), p99: q(0.99), max: q(1) },
  rssMB: { before: +(rss0 / MB).toFixed(1), max: +(maxRss / MB).toFixed(1) },
  ok: view.lost === s.dropped && view.received === s.sent && maxBacklog <= backlogLimit,
};
console.log(JSON.stringify(result, null, 2));
Deno.exit(result.ok ? 0 : 1);
