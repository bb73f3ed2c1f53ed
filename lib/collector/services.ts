/**
 * Services: the view one level above instances. For each service, how many instances run,
 * and its HTTP health: request rate, error rate and latency percentiles, all over the same
 * sliding window of 10 one-second slots. Percentiles cannot be averaged across instances, so
 * the histogram counts that arrive from every instance of a service are merged and the
 * percentiles taken from the merged counts. The rates are the live instances' latest
 * `http.requests.per_s`, summed, taken once a second and averaged over the window: one
 * second's rate is noise (2 % of 20 requests a second read "0 %" most seconds, then "10 %").
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

/** Seconds in the window (one slot each). */
export const WINDOW_SLOTS = 10;
const SLOTS = WINDOW_SLOTS;

/** Requests and 5xx responses per second, summed over a service's live instances. */
interface Rates {
  requests: number;
  errors: number;
  /** Whether any live instance reports request metrics. */
  reports: boolean;
}

/** Merges request histograms per service and summarises services. */
export class Services {
  /** service -> ring of per-second merged duration counts. */
  #slots = new Map<string, Float64Array[]>();
  /** service -> ring of the rates taken at each advance (null: not taken in that second). */
  #rates = new Map<string, Array<Rates | null>>();
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

  /**
   * Move the window on by one slot, and take this second's request rates from `instances`
   * (their latest values) into it. Call once a second.
   */
  advance(instances: readonly InstanceView[] = []): void {
    this.#slot = (this.#slot + 1) % SLOTS;
    for (const ring of this.#slots.values()) ring[this.#slot].fill(0);
    for (const ring of this.#rates.values()) ring[this.#slot] = null;
    const by = new Map<string, InstanceView[]>();
    for (const v of instances) {
      if (v.status !== "live") continue;
      const list = by.get(v.service);
      if (list) list.push(v);
      else by.set(v.service, [v]);
    }
    for (const [service, list] of by) {
      const rates = currentRates(list);
      if (!rates.reports) continue;
      let ring = this.#rates.get(service);
      if (!ring) this.#rates.set(service, ring = new Array<Rates | null>(SLOTS).fill(null));
      ring[this.#slot] = rates;
    }
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
    for (const s of this.#rates.keys()) if (!services.has(s)) this.#rates.delete(s);
  }

  #summary(service: string, list: InstanceView[]): ServiceView {
    const live = list.filter((v) => v.status === "live");
    const now = currentRates(live);
    // The window's mean; before the first second is taken, what the instances say now.
    let requests = now.requests;
    let errors = now.errors;
    const taken = (this.#rates.get(service) ?? []).filter((r) => r !== null);
    if (taken.length > 0) {
      requests = taken.reduce((n, r) => n + r.requests, 0) / taken.length;
      errors = taken.reduce((n, r) => n + r.errors, 0) / taken.length;
    }
    const reports = now.reports || taken.length > 0;
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
      live: live.length,
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

/** The request and 5xx rates the instances' latest values give, summed. */
function currentRates(live: readonly InstanceView[]): Rates {
  const rates: Rates = { requests: 0, errors: 0, reports: false };
  for (const v of live) {
    for (const key in v.latest) {
      if (!key.startsWith(HTTP.requestsPerS)) continue;
      const k = parseKey(key);
      if (k?.name !== HTTP.requestsPerS) continue;
      rates.reports = true;
      rates.requests += v.latest[key];
      if (k.labels.some(([name, value]) => name === "status" && value === "5xx")) {
        rates.errors += v.latest[key];
      }
    }
  }
  return rates;
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
