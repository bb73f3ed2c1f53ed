/**
 * The history thread's CPU per point (issue 14, target 1): a DurableStore fed the hand-overs
 * the Worker gets (lib/collector/history_worker.ts: `appendMany` per series, then `tick`),
 * timed by this process's CPU (user + system, so SQLite's writes count) around the store's
 * calls only. Two loads:
 *
 * - batch: what bench/honest.ts's batch row hands over at its ceiling, 10 instances x the
 *   agent's 4 metrics, 150 k samples a second (100 per frame, a frame's samples at one time),
 *   1.2 M samples: seal rounds start at the 1 M open points line, as they do there;
 * - steady: 200 instances x 4 metrics at 1 Hz for an hour of clock, 15-minute seal rounds:
 *   what a collector does all day (a rollup row rewritten per series and round);
 * - worker: the batch load through a real HistoryThread (lib/collector/history.ts), as the
 *   collector hands it over (`backpressure()` before each 100-sample frame, `appendFrame` and
 *   `touch` per frame, a tick every 150 k samples), timed by the history Worker thread's own
 *   CPU (/proc schedstat, ns), so the hand-over's cost on that thread counts.
 *
 *   deno run -A bench/history_store.ts [--reps 5] [--root DIR] [--only batch|steady|worker]
 *
 * `--root` runs another checkout's lib/store (e.g. `git archive` of an older commit), so two
 * versions compare in one session; run them alternately and compare medians.
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { agentMetrics } from "./frames.ts";
import { summarize } from "./stats.ts";
import { threadKind } from "./threads.ts";
import { blankView, type InstanceView } from "../lib/model/instance.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: { reps: { type: "string" }, root: { type: "string" }, only: { type: "string" } },
});
const root = args.root
  ? `file://${Deno.realPathSync(args.root)}/`
  : new URL("../", import.meta.url);
const { DurableStore } = await import(
  new URL("lib/store/durable.ts", root).href
) as typeof import("../lib/store/durable.ts");
const { HistoryThread } = await import(
  new URL("lib/collector/history.ts", root).href
) as typeof import("../lib/collector/history.ts");
const REPS = Number(args.reps ?? 5);
const METRICS = Object.keys(agentMetrics(1));
const T0 = Date.UTC(2026, 0, 1);

/**
 * One second's hand-over: per series [instance, metric, times, values, id of the time column];
 * an instance's series share one column, as a block's do in the Worker.
 */
type HandOver = Array<[string, string, Float64Array, Float64Array, number]>;
let columnIds = 0;

interface Load {
  name: string;
  /** Ticks (one a second of clock) and what each hands over. */
  ticks: number;
  handOver(tick: number, now: number): HandOver;
  points: number;
  samples: number;
}

function batchLoad(): Load {
  const instances = 10, batch = 100, perTick = 150_000, total = 1_200_000;
  const seq = new Array(instances).fill(0);
  let frame = 0;
  return {
    name: "batch",
    ticks: total / perTick,
    points: total * METRICS.length,
    samples: total,
    handOver(_tick, now) {
      const frames = perTick / batch;
      const bufs = new Map<number, { t: number[]; v: number[][] }>();
      for (let f = 0; f < frames; f++) {
        const i = frame++ % instances;
        const ts = now + Math.floor(f * 1000 / frames);
        let b = bufs.get(i);
        if (!b) bufs.set(i, b = { t: [], v: METRICS.map(() => []) });
        for (let j = 0; j < batch; j++) {
          const m = agentMetrics(++seq[i]);
          b.t.push(ts);
          METRICS.forEach((k, x) => b!.v[x].push(m[k]));
        }
      }
      const out: HandOver = [];
      for (const [i, b] of bufs) {
        const t = Float64Array.from(b.t), id = ++columnIds;
        for (let x = 0; x < METRICS.length; x++) {
          out.push([`i${i}`, METRICS[x], t, Float64Array.from(b.v[x]), id]);
        }
      }
      return out;
    },
  };
}

function steadyLoad(): Load {
  const instances = 200, seconds = 3600;
  return {
    name: "steady",
    ticks: seconds,
    points: instances * METRICS.length * seconds,
    samples: instances * seconds,
    handOver(tick, now) {
      const out: HandOver = [];
      for (let i = 0; i < instances; i++) {
        const m = agentMetrics(tick + i);
        const t = Float64Array.of(now + (i * 7 + tick) % 4), id = ++columnIds;
        for (const k of METRICS) out.push([`i${i}`, k, t, Float64Array.of(m[k]), id]);
      }
      return out;
    },
  };
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** One run: CPU ms in appendMany, in flush, and in the rest of tick (seal, retention). */
function run(load: Load): { append: number; flush: number; seal: number } {
  const dir = Deno.makeTempDirSync({ prefix: "zeroapm-history-store-" });
  const clock = { t: T0 };
  const store = DurableStore.open({ dir, now: () => clock.t });
  const spent = { append: 0, flush: 0, seal: 0 };
  try {
    for (let tick = 0; tick < load.ticks; tick++) {
      const handOver = load.handOver(tick, clock.t);
      const a = cpuMs();
      for (const [instance, metric, times, values, id] of handOver) {
        store.appendMany(instance, metric, times, values, id);
      }
      const b = cpuMs();
      store.flush();
      const c = cpuMs();
      store.tick();
      spent.append += b - a;
      spent.flush += c - b;
      spent.seal += cpuMs() - c;
      clock.t += 1000;
    }
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
  return spent;
}

/**
 * CPU ns of this process's history Worker thread(s) so far, from /proc/self/task/<tid>/schedstat
 * (nanoseconds on a CPU; `stat`'s 10 ms ticks were 3 % of a run's figure).
 */
function historyNs(): number {
  let ns = 0;
  for (const e of Deno.readDirSync("/proc/self/task")) {
    try {
      const name = Deno.readTextFileSync(`/proc/self/task/${e.name}/comm`).trim();
      if (threadKind(name) !== "history") continue;
      ns += Number(Deno.readTextFileSync(`/proc/self/task/${e.name}/schedstat`).split(" ")[0]);
    } catch { /* ended since the listing */ }
  }
  return ns;
}

/** The batch load through a HistoryThread: the Worker thread's CPU µs per sample, per run. */
async function workerRuns(reps: number): Promise<number[]> {
  const instances = 10, batch = 100, perTick = 150_000, total = 1_200_000;
  const dir = Deno.makeTempDirSync({ prefix: "zeroapm-history-worker-" });
  const clock = { t: T0 };
  const thread = await HistoryThread.open({ dir, now: () => clock.t });
  const views = Array.from({ length: instances }, (_, i): InstanceView => ({
    ...blankView(`svc/i${i}`, "svc", `i${i}`, "#4e79a7", "live"),
    pid: 1,
    firstSeen: T0,
    lastSeen: T0,
  }));
  const seq = new Array(instances).fill(0);
  const run = async () => {
    let frame = 0;
    for (let done = 0; done < total; done += batch) {
      const i = frame++ % instances;
      const samples = Array.from({ length: batch }, () => ({
        t: clock.t,
        metrics: agentMetrics(++seq[i]),
      }));
      const wait = thread.backpressure();
      if (wait) await wait;
      thread.appendFrame(views[i].id, METRICS, samples);
      thread.touch(views[i], seq[i], null);
      if ((done + batch) % perTick === 0) {
        clock.t += 1000;
        await thread.tick();
      }
    }
    await thread.tick();
  };
  const out: number[] = [];
  try {
    await run(); // warm-up: the JIT, SQLite
    for (let r = 0; r < reps; r++) {
      const before = historyNs();
      await run();
      out.push((historyNs() - before) / 1000 / total);
    }
  } finally {
    await thread.close();
    Deno.removeSync(dir, { recursive: true });
  }
  return out;
}

const loads = [batchLoad, steadyLoad].map((f) => f()).filter((l) =>
  !args.only || l.name === args.only
);
const results: Record<string, unknown> = { root: String(root), reps: REPS };
if (!args.only || args.only === "worker") {
  const runs = await workerRuns(REPS);
  const s = summarize(runs);
  console.error(
    `worker: history Worker thread us/sample ${s.median.toFixed(3)} (${s.min.toFixed(3)} - ${
      s.max.toFixed(3)
    })`,
  );
  results.worker = { samples: 1_200_000, runs };
}
for (const load of loads) {
  run(load); // warm-up: the JIT, SQLite
  const runs = Array.from({ length: REPS }, () => run(load));
  const per = (f: (r: { append: number; flush: number; seal: number }) => number) =>
    summarize(runs.map((r) => f(r) * 1000 / load.points));
  const total = per((r) => r.append + r.flush + r.seal);
  const line = (label: string, s: { median: number; min: number; max: number }) =>
    `${label} ${s.median.toFixed(3)} (${s.min.toFixed(3)} - ${s.max.toFixed(3)})`;
  console.error(
    `${load.name}: us/point ${line("total", total)}; ${line("append", per((r) => r.append))}; ${
      line("flush", per((r) => r.flush))
    }; ${line("seal+rest", per((r) => r.seal))}; us/sample ${
      (total.median * load.points / load.samples).toFixed(3)
    }`,
  );
  results[load.name] = { points: load.points, samples: load.samples, runs };
}
console.log(JSON.stringify(results));
