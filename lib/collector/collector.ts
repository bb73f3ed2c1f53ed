/**
 * The collector, assembled: ZMQ receivers -> ingest -> recent store + live hub, and the HTTP
 * server over them. `startCollector(opts)` returns a running collector with resolved
 * addresses; `stop()` stops taking connections, drains what the sockets hold, and closes.
 *
 * @module
 */
import {
  bindPull,
  bindSub,
  connectSub,
  type CurveServerOptions,
  type Receiver,
} from "../transport/zmq.ts";
import { createAuth } from "../http/auth.ts";
import { createHostCheck } from "../http/host.ts";
import { Instances } from "./instances.ts";
import { Services } from "./services.ts";
import { CollectorStats } from "./stats.ts";
import { createIngest } from "./ingest.ts";
import { RecentStore } from "../store/recent.ts";
import { Hub } from "../live/hub.ts";
import { buildHello } from "../live/hello.ts";
import { connectEndpoint } from "../banner.ts";
import { createHandler } from "../http/handler.ts";
import { createMisdirectedOtlp } from "../http/misdirected.ts";
import { DEFAULTS, parseHostPort } from "../config.ts";
import { createOtlpCodec } from "../otlp/decode.ts";
import { createOtlpHandler } from "../otlp/http.ts";
import { HistoryThread, type RemoteTarget } from "./history.ts";
import { readThrough, RemoteReader } from "../remote/reader.ts";
import { remoteFamilies } from "../remote/metrics.ts";
import type { Retention } from "../store/query.ts";
import { recentReader } from "../http/series.ts";
import {
  createAlertEngine,
  createNotifier,
  defaultRuleSet,
  openAlertStore,
  type RuleSet,
} from "../alerts/mod.ts";
import type { LeakOptions } from "../alerts/leak.ts";
import { openProfileStore } from "./profiles.ts";
import { refillFromHistory } from "./restore.ts";
import { PromRegistry } from "../prom/exposition.ts";
import { dirBytes, selfMetrics } from "../prom/self_metrics.ts";
import { federateText } from "../prom/federate.ts";
import { errorMessage } from "../errors.ts";
import { startPeriodic } from "./periodic.ts";
import { collectorJobs } from "./jobs.ts";
import { watchDataFile } from "./data_file.ts";
import { databasePath } from "../store/sqlite.ts";
import { beforeWaitFor } from "./burst_end.ts";

/**
 * The longest a stop waits for the webhooks of its last alert evaluation, ms: long enough for
 * a target that answers, short enough that a target that is down does not hold the stop.
 */
export const STOP_NOTIFY_MS = 2000;

/** Options for {@link startCollector}; every one has a default. */
export interface CollectorOptions {
  httpHost?: string;
  /** 0 picks a free port. */
  httpPort?: number;
  /** `tcp://127.0.0.1:*` picks a free port. */
  zmq?: string;
  sub?: string | null;
  /** Bind a SUB here for PUB apps that connect (the seed's apps); `*` port picks a free one. */
  subBind?: string | null;
  windowMs?: number;
  now?: () => number;
  log?: (line: string) => void;
  staticDir?: URL;
  maxInstances?: number;
  /** Directory for durable history; null or absent keeps history in memory only. */
  dataDir?: string | null;
  retention?: Retention;
  maxDiskBytes?: number | null;
  /** How often a seal round starts, ms (tests shorten it). */
  sealEveryMs?: number;
  /** Alert rules (from `--rules FILE` via loadRules); default: the built-in rules. */
  rules?: RuleSet;
  /** HTTP token required on everything but /healthz (null: open, for loopback). */
  token?: string | null;
  secureCookie?: boolean;
  /** Host names HTTP answers for besides the bound address and localhost (`*`: any). */
  allowedHosts?: readonly string[];
  /** CURVE on the PULL socket: keys and the agent allowlist. */
  curve?: CurveServerOptions | null;
  /** A WebSocket client over its send-buffer bound this long is closed, ms (default 30 s). */
  stuckCloseMs?: number;
  /** Most series across all instances (default 100 000); more are refused and counted. */
  maxSeriesTotal?: number;
  /** Leak detector tuning (tests shorten its 90 s of data before a first estimate). */
  leak?: LeakOptions;
  /** OTLP/HTTP metrics listener, `HOST:PORT` (port 0 picks one); null or absent: none. */
  otlp?: string | null;
  /**
   * Prometheus remote-write targets: every accepted sample is shipped to each, from the WAL
   * with a data directory (durable), else from a bounded queue in memory (lib/remote/).
   */
  remoteWrite?: RemoteTarget[];
  /**
   * A Prometheus query API base: answers history local lacks and lists instances only it
   * knows (lib/remote/reader.ts).
   */
  remoteRead?: RemoteTarget | null;
}

/** A running collector. */
export interface Collector {
  readonly httpUrl: string;
  readonly zmqEndpoint: string;
  /** The OTLP/HTTP listener's base URL (SDKs post to `${otlpUrl}/v1/metrics`), or null. */
  readonly otlpUrl: string | null;
  /** The endpoint the SUB for PUB apps is bound on (its `*` port resolved), or null. */
  readonly subBindEndpoint: string | null;
  /** What `/metrics` renders: register a provider here to expose more families. */
  readonly metrics: PromRegistry;
  /** Stop serving, drain the sockets, close. Safe to call twice. */
  stop(): Promise<void>;
}

/** Start a collector. */
export async function startCollector(opts: CollectorOptions = {}): Promise<Collector> {
  const now = opts.now ?? Date.now;
  const log = opts.log ?? ((line: string) => console.error(line));
  const windowMs = opts.windowMs ?? DEFAULTS.windowMs;
  // Everything opened below is closed by this stack, in reverse order: on stop(), or at once
  // if a later step (a port in use, a damaged file) makes the start fail.
  await using cleanup = new AsyncDisposableStack();
  const services = new Services();
  const instances = new Instances({
    maxInstances: opts.maxInstances,
    // An instance evicted to make room for a new one takes its recent points with it.
    onEvict: (id) => recent.forget(id),
    onHistogram: (service, key, counts) => services.addHistogram(service, key, counts),
  });
  const recent = new RecentStore({ windowMs });
  const reader = opts.remoteRead
    ? new RemoteReader({ url: opts.remoteRead.url, headers: opts.remoteRead.headers, now, log })
    : null;
  let readAt = -Infinity;
  const refreshRemote = (t: number) => {
    if (!reader || t - readAt < 30_000) return;
    readAt = t;
    reader.refresh().catch(() => {});
  };
  refreshRemote(now());
  /** Instances only the remote knows (another collector's), after the local ones. */
  const remoteOnly = () =>
    reader ? reader.instances().filter((v) => instances.get(v.id) === undefined) : [];
  const stats = new CollectorStats({ now, log });
  /** The OTLP listener's URL for an SDK on this machine, once it listens (the hello names it). */
  let otlpLocal: string | null = null;
  const hub: Hub = new Hub({
    now,
    stuckCloseMs: opts.stuckCloseMs,
    // Bounded whatever the instance count (hello.ts); built once per burst of clients (hub.ts).
    hello: (metrics) => {
      const t = now();
      const hello = buildHello({
        now: t,
        windowMs,
        views: [...instances.list(), ...remoteOnly()],
        read: (id, m) => recent.read(id, t, m),
      }, metrics);
      if (receivers.length > 0) hello.agents = connectEndpoint(receivers[0].endpoint);
      if (otlpLocal !== null) hello.otlp = otlpLocal;
      return hello;
    },
  });
  // Durable history runs on a thread of its own (history.ts): its writes and seal rounds
  // would otherwise hold this thread, and with it every HTTP request, for up to ~650 ms.
  const history = opts.dataDir
    ? await HistoryThread.open({
      dir: opts.dataDir,
      now,
      retention: opts.retention,
      maxDiskBytes: opts.maxDiskBytes,
      sealEveryMs: opts.sealEveryMs,
      remoteWrite: opts.remoteWrite,
      log,
    })
    : null;
  if (history) {
    cleanup.defer(async () => {
      try {
        await history.close(); // last: after the drain, everything received is flushed
      } catch (e) {
        // A full or read-only disk: what was flushed before is safe; say what was not.
        log(`history: could not write the last samples on stop: ${errorMessage(e)}`);
      }
    });
    for (const line of history.warnings) log(line);
    instances.restore(history.restored, now());
  }
  // Heap profiles agents send when their heap grows (profiles.db, kept as long as raw history).
  const profiles = openProfileStore({
    dir: opts.dataDir ?? null,
    now,
    retentionMs: history?.retention.rawMs,
  });
  cleanup.defer(() => profiles.close());
  // Without a data directory there is no WAL to ship from: queues in memory, bounded.
  const memoryRemote = !history && opts.remoteWrite?.length
    ? (await import("../remote/memory_write.ts")).startMemoryRemoteWrite(opts.remoteWrite, {
      now,
      log,
    })
    : null;
  if (memoryRemote) cleanup.defer(() => memoryRemote.stop()); // after the drain, as history
  const remoteStats = () => history?.remoteStats() ?? memoryRemote?.stats() ?? [];
  const rules = opts.rules ?? defaultRuleSet();
  const alerts = createAlertEngine({
    leakSites: (id, since) => profiles.sites(id, 3, since),
    leak: opts.leak,
    rules,
    now,
    log,
    store: openAlertStore(opts.dataDir ?? null), // after history: the data dir is ours
    notifier: createNotifier({ targets: rules.webhooks, log, now }),
  });
  cleanup.defer(() => alerts.close());
  // On stop, once the sockets are drained (they close first: deferred below), one last
  // evaluation: a goodbye from the last second resolves its alerts now, not at the next start,
  // and their webhooks go out, waited for up to STOP_NOTIFY_MS.
  cleanup.defer(async () => {
    alerts.evaluate(now(), instances.list());
    if (!await alerts.settle(STOP_NOTIFY_MS)) {
      log(`alerts: webhook deliveries still queued after ${STOP_NOTIFY_MS} ms; dropped on stop`);
    }
  });
  // Before ingest starts: the live window and the leak trends of the restored instances.
  if (history) {
    await refillFromHistory({ history, views: instances.list(), recent, alerts, now: now(), log });
  }
  const ingest = createIngest({
    instances,
    recent,
    hub,
    stats,
    now,
    history: history ?? memoryRemote?.sink,
    alerts,
    profiles,
    maxSeriesTotal: opts.maxSeriesTotal,
    staged: true, // flushed by the receive loops (beforeWait, below)
  });
  const onError = (e: unknown) => log(`zmq: ${errorMessage(e)}`);
  // While the history thread is behind, the receive loop waits: frames stay in ZMQ.
  const backpressure = history ? () => history.backpressure() : undefined;
  const beforeWait = beforeWaitFor({
    ingest,
    history,
    durable: (mark) => void (stats.historyDurable = mark),
    now,
    onError,
  });

  const receivers: Receiver[] = [];
  cleanup.defer(() => Promise.all(receivers.map((r) => r.close())).then(() => {}));
  receivers.push(
    await bindPull(opts.zmq ?? DEFAULTS.zmq, {
      onFrame: ingest,
      onError,
      backpressure,
      beforeWait,
      curve: opts.curve
        ? {
          ...opts.curve,
          onAuth: (d) => {
            if (!d.allowed) {
              stats.refuse("unauthorized", `agent key ${d.key ?? "?"} from ${d.address}`);
            }
          },
        }
        : undefined,
    }),
  );
  if (opts.sub) {
    receivers.push(connectSub(opts.sub, { onFrame: ingest, onError, backpressure, beforeWait }));
  }
  const subBound = opts.subBind
    ? await bindSub(opts.subBind, { onFrame: ingest, onError, backpressure, beforeWait })
    : null;
  if (subBound) receivers.push(subBound);

  const metrics = new PromRegistry();
  const dataDir = opts.dataDir ?? null;
  metrics.register(selfMetrics({
    stats,
    instances,
    hub,
    history,
    seriesInMemory: () => recent.seriesTotal,
    diskBytes: () => (dataDir ? dirBytes(dataDir) : null),
    alerts,
  }));
  metrics.register(remoteFamilies(remoteStats, () => reader?.stats() ?? null));
  const lastTime = (id: string, key: string) => {
    const t = recent.has(id, key) ? recent.seriesOf(id).get(key)!.lastTime : -Infinity;
    return Number.isFinite(t) ? t : null;
  };

  const auth = createAuth({ token: opts.token ?? null, secureCookie: opts.secureCookie });
  // Before the token: a rebinding page must not even learn whether a token is asked for.
  const hostCheck = createHostCheck({
    bound: opts.httpHost ?? DEFAULTS.httpHost,
    allowed: opts.allowedHosts,
  });
  const inner = auth.wrap(createHandler({
    instances,
    services,
    stats,
    hub,
    now,
    staticDir: opts.staticDir ?? new URL("../../static/", import.meta.url),
    history: reader
      ? readThrough(history ?? recentReader(recent, now), reader)
      : history ?? recentReader(recent, now),
    alerts,
    profiles,
    prom: {
      metrics: () => metrics.render(),
      federate: () => federateText(instances.list(), lastTime),
    },
    remote: remoteStats,
    remoteRead: reader ? () => reader.stats() : undefined,
    extraInstances: remoteOnly,
    misdirectedOtlp: createMisdirectedOtlp({ otlpUrl: () => otlpLocal, log }),
  }));
  const handler = async (req: Request) => hostCheck(req) ?? await inner(req);
  const httpHost = opts.httpHost ?? DEFAULTS.httpHost;
  const httpPort = opts.httpPort ?? DEFAULTS.httpPort;
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: httpHost,
      port: httpPort,
      onListen: () => {},
      onError: (e) => {
        log(`http: ${errorMessage(e)}`);
        return new Response("internal error\n", { status: 500 });
      },
    }, handler);
  } catch (e) {
    throw new Error(`cannot listen on HTTP ${httpHost}:${httpPort}: ${errorMessage(e)}`);
  }
  cleanup.defer(() => server.shutdown());
  cleanup.defer(() => hub.closeAll()); // before the shutdown: open sockets would hold it

  let otlp: Deno.HttpServer<Deno.NetAddr> | null = null;
  if (opts.otlp) {
    const otlpHandler = createOtlpHandler({
      codec: createOtlpCodec(),
      accept: ingest.accept,
      stats,
      auth: auth.enabled ? auth : null,
      busy: history ? () => history.backpressure() !== null : undefined,
      log,
    });
    // The same Host check as the dashboard's: a rebound page must not push forged points.
    const otlpHost = createHostCheck({
      bound: parseHostPort(opts.otlp, "--otlp")!.host,
      allowed: opts.allowedHosts,
    });
    const listener = serveOtlp(
      opts.otlp,
      async (req) => otlpHost(req) ?? await otlpHandler(req),
      log,
    );
    otlp = listener;
    otlpLocal = urlOf(listener, true);
    cleanup.defer(() => listener.shutdown()); // first on stop: no new OTLP points
  }

  const jobs = collectorJobs({
    instances,
    recent,
    services,
    hub,
    stats,
    alerts,
    profiles,
    history,
    // Stale instances are kept as long as their history is: the raw retention, or the window.
    forgetAfterMs: history ? history.retention.rawMs : windowMs,
    refreshRemote,
    checkDataFile: history ? watchDataFile(databasePath(opts.dataDir!)) : null,
  });
  cleanup.use(startPeriodic(jobs, { everyMs: 1000, now, log }));

  const running = cleanup.move(); // started: from now on stop() closes it all
  let stopping: Promise<void> | null = null;
  return {
    httpUrl: urlOf(server),
    zmqEndpoint: receivers[0].endpoint,
    otlpUrl: otlp ? urlOf(otlp) : null,
    subBindEndpoint: subBound?.endpoint ?? null,
    metrics,
    stop() {
      stopping ??= running.disposeAsync();
      return stopping;
    },
  };
}

/** A server's URL; with `local`, as a client on this machine reaches it (a wildcard as loopback). */
function urlOf(server: Deno.HttpServer<Deno.NetAddr>, local = false): string {
  const addr = server.addr;
  const name = local && addr.hostname === "0.0.0.0"
    ? "127.0.0.1"
    : local && addr.hostname === "::"
    ? "::1"
    : addr.hostname;
  const host = name.includes(":") ? `[${name}]` : name;
  return `http://${host}:${addr.port}`;
}

/** The OTLP/HTTP listener: a second server on its own port, so SDK defaults (4318) work. */
function serveOtlp(
  address: string,
  handler: (req: Request) => Promise<Response>,
  log: (line: string) => void,
): Deno.HttpServer<Deno.NetAddr> {
  const { host, port } = parseHostPort(address, "--otlp")!;
  try {
    return Deno.serve({
      hostname: host,
      port,
      onListen: () => {},
      onError: (e) => {
        log(`otlp: ${errorMessage(e)}`);
        return new Response("internal error\n", { status: 500 });
      },
    }, handler);
  } catch (e) {
    throw new Error(`cannot listen for OTLP on ${address}: ${errorMessage(e)}`);
  }
}
