/**
 * zeroapm agent: add one line to an app to report its CPU, memory and event-loop lag to a
 * zeroapm collector.
 *
 * ```ts
 * import { createAgent } from "./lib/agent/mod.ts";
 * const agent = createAgent({ service: "bookings" });
 * // ... on shutdown:
 * await agent.stop();
 * ```
 *
 * @module
 */
export {
  type Agent,
  type AgentOptions,
  type AgentStats,
  BATCH_SIZE,
  createAgent,
  DEFAULT_BACKLOG_LIMIT,
  DEFAULT_COLLECTOR,
  MIN_BACKLOG_LIMIT,
  STOP_FLUSH_MS,
} from "./agent.ts";
export { type Backlog, createBacklog } from "./backlog.ts";
export { type LagProbe, type LagProbeOptions, startLagProbe } from "./lag.ts";
export {
  cpuPercent,
  createProcessReaders,
  type ProcessReaders,
  type ProcessReadersOptions,
  type ProcessReading,
  type ProcessSources,
} from "./process.ts";
export { rateLimitedReporter, type ReporterOptions } from "./report.ts";
export { type SendLoop, type SendLoopOptions, startSendLoop, type Transport } from "./sender.ts";
