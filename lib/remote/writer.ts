/**
 * Remote write to one Prometheus-compatible endpoint (VictoriaMetrics, Mimir, Thanos
 * Receive, Prometheus with `--web.enable-remote-write-receiver`). It takes blocks from its
 * queue (a {@link RemoteSource}: the WAL, or memory), splits each over `shards` by series,
 * so every series stays in order while several requests are in flight, and commits the
 * block once every part is answered. 5xx, 429 and network errors are retried with
 * exponential back-off and jitter (Retry-After honoured) until they succeed; any other 4xx
 * drops that request's samples, counted and logged. It runs on its own timers: ingest never
 * waits for it.
 *
 * @module
 */
import { COLOR_LABEL, promSeries } from "../prom/names.ts";
import { METRICS } from "../protocol.ts";
import { safeColor } from "../colors.ts";
import { createBackoff, retryAfterMs } from "../backoff.ts";
import { errorMessage } from "../errors.ts";
import { splitCredentials } from "./url.ts";
import { encodeWriteRequest, WRITE_HEADERS, type WriteSeries } from "./proto.ts";
import type { Block, RemoteSource } from "./source.ts";

/** Options for {@link RemoteWriter}. */
export interface RemoteWriterOptions {
  url: string;
  /** Extra request headers (auth); never logged. */
  headers?: Record<string, string>;
  source: RemoteSource;
  now: () => number;
  log: (line: string) => void;
  fetch?: typeof fetch;
  /** Samples per request (default 2 000). */
  batchSize?: number;
  /** Requests in flight at once; series are spread over them (default 4). */
  shards?: number;
  /** How often an empty queue is looked at again, ms (default 1 000). */
  pollMs?: number;
  /** Back-off after the first failure, and its ceiling, ms (defaults 250 and 5 000, as Prometheus). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A request not answered in this long is retried, ms (default 30 000). */
  timeoutMs?: number;
  /** Log the same kind of failure at most this often, ms (default one minute). */
  logEveryMs?: number;
  random?: () => number;
  /**
   * An instance's dashboard colour, sent as {@link COLOR_LABEL} on its `cpu_percent` series
   * (the one a remote reader lists instances by); null or absent: no label.
   */
  colorOf?(instance: string): string | null;
}

/** One remote's figures for `/api/stats`, `/metrics` and the dashboard. */
export interface RemoteStats {
  /** The URL without credentials. */
  url: string;
  /** "wal": durable, resumes after a restart; "memory": bounded, lost on exit. */
  queue: "wal" | "memory";
  /** Samples the remote accepted. */
  sent: number;
  /** Samples waiting (estimated from WAL bytes for the WAL queue). */
  pending: number;
  /** Age of the oldest sample waiting, ms (null when none waits). */
  oldestPendingAgeMs: number | null;
  /** Requests retried (5xx, 429, network error, timeout). */
  retries: number;
  /** Samples dropped because the remote refused them (4xx other than 429). */
  dropped: number;
  /** Samples that left the queue unsent: past retention, or over the memory bound. */
  expired: number;
  requests: number;
  bytes: number;
  /** The last failure, without credentials (null once a request succeeds). */
  lastError: string | null;
}

/** Ships one queue to one remote until stopped. */
export class RemoteWriter {
  #o: RemoteWriterOptions;
  #url: string;
  #headers: Record<string, string>;
  #fetch: typeof fetch;
  #labels = new Map<number, WriteSeries["labels"] | null>();
  #stopped = false;
  #stop = new AbortController();
  #loop: Promise<void> | null = null;
  #lastLog = new Map<string, number>();
  #idle: Array<() => void> = [];
  #wake: (() => void) | null = null;
  #stats = { sent: 0, retries: 0, dropped: 0, requests: 0, bytes: 0 };
  #lastError: string | null = null;
  /** Since when requests fail and are retried (null while the remote answers). */
  #failingSince: number | null = null;
  /** Samples sent when the remote answered again, until the queue is caught up (or null). */
  #catchingUp: number | null = null;

  constructor(opts: RemoteWriterOptions) {
    const { url, headers } = splitCredentials(opts.url, opts.headers);
    this.#o = { ...opts, url };
    this.#url = url;
    this.#headers = { ...WRITE_HEADERS, "user-agent": "zeroapm", ...headers };
    this.#fetch = opts.fetch ?? fetch;
  }

  /** Start shipping (once). */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stop: requests in flight are abandoned, their block stays queued (resent next start). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stop.abort();
    await this.#loop;
  }

  /**
   * Ship what is queued now, for at most `ms` (a clean stop), then {@link stop}. What is not
   * shipped by then stays queued (the WAL) or is lost (memory).
   */
  async finish(ms: number): Promise<void> {
    if (!this.#stopped && this.#loop) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.drained(),
        new Promise((r) => timer = setTimeout(r, ms)),
      ]);
      clearTimeout(timer);
    }
    await this.stop();
  }

  /** Resolves the next time the queue is found empty (tests and the bench wait on it). */
  drained(): Promise<void> {
    const p = new Promise<void>((r) => this.#idle.push(r));
    this.#wake?.(); // look at the queue now rather than after the poll interval
    return p;
  }

  /** A snapshot of this remote's figures. */
  stats(): RemoteStats {
    const src = this.#o.source;
    const b = src.backlog();
    return {
      url: this.#url,
      queue: src.kind,
      ...this.#stats,
      pending: b.samples,
      oldestPendingAgeMs: b.oldest === null ? null : Math.max(0, this.#o.now() - b.oldest),
      expired: src.expired,
      lastError: this.#lastError,
    };
  }

  async #run(): Promise<void> {
    const shards = this.#o.shards ?? 4;
    const batch = this.#o.batchSize ?? 2000;
    while (!this.#stopped) {
      let block: Block | null = null;
      try {
        block = this.#o.source.peek(shards * batch);
      } catch (e) {
        this.#warn("queue", `cannot read the queue: ${errorMessage(e)}`);
      }
      if (!block) {
        if (this.#catchingUp !== null) {
          const n = this.#stats.sent - this.#catchingUp;
          this.#catchingUp = null;
          this.#o.log(`remote write: ${this.#url} caught up (${n} queued samples sent)`);
        }
        for (const r of this.#idle.splice(0)) r();
        await this.#sleep(this.#o.pollMs ?? 1000, true);
        continue;
      }
      await this.#ship(block, shards, batch);
      if (this.#stopped) return; // not committed: the block is sent again after a restart
      this.#o.source.commit();
    }
  }

  /** Send a block: each shard's samples in requests of `batch`, shards side by side. */
  async #ship(block: Block, shards: number, batch: number): Promise<void> {
    const parts: number[][] = Array.from({ length: shards }, () => []);
    for (let i = 0; i < block.series.length; i++) parts[block.series[i] % shards].push(i);
    await Promise.all(parts.map(async (idx) => {
      for (let at = 0; at < idx.length && !this.#stopped; at += batch) {
        await this.#send(block, idx.slice(at, at + batch));
      }
    }));
  }

  async #send(block: Block, idx: number[]): Promise<void> {
    const bySeries = new Map<number, WriteSeries>();
    let unknown = 0;
    for (const i of idx) {
      const sid = block.series[i];
      let ts = bySeries.get(sid);
      if (!ts) {
        const labels = this.#labelsOf(sid);
        if (!labels) {
          unknown++;
          continue;
        }
        bySeries.set(sid, ts = { labels, samples: [] });
      }
      ts.samples.push({ value: block.values[i], timestamp: Math.round(block.times[i]) });
    }
    if (unknown > 0) this.#stats.dropped += unknown;
    const n = idx.length - unknown;
    if (n === 0) return;
    for (const ts of bySeries.values()) ts.samples.sort((a, b) => a.timestamp - b.timestamp);
    const body = encodeWriteRequest([...bySeries.values()]);
    const max = this.#o.maxBackoffMs ?? 5_000;
    const backoff = createBackoff({
      minMs: this.#o.minBackoffMs ?? 250,
      maxMs: max,
      jitter: 0.5,
      random: this.#o.random,
    });
    while (!this.#stopped) {
      const outcome = await this.#post(body);
      if (outcome.ok) {
        this.#stats.sent += n;
        this.#lastError = null;
        if (this.#failingSince !== null) this.#answersAgain(n);
        return;
      }
      if (!outcome.retry) {
        this.#stats.dropped += n;
        this.#lastError = outcome.error;
        this.#warn(outcome.error, `${outcome.error}; dropped ${n} samples`);
        return;
      }
      this.#stats.retries++;
      this.#failingSince ??= this.#o.now();
      this.#lastError = outcome.error;
      this.#warn(outcome.error, `${outcome.error}; retrying (samples stay queued)`);
      const wait = backoff.next();
      await this.#sleep(Math.max(wait, Math.min(outcome.retryAfterMs ?? 0, max)));
    }
  }

  async #post(
    body: Uint8Array,
  ): Promise<
    { ok: true } | { ok: false; retry: boolean; error: string; retryAfterMs?: number }
  > {
    const timeout = AbortSignal.timeout(this.#o.timeoutMs ?? 30_000);
    this.#stats.requests++;
    this.#stats.bytes += body.byteLength;
    let res: Response;
    try {
      res = await this.#fetch(this.#o.url, {
        method: "POST",
        headers: this.#headers,
        body: body as Uint8Array<ArrayBuffer>,
        signal: AbortSignal.any([this.#stop.signal, timeout]),
      });
    } catch (e) {
      const why = timeout.aborted ? "no answer in time" : errorMessage(e);
      return { ok: false, retry: true, error: `cannot reach ${this.#url}: ${why}` };
    }
    if (res.ok) {
      await res.body?.cancel();
      return { ok: true };
    }
    const text = (await res.text().catch(() => "")).trim().slice(0, 200);
    const error = `${this.#url} answered ${res.status}${text ? `: ${text}` : ""}`;
    if (res.status === 429 || res.status >= 500) {
      const after = retryAfterMs(res.headers.get("retry-after"), this.#o.now());
      return { ok: false, retry: true, error, retryAfterMs: after ?? undefined };
    }
    return { ok: false, retry: false, error };
  }

  /**
   * The first success after retries: say so, and how much waits, since the last line logged
   * was the failure (once a minute) and would otherwise read as if it still failed.
   */
  #answersAgain(sent: number): void {
    const s = Math.round((this.#o.now() - (this.#failingSince ?? 0)) / 1000);
    this.#failingSince = null;
    this.#catchingUp = this.#stats.sent - sent;
    const down = s < 120
      ? `${s} s`
      : s < 7200
      ? `${Math.round(s / 60)} min`
      : `${Math.round(s / 3600)} h`;
    this.#o.log(
      `remote write: ${this.#url} answers again after ${down} of retries; sending its queue`,
    );
  }

  #labelsOf(sid: number): WriteSeries["labels"] | null {
    let labels = this.#labels.get(sid);
    if (labels !== undefined) return labels;
    labels = null;
    const s = this.#o.source.seriesOf(sid);
    const slash = s ? s.instance.indexOf("/") : -1;
    if (s && slash > 0) {
      try {
        const service = decodeURIComponent(s.instance.slice(0, slash));
        const instance = decodeURIComponent(s.instance.slice(slash + 1));
        const p = promSeries(service, instance, s.metric);
        if (p) {
          const color = s.metric === METRICS.cpuPercent
            ? safeColor(this.#o.colorOf?.(s.instance))
            : null;
          labels = [
            { name: "__name__", value: p.name },
            ...p.labels.map(([name, value]) => ({
              name,
              value,
            })),
            ...(color ? [{ name: COLOR_LABEL, value: color }] : []),
          ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        }
      } catch { /* a malformed id: dropped and counted */ }
    }
    this.#labels.set(sid, labels);
    return labels;
  }

  /**
   * Log a failure, the same kind at most once per `logEveryMs`. An answer's kind is its URL and
   * status, not its text: VictoriaMetrics names the client's port in a 400, so each connection
   * read as a new kind.
   */
  #warn(kind: string, line: string): void {
    const key = kind.replace(/( answered \d+).*$/s, "$1").replace(/\d+ samples/, "").slice(0, 200);
    const t = this.#o.now();
    const last = this.#lastLog.get(key);
    if (last !== undefined && t - last < (this.#o.logEveryMs ?? 60_000)) return;
    this.#lastLog.set(key, t);
    this.#o.log(`remote write: ${line}`);
  }

  /** Wait `ms`, or less if stopped (or, when `idle`, if someone waits for a drain). */
  #sleep(ms: number, idle = false): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#stop.signal.removeEventListener("abort", done);
        if (idle) this.#wake = null;
        resolve();
      };
      if (idle) this.#wake = done;
      const timer = setTimeout(done, ms);
      this.#stop.signal.addEventListener("abort", done);
    });
  }
}
