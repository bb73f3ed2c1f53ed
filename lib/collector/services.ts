/**
 * Services: the view one level above instances. For each service, how many instances run,
 * and its HTTP health: request rate, error rate and latency percentiles. Percentiles cannot
 * be averaged across instances, so the histogram counts that arrive from every instance of a
 * service are merged over a sliding window (10 one-second slots) and the percentiles are
 * taken from the merged counts.
 *
 * @module
 */
import { BUCKET_COUNT, quantile } from "../histogram.ts";
import { parseKey } from "../metric_key.ts";
import type { InstanceView, ServiceView } from "../live/messages.ts";
import { isRetired } from "../model/instance.ts";

/** The request metrics the middleware records (lib/agent/middleware.ts). */
export const HTTP = {
  requestsPerS: "http.requests.per_s",
  duration: "http.request_duration_ms",
} as const;

const SLOTS = 10;

/** Merges request histograms per service and summarises services. */
export class Services {
  /** service -> ring of per-second merged duration counts. */
  #slots = new Map<string, Float64Array[]>();
  #slot = 0;

  /** Add the counts one instance observed in an interval, for one histogram key. */
  addHistogram(service: string, key: string, counts: ArrayLike<number>): void {
    if (parseKey(key)?.name !== HTTP.duration) return;
    let ring = this.#slots.get(service);
    if (!ring) {
      ring = Array.from({ length: SLOTS }, () => new Float64Array(BUCKET_COUNT));
      this.#slots.set(service, ring);
    }
    const slot = ring[this.#slot];
    for (let i = 0; i < BUCKET_COUNT; i++) slot[i] += counts[i];
  }

  /** Move the window on by one slot (call once a second). */
  advance(): void {
    this.#slot = (this.#slot + 1) % SLOTS;
    for (const ring of this.#slots.values()) ring[this.#slot].fill(0);
  }

  /**
   * Summaries of every service that has instances, ordered by name; instances retired at
   * `now` (ended over 15 minutes ago, see lib/model/instance.ts) are not counted.
   */
  summarise(instances: InstanceView[], now: number): ServiceView[] {
    const by = new Map<string, InstanceView[]>();
    for (const v of instances) {
      if (isRetired(v, now)) continue;
      const list = by.get(v.service);
      if (list) list.push(v);
      else by.set(v.service, [v]);
    }
    return [...by.keys()].sort().map((service) => this.#summary(service, by.get(service)!));
  }

  /** Forget services that have no instances any more. */
  retain(services: Set<string>): void {
    for (const s of this.#slots.keys()) if (!services.has(s)) this.#slots.delete(s);
  }

  #summary(service: string, list: InstanceView[]): ServiceView {
    let requests = 0;
    let errors = 0;
    let reports = false;
    for (const v of list) {
      if (v.status !== "live") continue;
      for (const key in v.latest) {
        const k = parseKey(key);
        if (k?.name !== HTTP.requestsPerS) continue;
        reports = true;
        requests += v.latest[key];
        if (k.labels.some(([name, value]) => name === "status" && value === "5xx")) {
          errors += v.latest[key];
        }
      }
    }
    const merged = new Float64Array(BUCKET_COUNT);
    for (const slot of this.#slots.get(service) ?? []) {
      for (let i = 0; i < BUCKET_COUNT; i++) merged[i] += slot[i];
    }
    const q = (p: number) => {
      const v = quantile(merged, p);
      return Number.isNaN(v) ? null : Math.round(v * 1000) / 1000;
    };
    return {
      service,
      instances: list.length,
      live: list.filter((v) => v.status === "live").length,
      stopped: list.filter((v) => v.status === "stopped").length,
      restarts: list.reduce((n, v) => n + v.restarts, 0),
      http: reports || this.#slots.has(service)
        ? {
          requestsPerS: round(requests),
          errorsPerS: round(errors),
          errorRatio: requests > 0 ? round(errors / requests) : 0,
          p50: q(0.5),
          p95: q(0.95),
          p99: q(0.99),
        }
        : null,
    };
  }
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
