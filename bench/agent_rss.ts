/**
 * Where the built agent's RSS goes (issue 14, target 2): small standalone Deno apps that each
 * do one thing at 1 Hz, side by side, their RSS read from /proc after a wait.
 *
 * `deno run -A bench/agent_rss.ts [--reps 8] [--wait 20] [--flags ARGS] [--bundles NAME=DIR,...] [variant,...]`
 *
 * It bundles the agent (`deno task build-agent`'s bundle) into a directory under tmp/ (removed
 * at the end), writes one
 * plain-JavaScript app per variant there ({@link VARIANTS}), and per repetition starts one
 * process of every variant (order rotated), waits, reads each one's /proc/<pid>/status
 * (VmRSS, RssAnon, RssFile) and /proc/<pid>/smaps (Rss by mapping: the deno executable's
 * text and read-only data, anonymous memory, [heap], shared libraries, and Deno's own cache
 * databases, which it maps: their pages depend on where a module's entries sit in the file,
 * not on what the module does) and kills it. Every
 * app runs the agent-cost app's workload (a 10 ms timer with a small JSON round trip,
 * bench/agent_app.ts) and loads one module, prologue.js. The agents push to a real PULL
 * socket here (lib/transport/zmq.ts), the floor reporter writes to a TCP sink here.
 * Prints a markdown table: per variant the median over repetitions of each figure, the
 * first variant's absolute, the others' difference to it, KiB. `--flags` passes Deno
 * arguments to every app (e.g. `--v8-flags=--no-maglev,--no-turbofan,--no-sparkplug` to
 * diagnose JIT tiers; not a fix: an app does not choose its V8 flags for a library).
 *
 * RSS is not sensitive to CPU load as timings are, but pages of the executable are mapped
 * 64 KiB at a time around each fault and a process's share varies by several hundred KiB
 * from run to run: use 8 repetitions or more for differences under 1 MiB.
 *
 * @module
 */
import { bindPull } from "../lib/transport/zmq.ts";
import { bundleAgent } from "../lib/cmd/build_agent.ts";
import { lowerMedian, takeOption } from "./stats.ts";

/** The workload every app runs (bench/agent_app.ts's tick), in prologue.js. */
export const PROLOGUE = `let ticks = 0, sink = 0;
setInterval(() => {
  const i = ticks++;
  const req = JSON.parse(JSON.stringify({ id: i, items: [i, i + 1, i + 2, i + 3, i + 4] }));
  for (const x of req.items) sink += x;
}, 10);
globalThis.__sink = () => sink;
`;

/** `createAgent` from the bundle with these options (the collector is given). */
const agent = (opts: string) =>
  `const M = "./agent/mod.js";
const { createAgent } = await import(M);
globalThis.__agent = createAgent({ service: "rss", collector: \`tcp://127.0.0.1:\${Deno.args[0]}\`, ...${opts} });`;

/** Readings and a transport for `createAgent` that touch no runtime path (the agent alone). */
export const FAKE_READERS =
  "{ read: () => ({ cpuPercent: 1, rssBytes: 1, heapUsedBytes: 1, loopLagMs: 0 }), close() {} }";
export const FAKE_TRANSPORT = "{ trySend: async () => true, close() {} }";

/** Variant name -> the app's code after `import "./prologue.js"`. Args: PULL port, TCP port. */
export const VARIANTS: Record<string, string> = {
  base: "",
  floor: `const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(Deno.args[1]) });
const enc = new TextEncoder();
let seq = 0;
setInterval(async () => {
  const reading = { seq: seq++, t: Date.now(), mem: Deno.memoryUsage(), cpu: Deno.cpuUsage() };
  await conn.write(enc.encode(JSON.stringify(reading) + "\\n"));
}, 1000);`,
  // A promise a second, resolved by `then` or by `await`: what any async I/O in an app that
  // had none costs before its first op (the floor reporter and the agent both pay it).
  promise: `setInterval(() => { Promise.resolve(1).then((x) => globalThis.__x = x); }, 1000);`,
  asyncfn: `setInterval(async () => { globalThis.__x = await Promise.resolve(1); }, 1000);`,
  dynsmall: `const M = "./small.js"; globalThis.__m = await import(M);`,
  import: `const M = "./agent/mod.js"; globalThis.__m = await import(M);`,
  core: agent(
    `{ heapProfile: false, runtime: null, readers: ${FAKE_READERS}, transport: ${FAKE_TRANSPORT} }`,
  ),
  transport: agent(`{ transport: ${FAKE_TRANSPORT} }`),
  readers: agent(`{ readers: ${FAKE_READERS} }`),
  noruntime: agent(`{ runtime: null }`),
  noheap: agent(`{ heapProfile: false }`),
  built: agent("{}"),
  fds: agent("{ openFds: true }"),
  // Static imports, as an app imports the agent (bench/agent_cost.ts since stop 37).
  ssmall: `import "./small.js";`,
  simport: `import { createAgent } from "./agent/mod.js";\nglobalThis.__f = createAgent;`,
  sbuilt: `import { createAgent } from "./agent/mod.js";\n${agent("{}").split("\n").pop()}`,
  ftext: `globalThis.__s = Deno.readTextFileSync("/proc/sys/kernel/hostname").length;`,
  fstat: `let s = 0;
const r = () => { s += Deno.statSync("/proc/self/fd").size + (Deno.statSync("/proc/self/task").nlink ?? 0); };
r(); setInterval(r, 10000);`,
  fdir: `let s = 0;
try { s += Array.from(Deno.readDirSync("/sys/fs/cgroup"), (e) => e.name).sort().length; } catch { /* none */ }
globalThis.__s = s;`,
  fstat1: `let s = 0;
const r = () => { s += Deno.statSync("/proc/self/fd").size; };
r(); setInterval(r, 10000);`,
  fdirfd: `let s = 0;
const r = () => { for (const _ of Deno.readDirSync("/proc/self/fd")) s++; };
r(); setInterval(r, 10000);`,
  fdirns: `let s = 0;
try { for (const _ of Deno.readDirSync("/sys/fs/cgroup")) s++; } catch { /* none */ }
globalThis.__s = s;`,
  fstatus: `let s = 0;
const r = () => { s += Deno.readTextFileSync("/proc/self/status").length; };
r(); setInterval(r, 10000);`,
  fperm:
    `try { Deno.permissions.querySync({ name: "env", variable: "ZEROAPM_HEAP_PROFILE" }); } catch { /* none */ }`,
  tcp: `const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(Deno.args[1]) });
(async () => { const b = new Uint8Array(4096); try { while ((await conn.read(b)) !== null); } catch { /* closed */ } })();
const bytes = new Uint8Array(400).fill(65);
setInterval(async () => { await conn.write(bytes); }, 1000);`,
  tcpw: `const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(Deno.args[1]) });
const bytes = new Uint8Array(400).fill(65);
setInterval(async () => { await conn.write(bytes); }, 1000);`,
};

/** Columns of the table: /proc/<pid>/status fields, then smaps groups. */
const COLUMNS = [
  "VmRSS",
  "RssAnon",
  "RssFile",
  "deno r-xp",
  "deno r--p",
  "anon",
  "[heap]",
  "lib",
  "caches",
] as const;

/** KiB of Rss per mapping group in /proc/<pid>/smaps. */
export function smapsGroups(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  let group = "";
  for (const line of text.split("\n")) {
    const m = /^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      const path = m[2];
      group = path.endsWith("/deno")
        ? `deno ${m[1]}`
        : path === ""
        ? "anon"
        : /_cache_v\d+(-shm|-wal)?$/.test(path)
        ? "caches"
        : path.startsWith("/")
        ? "lib"
        : path;
      continue;
    }
    const r = /^Rss:\s+(\d+)/.exec(line);
    if (r) out[group] = (out[group] ?? 0) + Number(r[1]);
  }
  return out;
}

function statusKiB(text: string, field: string): number {
  return Number(new RegExp(`^${field}:\\s*(\\d+)`, "m").exec(text)?.[1] ?? NaN);
}

/** Start the app variant `name` written to `dir` (v_NAME.js) with the runtime `flags` and `args`. */
export function spawnVariant(
  dir: string,
  name: string,
  flags: string[],
  args: string[],
  stderr: "piped" | "inherit",
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", ...flags, `${dir}v_${name}.js`, ...args],
    stdout: "null",
    stderr,
  }).spawn();
}

async function main() {
  const args = [...Deno.args];
  const opt = (name: string, dflt: string) => takeOption(args, name, dflt);
  const reps = Number(opt("--reps", "8"));
  const waitMs = Number(opt("--wait", "20")) * 1000;
  const flags = opt("--flags", "").split(" ").filter(Boolean);
  // `--bundles old=DIR,b=DIR`: the built agent from other bundles (e.g. another tree's
  // `deno bundle` output), imported statically, as variants of those names beside this
  // tree's `sbuilt`.
  for (const pair of opt("--bundles", "").split(",").filter(Boolean)) {
    const [name, dir] = pair.split("=");
    VARIANTS[name] = VARIANTS.sbuilt.replace(
      '"./agent/mod.js"',
      JSON.stringify(`file://${dir}/mod.js`),
    );
  }
  const names = (args[0] ?? Object.keys(VARIANTS).join(",")).split(",");
  for (const n of names) if (!(n in VARIANTS)) throw new Error(`unknown variant ${n}`);

  await Deno.mkdir(new URL("../tmp/", import.meta.url), { recursive: true });
  const dir = `${await Deno.makeTempDir({
    dir: new URL("../tmp/", import.meta.url).pathname,
    prefix: "agent-rss-",
  })}/`;
  try {
    await run(dir, names, reps, waitMs, flags);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function run(dir: string, names: string[], reps: number, waitMs: number, flags: string[]) {
  await bundleAgent(`${dir}agent`);
  await Deno.writeTextFile(`${dir}prologue.js`, PROLOGUE);
  await Deno.writeTextFile(`${dir}small.js`, "export const x = 1;\n");
  for (const n of names) {
    await Deno.writeTextFile(`${dir}v_${n}.js`, `import "./prologue.js";\n${VARIANTS[n]}\n`);
  }

  let frames = 0;
  const pull = await bindPull("tcp://127.0.0.1:*", { onFrame: () => frames++ });
  const pullPort = pull.endpoint.split(":").pop()!;
  const sink = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const drain = async (c: Deno.Conn) => {
    const b = new Uint8Array(65536);
    try {
      while ((await c.read(b)) !== null);
    } catch { /* the app was killed */ }
  };
  (async () => {
    for await (const c of sink) drain(c);
  })();

  const rows: Record<string, Array<Record<string, number>>> = {};
  for (let r = 0; r < reps; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]);
    const kids = order.map((name) => ({
      name,
      child: spawnVariant(dir, name, flags, [pullPort, String(sink.addr.port)], "piped"),
    }));
    await new Promise((ok) => setTimeout(ok, waitMs));
    for (const { name, child } of kids) {
      const status = await Deno.readTextFile(`/proc/${child.pid}/status`);
      const row: Record<string, number> = {
        VmRSS: statusKiB(status, "VmRSS"),
        RssAnon: statusKiB(status, "RssAnon"),
        RssFile: statusKiB(status, "RssFile"),
        ...smapsGroups(await Deno.readTextFile(`/proc/${child.pid}/smaps`)),
      };
      (rows[name] ??= []).push(row);
      child.kill("SIGKILL");
      const err = new TextDecoder().decode((await child.output()).stderr).trim();
      if (err) console.error(`${name}: ${err.slice(0, 300)}`);
    }
    console.error(
      `repetition ${r + 1}/${reps}: VmRSS KiB ` +
        names.map((n) => `${n} ${rows[n][rows[n].length - 1].VmRSS}`).join(", "),
    );
  }

  const first = names[0];
  const med = (n: string, c: string) => lowerMedian(rows[n].map((x) => x[c] ?? 0));
  console.log(
    `| variant (KiB, median of ${reps}; ${first} absolute, others minus ${first}) | ` +
      `${COLUMNS.join(" | ")} | VmRSS min – max |`,
  );
  console.log(`| --- | ${COLUMNS.map(() => "---:").join(" | ")} | ---: |`);
  for (const n of names) {
    const cells = COLUMNS.map((c) => {
      if (n === first) return String(med(n, c));
      const d = med(n, c) - med(first, c);
      return `${d >= 0 ? "+" : ""}${d}`;
    });
    const vm = rows[n].map((x) => x.VmRSS);
    console.log(`| ${n} | ${cells.join(" | ")} | ${Math.min(...vm)} – ${Math.max(...vm)} |`);
  }
  console.log(`\nframes received from the agents: ${frames}`);
  await pull.close();
  sink.close();
}

if (import.meta.main) await main();
