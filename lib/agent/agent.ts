/**
 * The in-app agent: `createAgent({ service })` samples this process once per interval
 * (CPU %, RSS, heap, event-loop lag, runtime health from runtime.ts) together with the
 * app's own metrics (`agent.metrics`, registry.ts), keeps samples in a bounded backlog and
 * pushes them to the collector in order over ZMQ. It never throws into the host app, never
 * blocks it and never keeps it alive: every timer is unref'd and errors go to `onError`.
 *
 * @module
 */
import { platform } from "../platform.ts";
import { canonicalKey, hasHiddenChars } from "../metric_key.ts";
import type { Identity } from "../protocol.ts";
import {
  createEncoder,
  DEFAULT_COLLECTOR,
  LIMITS,
  METRICS,
  type OutgoingSample,
} from "../protocol_encode.ts";
import type { CurveClientOptions } from "../transport/zmq.ts";
import { createBacklog } from "./backlog.ts";
import { heapProfileEnabled, type HeapProfileOptions, startHeapProfiler } from "./heap_profile.ts";
import { createProcessReaders, type ProcessReaders } from "./process.ts";
import { createRegistry, type MetricsRegistry } from "./registry.ts";
import { AgentNotice, rateLimitedReporter } from "./report.ts";
import { createRuntimeReaders, type RuntimeReaders } from "./runtime.ts";
import { startSendLoop, type Transport } from "./sender.ts";
import { serialSends } from "./serial.ts";
import { createQuietness, startTicker } from "./ticker.ts";
import { connectCollector } from "./transport.ts";
import { errorMessage } from "../errors.ts";

/** Default collector endpoint: loopback, as the collector binds by default. */
export { DEFAULT_COLLECTOR };
/** The environment variable that names the collector when the code does not. */
export const COLLECTOR_ENV = "ZEROAPM_COLLECTOR";

/**
 * Where an agent pushes: `option` when given, else env {@link COLLECTOR_ENV} when set (and
 * readable), else {@link DEFAULT_COLLECTOR}. The sidecar and the demo app use it too.
 */
export function collectorEndpoint(option?: string): string {
  if (option !== undefined) return option;
  return platform.env(COLLECTOR_ENV)?.trim() || DEFAULT_COLLECTOR;
}

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
  /**
   * Collector ZMQ endpoint; default: env `ZEROAPM_COLLECTOR` (so one image runs anywhere),
   * else {@link DEFAULT_COLLECTOR}. With `transport`, it only names the collector in notices.
   */
  collector?: string;
  /** Requested display colour (the collector validates it; never the identity). */
  color?: string;
  /** Instance id (default `host:pid`). */
  instance?: string;
  /** Process id to report (default this process): the sidecar reports the process it watches. */
  pid?: number;
  /** CURVE keys when the collector requires them (load with `loadClientKeys` from lib/transport/keys.ts). */
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
  /**
   * Also send `process.open_fds` (Linux, read every 10 s; default false). Off by default: the
   * `stat` that counts them costs a Deno app about 0.6 MiB of RSS (runtime.ts).
   */
  openFds?: boolean;
  /** Bound on the app's own series (`agent.metrics`); default and maximum 284. */
  maxSeries?: number;
  /**
   * Errors (transport, readers, dropped samples) and notices ({@link AgentNotice}: no
   * collector for 10 s, connected again after that); default: console.error, errors at most
   * 1 line/minute, each notice at once.
   */
  onError?: (error: unknown) => void;
  /**
   * Heap profiling when the heap grows steadily (heap_profile.ts; default on, measuring this
   * process only). `false` or env `ZEROAPM_HEAP_PROFILE=0` turn it off; an object tunes it.
   */
  heapProfile?: HeapProfileOptions | boolean;
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
  /**
   * Stop sampling, say goodbye (a last frame with `bye`, so the collector shows the instance
   * `stopped` rather than silent), flush for at most ~500 ms, close the transport. Never
   * rejects.
   */
  stop(): Promise<void>;
  /** Current counters. */
  stats(): AgentStats;
  /** Take one sample now (tests, or an app that wants a point at a given moment). */
  sampleNow(): void;
}

/**
 * Start an agent for this process. Throws only for invalid options (at creation, so a
 * typo fails at startup); once running it never throws into the host app.
 *
 * @example Report this process to a collector on another port
 * ```ts
 * import { createAgent } from "./agent.ts";
 *
 * const agent = createAgent({
 *   service: "email",
 *   color: "teal",
 *   collector: "tcp://127.0.0.1:5555",
 * });
 * const sent = agent.metrics.counter("email.sent_total");
 * sent.inc();
 * console.log(agent.identity.instance, agent.stats().seq);
 * await agent.stop();
 * ```
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
    options.onError ?? ((e) => console.error(`${prefix}: ${errorMessage(e)}`)),
  );
  const metrics = createRegistry({ maxSeries: options.maxSeries, now, onError: reportOwn });
  const endpoint = collectorEndpoint(options.collector);
  // Samples and heap profiles share the transport: one send at a time (serial.ts).
  const transport = serialSends(
    options.transport ?? connect(endpoint, options.collector, options.curve, report),
  );
  const runtime = options.runtime === undefined
    ? createRuntimeReaders({ onError: reportOwn, probe: false, openFds: options.openFds })
    : options.runtime;
  // Measuring this process, the agent's one timer is the lag probe, and it takes the samples
  // on absolute due times (ticker.ts). Injected readers (the sidecar, tests) have no loop to
  // probe: the same timer, once per interval.
  const intervalMs = identity.intervalMs!;
  const ticker = startTicker({
    intervalMs,
    onSample: () => sampleNow(),
    onLag: runtime && !options.readers ? (l) => runtime.observeLag(l) : undefined,
    alwaysQuiet: options.readers !== undefined,
  });
  const readers = options.readers ?? createProcessReaders({ lag: ticker.lag });
  const heap = !options.readers && options.heapProfile !== false
    ? startHeapProfiler({
      ...(typeof options.heapProfile === "object" ? options.heapProfile : {}),
      enabled: () => heapProfileEnabled(options.heapProfile),
      identity,
      now,
      send: (frame) => transport.trySend(frame),
      onError: reportOwn,
    })
    : null;
  const backlog = createBacklog<OutgoingSample>(backlogLimit);
  const encodeFrame = createEncoder(identity);
  /** The goodbye sample queued by stop(): the frame that ends with it carries `bye`. */
  let goodbye: OutgoingSample | null = null;
  const where = options.transport && options.collector === undefined ? "the collector" : endpoint;
  const sender = startSendLoop<OutgoingSample>({
    backlog,
    transport,
    encode: (samples) => encodeFrame(samples, now(), samples[samples.length - 1] === goodbye),
    onError: report,
    batchSize: BATCH_SIZE,
    // A wrong endpoint or a collector not started yet is said once, and so is its end.
    onOutage(state, forMs) {
      const s = Math.round(forMs / 1000);
      if (state === "down") {
        const why = transport.problem?.();
        report(
          new AgentNotice(
            `no collector at ${where} for ${s} s${why ? ` (${why})` : ""}: ` +
              `keeping up to ${backlogLimit} samples and retrying`,
          ),
        );
      } else {
        report(new AgentNotice(`connected to ${where} after ${s} s; sending the samples kept`));
      }
    },
  });

  let seq = 0;
  let stopped: Promise<void> | null = null;
  const validKeys = new Set<string>();
  let warnedDropAtSent = -1;
  /** Quiet or busy, from each interval's CPU and lag (ticker.ts): the probe's pace. */
  const quietness = createQuietness();

  /** Read, stamp and queue one sample; runs in a timer callback, so it never throws. */
  const sampleNow = () => {
    if (stopped) return;
    try {
      const r = readers.read();
      ticker.setQuiet(quietness(r.cpuPercent, r.loopLagMs));
      heap?.observe(now(), r.heapUsedBytes);
      const values: Record<string, number> = {};
      let n = addFinite(values, METRICS.cpuPercent, r.cpuPercent, 0);
      n = addFinite(values, METRICS.rssBytes, r.rssBytes, n);
      n = addFinite(values, METRICS.heapUsedBytes, r.heapUsedBytes, n);
      n = addFinite(values, METRICS.loopLagMs, r.loopLagMs, n);
      // The readers' extra metrics (container, sidecar), then runtime health; first wins.
      n = addValid(values, n, r.extra, report, validKeys);
      n = addValid(values, n, runtime?.read(r.heap), report, validKeys);
      // The app's series last: the agent's own win a name clash. The registry's bounds keep
      // them within the wire's LIMITS.
      const { hist } = metrics.snapshot(values, LIMITS.maxMetricsPerSample - n);
      const sample: OutgoingSample = { seq, ts: now(), metrics: values };
      if (!isEmpty(hist)) sample.hist = hist;
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
      if (stopped) return stopped;
      // The goodbye goes last, after every sample still queued. It has no metrics: a watched
      // process that has exited cannot be read any more. An old collector stores nothing.
      goodbye = { seq, ts: now(), metrics: {} };
      seq++;
      backlog.push(goodbye);
      sender.wake();
      stopped = (async () => {
        for (const r of [ticker, readers, runtime, heap]) {
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

/** Connect, or throw naming where a bad endpoint came from (the option, or the environment). */
function connect(
  endpoint: string,
  option: string | undefined,
  curve: CurveClientOptions | undefined,
  onError: (e: unknown) => void,
): Transport {
  try {
    return connectCollector(endpoint, { curve, onError });
  } catch (e) {
    throw new TypeError(endpointError(endpoint, option, e));
  }
}

/** Why `endpoint` cannot be used, naming {@link COLLECTOR_ENV} when it came from there. */
export function endpointError(endpoint: string, option: string | undefined, e: unknown): string {
  const from = option === undefined ? ` (from ${COLLECTOR_ENV})` : "";
  return `cannot use collector endpoint "${endpoint}"${from}: ${errorMessage(e)}`;
}

function resolveIdentity(o: AgentOptions, start: number): Identity {
  const host = platform.hostname();
  const intervalMs = o.intervalMs ?? 1000;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0 || intervalMs > 86_400_000) {
    throw new RangeError("intervalMs must be in (0, 86400000]");
  }
  const pid = o.pid ?? platform.pid;
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

/**
 * The collector rejects names it cannot show safely (controls, invisible format characters:
 * lib/protocol.ts); fail at startup instead of silently.
 */
function checkName(what: string, v: unknown): string {
  if (
    typeof v !== "string" || v.length === 0 || v.length > LIMITS.maxNameLength ||
    hasHiddenChars(v)
  ) {
    throw new TypeError(
      `${what} must be 1..${LIMITS.maxNameLength} characters without control or invisible ` +
        "format characters",
    );
  }
  return v;
}

/**
 * Set `key` to `v` when `v` is finite (a NaN or Infinity would make the collector reject
 * the whole frame); `n` is the number of metrics in `into`, returned updated.
 */
function addFinite(into: Record<string, number>, key: string, v: number, n: number): number {
  if (!Number.isFinite(v)) return n;
  into[key] = v;
  return n + 1;
}

/** Whether an object has no own enumerable key (without building the list of keys). */
function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

/** Most keys remembered as valid per agent: the readers send the same few every sample. */
const MAX_VALID_KEYS = 1024;

/**
 * Add `more` to `into`, which holds `n` metrics: finite values under valid series keys (the
 * collector would reject the whole frame for one bad key), keys not already there, within
 * the wire's limit. `valid` remembers keys already checked, so a sample does not parse them
 * again. Returns the new number of metrics in `into`.
 */
function addValid(
  into: Record<string, number>,
  n: number,
  more: Record<string, number> | undefined,
  report: (e: unknown) => void,
  valid: Set<string>,
): number {
  if (!more) return n;
  for (const key in more) {
    const v = more[key];
    if (n >= LIMITS.maxMetricsPerSample) break;
    if (Object.hasOwn(into, key) || !Number.isFinite(v)) continue;
    if (!valid.has(key)) {
      if (canonicalKey(key) !== key) {
        report(new Error(`metric key ${JSON.stringify(key.slice(0, 40))} is invalid: left out`));
        continue;
      }
      if (valid.size < MAX_VALID_KEYS) valid.add(key);
    }
    into[key] = v;
    n++;
  }
  return n;
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
