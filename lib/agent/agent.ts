/**
 * The in-app agent: `createAgent({ service })` samples this process once per interval
 * (CPU %, RSS, heap, event-loop lag, runtime health from runtime.ts) together with the
 * app's own metrics (`agent.metrics`, registry.ts), keeps samples in a bounded backlog and
 * pushes them to the collector in order over ZMQ. It never throws into the host app, never
 * blocks it and never keeps it alive: every timer is unref'd and errors go to `onError`.
 *
 * @module
 */
import os from "node:os";
import process from "node:process";
import { clearInterval, setInterval } from "node:timers";
import { canonicalKey } from "../metric_key.ts";
import { encode, type Identity, LIMITS, METRICS, type OutgoingSample } from "../protocol.ts";
import type { CurveClientOptions } from "../zmq.ts";
import { createBacklog } from "./backlog.ts";
import { createProcessReaders, type ProcessReaders } from "./process.ts";
import { createRegistry, type MetricsRegistry } from "./registry.ts";
import { rateLimitedReporter } from "./report.ts";
import { createRuntimeReaders, type RuntimeReaders } from "./runtime.ts";
import { startSendLoop, type Transport } from "./sender.ts";
import { connectCollector } from "./transport.ts";

/** Default collector endpoint: loopback, as the collector binds by default. */
export const DEFAULT_COLLECTOR = "tcp://127.0.0.1:5555";
/** Default backlog: one hour of samples at 1 Hz. */
export const DEFAULT_BACKLOG_LIMIT = 3600;
/** Smallest backlog accepted: five minutes at 1 Hz, so a collector restart loses nothing. */
export const MIN_BACKLOG_LIMIT = 300;
/** Most samples in one batch frame. */
export const BATCH_SIZE = 100;
/** How long `stop()` keeps trying to flush the backlog, ms. */
export const STOP_FLUSH_MS = 500;

/** Options for {@link createAgent}. Only `service` is required. */
export interface AgentOptions {
  /** Service name, e.g. "bookings": one line per (service, instance) on the dashboard. */
  service: string;
  /** Collector ZMQ endpoint (default {@link DEFAULT_COLLECTOR}). Unused with `transport`. */
  collector?: string;
  /** Requested display colour (the collector validates it; never the identity). */
  color?: string;
  /** Instance id (default `host:pid`). */
  instance?: string;
  /** Process id to report (default this process): the sidecar reports the process it watches. */
  pid?: number;
  /** CURVE keys when the collector requires them (load with `loadClientKeys` from lib/keys.ts). */
  curve?: CurveClientOptions;
  /** Sampling interval, ms (default 1000). */
  intervalMs?: number;
  /** Samples kept while the collector is away (default 3600, at least 300). */
  backlogLimit?: number;
  /** Clock for sample timestamps, ms since the epoch (default `Date.now`). */
  now?: () => number;
  /** Where frames go (default `connectCollector(collector)`). Closed by `stop()`. */
  transport?: Transport;
  /** What is measured (default: this process). Closed by `stop()`. */
  readers?: ProcessReaders;
  /** Runtime health (default: this process, see runtime.ts; null: none). Closed by `stop()`. */
  runtime?: RuntimeReaders | null;
  /** Bound on the app's own series (`agent.metrics`); default and maximum 284. */
  maxSeries?: number;
  /** Errors (transport, readers, dropped samples); default: console.error, 1 line/minute. */
  onError?: (error: unknown) => void;
}

/** Counters of one agent. Invariant: `seq === sent + dropped + backlog`. */
export interface AgentStats {
  /** Samples taken so far; also the sequence number of the next sample (first is 0). */
  seq: number;
  /** Samples the transport accepted. */
  sent: number;
  /** Samples dropped because the backlog was full. */
  dropped: number;
  /** Samples not yet accepted (waiting or in the send now pending). */
  backlog: number;
}

/** A running agent. */
export interface Agent {
  /** Who this agent reports as. */
  readonly identity: Identity;
  /** The app's own counters, gauges and histograms, sent with every sample. */
  readonly metrics: MetricsRegistry;
  /** Stop sampling, flush for at most ~500 ms, close the transport. Never rejects. */
  stop(): Promise<void>;
  /** Current counters. */
  stats(): AgentStats;
  /** Take one sample now (tests, or an app that wants a point at a given moment). */
  sampleNow(): void;
}

/**
 * Start an agent for this process. Throws only for invalid options (at creation, so a
 * typo fails at startup); once running it never throws into the host app.
 */
export function createAgent(options: AgentOptions): Agent {
  const now = options.now ?? Date.now;
  const identity = resolveIdentity(options, now());
  const backlogLimit = options.backlogLimit ?? DEFAULT_BACKLOG_LIMIT;
  if (!Number.isSafeInteger(backlogLimit) || backlogLimit < MIN_BACKLOG_LIMIT) {
    throw new RangeError(`backlogLimit must be an integer >= ${MIN_BACKLOG_LIMIT}`);
  }
  const prefix = `zeroapm agent ${identity.service}/${identity.instance}`;
  const report = safe(options.onError ?? rateLimitedReporter({ prefix }));
  // The registry and the runtime readers limit their own reports (once a minute per
  // problem, once per metric): they do not share the transport errors' budget.
  const reportOwn = safe(
    options.onError ?? ((e) => console.error(`${prefix}: ${(e as Error).message}`)),
  );
  const metrics = createRegistry({ maxSeries: options.maxSeries, now, onError: reportOwn });
  const transport = options.transport ??
    connect(options.collector ?? DEFAULT_COLLECTOR, options.curve, report);
  // One lag probe (the process readers', every 200 ms) feeds the runtime percentiles too.
  const runtime = options.runtime === undefined
    ? createRuntimeReaders({ onError: reportOwn, probe: false })
    : options.runtime;
  const readers = options.readers ??
    createProcessReaders({ onLag: runtime ? (l) => runtime.observeLag(l) : undefined });
  const backlog = createBacklog<OutgoingSample>(backlogLimit);
  const sender = startSendLoop<OutgoingSample>({
    backlog,
    transport,
    encode: (samples) => encode(identity, samples, now()),
    onError: report,
    batchSize: BATCH_SIZE,
  });

  let seq = 0;
  let stopped: Promise<void> | null = null;
  const validKeys = new Set<string>();
  let warnedDropAtSent = -1;

  /** Read, stamp and queue one sample; runs in a timer callback, so it never throws. */
  const sampleNow = () => {
    if (stopped) return;
    try {
      const r = readers.read();
      const values = finiteOnly({
        [METRICS.cpuPercent]: r.cpuPercent,
        [METRICS.rssBytes]: r.rssBytes,
        [METRICS.heapUsedBytes]: r.heapUsedBytes,
        [METRICS.loopLagMs]: r.loopLagMs,
      });
      // The readers' extra metrics (container, sidecar), then runtime health; first wins.
      addValid(values, r.extra, report, validKeys);
      addValid(values, runtime?.read(), report, validKeys);
      const sample = withCustom({ seq, ts: now(), metrics: values }, metrics);
      seq++;
      if (backlog.push(sample) && warnedDropAtSent !== sender.sent) {
        // Once per outage: the next warning needs a successful send in between.
        warnedDropAtSent = sender.sent;
        report(new Error(`backlog full (${backlogLimit} samples): dropping the oldest`));
      }
      sender.wake();
    } catch (e) {
      report(e); // a failed read skips the sample without using a sequence number
    }
  };

  const timer = setInterval(sampleNow, identity.intervalMs!);
  timer.unref();

  return {
    identity,
    metrics,
    sampleNow,
    stats: () => ({
      seq,
      sent: sender.sent,
      dropped: backlog.dropped,
      backlog: backlog.size + sender.inFlight,
    }),
    stop() {
      stopped ??= (async () => {
        clearInterval(timer);
        for (const r of [readers, runtime]) {
          try {
            r?.close();
          } catch (e) {
            report(e);
          }
        }
        await sender.stop(STOP_FLUSH_MS);
        try {
          transport.close();
        } catch (e) {
          report(e);
        }
      })();
      return stopped;
    },
  };
}

function connect(
  endpoint: string,
  curve: CurveClientOptions | undefined,
  onError: (e: unknown) => void,
): Transport {
  try {
    return connectCollector(endpoint, { curve, onError });
  } catch (e) {
    throw new TypeError(`cannot use collector endpoint "${endpoint}": ${(e as Error).message}`);
  }
}

function resolveIdentity(o: AgentOptions, start: number): Identity {
  const host = os.hostname();
  const intervalMs = o.intervalMs ?? 1000;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0 || intervalMs > 86_400_000) {
    throw new RangeError("intervalMs must be in (0, 86400000]");
  }
  const pid = o.pid ?? process.pid;
  if (!Number.isSafeInteger(pid) || pid < 0) {
    throw new RangeError("pid must be a non-negative integer");
  }
  return {
    service: checkName("service", o.service),
    instance: checkName("instance", o.instance ?? `${host}:${pid}`),
    pid,
    host: host ? host.slice(0, LIMITS.maxNameLength) : null,
    color: o.color === undefined ? null : checkName("color", o.color),
    intervalMs,
    start,
  };
}

/** Control characters: the collector rejects names with them (see lib/protocol.ts). */
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The collector rejects names it cannot show safely; fail at startup instead of silently. */
function checkName(what: string, v: unknown): string {
  if (
    typeof v !== "string" || v.length === 0 || v.length > LIMITS.maxNameLength || CONTROL.test(v)
  ) {
    throw new TypeError(
      `${what} must be 1..${LIMITS.maxNameLength} characters without control characters`,
    );
  }
  return v;
}

/** A NaN or Infinity would make the collector reject the whole frame: leave it out. */
function finiteOnly(metrics: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics)) if (Number.isFinite(v)) out[k] = v;
  return out;
}

/** Most keys remembered as valid per agent: the readers send the same few every sample. */
const MAX_VALID_KEYS = 1024;

/**
 * Add `more` to `into`: finite values under valid series keys (the collector would reject
 * the whole frame for one bad key), keys not already there, within the wire's limit.
 * `valid` remembers keys already checked, so a sample does not parse them again.
 */
function addValid(
  into: Record<string, number>,
  more: Record<string, number> | undefined,
  report: (e: unknown) => void,
  valid: Set<string>,
): void {
  if (!more) return;
  let room = LIMITS.maxMetricsPerSample - Object.keys(into).length;
  for (const [key, v] of Object.entries(more)) {
    if (Object.hasOwn(into, key) || !Number.isFinite(v) || room <= 0) continue;
    if (!valid.has(key)) {
      if (canonicalKey(key) !== key) {
        report(new Error(`metric key ${JSON.stringify(key.slice(0, 40))} is invalid: left out`));
        continue;
      }
      if (valid.size < MAX_VALID_KEYS) valid.add(key);
    }
    into[key] = v;
    room--;
  }
}

/**
 * Add the app's series to a sample. The agent's own metrics win a name clash, and the
 * wire's LIMITS are kept (the registry's bounds already keep within them).
 */
function withCustom(sample: OutgoingSample, registry: MetricsRegistry): OutgoingSample {
  const { metrics, hist } = registry.snapshot();
  let room = LIMITS.maxMetricsPerSample - Object.keys(sample.metrics).length;
  for (const key in metrics) {
    if (room <= 0) break;
    if (Object.hasOwn(sample.metrics, key)) continue;
    sample.metrics[key] = metrics[key];
    room--;
  }
  const keys = Object.keys(hist);
  if (keys.length > 0) {
    sample.hist = {};
    for (const key of keys.slice(0, LIMITS.maxHistogramsPerSample)) sample.hist[key] = hist[key];
  }
  return sample;
}

function safe(f: (e: unknown) => void): (e: unknown) => void {
  return (e) => {
    try {
      f(e);
    } catch {
      // A throwing onError must not break sampling or sending.
    }
  };
}
