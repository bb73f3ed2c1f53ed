/**
 * Where the built agent's CPU goes, by thread (issue 14, target 2): the apps of
 * bench/agent_rss.ts, side by side, each one's CPU over a window read per thread from
 * /proc/<pid>/task/<tid>/schedstat (ns) and grouped by thread name (the main thread
 * `deno`, V8's compiler and GC helpers, tokio's). It tells JavaScript run on the main
 * thread from V8's background work (JIT compiles, concurrent GC) that the same code causes.
 *
 * `deno run -A bench/agent_threads.ts [--reps 3] [--apps 2] [--warm 5] [--window 60]
 * [--idle] [--bundles NAME=DIR,...] [variant,...]` (default variants: base,floor,built).
 * `--idle` leaves the workload out: an app's CPU is then its reporter's and the runtime's
 * alone, which shows a change of tens of µs a second that the workload's noise hides.
 *
 * Prints per variant the median over repetitions (of each app's figure) of the CPU per
 * second by thread group, µs/s, and the others minus the first variant.
 *
 * @module
 */
import { bindPull } from "../lib/transport/zmq.ts";
import { bundleAgent } from "../lib/cmd/build_agent.ts";
import { PROLOGUE, spawnVariant, VARIANTS } from "./agent_rss.ts";
import { lowerMedian, takeOption } from "./stats.ts";

/** ns of CPU per thread group of one process (main thread, V8 workers, the rest). */
async function threadCpu(pid: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for await (const e of Deno.readDir(`/proc/${pid}/task`)) {
    try {
      const comm = (await Deno.readTextFile(`/proc/${pid}/task/${e.name}/comm`)).trim();
      const ns = Number(
        (await Deno.readTextFile(`/proc/${pid}/task/${e.name}/schedstat`))
          .split(" ")[0],
      );
      const group = Number(e.name) === pid ? "main" : comm.startsWith("V8") ? "v8" : "other";
      out[group] = (out[group] ?? 0) + ns;
      out.all = (out.all ?? 0) + ns;
    } catch { /* the thread ended */ }
  }
  return out;
}

async function main() {
  const args = [...Deno.args];
  const opt = (name: string, dflt: string) => takeOption(args, name, dflt);
  const reps = Number(opt("--reps", "3"));
  const apps = Number(opt("--apps", "2"));
  const warmMs = Number(opt("--warm", "5")) * 1000;
  const windowMs = Number(opt("--window", "60")) * 1000;
  for (const pair of opt("--bundles", "").split(",").filter(Boolean)) {
    const [name, dir] = pair.split("=");
    VARIANTS[name] = VARIANTS.built.replace(
      '"./agent/mod.js"',
      JSON.stringify(`file://${dir}/mod.js`),
    );
  }
  // `--flags "ARGS"`: Deno arguments for variants whose name ends in "+" (a diagnosis, e.g.
  // `--v8-flags=--no-maglev`): `old+` is `old` run with them.
  const flags = opt("--flags", "").split(" ").filter(Boolean);
  const idle = args.includes("--idle");
  if (idle) args.splice(args.indexOf("--idle"), 1);
  const names = (args[0] ?? "base,floor,built").split(",");
  await Deno.mkdir(new URL("../tmp/", import.meta.url), { recursive: true });
  const dir = `${await Deno.makeTempDir({
    dir: new URL("../tmp/", import.meta.url).pathname,
    prefix: "agent-threads-",
  })}/`;
  const pull = await bindPull("tcp://127.0.0.1:*", { onFrame() {}, onError() {} });
  const sink = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const c of sink) c.readable.pipeTo(new WritableStream()).catch(() => {});
  })().catch(() => {});
  try {
    if (names.includes("built")) await bundleAgent(`${dir}agent`);
    // `--idle`: no workload, so an app's CPU is its reporter's alone (and the runtime's).
    await Deno.writeTextFile(
      `${dir}prologue.js`,
      idle ? "setInterval(() => {}, 1 << 30);\n" : PROLOGUE,
    );
    for (const n of names) {
      if (n.endsWith("+")) VARIANTS[n] = VARIANTS[n.slice(0, -1)];
      await Deno.writeTextFile(`${dir}v_${n}.js`, `import "./prologue.js";\n${VARIANTS[n]}\n`);
    }
    const rows: Record<string, Array<Record<string, number>>> = {};
    for (let r = 0; r < reps; r++) {
      const order = Array.from({ length: apps }, () => names).flat();
      const rot = order.map((_, i) => order[(i + r) % order.length]);
      const kids = rot.map((name) => ({
        name,
        child: spawnVariant(
          dir,
          name,
          name.endsWith("+") ? flags : [],
          [pull.endpoint.split(":").pop()!, String(sink.addr.port)],
          "inherit",
        ),
      }));
      await new Promise((ok) => setTimeout(ok, warmMs));
      const t0 = await Promise.all(kids.map((k) => threadCpu(k.child.pid)));
      await new Promise((ok) => setTimeout(ok, windowMs));
      const t1 = await Promise.all(kids.map((k) => threadCpu(k.child.pid)));
      kids.forEach((k, i) => {
        const row: Record<string, number> = {};
        for (const g of ["all", "main", "v8", "other"]) {
          row[g] = ((t1[i][g] ?? 0) - (t0[i][g] ?? 0)) / 1000 / (windowMs / 1000);
        }
        (rows[k.name] ??= []).push(row);
        k.child.kill("SIGKILL");
      });
      await Promise.all(kids.map((k) => k.child.status));
      console.error(`repetition ${r + 1}/${reps} done`);
    }
    const groups = ["all", "main", "v8", "other"];
    const first = names[0];
    console.log(
      `| variant (µs CPU a second, median of ${reps} x ${apps}; ${first} absolute, others minus it) | ${
        groups.join(" | ")
      } | all min – max |`,
    );
    console.log(`| --- | ${groups.map(() => "---:").join(" | ")} | ---: |`);
    for (const n of names) {
      const cells = groups.map((g) => {
        const m = lowerMedian(rows[n].map((x) => x[g]));
        if (n === first) return m.toFixed(0);
        const d = m - lowerMedian(rows[first].map((x) => x[g]));
        return `${d >= 0 ? "+" : ""}${d.toFixed(0)}`;
      });
      const all = rows[n].map((x) => x.all);
      console.log(
        `| ${n} | ${cells.join(" | ")} | ${Math.min(...all).toFixed(0)} – ${
          Math.max(...all).toFixed(0)
        } |`,
      );
    }
  } finally {
    sink.close();
    await pull.close();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
