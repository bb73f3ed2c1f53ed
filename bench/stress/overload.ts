/**
 * Stress: overload. Measures the rate the collector sustains (single-sample frames from
 * `--senders` processes sending flat out for `--measure-s`), then offers 10x that for
 * `--seconds` (default 60). Throughout, `/healthz` and `/` are fetched every 200 ms (p50 /
 * p99 / max latency, and how many took over 100 ms) and the collector's RSS is read from
 * /proc. Afterwards it waits for the collector to drain and checks it answers fast again.
 *
 *   deno run -A bench/stress/overload.ts [--seconds 60] [--senders 2] [--measure-s 5]
 *
 * Drops: a frame ZMQ will not take (send high-water mark) is dropped at the sender and
 * counted there (`refused`); the collector cannot see those. Frames it receives but cannot
 * use are counted in /api/stats. Bounded in time; loopback only.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { startServer } from "../../tests/support/server_process.ts";
import { rssOf } from "../../tests/support/hostile_net.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "60" },
    senders: { type: "string", default: "2" },
    "measure-s": { type: "string", default: "5" },
    factor: { type: "string", default: "10" },
  },
});
const seconds = Number(values.seconds);
const senders = Number(values.senders);
const measureS = Number(values["measure-s"]);
const factor = Number(values.factor);
const MB = 1024 * 1024;
const FLOOD = new URL("./flood.ts", import.meta.url).pathname;

const dir = await Deno.makeTempDir({ prefix: "zeroapm-overload-" });
const server = await startServer([
  "--http",
  "127.0.0.1:0",
  "--zmq",
  "tcp://127.0.0.1:*",
  "--data",
  dir,
]);
const pid = server.child.pid;
const stats = async () => await (await fetch(`${server.httpUrl}/api/stats`)).json();

/** Latency samples of /healthz and / every 200 ms, and RSS, until stopped. */
function probe() {
  const lat: { healthz: number[]; page: number[] } = { healthz: [], page: [] };
  const rss: number[] = [];
  let on = true;
  const timeOne = async (path: string) => {
    const t = performance.now();
    const res = await fetch(`${server.httpUrl}${path}`);
    await res.arrayBuffer();
    return performance.now() - t;
  };
  const loop = (async () => {
    while (on) {
      const next = performance.now() + 200;
      lat.healthz.push(await timeOne("/healthz"));
      lat.page.push(await timeOne("/"));
      rss.push(rssOf(pid));
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
  })();
  return {
    async stop() {
      on = false;
      await loop;
      return { lat, rss };
    },
  };
}

const summary = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => +s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(1);
  return {
    n: s.length,
    p50: q(0.5),
    p99: q(0.99),
    max: q(1),
    over100: s.filter((x) => x > 100).length,
  };
};

async function flood(rateHz: number, durationMs: number, tag: string) {
  const procs = Array.from({ length: senders }, (_, i) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        FLOOD,
        JSON.stringify({
          endpoint: server.zmqEndpoint,
          instance: `${tag}-${i}`,
          rateHz: rateHz / senders,
          durationMs,
        }),
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output());
  const out = await Promise.all(procs);
  return out.map((o) =>
    JSON.parse(new TextDecoder().decode(o.stdout).trim()) as {
      sent: number;
      refused: number;
      ms: number;
    }
  );
}

const rss0 = rssOf(pid);
// 1. Capacity: flat out for measureS seconds; the collector's rate while frames arrive.
const samples: Array<[number, number]> = [];
let measuring = true;
const watch = (async () => {
  while (measuring) {
    samples.push([performance.now(), (await stats()).received.messages]);
    await new Promise((r) => setTimeout(r, 250));
  }
})();
const cap = await flood(1e9, measureS * 1000, "measure");
// Let the collector drain what was queued.
let last = -1;
while (true) {
  const m = (await stats()).received.messages;
  if (m === last) break;
  last = m;
  await new Promise((r) => setTimeout(r, 500));
}
measuring = false;
await watch;
const moving = samples.filter((x, i) => i > 0 && x[1] !== samples[i - 1][1]);
const firstMove = samples[samples.indexOf(moving[0]) - 1];
const lastMove = moving.at(-1)!;
const capacity = Math.round((lastMove[1] - firstMove[1]) / ((lastMove[0] - firstMove[0]) / 1000));
const offeredMeasure = cap.reduce((n, c) => n + c.sent + c.refused, 0) / measureS;
console.error(`capacity ~${capacity} msg/s (offered ${Math.round(offeredMeasure)}/s)`);

// 2. Overload: factor x capacity for `seconds`.
const p = probe();
const s0 = await stats();
const tStart = performance.now();
const over = await flood(capacity * factor, seconds * 1000, "over");
const sendSecs = (performance.now() - tStart) / 1000;
const sEnd = await stats();
// 3. Recovery: until the received count stops moving and /healthz is fast again.
const tRecover = performance.now();
last = -1;
while (true) {
  const m = (await stats()).received.messages;
  if (m === last) break;
  last = m;
  await new Promise((r) => setTimeout(r, 250));
}
const recoverMs = Math.round(performance.now() - tRecover);
const { lat, rss } = await p.stop();
const after = await stats();
const hz = performance.now();
await (await fetch(`${server.httpUrl}/healthz`)).arrayBuffer();
const healthAfterMs = +(performance.now() - hz).toFixed(1);
await server.stop();
await Deno.remove(dir, { recursive: true });

const sent = over.reduce((n, c) => n + c.sent, 0);
const refused = over.reduce((n, c) => n + c.refused, 0);
const result = {
  senders,
  capacityMsgPerS: capacity,
  targetMsgPerS: capacity * factor,
  offeredMsgPerS: Math.round((sent + refused) / sendSecs),
  seconds: +sendSecs.toFixed(1),
  acceptedByZmq: sent,
  droppedAtSenders: refused,
  receivedByCollector: after.received.messages - s0.received.messages,
  receivedPerSDuringLoad: Math.round((sEnd.received.messages - s0.received.messages) / sendSecs),
  rejected: after.rejected.total - s0.rejected.total,
  lostBySeqGap: after.lost.total - s0.lost.total,
  healthzMs: summary(lat.healthz),
  pageMs: summary(lat.page),
  rssMB: {
    before: +(rss0 / MB).toFixed(0),
    max: +(Math.max(...rss) / MB).toFixed(0),
    end: +(rss.at(-1)! / MB).toFixed(0),
  },
  recoverMs,
  healthAfterMs,
};
console.log(JSON.stringify(result, null, 2));
