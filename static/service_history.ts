/**
 * A short in-memory history of the collector's `services` frames (one a second), per
 * service, for the sparklines of the service panels: request rate, latency percentiles,
 * error share and live instances over the last few minutes. Nothing is asked of the API;
 * a page opened a minute ago shows a minute. Pure, unit-tested.
 *
 * @module
 */
import type { ServiceView } from "../lib/live/messages.ts";

/** One service at one time. */
export interface ServicePoint {
  t: number;
  rps: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** Share of requests answered 5xx, 0..1. */
  errors: number | null;
  live: number;
  instances: number;
}

/** How long the sparklines reach back, ms. */
export const SPARK_MS = 5 * 60_000;

/** Points per service, oldest first, at most {@link SPARK_MS} old. */
export class ServiceHistory {
  readonly #by = new Map<string, ServicePoint[]>();
  #latest: ServiceView[] = [];

  constructor(readonly spanMs = SPARK_MS) {}

  /** Add a frame's services at collector time `t`; services no longer listed are forgotten. */
  add(t: number, services: readonly ServiceView[]): void {
    const clean = services.filter((s) => s && typeof s.service === "string");
    this.#latest = clean;
    const seen = new Set<string>();
    for (const s of clean) {
      seen.add(s.service);
      let list = this.#by.get(s.service);
      if (!list) this.#by.set(s.service, list = []);
      if (list.length && list[list.length - 1].t >= t) continue; // a repeated frame
      const h = s.http;
      list.push({
        t,
        rps: num(h?.requestsPerS),
        p50: num(h?.p50),
        p95: num(h?.p95),
        p99: num(h?.p99),
        errors: num(h?.errorRatio),
        live: num(s.live) ?? 0,
        instances: num(s.instances) ?? 0,
      });
      let n = 0;
      while (n < list.length && list[n].t < t - this.spanMs) n++;
      if (n > 0) list.splice(0, n);
    }
    for (const k of [...this.#by.keys()]) if (!seen.has(k)) this.#by.delete(k);
  }

  /** Forget everything (a new collector). */
  clear(): void {
    this.#by.clear();
    this.#latest = [];
  }

  /** The newest frame's services, ordered by name. */
  latest(): ServiceView[] {
    return [...this.#latest].sort((a, b) => a.service.localeCompare(b.service));
  }

  /** The points of one service. */
  points(service: string): readonly ServicePoint[] {
    return this.#by.get(service) ?? [];
  }
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}
