/**
 * What a heap-profiling window costs (issue 17): two copies of the same leaking app
 * (bench/heap_app.ts) run side by side, one with heap profiling on, one with it off. This
 * process reads both apps' CPU (utime + stime of /proc/<pid>/stat) and VmRSS every 250 ms and
 * receives their frames on a real PULL socket. The profile frame marks the end of the
 * profiling window, which began `windowMs` earlier; the cost is on minus off, as % of one
 * core and MiB, over that window and over the time before it (profiler not loaded: the
 * difference there is what two identical apps differ by, i.e. noise).
 *
 * Run alone: `deno run -A bench/heap_profile_cost.ts` (prints the report section);
 * `deno task bench` runs it last.
 *
 * @module
 */
import { isHeapProfileFrame } from "../lib/protocol_profile.ts";
import { bindPull } from "../lib/transport/zmq.ts";
import { summarize } from "./stats.ts";

/** One repetition: on minus off over the window and before it. */
export interface HeapCostRep {
  /** CPU, % of one core, of each app over the profiling window and before it. */
  windowCpu: { on: number; off: number };
  beforeCpu: { on: number; off: number };
  /** Median VmRSS, MiB, of each app over the window and before it. */
  windowRss: { on: number; off: number };
  beforeRss: { on: number; off: number };
  /**
   * Median RssAnon, MiB, over the window: the private part of VmRSS. The rest is file-backed,
   * mostly the runtime's own code pages (the inspector's, first run in the window), shared
   * with every process of that executable (bench/heap_window_rss.ts). Absent in older results.
   */
  windowAnon?: { on: number; off: number };
  /** Seconds from the apps' start to the profile frame. */
  profiledAfterS: number;
}

/** Everything the heap-profile benchmark measured. */
export interface HeapCostResults {
  reps: HeapCostRep[];
  windowMs: number;
  samplingInterval: number;
}

const WINDOW_MS = 20_000;
const CLK_TCK = 100;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function reading(pid: number): Promise<{ cpuMs: number; rss: number; anon: number }> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s*(\\d+)\\s*kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
  return {
    cpuMs: (Number(f[11]) + Number(f[12])) * 1000 / CLK_TCK,
    rss: kb("VmRSS"),
    anon: kb("RssAnon"),
  };
}

/** Run `reps` repetitions. */
export async function runHeapProfileCost(
  reps = 3,
  log: (s: string) => void = () => {},
): Promise<HeapCostResults> {
  let profiledAt = 0;
  const pull = await bindPull("tcp://127.0.0.1:*", {
    onFrame(frame) {
      if (isHeapProfileFrame(frame)) profiledAt = performance.now();
    },
  });
  const out: HeapCostRep[] = [];
  try {
    for (let rep = 0; rep < reps; rep++) {
      profiledAt = 0;
      const app = (mode: string) =>
        new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            new URL("./heap_app.ts", import.meta.url).pathname,
            pull.endpoint,
            mode,
          ],
          stdin: "null",
          stdout: "null",
          stderr: "inherit",
        }).spawn();
      const modes = rep % 2 ? ["off", "on"] : ["on", "off"];
      const kids = Object.fromEntries(modes.map((m) => [m, app(m)])) as Record<
        "on" | "off",
        Deno.ChildProcess
      >;
      const t0 = performance.now();
      const series: Array<
        {
          t: number;
          on: Awaited<ReturnType<typeof reading>>;
          off: Awaited<ReturnType<typeof reading>>;
        }
      > = [];
      try {
        let end = Infinity;
        while (performance.now() < end && performance.now() - t0 < 180_000) {
          const [on, off] = await Promise.all([reading(kids.on.pid), reading(kids.off.pid)]);
          series.push({ t: performance.now(), on, off });
          if (profiledAt && end === Infinity) end = profiledAt + 1000;
          await sleep(250);
        }
      } finally {
        for (const k of Object.values(kids)) k.kill("SIGTERM");
        await Promise.all(Object.values(kids).map((k) => k.status));
      }
      if (!profiledAt) throw new Error("no heap profile within 180 s");
      const winFrom = profiledAt - WINDOW_MS;
      // Before: from 5 s after start (runtimes loaded) to 1 s before the window.
      const part = (from: number, to: number) => series.filter((s) => s.t >= from && s.t <= to);
      const cpu = (xs: typeof series, k: "on" | "off") =>
        (xs.at(-1)![k].cpuMs - xs[0][k].cpuMs) / (xs.at(-1)!.t - xs[0].t) * 100;
      const rss = (xs: typeof series, k: "on" | "off", of: "rss" | "anon" = "rss") =>
        summarize(xs.map((s) => s[k][of] / 2 ** 20)).median;
      const win = part(winFrom, profiledAt);
      const before = part(t0 + 5000, winFrom - 1000);
      const r: HeapCostRep = {
        windowCpu: { on: cpu(win, "on"), off: cpu(win, "off") },
        beforeCpu: { on: cpu(before, "on"), off: cpu(before, "off") },
        windowRss: { on: rss(win, "on"), off: rss(win, "off") },
        beforeRss: { on: rss(before, "on"), off: rss(before, "off") },
        windowAnon: { on: rss(win, "on", "anon"), off: rss(win, "off", "anon") },
        profiledAfterS: (profiledAt - t0) / 1000,
      };
      out.push(r);
      log(
        `rep ${rep + 1}/${reps}: profile after ${r.profiledAfterS.toFixed(0)} s; window CPU on ${
          r.windowCpu.on.toFixed(2)
        } % off ${r.windowCpu.off.toFixed(2)} %, RSS on ${r.windowRss.on.toFixed(1)} off ${
          r.windowRss.off.toFixed(1)
        } MiB (private ${
          (r.windowAnon!.on - r.windowAnon!.off).toFixed(1)
        } MiB more); before CPU on ${r.beforeCpu.on.toFixed(2)} % off ${
          r.beforeCpu.off.toFixed(2)
        } %, RSS on ${r.beforeRss.on.toFixed(1)} off ${r.beforeRss.off.toFixed(1)} MiB`,
      );
    }
  } finally {
    await pull.close();
  }
  return { reps: out, windowMs: WINDOW_MS, samplingInterval: 32 * 1024 };
}

/** The "Heap profile cost" section of docs/benchmarks.md. */
export function renderHeapProfileCost(h: HeapCostResults, p: (s?: string) => void): void {
  const med = (xs: number[]) => summarize(xs).median;
  const f = (x: number, d = 2) => x.toFixed(d);
  const d = (sel: (r: HeapCostRep) => { on: number; off: number }) =>
    h.reps.map((r) => sel(r).on - sel(r).off);
  const range = (xs: number[], dd = 2) => `${f(Math.min(...xs), dd)} … ${f(Math.max(...xs), dd)}`;
  const winCpu = d((r) => r.windowCpu);
  const befCpu = d((r) => r.beforeCpu);
  const winRss = d((r) => r.windowRss);
  const befRss = d((r) => r.beforeRss);
  p("## Heap profile cost");
  p();
  p(
    `What one heap-profiling window costs a leaking app (bench/heap_profile_cost.ts): two copies of the same app (bench/heap_app.ts, leaking ~0.3 MB/s in \`retainOrders\`, agent at 1 Hz) side by side, heap profiling on in one and off (\`heapProfile: false\`) in the other. CPU is utime + stime from /proc/<pid>/stat, RSS is VmRSS, both read every 250 ms. The window is the ${
      h.windowMs / 1000
    } s before the profile frame arrived (V8's sampling heap profiler at ${
      h.samplingInterval / 1024
    } KiB, two profiles, the inspector loaded at its start); "before" is from 5 s after start to 1 s before the window, when the profiler is not loaded. ${h.reps.length} repetitions; cost = on minus off; the "before" difference is what two identical apps differ by (noise).`,
  );
  p();
  p("| | CPU, % of one core (median, range) | extra RSS, MiB (median, range) | target |");
  p("|---|---|---|---|");
  p(
    `| profiling window | ${f(med(winCpu))} (${range(winCpu)}) | ${f(med(winRss), 1)} (${
      range(winRss, 1)
    }) | ≤ 2 % and ≤ 5 MiB: ${med(winCpu) <= 2 && med(winRss) <= 5 ? "met" : "**not met**"} |`,
  );
  p(
    `| before (nothing loaded) | ${f(med(befCpu))} (${range(befCpu)}) | ${f(med(befRss), 1)} (${
      range(befRss, 1)
    }) | 0 (within noise) |`,
  );
  p();
  const anon = h.reps.every((r) => r.windowAnon) ? d((r) => r.windowAnon!) : null;
  if (anon) {
    p(
      `Of the window's extra RSS, ${f(med(anon), 1)} MiB (${
        range(anon, 1)
      }) is private (RssAnon); the rest is file-backed: code of the runtime that only the inspector runs, paged in from the executable and shared with every process running it. Where it goes step by step: \`deno run -A bench/heap_window_rss.ts\`.`,
    );
    p();
  }
  p(
    `The profile frame arrived ${
      range(h.reps.map((r) => r.profiledAfterS), 0)
    } s after the apps started.`,
  );
  p();
}

if (import.meta.main) {
  const h = await runHeapProfileCost(3, (s) => console.error(s));
  const L: string[] = [];
  renderHeapProfileCost(h, (s = "") => L.push(s));
  console.log(L.join("\n"));
}
