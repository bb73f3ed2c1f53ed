/**
 * What the HTTP layer reads, as narrow read-only interfaces: the collector's parts (instances,
 * services, stats, the live hub, alerts, profiles, remotes) satisfy them structurally, and
 * HTTP depends on no class of theirs. What HTTP only serialises is `unknown` to it: the
 * shapes are the producers' (see docs/api.md).
 *
 * @module
 */
import type { InstanceView } from "../model/instance.ts";
import type { QueueDelaySummary } from "../model/queue_delay.ts";

/** The instance registry, read. */
export interface InstancesView {
  list(): InstanceView[];
  /** Frames dropped as duplicates, by instance id. */
  duplicates(): ReadonlyMap<string, number>;
  readonly size: number;
  /** Silent instances forgotten to make room at the instance cap. */
  readonly evicted: number;
}

/** Per-service summaries. */
export interface ServicesView {
  summarise(instances: InstanceView[], now: number): unknown;
}

/** The collector's own counters. */
export interface StatsView {
  readonly started: number;
  readonly messages: number;
  readonly samples: number;
  readonly bytes: number;
  readonly refusedTotal: number;
  readonly refused: unknown;
  readonly historyErrors: number;
  readonly historyProblem: string | null;
  readonly historyDropped: number;
  readonly historyShed: unknown;
  /** OTLP services whose processes all report as one instance, `unknown` (the first 20). */
  readonly otlpUnnamed: readonly string[];
  /** Points history has written to disk. */
  readonly historyDurable: number;
  /** The last minute's queueing delay at arrival (lib/collector/queue_delay.ts). */
  queueDelaySummary(): QueueDelaySummary;
}

/** The live hub: its counters, and places for new clients. */
export interface LiveClients {
  readonly size: number;
  readonly dropped: number;
  readonly closedStuck: number;
  readonly refused: number;
  readonly bufferedBytes: number;
  readonly hellosBuilt: number;
  /** Hold a place for a client about to upgrade; false at the client cap. */
  reserve(): boolean;
  /** Give back a place held by {@link reserve} that was never used. */
  release(): void;
  /** Add an open client; returns its removal. */
  add(socket: WebSocket, metrics: readonly string[] | null, reserved?: boolean): () => void;
}

/** Alerts, read. */
export interface AlertsView {
  list(): unknown;
  leakOf(id: string): unknown;
  stats(): unknown;
}

/** Heap profiles, read. */
export interface ProfilesView {
  latest(): unknown;
  list(id: string): unknown;
  stats(): unknown;
}
