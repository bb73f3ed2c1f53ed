/**
 * Stress: holes in well-behaved agents' history under a flood (issue 16.8). Starts
 * `server.ts` with durable history, two real agents (10 samples/s each, in this process),
 * then `--senders` flood processes (`flood.ts --form batch`, `--instances` instances each,
 * paced at `--rate` frames/s each) for `--seconds`. Afterwards it reads each agent's
 * history in 1-second buckets and reports the seconds with no point (holes) and the longest
 * run of them, with the agents' `lost`, `history.dropped` and `history.shedFrom`.
 *
 *   deno run -A bench/stress/holes.ts [--seconds 30] [--senders 2] [--instances 100]
 *     [--rate 20000]
 *
 * Bounded in time; loopback only. Prints one JSON line.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { createAgent } from "../../lib/agent/mod.ts";
import { instanceId } from "../../lib/collector/instances.ts";
import type { InstanceView } from "../../lib/live/messages.ts";
import { startServer } from "../../tests/support/server_process.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "30" },
    senders: { type: "string", default: "2" },
    instances: { type: "string", default: "100" },
    rate: { type: "string", default: "20000" },
  },
});
const seconds = Number(values.seconds);
const FLOOD = new URL("./flood.ts", import.meta.url).pathname;

const dir = await Deno.makeTempDir({ prefix: "zeroapm-holes-" });
const server = await startServer([
  "--data",
  dir,
]);
const agents = ["a", "b"].map((name) =>
  createAgent({ service: "real", instance: name, collector: server.zmqEndpoint, intervalMs: 100 })
);
const start = Date.now();
await new Promise((r) => setTimeout(r, 2000)); // the agents report before the flood
const floods = Array.from(
  { length: Number(values.senders) },
  (_, i) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        FLOOD,
        JSON.stringify({
          endpoint: server.zmqEndpoint,
          instance: `flood-${i}`,
          rateHz: Number(values.rate),
          durationMs: seconds * 1000,
          form: "batch",
          batch: 100,
          instances: Number(values.instances),
        }),
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output(),
);
const sent = (await Promise.all(floods)).map((o) =>
  JSON.parse(new TextDecoder().decode(o.stdout).trim()) as { sent: number; refused: number }
);
await new Promise((r) => setTimeout(r, 3000)); // the agents report after it
for (const a of agents) await a.stop();
const end = Date.now();
// Wait until the collector has taken every frame the agents sent (their backlogs drained).
const instances = async () =>
  (await (await fetch(`${server.httpUrl}/api/instances`)).json()) as InstanceView[];
for (let i = 0; i < 600; i++) {
  const list = await instances();
  const done = agents.every((a, k) => {
    const v = list.find((x) => x.id === instanceId("real", ["a", "b"][k]));
    return v !== undefined && v.received + v.lost >= a.stats().sent;
  });
  if (done) break;
  await new Promise((r) => setTimeout(r, 100));
}
const list = await instances();
const report: Record<string, unknown> = { seconds, flood: sent };
for (const name of ["a", "b"]) {
  const id = instanceId("real", name);
  const from = Math.floor(start / 1000) * 1000 + 1000;
  const to = Math.floor(end / 1000) * 1000 - 1000;
  const points = (to - from) / 1000;
  const q = `instance=${encodeURIComponent(id)}&metric=cpu.percent&from=${from}&to=${to}`;
  const body = await (await fetch(`${server.httpUrl}/api/series?${q}&points=${points}`)).json();
  const have = new Set<number>(body.series[0].points.map((p: number[]) => p[0]));
  let holes = 0;
  let run = 0;
  let longest = 0;
  for (let t = from; t < to; t += 1000) {
    if (have.has(t)) run = 0;
    else {
      holes++;
      longest = Math.max(longest, ++run);
    }
  }
  const view = list.find((v) => v.id === id);
  report[id] = { seconds: points, holes, longestHoleS: longest, lost: view?.lost };
}
const stats = await (await fetch(`${server.httpUrl}/api/stats`)).json();
report.history = stats.history;
console.log(JSON.stringify(report));
await server.stop();
await Deno.remove(dir, { recursive: true });
