/**
 * JSON endpoints: `/api/instances`, `/api/stats`, `/healthz`. Read-only views over the
 * collector's state; they compute nothing that ingest has not already computed.
 *
 * @module
 */
import type {
  AlertsView,
  InstancesView,
  LiveClients,
  ProfilesView,
  ServicesView,
  StatsView,
} from "./deps.ts";
import type { InstanceView } from "../model/instance.ts";

/** What a service whose processes share the `unknown` OTLP instance should set. */
const UNNAMED_FIX =
  "give each process its own OTEL_RESOURCE_ATTRIBUTES=service.instance.id=NAME (or host.name and process.pid)";

/** What the API reads. */
export interface ApiDeps {
  instances: InstancesView;
  services: ServicesView;
  stats: StatsView;
  hub: LiveClients;
  now: () => number;
  alerts?: AlertsView | null;
  /** Heap profiles agents sent (absent: none kept). */
  profiles?: ProfilesView | null;
  /** Per remote-write target: sent, pending, oldest pending age, retries, drops. */
  remote?: () => unknown[];
  /** Remote read: requests, errors, instances it knows. */
  remoteRead?: () => unknown;
  /** Instances known only elsewhere (the remote-read cluster), listed after the local ones. */
  extraInstances?: () => InstanceView[];
}

/** A JSON response that is never sniffed or cached. */
export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

/** Headers of every JSON answer (for handlers that build the text themselves). */
export const JSON_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};

/** GET /api/instances: every instance with status, last seen and latest values. */
export function listInstances(deps: ApiDeps): Response {
  const extra = deps.extraInstances?.() ?? [];
  return json(extra.length > 0 ? [...deps.instances.list(), ...extra] : deps.instances.list());
}

/**
 * GET /api/services: per service, instance counts and HTTP health (rate, errors, latency);
 * instances that ended over 15 minutes ago are not counted.
 */
export function listServices(deps: ApiDeps): Response {
  return json(deps.services.summarise(deps.instances.list(), deps.now()));
}

/** GET /api/stats: received, refused by reason, lost by sequence gap, per instance and total. */
export function collectorStats(deps: ApiDeps): Response {
  const { stats, instances, hub, now } = deps;
  const duplicates = instances.duplicates();
  const perInstance = instances.list().map((v) => ({
    id: v.id,
    received: v.received,
    lost: v.lost,
    duplicates: duplicates.get(v.id) ?? 0,
  }));
  const lost = perInstance.reduce((n, i) => n + i.lost, 0);
  return json({
    uptimeMs: now() - stats.started,
    received: { messages: stats.messages, samples: stats.samples, bytes: stats.bytes },
    // How long frames waited between the agent's send and ingest, last minute (ms).
    queueDelayMs: stats.queueDelaySummary(),
    rejected: { total: stats.refusedTotal, byReason: stats.refused },
    lost: { total: lost },
    // evicted: silent instances forgotten to make room for new ones at the instance cap.
    instances: { total: instances.size, evicted: instances.evicted, list: perInstance },
    live: {
      clients: hub.size,
      droppedFrames: hub.dropped,
      closedStuck: hub.closedStuck,
      // Upgrades refused at the client cap; unsent bytes over all clients (bounded, hub.ts).
      refused: hub.refused,
      bufferedBytes: hub.bufferedBytes,
      hellosBuilt: hub.hellosBuilt,
    },
    // Failed history writes (disk full, read-only): the live view goes on without them.
    history: {
      errors: stats.historyErrors,
      problem: stats.historyProblem,
      durable: stats.historyDurable,
      dropped: stats.historyDropped,
      shedFrom: stats.historyShed,
    },
    // Services whose processes mix as one instance: set service.instance.id (see docs/api.md).
    otlp: {
      unnamed: stats.otlpUnnamed,
      fix: stats.otlpUnnamed.length > 0 ? UNNAMED_FIX : null,
    },
    alerts: deps.alerts?.stats() ?? null,
    profiles: deps.profiles?.stats() ?? null,
    remoteWrite: deps.remote?.() ?? [],
    remoteRead: deps.remoteRead?.() ?? null,
  });
}

/** GET /healthz: cheap liveness for probes. */
export function health(deps: ApiDeps): Response {
  return json({
    ok: true,
    uptimeMs: deps.now() - deps.stats.started,
    instances: deps.instances.size,
  });
}

/** GET /api/alerts: `{ active, recent }`; `?leak=<instance id>` gives that instance's leak estimate. */
export function listAlerts(deps: ApiDeps, url: URL): Response {
  if (!deps.alerts) return json({ active: [], recent: [] });
  const id = url.searchParams.get("leak");
  if (id !== null) return json(deps.alerts.leakOf(id));
  return json(deps.alerts.list());
}

/**
 * GET /api/profiles?instance=ID: that instance's heap profiles, newest first (allocation
 * sites still live and their growth; see docs/protocol.md). Without `instance`: the newest
 * profile of every instance that has one.
 */
export function listProfiles(deps: ApiDeps, url: URL): Response {
  const id = url.searchParams.get("instance");
  if (!deps.profiles) return json({ instance: id, profiles: [] });
  if (id === null) return json({ profiles: deps.profiles.latest() });
  return json({ instance: id, profiles: deps.profiles.list(id) });
}
