/**
 * Counters about the collector itself: what it received, what it refused and why, and a
 * rate-limited log of refusals, so one bad sender can neither stop collection nor flood
 * the terminal.
 *
 * @module
 */
import { REJECT_REASONS, type RejectReason } from "../protocol.ts";
import { QueueDelay, type QueueDelaySummary } from "./queue_delay.ts";

/** Why the collector refused something it could decode, or a frame it could not. */
export type RefusalReason =
  | RejectReason
  | "instance_limit"
  | "series_limit"
  | "unauthorized"
  | "bad_profile"
  | OtlpRefusal;

/** Refusals only OTLP/HTTP requests have (lib/otlp/http.ts). */
export type OtlpRefusal = "invalid_protobuf" | "invalid_gzip" | "unsupported_media_type";

/** All refusal reasons, listed with zeros in `/api/stats`. */
export const REFUSAL_REASONS: readonly RefusalReason[] = [
  ...REJECT_REASONS,
  "instance_limit",
  "series_limit",
  "unauthorized",
  // A heap-profile frame refused: invalid (lib/protocol_profile.ts), too soon, or unknown sender.
  "bad_profile",
  "invalid_protobuf",
  "invalid_gzip",
  "unsupported_media_type",
];

/** Options for {@link CollectorStats}. */
export interface StatsOptions {
  now: () => number;
  log: (line: string) => void;
  /** Log each reason at most once per this many ms (default one minute). */
  logEveryMs?: number;
}

/** Collector-wide counters. */
/** Most services listed in {@link CollectorStats.otlpUnnamed} (`/api/stats` stays small). */
export const MAX_UNNAMED_SHOWN = 20;

export class CollectorStats {
  readonly started: number;
  messages = 0;
  samples = 0;
  bytes = 0;
  /** Failed history writes (disk full, read-only): counted, logged; the live view goes on. */
  historyErrors = 0;
  /** The history database deleted or replaced while running (data_file.ts), else null. */
  historyProblem: string | null = null;
  /** Points history has written to disk (flushed by a tick; see HistoryThread.durable). */
  historyDurable = 0;
  /** Points not kept in history because too many waited to be written (see durable.ts). */
  historyDropped = 0;
  /** The instances that lost the most history points to shedding (issue 16.8), most first. */
  historyShed: Array<[instance: string, dropped: number]> = [];
  /**
   * OTLP services whose processes all report as the one instance `unknown` (no
   * service.instance.id, host.name or process.pid): the first {@link MAX_UNNAMED_SHOWN}.
   */
  readonly otlpUnnamed: string[] = [];
  refused: Record<RefusalReason, number>;
  /** How long frames waited between the agent's send and ingest (queue_delay.ts). */
  readonly queueDelay = new QueueDelay();
  #lastLog = new Map<RefusalReason, number>();
  #suppressed = new Map<RefusalReason, number>();

  constructor(private readonly opts: StatsOptions) {
    this.started = opts.now();
    this.refused = Object.fromEntries(REFUSAL_REASONS.map((r) => [r, 0])) as Record<
      RefusalReason,
      number
    >;
  }

  /** Count a refusal and log it unless this reason was logged within the last minute. */
  refuse(reason: RefusalReason, detail: string, count = 1): void {
    this.refused[reason] += count;
    const now = this.opts.now();
    const last = this.#lastLog.get(reason);
    if (last !== undefined && now - last < (this.opts.logEveryMs ?? 60_000)) {
      this.#suppressed.set(reason, (this.#suppressed.get(reason) ?? 0) + count);
      return;
    }
    const more = this.#suppressed.get(reason) ?? 0;
    this.#suppressed.delete(reason);
    this.#lastLog.set(reason, now);
    const tail = more > 0 ? ` (+${more} more since last report)` : "";
    this.opts.log(`refused ${reason}: ${detail}${tail}`);
  }

  /** The last minute's queueing delay at arrival (count, p50, p99, max in ms). */
  queueDelaySummary(): QueueDelaySummary {
    return this.queueDelay.summary(this.opts.now());
  }

  /** Total refusals over all reasons. */
  get refusedTotal(): number {
    let n = 0;
    for (const r of REFUSAL_REASONS) n += this.refused[r];
    return n;
  }
}
