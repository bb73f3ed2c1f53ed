/**
 * `deno task demo`: the seed's demo in one command. Starts the collector with the flags and
 * environment it was given, reads from the collector's own start-up lines where it actually
 * listens (lib/banner.ts), waits until it answers there, starts the three seed apps pushing
 * to that endpoint (red, serving and loading a small HTTP API; blue leaking 10 000; green
 * leaking 100 000), and prints the URL.
 *
 * The children run in their own session, so a Ctrl-C in the terminal reaches the demo
 * alone: it then stops the apps first (so their last samples reach a collector that is
 * still there), waits for each, then the collector, and says who stopped how. Were Ctrl-C
 * to reach every process at once, the demo's own SIGTERM would arrive second and kill an
 * app still finishing its clean stop (red, with HTTP requests in flight, never printed its
 * stop line). A second Ctrl-C kills whatever is left (lib/signals.ts: not the first one
 * arriving again by another route). Closing the terminal (SIGHUP) stops them as cleanly: the
 * demo's own lines then fail to print (`say`), which must not cut the stop short.
 *
 * @module
 */
import { helpHint } from "../cli.ts";
import { ConfigError, resolveConfig, USAGE } from "../config.ts";
import { type Banner, connectEndpoint, readBannerLine } from "../banner.ts";
import { errorMessage } from "../errors.ts";
import { listenForSignals } from "../signals.ts";
import { say } from "../say.ts";

/** `deno task demo --help`. */
export const DEMO_USAGE = `zeroapm demo: the collector and the seed's three apps

Usage: deno task demo [collector options]

The options go to the collector; the apps push to the ZMQ endpoint it binds.
Ctrl-C stops the apps, then the collector.

${USAGE.slice(USAGE.indexOf("Options:"))}`;

/** The red app's API port, when free (else any free port). */
export const RED_API_PORT = 8101;

/**
 * The seed's three apps, pushing to `collector`. Red also serves a small instrumented HTTP
 * API on `apiPort` and drives it, so the dashboard shows request rate, latency and errors
 * next to CPU and memory.
 */
export function seedApps(collector: string, apiPort: number): { name: string; args: string[] }[] {
  const to = ["--collector", collector];
  return [
    { name: "red", args: ["--color", "red", "--http", `${apiPort}`, "--load", "20", ...to] },
    { name: "blue", args: ["--color", "blue", "--leak", "10000", ...to] },
    { name: "green", args: ["--color", "green", "--leak", "100000", ...to] },
  ];
}

const root = new URL("../../", import.meta.url);

/** A child in its own session (`detached`: setsid), so terminal signals reach the demo only. */
function spawn(script: string, args: string[], stdout: "inherit" | "piped"): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(script, root).pathname, ...args],
    stdin: "null",
    stdout,
    stderr: "inherit",
    detached: true,
  }).spawn();
}

/**
 * Copy a child's output to ours and hand over each line. Keeps reading when our stdout
 * fails, so the child never blocks on a full pipe.
 */
async function forwardLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  let writable = true;
  for await (const chunk of stream) {
    if (writable) {
      try {
        for (let off = 0; off < chunk.length;) off += await Deno.stdout.write(chunk.subarray(off));
      } catch {
        writable = false;
      }
    }
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) onLine(line.replace(/\r$/, ""));
  }
}

/** Poll `/healthz` until the collector answers or the deadline passes. */
async function waitHealthy(url: string, exited: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !exited()) {
    try {
      const res = await fetch(`${url}/healthz`);
      await res.body?.cancel();
      if (res.ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    exited() ? "the collector exited during start-up" : `no answer from ${url} in ${timeoutMs} ms`,
  );
}

/** `preferred` when it is free on 127.0.0.1, else a free port the system picks. */
function freePort(preferred: number): number {
  try {
    const l = Deno.listen({ hostname: "127.0.0.1", port: preferred });
    l.close();
    return preferred;
  } catch (e) {
    if (!(e instanceof Deno.errors.AddrInUse)) throw e;
  }
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return port;
}

/** A child and how it ended. */
interface Child {
  name: string;
  process: Deno.ChildProcess;
  status: Deno.CommandStatus | null;
}

function kill(child: Child, signal: Deno.Signal): void {
  if (child.status) return;
  try {
    child.process.kill(signal);
  } catch { /* already gone */ }
}

function describe(c: Child): string {
  const s = c.status!;
  return s.signal ? `killed by ${s.signal}` : s.code === 0 ? "stopped" : `exited with ${s.code}`;
}

/** Run the demo until a signal (or the collector's exit); returns the exit code. */
export async function main(args: string[]): Promise<number> {
  try {
    if (resolveConfig(args, Deno.env.toObject()).help) {
      say(DEMO_USAGE);
      return 0;
    }
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    say(`demo: ${e.message}\n${helpHint("deno task demo")}`, "err");
    return 2;
  }
  const children: Child[] = [];
  const start = (name: string, script: string, argv: string[], out: "inherit" | "piped") => {
    const child: Child = { name, process: spawn(script, argv, out), status: null };
    child.process.status.then((s) => child.status = s);
    children.push(child);
    return child;
  };
  // A second signal while stopping: stop waiting and kill what is left.
  const signals = listenForSignals(
    ["SIGINT", "SIGTERM", "SIGHUP"],
    () => children.forEach((c) => kill(c, "SIGKILL")),
  );
  const collector = start("collector", "server.ts", args, "piped");
  let failed = false;
  try {
    const banner: Banner = {};
    let bannerRead = () => {};
    const bannerSeen = new Promise<void>((r) => bannerRead = r);
    const output = forwardLines(collector.process.stdout, (line) => {
      readBannerLine(line, banner);
      if (banner.httpUrl && banner.zmqEndpoint) bannerRead();
    });
    const ended = collector.process.status.then(() => "collector exited" as const);
    const early = await Promise.race([bannerSeen.then(() => null), signals.first, ended]);
    if (early === "collector exited") {
      say("demo: the collector exited during start-up", "err");
      failed = true;
    } else if (early === null) {
      try {
        await waitHealthy(banner.httpUrl!, () => collector.status !== null, 30_000);
      } catch (e) {
        say(`demo: ${errorMessage(e)}`, "err");
        failed = true;
      }
    }
    if (early === null && !failed) {
      const zmq = connectEndpoint(banner.zmqEndpoint!);
      for (const app of seedApps(zmq, freePort(RED_API_PORT))) {
        start(app.name, "backend_app.ts", app.args, "inherit");
      }
      say(
        `\ndemo: collector and 3 apps running; apps push to ${zmq}. Open ${banner.httpUrl}\n`,
      );
      const why = await Promise.race([signals.first, ended]);
      say(`demo: ${why}, stopping apps, then the collector...`);
    }
    // Apps first, so their last samples reach a collector that is still there.
    const apps = children.slice(1);
    apps.forEach((c) => kill(c, "SIGTERM"));
    await Promise.all(apps.map((c) => c.process.status));
    kill(collector, "SIGTERM");
    await collector.process.status;
    await output;
  } finally {
    // Whatever happened above, leave no child behind (they are in their own session).
    children.forEach((c) => kill(c, "SIGKILL"));
    await Promise.all(children.map((c) => c.process.status));
    signals.dispose();
  }
  const clean = children.every((c) => c.status?.code === 0 && !c.status.signal);
  say(`demo: ${children.map((c) => `${c.name} ${describe(c)}`).join(", ")}`);
  return clean && !failed ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
