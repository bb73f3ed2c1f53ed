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
 * SIGINT or SIGTERM stops the work, flushes the agent and exits with code 0.
 *
 * @module
 */
import { setTimeout as unrefableTimeout } from "node:timers";
import { parseArgs } from "node:util";
import {
  createAgent,
  DEFAULT_COLLECTOR,
  instrument,
  type MetricsRegistry,
} from "./lib/agent/mod.ts";
import { clientKeysFromEnv } from "./lib/transport/keys.ts";
import { errorMessage } from "./lib/errors.ts";

/** Command-line help. */
export const USAGE = `Usage: deno run -A backend_app.ts [options]

A demo service that burns CPU in random bursts and reports CPU, memory and event-loop lag
to a zeroapm collector; optionally it serves a small HTTP API and reports request metrics.

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
  --http PORT        serve a demo API on http://127.0.0.1:PORT (GET /users/:id,
                     POST /bookings, GET /health; some requests slow, ~2 % fail with 500),
                     counted as http.requests_total and http.request_duration_ms
                     (default 0: no HTTP)
  --load RPS         call that API about RPS times a second (needs --http; default 0)
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
  /** Port of the demo API on 127.0.0.1; 0: none. */
  http: number;
  /** Requests per second the app sends its own API; 0: none. */
  load: number;
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
        http: { type: "string", default: "0" },
        load: { type: "string", default: "0" },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (e) {
    throw new UsageError(errorMessage(e));
  }
  if (values.help) return null;
  const http = integerFlag("--http", values.http, 0, 65_535);
  const load = integerFlag("--load", values.load, 0, 10_000);
  if (load > 0 && http === 0) throw new UsageError("--load needs --http PORT");
  return {
    color: values.color,
    leak: integerFlag("--leak", values.leak, 0, 10_000_000),
    service: values.service,
    instance: values.instance,
    collector: values.collector,
    intervalMs: integerFlag("--interval", values.interval, 10, 86_400_000),
    http,
    load,
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

/**
 * The demo's leak, in a function of its own so the heap profile (and the leak alert) names
 * it: `n` readings are cached and never evicted. Returns `n`.
 */
export function cacheReadings(cache: number[][], n: number, random: () => number): number {
  const chunk: number[] = [];
  for (let i = 0; i < n; i++) chunk.push(random());
  cache.push(chunk);
  return n;
}

/**
 * The CPU burst (the seed's `sum(range(...))`): spin until `ms` after `from`. A function of
 * its own, so the work loop holds no hot loop: V8 then never optimises the loop, and never
 * inlines cacheReadings into it, which would hide its name from the heap profile (V8's
 * sampling heap profiler records only frames that exist, not inlined ones).
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
      if (opts.leak > 0) leakedCount += cacheReadings(leaked, opts.leak, random);
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

/** The demo API's routes: the template is the `route` label, never the raw path. */
const ROUTES = [
  { method: "GET", template: "/users/:id", path: /^\/users\/(\d{1,12})$/ },
  { method: "POST", template: "/bookings", path: /^\/bookings$/ },
  { method: "GET", template: "/health", path: /^\/health$/ },
] as const;

/** The route a request matches, or undefined (counted as `other`). */
export function routeOf(req: Request): (typeof ROUTES)[number] | undefined {
  const { pathname } = new URL(req.url);
  return ROUTES.find((r) => r.path.test(pathname));
}

/** Options for {@link startApi}. */
export interface ApiOptions {
  /** Port on 127.0.0.1; 0 picks a free one (tests). */
  port: number;
  /** Where request metrics go (`agent.metrics`). */
  metrics: MetricsRegistry;
  /** Random source in [0, 1) (default `Math.random`). */
  random?: () => number;
}

/** A running demo API. */
export interface Api {
  /** Base URL, e.g. `http://127.0.0.1:8101`. */
  readonly url: string;
  /** Stop accepting, finish the requests in progress. */
  close(): Promise<void>;
}

/**
 * Serve the demo API, instrumented. Users and bookings take 0-5 ms, one in five 5-300 ms;
 * about 2 % of them fail with 500. Unknown paths are 404, wrong methods 405.
 */
export function startApi(opts: ApiOptions): Api {
  const random = opts.random ?? Math.random;
  let bookings = 0;
  const handler = async (req: Request): Promise<Response> => {
    const route = routeOf(req);
    if (!route) return Response.json({ error: "not found" }, { status: 404 });
    if (req.method !== route.method) {
      return Response.json({ error: "method not allowed" }, { status: 405 });
    }
    if (route.template === "/health") return new Response("ok");
    const ms = random() < 0.2 ? 5 + 295 * random() : 5 * random();
    await new Promise((r) => setTimeout(r, ms));
    if (random() < 0.02) return Response.json({ error: "internal error" }, { status: 500 });
    if (route.template === "/bookings") {
      await req.body?.cancel();
      return Response.json({ id: ++bookings }, { status: 201 });
    }
    const id = Number(route.path.exec(new URL(req.url).pathname)![1]);
    return Response.json({ id, name: `user ${id}` });
  };
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: opts.port,
    onListen() {},
  }, instrument(handler, { metrics: opts.metrics, route: (req) => routeOf(req)?.template }));
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  };
}

/** A running load loop. */
export interface Load {
  /** Requests answered (any status), failed (no answer) and skipped (too many in flight). */
  readonly answered: number;
  readonly failed: number;
  readonly skipped: number;
  /** Stop sending, abort requests in flight. */
  stop(): Promise<void>;
}

/**
 * Call the demo API about `rps` times a second: 60 % GET /users/:id, 20 % POST /bookings,
 * 10 % GET /health, 10 % unknown paths (404). At most 256 requests in flight.
 */
export function startLoad(url: string, rps: number, random = Math.random): Load {
  const abort = new AbortController();
  const inFlight = new Set<Promise<void>>();
  let answered = 0;
  let failed = 0;
  let skipped = 0;
  let budget = 0;
  const one = async () => {
    const r = random();
    const [method, path] = r < 0.6
      ? ["GET", `/users/${Math.floor(random() * 1000)}`]
      : r < 0.8
      ? ["POST", "/bookings"]
      : r < 0.9
      ? ["GET", "/health"]
      : ["GET", `/nowhere/${Math.floor(random() * 1000)}`];
    try {
      const res = await fetch(url + path, {
        method,
        body: method === "POST" ? JSON.stringify({ user: 1 }) : undefined,
        signal: abort.signal,
      });
      await res.body?.cancel();
      answered++;
    } catch {
      if (!abort.signal.aborted) failed++;
    }
  };
  const timer = setInterval(() => {
    budget = Math.min(budget + rps / 10, rps); // 10 ticks a second; no burst after a stall
    for (; budget >= 1; budget--) {
      if (inFlight.size >= 256) {
        skipped++;
        continue;
      }
      const p = one().finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  }, 100);
  return {
    get answered() {
      return answered;
    },
    get failed() {
      return failed;
    },
    get skipped() {
      return skipped;
    },
    async stop() {
      clearInterval(timer);
      abort.abort();
      await Promise.all(inFlight);
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
    console.error(`backend_app: ${errorMessage(e)}\n\n${USAGE}`);
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
      curve: await clientKeysFromEnv(Deno.env.toObject()),
    });
  } catch (e) {
    shutdown.dispose();
    console.error(`backend_app: ${errorMessage(e)}\n\n${USAGE}`);
    return 2;
  }
  const { service, instance } = agent.identity;
  console.error(
    `backend_app: ${service}/${instance} reporting to ${options.collector} every ` +
      `${options.intervalMs} ms, leaking ${options.leak} numbers/s`,
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
    console.error(`backend_app: API on ${api.url}, calling itself ${options.load} times/s`);
  }
  const work = startWork({ leak: options.leak });
  const signal = await shutdown.signal;
  await load?.stop();
  await api?.close();
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
