/**
 * What the built agent wakes its app for (issue 14, target 2): per app, side by side, the
 * timer firings and timers created each second, the main thread's context switches, CPU
 * (`Deno.cpuUsage()`: all threads, those that ended too) and, with `--alloc`, the JavaScript
 * heap allocated each second.
 *
 * `deno run -A bench/agent_firings.ts [--apps 5] [--window 60] [--idle] [--alloc] [--module URL]`
 *
 * Three kinds of app run `--apps` times each: `plain` (nothing but the workload), `floor`
 * (bench/agent_app.ts's floor reporter: memory and CPU read, `JSON.stringify`, one TCP write
 * a second) and `agent` (`createAgent` from `deno task build-agent`'s bundle, built into
 * tmp/, or `--module`, pushing to a real PULL socket here). Every app runs the agent-cost
 * app's 10 ms workload unless `--idle`. Each app wraps `setTimeout` and `setInterval`
 * before the agent loads: a timer of 100 ms or more is the agent's or the floor's (the
 * workload's is 10 ms), and the app counts those created and their firings over the window
 * (from 5 s after its start). `--alloc` runs the apps with a 32 MiB young generation, so no
 * scavenge falls in the window and the growth of `heapUsed` over it is what was allocated.
 *
 * Prints per kind the median over its apps (min – max), per second.
 *
 * @module
 */
import { bindPull } from "../lib/transport/zmq.ts";
import { bundleAgent } from "../lib/cmd/build_agent.ts";
import { lowerMedian, takeOption } from "./stats.ts";

/** Seconds before the window starts (the agent connects, V8 warms up). */
const WARM_S = 5;

/**
 * The app: argv = kind ("plain" | "floor" | "agent"), module URL, PULL port, sink port,
 * window s, idle ("1" or ""). Prints one JSON line at the window's end, then idles until
 * killed (the parent reads /proc at the same times).
 */
const APP = `const [kind, mod, port, sinkPort, win, idle] = Deno.args;
const si = globalThis.setInterval, st = globalThis.setTimeout;
let on = false;
const c = { created: 0, fired: 0 };
const hook = (fn, ms) => ms >= 100 ? (...a) => { if (on) c.fired++; return fn(...a); } : fn;
globalThis.setInterval = (fn, ms, ...a) => { if (on && ms >= 100) c.created++; return si(hook(fn, ms), ms, ...a); };
globalThis.setTimeout = (fn, ms, ...a) => { if (on && ms >= 100) c.created++; return st(hook(fn, ms), ms, ...a); };
let i = 0, sink = 0;
if (!idle) si(() => { const r = JSON.parse(JSON.stringify({ id: i, items: [i, i + 1, i + 2, i + 3, i + 4] })); i++; for (const x of r.items) sink += x; }, 10);
else si(() => {}, 1 << 30);
if (kind === "floor") {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(sinkPort) });
  const enc = new TextEncoder(); let seq = 0;
  setInterval(async () => {
    const reading = { seq: seq++, t: Date.now(), mem: Deno.memoryUsage(), cpu: Deno.cpuUsage() };
    await conn.write(enc.encode(JSON.stringify(reading) + "\\n"));
  }, 1000);
} else if (kind === "agent") {
  const M = mod;
  const { createAgent } = await import(M);
  globalThis.__agent = createAgent({ service: "firings", collector: "tcp://127.0.0.1:" + port });
}
st(() => {
  on = true;
  const h0 = Deno.memoryUsage().heapUsed;
  const u0 = Deno.cpuUsage();
  st(() => {
    on = false;
    const u1 = Deno.cpuUsage();
    const cpu = u1.user + u1.system - u0.user - u0.system;
    const alloc = Deno.memoryUsage().heapUsed - h0;
    console.log(JSON.stringify({ kind, ...c, cpu, alloc, sink: sink >= 0 }));
  }, Number(win) * 1000);
}, ${WARM_S * 1000});
`;

/** Voluntary + involuntary context switches of a process's main thread. */
async function switches(pid: number): Promise<number> {
  const s = await Deno.readTextFile(`/proc/${pid}/status`);
  const n = (f: string) => Number(new RegExp(`^${f}:\\s*(\\d+)`, "m").exec(s)?.[1] ?? NaN);
  return n("voluntary_ctxt_switches") + n("nonvoluntary_ctxt_switches");
}

async function main() {
  const args = [...Deno.args];
  const apps = Number(takeOption(args, "--apps", "5"));
  const window = Number(takeOption(args, "--window", "60"));
  let module = takeOption(args, "--module", "");
  const idle = args.includes("--idle");
  const alloc = args.includes("--alloc");
  await Deno.mkdir(new URL("../tmp/", import.meta.url), { recursive: true });
  const dir = await Deno.makeTempDir({
    dir: new URL("../tmp/", import.meta.url).pathname,
    prefix: "agent-firings-",
  });
  const pull = await bindPull("tcp://127.0.0.1:*", { onFrame() {}, onError() {} });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const c of listener) c.readable.pipeTo(new WritableStream()).catch(() => {});
  })().catch(() => {});
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    if (!module) {
      await bundleAgent(`${dir}/agent`);
      module = new URL(`file://${dir}/agent/mod.js`).href;
    }
    await Deno.writeTextFile(`${dir}/app.js`, APP);
    const flags = alloc ? ["--v8-flags=--min-semi-space-size=32,--max-semi-space-size=32"] : [];
    const spawn = (kind: string) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          ...flags,
          `${dir}/app.js`,
          kind,
          module,
          pull.endpoint.split(":").pop()!,
          String(listener.addr.port),
          String(window),
          idle ? "1" : "",
        ],
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
    // One warm-up run of the agent: a module's first run has no V8 code cache yet.
    const warm = spawn("agent");
    await sleep(3000);
    warm.kill("SIGKILL");
    await warm.status;
    const kinds = Array.from({ length: apps }, () => ["plain", "floor", "agent"]).flat();
    const kids = kinds.map((kind) => ({ kind, child: spawn(kind) }));
    await sleep(WARM_S * 1000);
    const at0 = await Promise.all(
      kids.map((k) => switches(k.child.pid)),
    );
    await sleep(window * 1000);
    const at1 = await Promise.all(
      kids.map((k) => switches(k.child.pid)),
    );
    const rows: Record<string, Array<Record<string, number>>> = {};
    for (const [i, k] of kids.entries()) {
      const reader = k.child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      while (!text.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
      k.child.kill("SIGKILL");
      await reader.cancel();
      await k.child.status;
      const o = JSON.parse(text);
      (rows[k.kind] ??= []).push({
        "CPU µs": o.cpu / window,
        "context switches": (at1[i] - at0[i]) / window,
        "timer firings": o.fired / window,
        "timers created": o.created / window,
        ...(alloc ? { "heap bytes allocated": o.alloc / window } : {}),
      });
    }
    const cols = Object.keys(rows.plain[0]);
    console.log(
      `| app (${apps} each, ${window} s, ${
        idle ? "idle" : "10 ms workload"
      }; per second, median (min – max)) | ${cols.join(" | ")} |`,
    );
    console.log(`| --- | ${cols.map(() => "---:").join(" | ")} |`);
    for (const [kind, rs] of Object.entries(rows)) {
      const cell = (c: string) => {
        const xs = rs.map((r) => r[c]);
        const f = (x: number) => x.toFixed(x >= 100 ? 0 : 2);
        return `${f(lowerMedian(xs))} (${f(Math.min(...xs))} – ${f(Math.max(...xs))})`;
      };
      console.log(`| ${kind} | ${cols.map(cell).join(" | ")} |`);
    }
  } finally {
    listener.close();
    await pull.close();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
