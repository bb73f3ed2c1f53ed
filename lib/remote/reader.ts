/**
 * Remote read through the Prometheus query API (VictoriaMetrics single node `http://vm:8428`,
 * vmselect's `/select/0/prometheus`, Prometheus, Mimir, Thanos Query): history the local
 * store does not hold (older than it, or of an instance another collector receives) and the
 * instances only the remote knows. Several collectors writing to one cluster thus each show
 * everyone's history, and a `--data none --remote-read URL` collector is a stateless
 * dashboard. Names follow lib/prom/names.ts; a failed request is counted, logged once a
 * minute, and the answer falls back to what is local.
 *
 * @module
 */
import { COLOR_LABEL, formatPromSeries, promSeries } from "../prom/names.ts";
import { instanceId } from "../collector/instances.ts";
import { paletteColor, safeColor } from "../colors.ts";
import { LIMITS } from "../protocol.ts";
import { splitCredentials } from "./url.ts";
import { blankView, type InstanceView } from "../model/instance.ts";
import type { Point } from "../store/query.ts";
import type { SeriesAnswer } from "../store/durable.ts";
import type { HistoryReader } from "../http/series.ts";
import { errorMessage } from "../errors.ts";

/** Most remote-only instances listed (the collector's own instance bound). */
const MAX_INSTANCES = 10_000;

/**
 * Buckets this close to now come from raw samples, not `query_range`: VictoriaMetrics
 * repeats each series' last value over the newest `-search.latencyOffset` (30 s by default)
 * of a range query whose step is under `-search.maxStepForPointsAdjustment` (1 min), so a
 * remote-only instance's line ended in a flat run of made-up values.
 */
const RAW_TAIL_MS = 60_000;

/** Options for {@link RemoteReader}. */
export interface RemoteReaderOptions {
  /** The query API base: `${url}/api/v1/query_range` etc. */
  url: string;
  headers?: Record<string, string>;
  now: () => number;
  log: (line: string) => void;
  fetch?: typeof fetch;
  /** A request not answered in this long fails, ms (default 10 000). */
  timeoutMs?: number;
  /** How far back `/api/v1/series` looks for instances, ms (default 30 days). */
  instancesLookbackMs?: number;
}

/** Remote read figures for `/api/stats`. */
export interface RemoteReadStats {
  url: string;
  requests: number;
  errors: number;
  lastError: string | null;
  /** Instances the remote knows (from the last listing). */
  instances: number;
}

/** Reads history and instances back from a Prometheus-compatible query API. */
export class RemoteReader {
  #o: RemoteReaderOptions;
  #base: string;
  #fetch: typeof fetch;
  #instances: InstanceView[] = [];
  #stats: RemoteReadStats;
  #lastLog = -Infinity;
  /** Since when requests fail (null while the remote answers). */
  #failingSince: number | null = null;

  constructor(opts: RemoteReaderOptions) {
    const { url, headers } = splitCredentials(opts.url, opts.headers);
    this.#o = { ...opts, url, headers };
    this.#base = url.replace(/\/+$/, "");
    this.#fetch = opts.fetch ?? fetch;
    this.#stats = { url, requests: 0, errors: 0, lastError: null, instances: 0 };
  }

  /**
   * One series over [from, to) as at most `points` buckets `[start, min, avg, max]`, on the
   * same grid as the local store's answer: min/avg/max_over_time over each bucket, and the
   * newest minute's buckets from raw samples ({@link RAW_TAIL_MS}).
   */
  async range(
    instance: string,
    metric: string,
    from: number,
    to: number,
    points: number,
  ): Promise<Point[]> {
    const [service, inst] = instance.split("/").map(decodeURIComponent);
    const s = promSeries(service ?? "", inst ?? "", metric);
    if (!s || inst === undefined) return [];
    const width = (to - from) / points;
    // Never wider than a bucket, so no sample counts in two (stored times are whole ms; the
    // window is (t - w, t] in VictoriaMetrics and Prometheus 3, [t - w, t] in Prometheus 2).
    const windowMs = Math.max(1, Math.floor(width));
    const sel = `${formatPromSeries(s)}[${windowMs}ms]`;
    const params = {
      start: `${(from + width) / 1000}`,
      end: `${to / 1000}`,
      step: `${width / 1000}`,
      nocache: "1",
    };
    const [mins, avgs, maxs] = await Promise.all(
      ["min", "avg", "max"].map((f) =>
        this.#get("/api/v1/query_range", { query: `${f}_over_time(${sel})`, ...params })
      ),
    );
    const byBucket = new Map<number, Point>();
    const fold = (result: unknown, at: 1 | 2 | 3) => {
      for (const r of result as Array<{ values: Array<[number, string]> }>) {
        for (const [t, v] of r.values) {
          const k = Math.round((t * 1000 - from) / width) - 1;
          if (k < 0 || k >= points) continue;
          let p = byBucket.get(k);
          if (!p) byBucket.set(k, p = [Math.round(from + k * width), NaN, NaN, NaN]);
          p[at] = Number(v);
        }
      }
    };
    fold(mins, 1);
    fold(avgs, 2);
    fold(maxs, 3);
    const tailFrom = this.#o.now() - RAW_TAIL_MS;
    if (width < RAW_TAIL_MS && to > tailFrom) {
      const first = Math.max(0, Math.floor((tailFrom - from) / width));
      const raw = await this.#get("/api/v1/query", {
        query: `${formatPromSeries(s)}[${Math.ceil(to - (from + first * width))}ms]`,
        time: `${to / 1000}`,
        nocache: "1",
      });
      for (const k of byBucket.keys()) if (k >= first) byBucket.delete(k);
      const counts = new Map<number, number>();
      for (const r of raw as Array<{ values: Array<[number, string]> }>) {
        for (const [t, v] of r.values) {
          // Sample t is in bucket k's window (from + k * width, from + (k + 1) * width].
          const k = Math.ceil((t * 1000 - from) / width) - 1;
          const x = Number(v);
          if (k < first || k >= points || !Number.isFinite(x)) continue;
          let p = byBucket.get(k);
          if (!p) byBucket.set(k, p = [Math.round(from + k * width), x, 0, x]);
          p[1] = Math.min(p[1], x);
          p[3] = Math.max(p[3], x);
          p[2] += x;
          counts.set(k, (counts.get(k) ?? 0) + 1);
        }
      }
      for (const [k, n] of counts) byBucket.get(k)![2] /= n;
    }
    return [...byBucket.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p)
      .filter((p) => Number.isFinite(p[2]));
  }

  /** Instances the remote knows, as of the last {@link refresh} (status `gone`, no values). */
  instances(): InstanceView[] {
    return this.#instances;
  }

  /** List the remote's instances again (`/api/v1/series` of the charted CPU metric). */
  async refresh(): Promise<void> {
    const now = this.#o.now();
    let data: unknown;
    try {
      data = await this.#get("/api/v1/series", {
        "match[]": '{__name__="cpu_percent",job!=""}',
        limit: `${MAX_INSTANCES}`, // VictoriaMetrics and newer Prometheus honour it
        start: `${(now - (this.#o.instancesLookbackMs ?? 30 * 86_400_000)) / 1000}`,
        end: `${now / 1000}`,
      });
    } catch {
      return; // counted and logged in #get; the last list stays
    }
    const seen = new Map<string, InstanceView>();
    for (const labels of data as Array<Record<string, string>>) {
      const service = labels.job;
      const instance = labels.instance ?? "";
      // The protocol's own bound on names: a remote's odd label is skipped, not shown.
      const max = LIMITS.maxNameLength;
      if (typeof service !== "string" || service.length > max || instance.length > max) continue;
      const id = instanceId(service, instance);
      if (seen.has(id)) continue;
      if (seen.size >= MAX_INSTANCES) break;
      // The colour it had on the collector that wrote it, when that one sent it.
      const color = safeColor(labels[COLOR_LABEL]) ?? paletteColor(id);
      seen.set(id, { ...blankView(id, service, instance, color, "gone"), elsewhere: true });
    }
    this.#instances = [...seen.values()];
    this.#stats.instances = this.#instances.length;
  }

  /** A snapshot of the reader's figures. */
  stats(): RemoteReadStats {
    return { ...this.#stats };
  }

  async #get(path: string, params: Record<string, string>): Promise<unknown> {
    this.#stats.requests++;
    const url = `${this.#base}${path}?${new URLSearchParams(params)}`;
    try {
      const res = await this.#fetch(url, {
        headers: { accept: "application/json", ...this.#o.headers },
        signal: AbortSignal.timeout(this.#o.timeoutMs ?? 10_000),
      });
      const text = await res.text();
      let body: { status?: string; data?: { result?: unknown } | unknown; error?: string } = {};
      try {
        body = JSON.parse(text);
      } catch { /* said below */ }
      if (!res.ok || body.status !== "success") {
        throw new Error(`answered ${res.status}: ${(body.error ?? text).slice(0, 200)}`);
      }
      const d = body.data as { result?: unknown } | unknown[];
      this.#stats.lastError = null; // as remote write's: the last failure, until one succeeds
      if (this.#failingSince !== null) {
        // The last line logged was the failure: say it is over, or it reads as ongoing.
        const s = Math.round((this.#o.now() - this.#failingSince) / 1000);
        this.#failingSince = null;
        this.#o.log(`remote read ${this.#base} answers again (failed for ${s} s)`);
      }
      return Array.isArray(d) ? d : d.result;
    } catch (e) {
      this.#stats.errors++;
      const msg = `remote read ${this.#o.url}${path}: ${errorMessage(e)}`;
      this.#stats.lastError = msg;
      this.#failingSince ??= this.#o.now();
      const t = this.#o.now();
      if (t - this.#lastLog >= 60_000) {
        this.#lastLog = t;
        this.#o.log(`${msg} (answering from local history only)`);
      }
      throw e;
    }
  }
}

/**
 * A history reader that answers from `local` and fills from the remote what local lacks:
 * an instance it does not know, or the part of the range before local's first point.
 * Local buckets win where both have one.
 */
export function readThrough(local: HistoryReader, remote: RemoteReader): HistoryReader {
  return {
    async query(instance, metric, from, to, points): Promise<SeriesAnswer> {
      const a = await local.query(instance, metric, from, to, points);
      const first = a.points[0]?.[0];
      if (first !== undefined && first < from + a.bucketMs) return a; // local has bucket 0
      let more: Point[];
      try {
        more = await remote.range(instance, metric, from, to, points);
      } catch {
        return a;
      }
      const have = new Set(a.points.map((p) => p[0]));
      const merged = [...a.points, ...more.filter((p) => !have.has(p[0]))];
      merged.sort((x, y) => x[0] - y[0]);
      return { ...a, points: merged };
    },
  };
}
