/**
 * The app of the agent-cost benchmark (bench/agent_cost.ts):
 * `deno run -A bench/agent_app.ts '<AppConfig JSON>'`.
 *
 * A light synthetic workload: a timer fires every `tickMs` (10 ms: 100 "requests" a second),
 * does a little work (a small JSON round trip and a sum, a few µs) and updates the app's
 * metrics: 2 counter increments, 2 gauge sets and 1 histogram observation per tick, spread
 * over {@link APP_SERIES} (20 counter, 20 gauge, 10 histogram series, all with labels).
 *
 * With `agent: true` the metrics are `createAgent(...).metrics` and the agent samples at
 * 1 Hz and pushes to `endpoint`; the app is then started from an entry module that imports
 * the agent statically, as an app does ({@link agentEntry}). With `agent: false` the very
 * same code runs against a no-op metrics object, started from this module, which imports
 * nothing: the app without the agent.
 * `updates: false` runs the agent with the same 50 series (each set once at start) while
 * the ticks update a no-op object: the agent's own cost per sample, without the app's
 * per-update cost. `series: false` runs the agent with none of them (`createAgent` alone; with
 * `module`, from the built agent), and `floorPort` runs, without the agent, the floor reporter
 * the agent is compared with.
 *
 * Protocol (JSON lines on stdout): `{"ready":true}` once all series exist, then one
 * {@link AppMark} per SIGUSR2 (SIGUSR1 would start Deno's inspector, as it does Node's);
 * SIGTERM stops the agent and ends the app. Signals, not stdin:
 * reading stdin as lines loads a module and Deno's stream and text-decoding code, memory the
 * app without the agent would pay too, hiding the share of it the agent pays (issue 14: the
 * agent is measured against a plain Deno app that imports nothing).
 *
 * @module
 */
import type { Agent, createAgent, MetricsRegistry } from "../lib/agent/mod.ts";

/** What the parent asks the app to do. */
export interface AppConfig {
  /** Run with the agent (true) or without (false). */
  agent: boolean;
  /**
   * With the agent: false sets every series once at start, then the ticks update a no-op
   * object (the agent still samples and sends all 50 series). Default true.
   */
  updates?: boolean;
  /**
   * With the agent: false creates none of the app's 50 series (the ticks update a no-op
   * object), so the agent sends only its standard and runtime metrics: `createAgent` in a
   * plain app, issue 14's own setup. Default true.
   */
  series?: boolean;
  /**
   * With the agent: whether the entry imported the built agent (`deno task build-agent`'s
   * mod.js) rather than the TypeScript source; it reports under its own service name.
   */
  built?: boolean;
  /** Collector endpoint (with the agent). */
  endpoint?: string;
  /** Workload timer period, ms. */
  tickMs: number;
  /**
   * Without the agent: once a second, read memory and CPU time, `JSON.stringify` them and
   * write the text to this TCP port on 127.0.0.1 (a sink that discards it). The least any
   * 1 Hz in-process reporter does in Deno: the floor under the agent's own cost.
   */
  floorPort?: number;
}

/** One reading, printed for every `mark` command. */
export interface AppMark {
  /** `Deno.cpuUsage()` user + system, µs, cumulative since the process started. */
  cpuUs: number;
  /** Agent samples taken and accepted by the transport so far (0 without the agent). */
  seq: number;
  sent: number;
  /** Workload ticks and metric updates so far. */
  ticks: number;
  updates: number;
  /** `performance.now()`, ms. */
  at: number;
}

/**
 * The entry module of the app with the agent: it imports `createAgent` from `agentModule`
 * (a file URL: the source's lib/agent/mod.ts or the built mod.js) statically, as an app does,
 * and runs this app with it. Not a dynamic import in this module: Deno fetches every
 * `import("literal")` of a graph at start-up, so the app without the agent would load the
 * agent too, and an `import(variable)` runs Deno's dynamic-import code, ~0.3 MiB of RSS
 * (bench/agent_rss.ts) that an app importing the agent statically does not have.
 */
export function agentEntry(agentModule: string): string {
  const app = new URL("./agent_app.ts", import.meta.url).href;
  return `import { createAgent } from ${JSON.stringify(agentModule)};\n` +
    `import { runApp } from ${JSON.stringify(app)};\n` +
    "await runApp(createAgent);\n";
}

/** The app's series: names x label sets. */
export const APP_SERIES = {
  counters: 20,
  gauges: 20,
  histograms: 10,
} as const;

/** Service names the app's agent reports as (with and without the app's updates or series). */
export const AGENT_SERVICE = "bench-agent-cost";
export const AGENT_SERVICE_IDLE = "bench-agent-cost-idle";
export const AGENT_SERVICE_BARE = "bench-agent-cost-bare";
export const AGENT_SERVICE_BUILT = "bench-agent-cost-built";

/** Metric updates per workload tick. */
export const UPDATES_PER_TICK = 5;

/**
 * CPU time, µs: `Deno.cpuUsage()` (in Deno 2.9, not in its types). Not `node:process`: the
 * app without the agent must be a plain Deno app that loads no `node:` module, or the Node
 * layer's memory would be counted on both sides and hidden (issue 14).
 */
const cpuUsage = (Deno as unknown as { cpuUsage(): { user: number; system: number } }).cpuUsage;

const emit = (o: unknown) => console.log(JSON.stringify(o));

/** The same interface as the registry, doing nothing: the app without the agent. */
const noopMetrics: Pick<MetricsRegistry, "counter" | "gauge" | "histogram"> = {
  counter: (name) => ({ name, inc() {} }),
  gauge: (name) => ({ name, set() {} }),
  histogram: (name) => ({ name, observe() {} }),
};

/**
 * The floor reporter ({@link AppConfig.floorPort}): every second `Deno.memoryUsage()`,
 * `Deno.cpuUsage()`, `JSON.stringify` and one awaited write on a loopback TCP connection.
 */
async function startFloor(port: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const enc = new TextEncoder();
  let seq = 0;
  let sent = 0;
  const timer = setInterval(async () => {
    const reading = { seq: seq++, t: Date.now(), mem: Deno.memoryUsage(), cpu: cpuUsage() };
    await conn.write(enc.encode(JSON.stringify(reading) + "\n"));
    sent++;
  }, 1000);
  return {
    stats: () => ({ seq, sent }),
    stop() {
      clearInterval(timer);
      conn.close();
    },
  };
}

/**
 * Run the app with the configuration in `Deno.args[0]`; `create` is the agent's `createAgent`
 * when started from an {@link agentEntry}, null when started from this module.
 */
export async function runApp(create: typeof createAgent | null): Promise<void> {
  const cfg = JSON.parse(Deno.args[0]) as AppConfig;
  let agent: Agent | null = null;
  if (cfg.agent) {
    if (!create) throw new Error("an app with the agent starts from agentEntry()'s module");
    agent = create({
      service: cfg.built
        ? AGENT_SERVICE_BUILT
        : cfg.series === false
        ? AGENT_SERVICE_BARE
        : cfg.updates === false
        ? AGENT_SERVICE_IDLE
        : AGENT_SERVICE,
      collector: cfg.endpoint,
    });
  }
  const floor = !cfg.agent && cfg.floorPort ? await startFloor(cfg.floorPort) : null;
  const m = cfg.series === false ? noopMetrics : agent?.metrics ?? noopMetrics;

  // 4 counters x 5 routes, 4 gauges x 5 queues, 2 histograms x 5 routes: 50 series.
  const routes = ["/", "/users/:id", "/orders", "/orders/:id", "/health"];
  const queues = ["email", "sms", "push", "billing", "export"];
  const counters = ["app.requests_total", "app.errors_total", "app.jobs_total", "app.bytes_total"]
    .map((n) => m.counter(n));
  const gauges = ["app.queue_depth", "app.pool_in_use", "app.cache_items", "app.tenants_active"]
    .map((n) => m.gauge(n));
  const hists = ["app.request_ms", "app.db_ms"].map((n) => m.histogram(n));
  const routeLabels = routes.map((route) => ({ route, status: "2xx" }));
  const queueLabels = queues.map((queue) => ({ queue }));

  if (agent && cfg.updates === false) {
    // Create every series once (the agent sends them all), then tick against no-ops.
    routeLabels.forEach((l, i) => {
      counters.forEach((c) => c.inc(l));
      hists.forEach((h) => h.observe(i, l));
    });
    queueLabels.forEach((l, i) => gauges.forEach((g) => g.set(i, l)));
    counters.fill(noopMetrics.counter("noop_total"));
    gauges.fill(noopMetrics.gauge("noop"));
    hists.fill(noopMetrics.histogram("noop"));
  }

  let ticks = 0;
  let updates = 0;
  let sink = 0;
  const tick = () => {
    const i = ticks++;
    // "Handle a request": a small JSON round trip and a sum.
    const req = JSON.parse(JSON.stringify({ id: i, items: [i, i + 1, i + 2, i + 3, i + 4] }));
    for (const x of req.items as number[]) sink += x;
    const c1 = i % 20;
    const c2 = (i * 7 + 3) % 20;
    counters[c1 % 4].inc(routeLabels[Math.floor(c1 / 4)]);
    counters[c2 % 4].inc(routeLabels[Math.floor(c2 / 4)], 3);
    const g1 = i % 20;
    const g2 = (i * 11 + 5) % 20;
    gauges[g1 % 4].set(sink % 1000, queueLabels[Math.floor(g1 / 4)]);
    gauges[g2 % 4].set(i % 97, queueLabels[Math.floor(g2 / 4)]);
    const h = i % 10;
    hists[h % 2].observe((sink % 400) / 7, routeLabels[Math.floor(h / 2)]);
    updates += UPDATES_PER_TICK;
  };
  const timer = setInterval(tick, cfg.tickMs);

  const { promise: stopped, resolve: stop } = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGUSR2", () => {
    const u = cpuUsage();
    const s = agent?.stats() ?? floor?.stats();
    emit(
      {
        cpuUs: u.user + u.system,
        seq: s?.seq ?? 0,
        sent: s?.sent ?? 0,
        ticks,
        updates,
        at: performance.now(),
      } satisfies AppMark,
    );
  });
  // Every series exists after 20 ticks.
  while (ticks < 20) await new Promise((r) => setTimeout(r, cfg.tickMs));
  emit({ ready: true });

  await stopped;
  clearInterval(timer);
  floor?.stop();
  await agent?.stop();
  if (sink < 0) console.error(sink); // keep the work observable
  Deno.exit(0); // the signal listeners would keep the app running
}

if (import.meta.main) await runApp(null);
