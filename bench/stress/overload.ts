/**
 * Stress: overload. Measures the rate the collector sustains (single-sample frames from
 * `--senders` processes sending flat out for `--measure-s`), then offers 10x that for
 * `--seconds` (default 60). Throughout, `/healthz` and `/` are fetched every 200 ms (p50 /
 * p99 / max latency, and how many took over 100 ms) and the collector's RSS is read from
 * /proc. Afterwards it waits for the collector to drain and checks it answers fast again.
 *
 *   deno run -A bench/stress/overload.ts [--seconds 60] [--senders 2] [--measure-s 5]
 *     [--factor 10] [--form single|batch] [--batch 100] [--instances 4] [--memory]
 *
 * `--form batch`: 100-sample frames (an agent's batch) from `--instances` instances per
 * sender process, each instance's seq counting up; the capacity and the offered rate are in
 * frames/s (x100 samples). The report adds samples, the collector's CPU use (from
 * /proc/<pid>/stat) and recovery: the time until the received count stops moving (the queues
 * are drained) and until 10 consecutive `/healthz` probes are back to the pre-load normal.
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
    form: { type: "string", default: "single" },
    batch: { type: "string", default: "100" },
    instances: { type: "string", default: "4" },
    memory: { type: "boolean", default: false },
  },
});
const seconds = Number(values.seconds);
const senders = Number(values.senders);
const measureS = Number(values["measure-s"]);
const factor = Number(values.factor);
const form = values.form === "batch" ? "batch" : "single";
const batch = Number(values.batch);
const instancesPerSender = Number(values.instances);
const MB = 1024 * 1024;
const FLOOD = new URL("./flood.ts", import.meta.url).pathname;

const dir = await Deno.makeTempDir({ prefix: "zeroapm-overload-" });
const server = await startServer([
  // --memory: no durable history, for comparison. (Leaving out --data is not that: the
  // collector then keeps history in ./.zeroapm.)
  "--data",
  values.memory ? "none" : dir,
]);
const pid = server.child.pid;
const stats = async () => await (await fetch(`${server.httpUrl}/api/stats`)).json();
const TICK_S = 100; // USER_HZ of /proc/<pid>/stat on Linux
/** CPU seconds (user + system) the collector process has used so far. */
const cpuOf = (p: number) => {
  const f = Deno.readTextFileSync(`/proc/${p}/stat`).split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / TICK_S; // utime, stime (fields 14, 15)
};
const timeOne = async (path: string) => {
  const t = performance.now();
  const res = await fetch(`${server.httpUrl}${path}`);
  await res.arrayBuffer();
  return performance.now() - t;
};

/** Latency samples of /healthz and / every 200 ms, and RSS, until stopped. */
function probe() {
  const lat: { healthz: number[]; page: number[] } = { healthz: [], page: [] };
  const rss: number[] = [];
  let on = true;
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
          form,
          batch,
          instances: instancesPerSender,
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
      samples: number;
    }
  );
}

// 0. Normal: /healthz latency with no load (10 probes, 200 ms apart).
const idle: number[] = [];
for (let i = 0; i < 10; i++) {
  idle.push(await timeOne("/healthz"));
  await new Promise((r) => setTimeout(r, 200));
}
const normalMs = Math.max(5, 2 * Math.max(...idle));
const rss0 = rssOf(pid);
// 1. Capacity: flat out for measureS seconds; the collector's rate while frames arrive.
// In batch form the flat-out senders take CPU the collector would use, so a second pass
// offers 2x what the first measured (paced) and the higher of the two is the capacity.
async function measure(rateHz: number, tag: string) {
  const samples: Array<[number, number]> = [];
  let measuring = true;
  const watch = (async () => {
    while (measuring) {
      samples.push([performance.now(), (await stats()).received.messages]);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const cap = await flood(rateHz, measureS * 1000, tag);
  await drained(500);
  measuring = false;
  await watch;
  const moving = samples.filter((x, i) => i > 0 && x[1] !== samples[i - 1][1]);
  const firstMove = samples[samples.indexOf(moving[0]) - 1];
  const lastMove = moving.at(-1)!;
  const rate = Math.round((lastMove[1] - firstMove[1]) / ((lastMove[0] - firstMove[0]) / 1000));
  const offered = Math.round(cap.reduce((n, c) => n + c.sent + c.refused, 0) / measureS);
  console.error(`${tag}: collector took ~${rate} msg/s, offered ${offered}/s`);
  return { rate, offered };
}
/** Wait until the collector's received count stops moving (what was queued is drained). */
async function drained(everyMs: number) {
  let last = -1;
  while (true) {
    const m = (await stats()).received.messages;
    if (m === last) return;
    last = m;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
const flat = await measure(1e9, "measure");
const paced = form === "batch" ? await measure(2 * flat.rate, "measure2x") : null;
const capacity = Math.max(flat.rate, paced?.rate ?? 0);
console.error(
  `capacity ~${capacity} msg/s; offering ${capacity * factor}/s for ${seconds} s (${form} frames)`,
);

// 2. Overload: factor x capacity for `seconds`.
const p = probe();
const s0 = await stats();
const cpu0 = cpuOf(pid);
const tStart = performance.now();
const over = await flood(capacity * factor, seconds * 1000, "over");
const sendSecs = (performance.now() - tStart) / 1000;
const cpuLoad = cpuOf(pid) - cpu0;
const sEnd = await stats();
const { lat, rss } = await p.stop();
const loadProbes = rss.length;
// 3. Recovery: until the received count stops moving (the queues are drained), and until
// 10 consecutive /healthz probes (200 ms apart) are within the pre-load normal.
const tRecover = performance.now();
let drainMs = -1;
let healthyMs = -1;
let run = 0;
const after0 = performance.now();
let last = -1;
const recoverLat: number[] = [];
while ((drainMs < 0 || healthyMs < 0) && performance.now() - after0 < 60_000) {
  const next = performance.now() + 200;
  const h = await timeOne("/healthz");
  recoverLat.push(h);
  run = h <= normalMs ? run + 1 : 0;
  if (run === 10 && healthyMs < 0) healthyMs = Math.round(performance.now() - tRecover);
  const m = (await stats()).received.messages;
  if (m === last && drainMs < 0) drainMs = Math.round(performance.now() - tRecover);
  last = m;
  rss.push(rssOf(pid));
  await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
}
const after = await stats();
await server.stop();
await Deno.remove(dir, { recursive: true });

const sent = over.reduce((n, c) => n + c.sent, 0);
const refused = over.reduce((n, c) => n + c.refused, 0);
const per = over[0].samples;
const result = {
  form,
  samplesPerFrame: per,
  senders,
  instances: form === "batch" ? senders * instancesPerSender : senders,
  history: values.memory ? "memory only" : "durable (--data)",
  capacityMsgPerS: capacity,
  capacityFlatOut: flat,
  capacityPaced2x: paced,
  targetMsgPerS: capacity * factor,
  offeredMsgPerS: Math.round((sent + refused) / sendSecs),
  seconds: +sendSecs.toFixed(1),
  acceptedByZmq: sent,
  droppedAtSenders: refused,
  receivedByCollector: after.received.messages - s0.received.messages,
  receivedPerSDuringLoad: Math.round((sEnd.received.messages - s0.received.messages) / sendSecs),
  offeredSamplesPerS: Math.round((sent + refused) * per / sendSecs),
  samplesDroppedAtSenders: refused * per,
  samplesReceived: after.received.samples - s0.received.samples,
  samplesPerSDuringLoad: Math.round((sEnd.received.samples - s0.received.samples) / sendSecs),
  rejected: after.rejected.total - s0.rejected.total,
  lostBySeqGap: after.lost.total - s0.lost.total,
  duplicates: after.instances.list.reduce(
    (n: number, i: { duplicates: number }) => n + i.duplicates,
    0,
  ),
  historyDropped: after.history.dropped - s0.history.dropped,
  collectorCpuPercentDuringLoad: Math.round(cpuLoad / sendSecs * 100),
  healthzMs: summary(lat.healthz),
  pageMs: summary(lat.page),
  rssMB: {
    before: +(rss0 / MB).toFixed(0),
    max: +(Math.max(...rss) / MB).toFixed(0),
    end: +(rss.at(-1)! / MB).toFixed(0),
    // The highest RSS of each tenth of the load, to tell a plateau from growth.
    maxPerTenth: Array.from({ length: 10 }, (_, i) => {
      const part = rss.slice(
        Math.floor(i * loadProbes / 10),
        Math.max(Math.floor((i + 1) * loadProbes / 10), Math.floor(i * loadProbes / 10) + 1),
      );
      return +(Math.max(...part) / MB).toFixed(0);
    }),
  },
  normalHealthzMs: +normalMs.toFixed(1),
  drainMs,
  healthzNormalAfterMs: healthyMs,
  recoveryHealthzMs: summary(recoverLat),
};
console.log(JSON.stringify(result, null, 2));
