/**
 * The demo microservice from the seed: it does random CPU bursts, optionally leaks memory,
 * and reports itself to the collector with the zeroapm agent.
 *
 *     deno run -A backend_app.ts --color red &
 *     deno run -A backend_app.ts --color blue --leak 10000 &
 *     deno run -A backend_app.ts --color green --leak 100000 &
 *
 * SIGINT or SIGTERM stops the work, flushes the agent and exits with code 0.
 *
 * @module
 */
import { setTimeout as unrefableTimeout } from "node:timers";
import { parseArgs } from "node:util";
import { createAgent, DEFAULT_COLLECTOR } from "./lib/agent/mod.ts";

/** Command-line help. */
export const USAGE = `Usage: deno run -A backend_app.ts [options]

A demo service that burns CPU in random bursts and reports CPU, memory and event-loop lag
to a zeroapm collector.

Options:
  --color NAME       line colour on the dashboard, a CSS name or #hex
                     (default: a stable colour picked by the collector)
  --leak N           leak N numbers per iteration, about N*8 bytes; 1 iteration per second,
                     so --leak 10000 grows ~80 KB/s (~4.8 MB/min) and --leak 100000 ~48 MB/min
                     (default 0: memory stays flat)
  --service NAME     service name (default "backend")
  --instance ID      instance id (default host:pid)
  --collector URL    collector ZMQ endpoint (default ${DEFAULT_COLLECTOR})
  --interval MS      reporting interval in ms (default 1000)
  -h, --help         show this help
`;

/** Resolved command-line options. */
export interface AppOptions {
  color?: string;
  leak: number;
  service: string;
  instance?: string;
  collector: string;
  intervalMs: number;
}

/** A bad command line: the message says which flag and why. */
export class UsageError extends Error {}

/** Parse flags; `null` means --help. Throws {@link UsageError} for bad flags. */
export function parseFlags(args: string[]): AppOptions | null {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        color: { type: "string" },
        leak: { type: "string", default: "0" },
        service: { type: "string", default: "backend" },
        instance: { type: "string" },
        collector: { type: "string", default: DEFAULT_COLLECTOR },
        interval: { type: "string", default: "1000" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) return null;
  return {
    color: values.color,
    leak: integerFlag("--leak", values.leak, 0, 10_000_000),
    service: values.service,
    instance: values.instance,
    collector: values.collector,
    intervalMs: integerFlag("--interval", values.interval, 10, 86_400_000),
  };
}

function integerFlag(flag: string, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

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
      while (performance.now() - started < burst) { /* the seed's sum(range(...)) */ }
      if (opts.leak > 0) {
        const chunk: number[] = [];
        for (let i = 0; i < opts.leak; i++) chunk.push(random());
        leaked.push(chunk);
        leakedCount += opts.leak;
      }
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

/** The first SIGINT or SIGTERM, once listening; `dispose()` stops listening. */
interface Shutdown {
  readonly signal: Promise<Deno.Signal>;
  dispose(): void;
}

/** Listen for SIGINT and SIGTERM; the first one resolves `signal` and stops listening. */
function listenForShutdown(): Shutdown {
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  let resolve: (s: Deno.Signal) => void = () => {};
  const signal = new Promise<Deno.Signal>((r) => resolve = r);
  const handlers = signals.map((sig) => () => {
    dispose();
    resolve(sig);
  });
  let listening = true;
  const dispose = () => {
    if (!listening) return;
    listening = false;
    signals.forEach((s, i) => Deno.removeSignalListener(s, handlers[i]));
  };
  signals.forEach((s, i) => Deno.addSignalListener(s, handlers[i]));
  return { signal, dispose };
}

/** Run the demo app until SIGINT/SIGTERM. Returns the exit code (2 for bad flags). */
export async function main(args: string[]): Promise<number> {
  let options: AppOptions | null;
  try {
    options = parseFlags(args);
  } catch (e) {
    console.error(`backend_app: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options === null) {
    console.log(USAGE);
    return 0;
  }
  // Listen before any work starts: the first CPU burst runs synchronously, and a SIGTERM
  // that arrives with no listener kills the process without a flush.
  const shutdown = listenForShutdown();
  let agent;
  try {
    agent = createAgent({
      service: options.service,
      collector: options.collector,
      color: options.color,
      instance: options.instance,
      intervalMs: options.intervalMs,
    });
  } catch (e) {
    shutdown.dispose();
    console.error(`backend_app: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { service, instance } = agent.identity;
  console.error(
    `backend_app: ${service}/${instance} reporting to ${options.collector} every ` +
      `${options.intervalMs} ms, leaking ${options.leak} numbers/s`,
  );
  const work = startWork({ leak: options.leak });
  const signal = await shutdown.signal;
  await work.stop();
  await agent.stop();
  const s = agent.stats();
  console.error(
    `backend_app: ${signal}: stopped after ${work.iterations} iterations; ` +
      `${s.sent} samples sent, ${s.dropped} dropped, ${s.backlog} unsent`,
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
