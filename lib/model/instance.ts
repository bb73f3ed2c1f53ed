/**
 * The shapes of an instance that several layers share (collector, store, live view, alerts,
 * HTTP and the page), and the staleness rule, in one leaf module that imports nothing of
 * zeroapm's: so the layers above it point one way.
 *
 * @module
 */

/**
 * Liveness of an instance: live while it reports, stale after 3 missed intervals, gone after
 * 60 (it crashed, or was replaced: kept in the list until its history expires), stopped when
 * it said goodbye (a clean stop: no silent alert).
 */
export type InstanceStatus = "live" | "stale" | "gone" | "stopped";

/** One instance as the API and the page see it. */
export interface InstanceView {
  /** Stable, URL-safe id: `encodeURIComponent(service) + "/" + encodeURIComponent(instance)`. */
  id: string;
  service: string;
  instance: string;
  pid: number | null;
  host: string | null;
  /** A safe CSS colour to draw with (the requested one if valid, else from the palette). */
  color: string;
  /** The colour the app asked for, verbatim; display as text only. */
  requestedColor: string | null;
  status: InstanceStatus;
  firstSeen: number;
  lastSeen: number;
  /** Collector clock minus agent clock, ms (positive: the agent's clock is behind). */
  clockOffsetMs: number;
  intervalMs: number;
  /** Samples received and samples lost to sequence gaps. */
  received: number;
  lost: number;
  /** When the agent started, on the collector's clock (null when the agent does not say). */
  startedAt: number | null;
  /** Times the same (service, instance) came back with a new pid or start time. */
  restarts: number;
  lastRestartAt: number | null;
  /**
   * Samples whose sequence number no real agent could have sent by then (a forged or corrupt
   * frame): kept, counted here, and not taken as the new sequence baseline.
   */
  seqResets: number;
  /** Latest value of each metric. */
  latest: Record<string, number>;
  /**
   * Known only from the remote-read cluster (lib/remote/reader.ts): it reports to another
   * collector, so this one has its history and no live data of it.
   */
  elsewhere?: true;
}

/** An instance as the durable store keeps it: its view plus where its sequence stood. */
export type PersistedView = InstanceView & { lastSeq?: number | null; agentStart?: number | null };

/** A silent instance is stale after this many intervals, and gone after this many. */
export const STALE_AFTER_INTERVALS = 3;
export const GONE_AFTER_INTERVALS = 60;

/**
 * An instance that ended (stopped, or gone) this long ago is retired: the live view and the
 * service counts leave it out, history keeps it. Containers redeployed under new ids would
 * otherwise pile up as ended rows and make a service read "5 / 35 live". The longest live
 * chart window: a retired instance has no point left in the live charts either.
 */
export const RETIRE_AFTER_MS = 15 * 60_000;

/** Whether `view` ended (stopped or gone) more than {@link RETIRE_AFTER_MS} before `now`. */
export function isRetired(view: Pick<InstanceView, "status" | "lastSeen">, now: number): boolean {
  return (view.status === "gone" || view.status === "stopped") &&
    now - view.lastSeen > RETIRE_AFTER_MS;
}

/** The series the live strip charts draw (the `/ws` hello carries only these by default). */
export const CHART_METRICS = ["cpu.percent", "mem.rss_bytes"] as const;

/**
 * An instance's status judged at `now` from its last report alone: stale after
 * {@link STALE_AFTER_INTERVALS} missed intervals, gone after {@link GONE_AFTER_INTERVALS}.
 * A stopped instance (it said goodbye) stays stopped. `graceMs` absorbs delivery delay.
 */
export function statusAt(
  view: Pick<InstanceView, "status" | "lastSeen" | "intervalMs">,
  now: number,
  graceMs = 0,
): InstanceStatus {
  if (view.status === "stopped") return "stopped";
  const interval = Number.isFinite(view.intervalMs) && view.intervalMs > 0 ? view.intervalMs : 1000;
  const silent = now - view.lastSeen - graceMs;
  return silent > GONE_AFTER_INTERVALS * interval
    ? "gone"
    : silent > STALE_AFTER_INTERVALS * interval
    ? "stale"
    : "live";
}

/**
 * A view with nothing known yet but its identity and colour: what a new instance starts
 * from, and what an instance only known from elsewhere (a remote, a page's placeholder) shows.
 */
export function blankView(
  id: string,
  service: string,
  instance: string,
  color: string,
  status: InstanceStatus,
): InstanceView {
  return {
    id,
    service,
    instance,
    pid: null,
    host: null,
    color,
    requestedColor: null,
    status,
    firstSeen: 0,
    lastSeen: 0,
    clockOffsetMs: 0,
    intervalMs: 1000,
    received: 0,
    lost: 0,
    startedAt: null,
    restarts: 0,
    lastRestartAt: null,
    seqResets: 0,
    latest: {},
  };
}
