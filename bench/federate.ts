/**
 * `/federate` with many instances: how long building the exposition takes, and the longest
 * the event loop (ingest, the live page, every other request) waits meanwhile, built in one
 * piece as before and in slices as the collector does now (lib/prom/federate.ts). The wait
 * is the longest gap seen by a 1 ms timer running beside it. `deno task bench` appends the
 * section; by hand: `deno run -A bench/federate.ts`.
 *
 * @module
 */
import { federateFamilies, federateText } from "../lib/prom/federate.ts";
import { renderFamilies } from "../lib/prom/exposition.ts";
import { blankView, type InstanceView } from "../lib/model/instance.ts";
import { summarize } from "./stats.ts";

/** The data: live instances, each with this many labelled series and `cpu.percent`. */
export const FEDERATE_BENCH = { instances: 10_000, seriesPerInstance: 20, reps: 3 } as const;

function views(): InstanceView[] {
  const out: InstanceView[] = [];
  for (let i = 0; i < FEDERATE_BENCH.instances; i++) {
    const service = `svc${i % 50}`;
    const v = blankView(`${service}/host-${i}`, service, `host-${i}`, "#4e79a7", "live");
    for (let k = 0; k < FEDERATE_BENCH.seriesPerInstance; k++) {
      v.latest[`app.metric_${k}{route="/r${k % 5}"}`] = i * k + 0.5;
    }
    v.latest["cpu.percent"] = 12.5;
    out.push(v);
  }
  return out;
}

/** Wall time of `build` and the longest gap a 1 ms timer saw meanwhile, ms. */
async function timed(
  build: () => Promise<string | string[]>,
): Promise<{ totalMs: number; stallMs: number }> {
  let last = performance.now();
  let stall = 0;
  const probe = setInterval(() => {
    const t = performance.now();
    stall = Math.max(stall, t - last);
    last = t;
  }, 1);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 5)); // the probe runs before the build starts
  last = performance.now();
  const start = performance.now();
  const text = await build();
  const totalMs = performance.now() - start;
  await new Promise((r) => setTimeout(r, 5)); // and sees the end of the last slice
  clearInterval(probe);
  if (text.length === 0 || t0 < 0) throw new Error("empty exposition");
  return { totalMs, stallMs: stall };
}

/** Both ways, alternating, `reps` times each: medians and spreads, and the section text. */
export async function measureFederate() {
  const vs = views();
  const lastTime = () => 1_764_800_000_000;
  const whole: Array<{ totalMs: number; stallMs: number }> = [];
  const sliced: Array<{ totalMs: number; stallMs: number }> = [];
  await federateText(vs, lastTime); // warm-up
  for (let i = 0; i < FEDERATE_BENCH.reps; i++) {
    whole.push(await timed(() => Promise.resolve(renderFamilies(federateFamilies(vs, lastTime)))));
    sliced.push(await timed(() => federateText(vs, lastTime)));
  }
  const row = (name: string, runs: typeof whole) => {
    const t = summarize(runs.map((r) => r.totalMs));
    const s = summarize(runs.map((r) => r.stallMs));
    const ms = (x: number) => x.toFixed(0);
    return `| ${name} | ${ms(t.median)} (${ms(t.min)} – ${ms(t.max)}) | ${ms(s.median)} (${
      ms(s.min)
    } – ${ms(s.max)}) |`;
  };
  const series = FEDERATE_BENCH.instances * (FEDERATE_BENCH.seriesPerInstance + 1);
  const section = [
    "## /federate with 10 000 instances",
    "",
    `${FEDERATE_BENCH.instances.toLocaleString("en")} live instances x ${
      FEDERATE_BENCH.seriesPerInstance + 1
    } series (${series.toLocaleString("en")} series, about 17 MB of text), in this process`,
    `(bench/federate.ts), ${FEDERATE_BENCH.reps} runs each way, alternating. The longest wait is the`,
    "longest gap a 1 ms timer saw while the exposition was built: what ingest, the live page and",
    "every other request waited for. Milliseconds, median (min – max).",
    "",
    "| build | time | longest wait of the event loop |",
    "| --- | ---: | ---: |",
    row("in one piece (before)", whole),
    row("in 5 ms slices (now)", sliced),
  ].join("\n");
  return { whole, sliced, section };
}

if (import.meta.main) console.log((await measureFederate()).section);
