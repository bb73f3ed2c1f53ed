/**
 * `deno task demo`: the seed's demo in one command. Starts the collector, waits until it
 * answers, starts the three seed apps (red, serving and loading a small HTTP API; blue
 * leaking 10 000; green leaking 100 000), prints the URL, and on Ctrl-C or SIGTERM stops
 * every child and waits for it.
 *
 * @module
 */

/**
 * The seed's three apps. Red also serves a small instrumented HTTP API and drives it, so
 * the dashboard shows request rate, latency and errors next to CPU and memory.
 */
export const SEED_APPS: readonly string[][] = [
  ["--color", "red", "--http", "8101", "--load", "20"],
  ["--color", "blue", "--leak", "10000"],
  ["--color", "green", "--leak", "100000"],
];

const root = new URL("../", import.meta.url);

function spawn(script: string, args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(script, root).pathname, ...args],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
}

/** Poll `/healthz` until the collector answers or the deadline passes. */
async function waitHealthy(
  url: string,
  child: Deno.ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.status.then(() => exited = true);
  while (Date.now() < deadline && !exited) {
    try {
      const res = await fetch(`${url}/healthz`);
      await res.body?.cancel();
      if (res.ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    exited ? "the collector exited during start-up" : `no answer from ${url} in ${timeoutMs} ms`,
  );
}

/** Run the demo until a signal; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const http = Deno.env.get("ZEROAPM_HTTP") ?? "127.0.0.1:8000";
  const url = `http://${http}`;
  const collector = spawn("server.ts", args);
  const children: Deno.ChildProcess[] = [collector];
  const stopAll = async () => {
    // Apps first, so their last samples reach a collector that is still there.
    for (const c of children.slice(1)) killQuietly(c, "SIGTERM");
    await Promise.all(children.slice(1).map((c) => c.status));
    killQuietly(collector, "SIGTERM");
    await collector.status;
  };
  try {
    await waitHealthy(url, collector, 10_000);
  } catch (e) {
    console.error(`demo: ${(e as Error).message}`);
    await stopAll();
    return 1;
  }
  for (const app of SEED_APPS) children.push(spawn("backend_app.ts", app));
  console.log(`\ndemo: collector and ${SEED_APPS.length} apps running. Open ${url}\n`);
  const signal = await Promise.race([
    new Promise<string>((resolve) => {
      for (const s of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(s, () => resolve(s));
    }),
    collector.status.then(() => "collector exited"),
  ]);
  console.log(`demo: ${signal}, stopping apps and collector...`);
  await stopAll();
  return 0;
}

function killQuietly(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch { /* already gone */ }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
