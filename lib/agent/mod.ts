/**
 * zeroapm agent: add one line to an app to report its CPU, memory, event-loop lag and
 * runtime health to a zeroapm collector; add more to send its own metrics and request
 * metrics (see examples/custom_metrics.ts).
 *
 * @example One line for CPU and memory, a few more for the app's own metrics
 * ```ts
 * import { createAgent, instrument } from "./mod.ts";
 *
 * const agent = createAgent({ service: "bookings" });
 * agent.metrics.counter("bookings.created_total").inc({ kind: "web" });
 * const handler = (_req: Request) => new Response("ok");
 * const route = (req: Request) => new URL(req.url).pathname.replace(/\/\d+$/, "/:id");
 * Deno.serve(instrument(handler, { metrics: agent.metrics, route }));
 * Deno.addSignalListener("SIGTERM", async () => {
 *   await agent.stop(); // says goodbye and flushes what is buffered, briefly
 *   Deno.exit(0);
 * });
 * ```
 *
 * @module
 */
export {
  type Agent,
  type AgentOptions,
  type AgentStats,
  BATCH_SIZE,
  COLLECTOR_ENV,
  collectorEndpoint,
  createAgent,
  DEFAULT_BACKLOG_LIMIT,
  DEFAULT_COLLECTOR,
  MIN_BACKLOG_LIMIT,
  STOP_FLUSH_MS,
} from "./agent.ts";
export { type Backlog, createBacklog } from "./backlog.ts";
export { type LagProbe, type LagProbeOptions, startLagProbe } from "./lag.ts";
export {
  HTTP_METRICS,
  instrument,
  instrumentNode,
  type InstrumentNodeOptions,
  type InstrumentOptions,
  methodLabel,
  type NodeRequestLike,
  type NodeResponseLike,
  OTHER_METHOD,
  OTHER_ROUTE,
  STANDARD_METHODS,
  statusClass,
} from "./middleware.ts";
export {
  cpuPercent,
  createProcessReaders,
  type ProcessReaders,
  type ProcessReadersOptions,
  type ProcessReading,
  type ProcessSources,
} from "./process.ts";
export {
  type Counter,
  createRegistry,
  DEFAULT_MAX_SERIES,
  type Gauge,
  type HistogramMetric,
  type Labels,
  type MetricsRegistry,
  REGISTRY_LIMITS,
  type RegistryOptions,
  type RegistrySnapshot,
  type RegistryStats,
} from "./registry.ts";
export { AgentNotice, rateLimitedReporter, type ReporterOptions } from "./report.ts";
export {
  createRuntimeReaders,
  RUNTIME_METRICS,
  type RuntimeReaders,
  type RuntimeReadersOptions,
  type RuntimeSources,
} from "./runtime.ts";
export { type SendLoop, type SendLoopOptions, startSendLoop, type Transport } from "./sender.ts";
