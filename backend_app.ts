/**
 * The demo microservice from the seed: it does random CPU bursts, optionally leaks memory,
 * and reports itself to the collector with the zeroapm agent. With `--http PORT` it also
 * serves a small instrumented API (request metrics by route template), and with
 * `--load RPS` it calls that API itself, so the dashboard has real request metrics.
 *
 *     deno run -A backend_app.ts --color red &
 *     deno run -A backend_app.ts --color blue --leak 10000 &
 *     deno run -A backend_app.ts --color green --leak 100000 --http 8101 --load 50 &
 *
 * SIGINT, SIGTERM or SIGHUP (its terminal closed) stops the work, flushes the agent (its
 * goodbye: the dashboard shows it stopped) and exits with code 0.
 *
 * @module
 */
import { setTimeout as unrefableTimeout } from "node:timers";
import { createAgent } from "./lib/agent/mod.ts";
import { type AppOptions, parseAppFlags, USAGE } from "./lib/demo_app/flags.ts";
import { type Api, startApi } from "./lib/demo_app/api.ts";
import { type Load, startLoad } from "./lib/demo_app/load.ts";
import { helpHint, UsageError } from "./lib/cli.ts";

export { type AppOptions, parseAppFlags as parseFlags, USAGE } from "./lib/demo_app/flags.ts";
export { type Api, type ApiOptions, routeOf, startApi } from "./lib/demo_app/api.ts";
export { type Load, startLoad } from "./lib/demo_app/load.ts";
export { UsageError };
import { clientKeysFromEnv } from "./lib/transport/keys.ts";
import { errorMessage } from "./lib/errors.ts";
import { say } from "./lib/say.ts";
import { listenForSignals } from "./lib/signals.ts";

/** The demo's work: one iteration per second, a random CPU burst, then sleep. */
export interface WorkLoop {
  /** Iterations done so far. */
  readonly iterations: number;
  /** Numbers leaked so far (kept reachable until the process ends). */
  readonly leaked: number;
  /** Finish the current iteration and end the loop. */
  stop(): Promise<void>;
}

/** Options for {@link startWork}. */
export interface WorkOptions {
  /** Numbers to leak per iteration. */
  leak: number;
  /** Iteration period in ms (default 1000). */
  periodMs?: number;
  /** Longest CPU burst in ms (default 300; at least 10 % of it). */
  maxBurstMs?: number;
  /** Random source in [0, 1) (default `Math.random`). */
  random?: () => number;
  /** Called after each iteration with the count so far (tests). */
  onIteration?: (iterations: number) => void;
}

/**
 * The demo's leak, in a function of its own so the heap profile (and the leak alert) names
 * it: `n` readings are cached and never evicted. Resolves to `n`.
 *
 * `async` although it never waits: V8 never inlines an async function into its caller, and
 * its sampling heap profiler records real frames only. After about 7 minutes of the demo V8
 * had inlined this function into the work loop, and the alert said "grows in run".
 */
// deno-lint-ignore require-await -- see above (tests/integration/demo_leak_site_test.ts)
export async function cacheReadings(
  cache: number[][],
  n: number,
  random: () => number,
): Promise<number> {
  const chunk: number[] = [];
  for (let i = 0; i < n; i++) chunk.push(random());
  cache.push(chunk);
  return n;
}

/**
 * The CPU burst (the seed's `sum(range(...))`): spin until `ms` after `from`. A function of
 * its own, so the work loop holds no hot loop, which V8 would optimise within seconds.
 */
function burnCpu(from: number, ms: number): void {
  while (performance.now() - from < ms) { /* busy */ }
}

/** Start the work loop: busy-loop for a random time, leak, sleep out the period. */
export function startWork(opts: WorkOptions): WorkLoop {
  const period = opts.periodMs ?? 1000;
  const maxBurst = opts.maxBurstMs ?? 300;
  const random = opts.random ?? Math.random;
  const leaked: number[][] = [];
  let leakedCount = 0;
  let iterations = 0;
  let running = true;
  let wake: (() => void) | null = null;

  const run = async () => {
    while (running) {
      const started = performance.now();
      const burst = maxBurst * (0.1 + 0.9 * random());
      burnCpu(started, burst);
      if (opts.leak > 0) leakedCount += await cacheReadings(leaked, opts.leak, random);
      iterations++;
      opts.onIteration?.(iterations);
      const rest = period - (performance.now() - started);
      if (running && rest > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => (wake = null, resolve()), rest);
          wake = () => (clearTimeout(timer), wake = null, resolve());
        });
      }
    }
  };
  const done = run();
  return {
    get iterations() {
      return iterations;
    },
    get leaked() {
      return leakedCount;
    },
    stop() {
      running = false;
      wake?.();
      return done;
    },
  };
}

/** Run the demo app until SIGINT/SIGTERM/SIGHUP. Returns the exit code (2 for bad flags). */
export async function main(args: string[]): Promise<number> {
  let options: AppOptions | null;
  try {
    options = parseAppFlags(args);
  } catch (e) {
    console.error(`backend_app: ${errorMessage(e)}\n${helpHint("deno run -A backend_app.ts")}`);
    return 2;
  }
  if (options === null) {
    console.log(USAGE);
    return 0;
  }
  // Listen before any work starts: the first CPU burst runs synchronously, and a SIGTERM
  // that arrives with no listener kills the process without a flush. SIGHUP (the terminal
  // closed) killed it the same way: no goodbye, so it was shown silent, not stopped. The first
  // signal arriving twice (`deno task`, `timeout`) is one stop; a later one exits at once.
  const shutdown = listenForSignals(["SIGINT", "SIGTERM", "SIGHUP"], (again) => {
    say(`backend_app: ${again} again: exiting now, without finishing the stop`, "err");
    Deno.exit(130);
  });
  let agent;
  try {
    agent = createAgent({
      service: options.service,
      collector: options.collector,
      color: options.color,
      instance: options.instance,
      intervalMs: options.intervalMs,
      curve: await clientKeysFromEnv(Deno.env.toObject()),
    });
  } catch (e) {
    shutdown.dispose();
    console.error(`backend_app: ${errorMessage(e)}\n${helpHint("deno run -A backend_app.ts")}`);
    return 2;
  }
  const { service, instance } = agent.identity;
  say(
    `backend_app: ${service}/${instance} reporting to ${options.collector} every ` +
      `${options.intervalMs} ms, leaking ${options.leak} numbers/s`,
    "err",
  );
  let api: Api | null = null;
  let load: Load | null = null;
  if (options.http > 0) {
    try {
      api = startApi({ port: options.http, metrics: agent.metrics });
    } catch (e) {
      shutdown.dispose();
      await agent.stop();
      console.error(`backend_app: cannot serve HTTP on port ${options.http}: ${e}`);
      return 1;
    }
    if (options.load > 0) load = startLoad(api.url, options.load);
    say(`backend_app: API on ${api.url}, calling itself ${options.load} times/s`, "err");
  }
  const work = startWork({ leak: options.leak });
  const signal = await shutdown.first;
  await load?.stop();
  await api?.close();
  await work.stop();
  await agent.stop();
  shutdown.dispose();
  const s = agent.stats();
  // Best effort: after a hang-up the terminal takes no more lines (EIO), and the stop is done.
  say(
    `backend_app: ${signal}: stopped after ${work.iterations} iterations; ` +
      `${s.sent} samples sent, ${s.dropped} dropped, ${s.backlog} unsent`,
    "err",
  );
  return 0;
}

if (import.meta.main) {
  const code = await main(Deno.args);
  if (code !== 0) Deno.exit(code);
  // Exit 0 by letting the event loop end, so the socket's last frames leave (Deno.exit()
  // right after close() can drop them). Should anything keep the loop alive, leave anyway.
  unrefableTimeout(() => Deno.exit(0), 2000).unref();
}
