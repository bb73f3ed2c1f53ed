/**
 * CPU of one 1 Hz tick, the built agent beside the floor reporter (issue 14, target 2):
 * `deno run -A bench/agent_tick.ts [--apps 2] [--window 30] [--module URL]`.
 *
 * bench/agent_cost.ts compares whole processes, whose CPU over a window varies by a few
 * hundred µs a second from run to run on a shared machine: more than the agent's own work
 * per second. This measures that work alone: each app hooks its 1 s timer callback and its
 * TCP connection's `write`, and takes `Deno.cpuUsage()` (user + system) when the callback
 * starts and when the write it leads to resolves; the median over the window is the tick's
 * CPU. Timer machinery before the callback, and what runs after the write, are outside it.
 * Every app runs the agent-cost app's 10 ms workload (bench/agent_app.ts). The agent is
 * `deno task build-agent`'s bundle (built into tmp/, or `--module`), pushing to a real PULL
 * socket here; the floor reporter (bench/agent_app.ts's) writes to a TCP sink here. Apps of
 * both kinds run side by side, `--apps` of each.
 *
 * A tick runs cold (the process slept ~10 ms, its caches went to other processes), so a few
 * µs of warm work cost tens here: docs/benchmarks-changes.md, stop 34.
 *
 * @module
 */
import { bindPull } from "../lib/transport/zmq.ts";
import { bundleAgent } from "../lib/cmd/build_agent.ts";
import { lowerMedian } from "./stats.ts";

/** The app: argv = kind ("agent" | "floor"), module URL, port, window s. Prints one JSON line. */
const APP = `const [kind, mod, port, win] = Deno.args;
const cpu = () => { const u = Deno.cpuUsage(); return u.user + u.system; };
let t0 = null; let ticks = [];
const si = globalThis.setInterval, st = globalThis.setTimeout;
const hook = (fn, ms) => ms >= 500 && ms <= 2000 ? (...a) => { t0 = cpu(); return fn(...a); } : fn;
globalThis.setInterval = (fn, ms, ...a) => si(hook(fn, ms), ms, ...a);
globalThis.setTimeout = (fn, ms, ...a) => st(hook(fn, ms), ms, ...a);
const connect = Deno.connect;
Deno.connect = async (...a) => {
  const c = await connect(...a);
  const write = c.write.bind(c);
  c.write = async (b) => { const n = await write(b); if (t0 !== null) { ticks.push(cpu() - t0); t0 = null; } return n; };
  return c;
};
let i = 0, sink = 0;
si(() => { const r = JSON.parse(JSON.stringify({ id: i, items: [i, i + 1, i + 2, i + 3, i + 4] })); i++; for (const x of r.items) sink += x; }, 10);
if (kind === "floor") {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  const enc = new TextEncoder(); let seq = 0;
  setInterval(async () => {
    const reading = { seq: seq++, t: Date.now(), mem: Deno.memoryUsage(), cpu: Deno.cpuUsage() };
    await conn.write(enc.encode(JSON.stringify(reading) + "\\n"));
  }, 1000);
} else {
  const M = mod;
  const { createAgent } = await import(M);
  globalThis.__agent = createAgent({ service: "tick", collector: "tcp://127.0.0.1:" + port });
}
st(() => {
  ticks = [];
  st(() => {
    console.log(JSON.stringify({ kind, ticks, sink: sink > 0 }));
    Deno.exit(0);
  }, Number(win) * 1000);
}, 5000);
`;

async function main() {
  const arg = (name: string, d: string) => {
    const i = Deno.args.indexOf(`--${name}`);
    return i < 0 ? d : Deno.args[i + 1];
  };
  const apps = Number(arg("apps", "2"));
  const window = Number(arg("window", "30"));
  await Deno.mkdir(new URL("../tmp/", import.meta.url), { recursive: true });
  const dir = await Deno.makeTempDir({
    dir: new URL("../tmp/", import.meta.url).pathname,
    prefix: "agent-tick-",
  });
  const pull = await bindPull("tcp://127.0.0.1:*", { onFrame() {}, onError() {} });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const c of listener) c.readable.pipeTo(new WritableStream()).catch(() => {});
  })().catch(() => {});
  try {
    let module = arg("module", "");
    if (!module) {
      await bundleAgent(`${dir}/agent`);
      module = new URL(`file://${dir}/agent/mod.js`).href;
    }
    await Deno.writeTextFile(`${dir}/app.js`, APP);
    const run = (kind: string, port: number) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", `${dir}/app.js`, kind, module, String(port), String(window)],
        stdout: "piped",
        stderr: "inherit",
      }).output().then((o) => JSON.parse(new TextDecoder().decode(o.stdout)));
    // One warm-up run: a module's first run has no V8 code cache yet.
    await run("agent", Number(pull.endpoint.split(":").pop()));
    const kinds = Array.from({ length: apps }, () => ["agent", "floor"]).flat();
    const out = await Promise.all(
      kinds.map((k) =>
        run(k, k === "agent" ? Number(pull.endpoint.split(":").pop()) : listener.addr.port)
      ),
    ) as Array<{ kind: string; ticks: number[] }>;
    for (const o of out) {
      const mean = o.ticks.reduce((a, b) => a + b, 0) / o.ticks.length;
      console.log(
        `${o.kind.padEnd(6)} ticks ${o.ticks.length}: CPU per tick median ${
          lowerMedian(o.ticks)
        } µs, ` +
          `mean ${mean.toFixed(0)} µs`,
      );
    }
  } finally {
    listener.close();
    await pull.close();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
