/**
 * Where a heap-profiling window's resident memory goes (the "Heap profile cost" row's
 * extra RSS, bench/heap_profile_cost.ts), step by step, in one process per run: the agent's
 * modules loaded, then the window's steps as lib/agent/heap_profile.ts takes them (load
 * `node:inspector` and the window's own modules, connect, start V8's sampling heap profiler at
 * 32 KiB, a profile and its site totals, a second one with the report encoded, stop and
 * disconnect), the app leaking as bench/heap_app.ts does. VmRSS, RssAnon and RssFile
 * (/proc/self/status) are read 700 ms after each step, as growth since the step before.
 *
 * Three kinds of run, alternated: `full` (all of the above), `inspector` (the inspector's
 * steps only: none of our window modules, no site totals, no report) and `none` (the same
 * waits, nothing loaded: what the leak and the runtime grow by meanwhile). `full` minus
 * `inspector` is our code's share; `inspector` minus `none` what V8's inspector under this
 * Deno costs whoever uses it.
 *
 * `deno run -A bench/heap_window_rss.ts [runs per kind, default 3]` prints a Markdown table.
 *
 * @module
 */
import { summarize } from "./stats.ts";

const KINDS = ["full", "inspector", "none"] as const;
type Kind = typeof KINDS[number];
const STEPS = [
  "load the inspector (and our modules)",
  "connect + startSampling",
  "5 s sampling, profile 1 + site totals",
  "5 s sampling, profile 2 + report",
  "stopSampling + disconnect",
] as const;

interface Reading {
  rss: number;
  anon: number;
  file: number;
}

function reading(): Reading {
  const s = Deno.readTextFileSync("/proc/self/status");
  const kib = (k: string) => Number(new RegExp(`^${k}:\\s*(\\d+)`, "m").exec(s)?.[1] ?? NaN);
  return { rss: kib("VmRSS") / 1024, anon: kib("RssAnon") / 1024, file: kib("RssFile") / 1024 };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One run of `kind`: growth per step, MiB. */
async function child(kind: Kind): Promise<Reading[]> {
  await import("../lib/agent/mod.ts"); // what an app with the agent has loaded already
  const orders: number[][] = [];
  const leak = setInterval(() => { // bench/heap_app.ts's leak: ~0.3 MB/s
    for (let i = 0; i < 50; i++) {
      const order: number[] = [];
      for (let j = 0; j < 64; j++) order.push(i * j + 0.5);
      orders.push(order);
    }
  }, 100);
  await sleep(3000);
  const out: Reading[] = [];
  let last = reading();
  const step = async () => {
    await sleep(700);
    const r = reading();
    out.push({ rss: r.rss - last.rss, anon: r.anon - last.anon, file: r.file - last.file });
    last = r;
  };
  if (kind === "none") {
    for (const ms of [0, 0, 5000, 5000, 0]) await sleep(ms).then(step);
  } else {
    const full = kind === "full";
    const [inspector, mods] = await Promise.all([
      import("node:inspector"),
      full
        ? Promise.all([
          import("../lib/agent/heap_sites.ts"),
          import("../lib/agent/heap_lines.ts"),
          import("../lib/protocol_profile.ts"),
        ])
        : null,
    ]);
    await step();
    const session = new inspector.Session();
    session.connect();
    const post = (method: string, params: object = {}) =>
      new Promise<unknown>((resolve, reject) =>
        session.post(method, params, (err, res) => err ? reject(err) : resolve(res))
      );
    await post("HeapProfiler.startSampling", { samplingInterval: 32 * 1024 });
    await step();
    // deno-lint-ignore no-explicit-any
    const profile = async () => ((await post("HeapProfiler.getSamplingProfile")) as any).profile;
    await sleep(5000);
    const first = mods ? mods[0].siteTotals(await profile()) : await profile();
    await step();
    await sleep(5000);
    const second = await profile();
    if (mods) {
      const [{ siteTotals, topSites }, { sourceLines }, { encodeHeapProfile }] = mods;
      const { sites, totalBytes, totalGrowth } = topSites(first, siteTotals(second), 10);
      encodeHeapProfile({
        service: "bench",
        instance: "bench",
        pid: Deno.pid,
        at: Date.now(),
        spanMs: 5000,
        samplingInterval: 32 * 1024,
        heapUsedBytes: 0,
        totalBytes,
        totalGrowth,
        sites: sourceLines(sites),
      });
    }
    await step();
    await post("HeapProfiler.stopSampling");
    session.disconnect();
    await step();
  }
  clearInterval(leak);
  return out;
}

if (import.meta.main) {
  if (Deno.args[0] === "--child") {
    console.log(JSON.stringify(await child(Deno.args[1] as Kind)));
    Deno.exit(0);
  }
  const runs = Number(Deno.args[0] ?? 3);
  const got: Record<Kind, Reading[][]> = { full: [], inspector: [], none: [] };
  for (let r = 0; r < runs; r++) {
    for (const kind of r % 2 ? [...KINDS].reverse() : KINDS) {
      const { stdout } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL(import.meta.url).pathname, "--child", kind],
        stderr: "inherit",
      }).output();
      got[kind].push(JSON.parse(new TextDecoder().decode(stdout)));
      console.error(`run ${r + 1}/${runs} ${kind} done`);
    }
  }
  const cell = (kind: Kind, i: number | null, k: keyof Reading) => {
    const xs = got[kind].map((run) => i === null ? run.reduce((n, s) => n + s[k], 0) : run[i][k]);
    const s = summarize(xs);
    return `${s.median.toFixed(2)} (${s.min.toFixed(2)} … ${s.max.toFixed(2)})`;
  };
  console.log(
    `Growth per step, MiB, median (range) of ${runs} runs per kind; RSS = anon + file-backed.\n`,
  );
  console.log(
    "| step | full: RSS | full: anon | full: file | inspector only: RSS | nothing loaded: RSS |",
  );
  console.log("|---|---|---|---|---|---|");
  [...STEPS.map((s, i) => [s, i] as const), ["whole window", null] as const].forEach(
    ([name, i]) =>
      console.log(
        `| ${name} | ${cell("full", i, "rss")} | ${cell("full", i, "anon")} | ${
          cell("full", i, "file")
        } | ${cell("inspector", i, "rss")} | ${cell("none", i, "rss")} |`,
      ),
  );
}
