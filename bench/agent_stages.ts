/**
 * Which of the runtime paths the built agent uses make a Deno app's RSS grow, and by how much
 * (issue 14, target 2): apps with the agent-cost workload (bench/agent_rss.ts's prologue) that
 * import the built agent statically and then, 700 ms apart, make one runtime call each
 * ({@link STAGES}: the calls the agent makes, in its order), then `createAgent` with all of
 * them already made, then wait. Beside them as many control apps wait through the same
 * stages doing nothing: the workload's own steps (its JIT tiers, its first GCs) fall in the
 * same stages of both. Every 5 ms the harness reads each app's RssFile and RssAnon from
 * /proc/<pid>/status and puts each change in the stage the app was in (apps print when a
 * stage starts).
 *
 * `deno run -A bench/agent_stages.ts [--procs 5] [--after 20] [--reverse] [--split]`
 *
 * Prints per stage the mean change over the apps, KiB: RssFile (mostly pages of the deno
 * executable) and RssAnon, the control's, and the difference. A page two stages share counts
 * in the first that touches it: `--reverse` runs the calls in the opposite order (the
 * connection's calls stay in theirs). The executable is mapped 64 KiB around each fault, and
 * the control's stages move by up to ~200 KiB: differences under that are noise.
 *
 * @module
 */
import { bindPull } from "../lib/transport/zmq.ts";
import { bundleAgent } from "../lib/cmd/build_agent.ts";
import { FAKE_READERS, FAKE_TRANSPORT, PROLOGUE } from "./agent_rss.ts";
import { takeOption } from "./stats.ts";

/** A stage's code: `createAgent` with these options, pushing to the harness's PULL. */
const agent = (name: string, opts: string) =>
  `S.${name} = createAgent({ service: '${name}', collector: \`tcp://127.0.0.1:\${PORT}\`, ${opts} });`;

/** [label, code]: what each stage does, in an async function; `S` keeps what it made. */
export const STAGES: ReadonlyArray<readonly [string, string]> = [
  ["(nothing: the workload's own steps)", ""],
  [
    "Deno.readTextFileSync (host name, /proc files)",
    "S.h = Deno.readTextFileSync('/proc/sys/kernel/hostname');",
  ],
  [
    "Deno.permissions.querySync + Deno.env.get",
    "S.p = Deno.permissions.querySync({ name: 'env', variable: 'ZEROAPM_HEAP_PROFILE' }); S.e = Deno.env.get('ZEROAPM_HEAP_PROFILE');",
  ],
  ["Deno.cpuUsage", "S.c = Deno.cpuUsage();"],
  ["Deno.memoryUsage", "S.m = Deno.memoryUsage();"],
  ["performance.now", "S.n = performance.now();"],
  ["setTimeout + Deno.unrefTimer", "S.t = setTimeout(() => {}, 1e6); Deno.unrefTimer(S.t);"],
  ["Deno.connect (TCP)", "S.conn = await Deno.connect({ hostname: '127.0.0.1', port: PORT });"],
  ["conn.read, left pending", "S.b = new Uint8Array(4096); S.r = S.conn.read(S.b);"],
  [
    "conn.write (a ZMTP greeting's start)",
    "await S.conn.write(new Uint8Array([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 0]));",
  ],
  ["createAgent, all of the above already used", agent("agent", "")],
];

/**
 * `--split`: instead of the last stage, four agents one after the other, each adding one part
 * of the agent to what the ones before it ran (a part's pages count in the first that runs it).
 */
export const SPLIT_STAGES: ReadonlyArray<readonly [string, string]> = [
  [
    "createAgent core (fake readers and transport, no runtime readers, no heap trigger)",
    agent(
      "a1",
      `heapProfile: false, runtime: null, readers: ${FAKE_READERS}, transport: ${FAKE_TRANSPORT}`,
    ),
  ],
  [
    "+ runtime readers",
    agent("a2", `heapProfile: false, readers: ${FAKE_READERS}, transport: ${FAKE_TRANSPORT}`),
  ],
  ["+ process readers and heap trigger", agent("a3", `transport: ${FAKE_TRANSPORT}`)],
  ["+ the ZMTP link (the whole agent)", agent("a4", "")],
];

/** Stages that use the connection: they keep their order under `--reverse`. */
const CONNECTION = /S\.conn|createAgent/;
/** Time between stages, ms. */
const STEP_MS = 700;

/** The app's module: the workload, the agent imported, the stages run one per STEP_MS. */
function appSource(stages: ReadonlyArray<readonly [string, string]>): string {
  return `import "./prologue.js";
import { createAgent } from "./agent/mod.js";
const PORT = Number(Deno.args[0]);
const S = {};
const stages = [${stages.map(([, code]) => `async () => { ${code} }`).join(",\n")}];
setTimeout(async () => {
  for (let i = 0; i < stages.length; i++) {
    await new Promise((ok) => setTimeout(ok, ${STEP_MS}));
    console.log("stage " + i + " " + Date.now());
    await stages[i]();
  }
}, 3000);
globalThis.__s = S;
`;
}

interface App {
  child: Deno.ChildProcess;
  /** Wall time each stage started, by stage. */
  starts: number[];
  last: { file: number; anon: number };
}

function spawnApp(path: string, port: string): App {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", path, port],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const app: App = { child, starts: [], last: { file: 0, anon: 0 } };
  (async () => {
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      for (const m of text.matchAll(/stage (\d+) (\d+)/g)) app.starts[Number(m[1])] = Number(m[2]);
    }
  })();
  return app;
}

/** The stage `app` was in at wall time `t`: -1 before the first. */
function stageAt(app: App, t: number): number {
  let k = -1;
  while (app.starts[k + 1] !== undefined && t >= app.starts[k + 1]) k++;
  return k;
}

async function main() {
  const args = [...Deno.args];
  const procs = Number(takeOption(args, "--procs", "5"));
  const afterMs = Number(takeOption(args, "--after", "20")) * 1000;
  const reverse = args.includes("--reverse");
  const split = args.includes("--split");
  const calls = STAGES.slice(1).filter(([, c]) => !CONNECTION.test(c));
  const stages = [
    STAGES[0],
    ...(reverse ? calls.toReversed() : calls),
    ...STAGES.filter(([, c]) => CONNECTION.test(c)).slice(0, split ? -1 : undefined),
    ...(split ? SPLIT_STAGES : []),
    ["(waiting after createAgent)", ""] as const,
  ];

  await Deno.mkdir(new URL("../tmp/", import.meta.url), { recursive: true });
  const dir = await Deno.makeTempDir({
    dir: new URL("../tmp/", import.meta.url).pathname,
    prefix: "agent-stages-",
  });
  const pull = await bindPull("tcp://127.0.0.1:*", { onFrame: () => {} });
  const apps: App[] = [];
  try {
    await bundleAgent(`${dir}/agent`);
    await Deno.writeTextFile(`${dir}/prologue.js`, PROLOGUE);
    await Deno.writeTextFile(`${dir}/stages.js`, appSource(stages));
    await Deno.writeTextFile(`${dir}/control.js`, appSource(stages.map(([l]) => [l, ""])));
    const port = pull.endpoint.split(":").pop()!;
    for (let i = 0; i < procs; i++) {
      apps.push(spawnApp(`${dir}/stages.js`, port), spawnApp(`${dir}/control.js`, port));
    }
    // [stage + 1] -> summed KiB, per group (0: stages, 1: control); index 0 is "before".
    const sums = [0, 1].map(() =>
      Array.from({ length: stages.length + 1 }, () => ({ file: 0, anon: 0 }))
    );
    const end = Date.now() + 3000 + stages.length * STEP_MS + afterMs;
    console.error(`${procs} + ${procs} apps, ${Math.round((end - Date.now()) / 1000)} s`);
    while (Date.now() < end) {
      const t = Date.now();
      apps.forEach((app, i) => {
        const status = Deno.readTextFileSync(`/proc/${app.child.pid}/status`);
        const file = Number(/RssFile:\s*(\d+)/.exec(status)?.[1]);
        const anon = Number(/RssAnon:\s*(\d+)/.exec(status)?.[1]);
        const into = sums[i % 2][stageAt(app, t) + 1];
        if (app.last.file > 0) {
          into.file += file - app.last.file;
          into.anon += anon - app.last.anon;
        }
        app.last = { file, anon };
      });
      await new Promise((ok) => setTimeout(ok, 5));
    }
    const kib = (v: number) => String(Math.round(v / procs)).padStart(6);
    console.log(
      `| stage (${procs} apps each, mean KiB) | RssFile | control | difference | RssAnon | control | difference |`,
    );
    console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    stages.forEach(([label], k) => {
      const [a, c] = [sums[0][k + 1], sums[1][k + 1]];
      console.log(
        `| ${label} | ${kib(a.file)} | ${kib(c.file)} | ${kib(a.file - c.file)} | ` +
          `${kib(a.anon)} | ${kib(c.anon)} | ${kib(a.anon - c.anon)} |`,
      );
    });
    const mean = (g: number, f: "file" | "anon") =>
      apps.filter((_, i) => i % 2 === g).reduce((s, a) => s + a.last[f], 0) / procs;
    console.log(
      `\nAt the end, mean KiB: RssFile ${Math.round(mean(0, "file"))} vs control ` +
        `${Math.round(mean(1, "file"))}, RssAnon ${Math.round(mean(0, "anon"))} vs ` +
        `${Math.round(mean(1, "anon"))}.`,
    );
  } finally {
    for (const app of apps) {
      try {
        app.child.kill("SIGKILL");
      } catch { /* gone */ }
      await app.child.status;
    }
    await pull.close();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
