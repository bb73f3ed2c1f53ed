/**
 * Which code holds the memory that grows: when the agent's own heap readings grow in a
 * sustained way (heap_trigger.ts), it loads `node:inspector` (only then: an app whose heap
 * stays flat never loads it), runs V8's sampling heap profiler (`HeapProfiler.startSampling`,
 * one sample per 32 KiB allocated or coarser) for a bounded window, takes a profile a quarter
 * into the window and one at its end, and sends the top allocation sites still live with
 * their growth in between (heap_sites.ts) as one heap-profile frame (lib/protocol_profile.ts).
 * At most one window per `minGapMs` (10 min). Works the same under Deno and Node 20.
 * What only a window needs (the profile's reading and encoding) is loaded with the inspector,
 * not with the agent: an app pays memory for it only once its heap grows.
 * Never throws into the app: failures (another debugger attached, no collector) go to
 * `onError` and wait out the gap like a success.
 *
 * @module
 */
import { platform, unrefTimer } from "../platform.ts";
import type { HeapProfile } from "../protocol_profile.ts";
import type { Identity } from "../protocol.ts";
import type { SamplingProfile } from "./heap_sites.ts";
import { createHeapTrigger, type HeapTriggerOptions } from "./heap_trigger.ts";
import { errorMessage } from "../errors.ts";

/** The part of `node:inspector` used: a Session that posts with a callback. */
export interface InspectorModule {
  Session: new () => {
    connect(): void;
    disconnect(): void;
    post(method: string, params: object, cb: (err: Error | null, res?: unknown) => void): void;
  };
}

/** Tuning of the heap profiler; `createAgent({ heapProfile })` takes these (or false). */
export interface HeapProfileOptions {
  /** When to profile (defaults: 45 s of growth over 20 MB/h and 16 MiB). */
  trigger?: HeapTriggerOptions;
  /** Length of a profiling window, ms (default 20 s); growth is measured over its last 3/4. */
  windowMs?: number;
  /** Least time between two windows, ms (default and floor in production: 10 min). */
  minGapMs?: number;
  /** Bytes per sample (default 32 KiB; smaller values are raised to it). */
  samplingInterval?: number;
  /** Sites sent (default 10, at most 20). */
  topSites?: number;
  /** How to load the inspector (default `import("node:inspector")`); tests count calls. */
  loadInspector?: () => Promise<InspectorModule>;
}

/** What the profiler has done. */
export interface HeapProfilerStats {
  /** Whether `node:inspector` has been loaded. */
  loaded: boolean;
  /** Whether a window is running now. */
  sampling: boolean;
  /** Frames the transport took, and windows that failed or were not taken. */
  sent: number;
  failed: number;
}

/** A running heap profiler. */
export interface HeapProfiler {
  /** One heap reading (`mem.heap_used_bytes`) at agent time `t`. Cheap; never throws. */
  observe(t: number, heapUsedBytes: number): void;
  stats(): HeapProfilerStats;
  /** End a window in progress (stop sampling, disconnect) and stop watching. */
  close(): void;
}

/** Options for {@link startHeapProfiler}. */
export interface HeapProfilerDeps extends HeapProfileOptions {
  identity: Identity;
  /**
   * Whether profiling is allowed (default: always), asked once, when the first window would
   * start: the agent passes {@link heapProfileEnabled}, so an app whose heap never grows
   * never reads the environment (the permission query and the read touch ~0.1 MiB of the
   * deno executable: docs/benchmarks-changes.md, stops 38 and 39). Once it says no, the
   * readings are not even looked at.
   */
  enabled?: () => boolean;
  /** Hand one frame to the transport; false: not taken (the profile is dropped). */
  send(frame: Uint8Array): Promise<boolean>;
  /** Wall clock for the frame's `at` (default `Date.now`). */
  now?: () => number;
  onError(e: unknown): void;
}

/** Least sampling interval allowed: 32 KiB keeps the profiler's cost far below 1 %. */
export const MIN_SAMPLING_INTERVAL = 32 * 1024;
/** Least time between two profiling windows of one agent. */
export const DEFAULT_MIN_GAP_MS = 10 * 60_000;

/**
 * Whether heap profiling is on: `createAgent({ heapProfile: false })` or the environment's
 * `ZEROAPM_HEAP_PROFILE=0` (or `false`, `off`, `no`) turn it off; it is on otherwise, and
 * when the environment may not be read.
 */
export function heapProfileEnabled(option: HeapProfileOptions | boolean | undefined): boolean {
  if (option === false) return false;
  let env: string | undefined;
  try {
    env = platform.env("ZEROAPM_HEAP_PROFILE");
  } catch {
    env = undefined; // no permission to read the environment: the default holds
  }
  return !(env !== undefined && /^(0|false|off|no)$/i.test(env.trim()));
}

/**
 * The agent's files outside lib/agent/, from lib/: its module graph (`deno info
 * lib/agent/mod.ts`), folders by prefix. tests/unit/agent_graph_test.ts keeps this in step.
 */
export const AGENT_DEPENDENCIES: readonly string[] = [
  "alerts/leak.ts",
  "backoff.ts",
  "errors.ts",
  "histogram.ts",
  "metric_key.ts",
  "model/alert.ts",
  "platform.ts",
  "platform_node.ts",
  "proc/",
  "protocol.ts",
  "protocol_columns.ts",
  "protocol_encode.ts",
  "protocol_profile.ts",
  "protocol_sample.ts",
  "protocol_template.ts",
  "transport/",
];

/**
 * The agent's own scripts, whose allocations are not the app's leak (heap_sites.ts). Run
 * from source: lib/agent/ and the rest of its module graph ({@link AGENT_DEPENDENCIES}), so
 * the heap trigger's own readings (lib/alerts/leak.ts) are not shown as a site of the app's;
 * the demo's app code in lib/demo_app/ is the app's. Bundled (the Node package, whose folder
 * may hold the app too): the bundle's file that holds this profiler. Either way the inspector
 * session's own module ({@link INSPECTOR_SCRIPTS}): what it allocates delivering the
 * profiler's messages is the window's cost, not the app's (the demo listed "#onMessage
 * (inspector.js:1)"). Asked when a window starts: an app whose heap never grows does not even
 * parse the URL.
 */
export function agentScripts(here: string = import.meta.url): (url: string) => boolean {
  const dir = here.slice(0, here.lastIndexOf("/") + 1);
  if (!dir.endsWith("/lib/agent/")) return (url) => url === here || INSPECTOR_SCRIPTS.has(url);
  const lib = dir.slice(0, -"agent/".length);
  const folders = [dir, ...AGENT_DEPENDENCIES.filter((p) => p.endsWith("/")).map((p) => lib + p)];
  const files = new Set(AGENT_DEPENDENCIES.filter((p) => !p.endsWith("/")).map((p) => lib + p));
  return (url) =>
    files.has(url) || INSPECTOR_SCRIPTS.has(url) || folders.some((f) => url.startsWith(f));
}

/** `node:inspector` as its frames name it: under Deno, and under Node. */
export const INSPECTOR_SCRIPTS: ReadonlySet<string> = new Set([
  "ext:deno_node/inspector.js",
  "node:inspector",
]);

/** Start watching this process's heap readings. */
export function startHeapProfiler(deps: HeapProfilerDeps): HeapProfiler {
  const now = deps.now ?? Date.now;
  const trigger = createHeapTrigger(deps.trigger);
  const windowMs = Math.max(1000, deps.windowMs ?? 20_000);
  const minGapMs = deps.minGapMs ?? DEFAULT_MIN_GAP_MS;
  const interval = Math.max(MIN_SAMPLING_INTERVAL, deps.samplingInterval ?? 0);
  const top = Math.min(20, Math.max(1, deps.topSites ?? 10));
  const load = deps.loadInspector ?? (() => import("node:inspector") as Promise<InspectorModule>);
  const stats: HeapProfilerStats = { loaded: false, sampling: false, sent: 0, failed: 0 };
  let nextAt = -Infinity;
  let allowed: boolean | undefined; // deps.enabled's answer, once asked
  let lastHeap = 0;
  let closed = false;
  let endWindow: (() => void) | null = null;

  const run = async () => {
    const [inspector, { siteTotals, topSites }, { sourceLines }, { encodeHeapProfile }] =
      await Promise.all([
        load(),
        import("./heap_sites.ts"),
        import("./heap_lines.ts"),
        import("../protocol_profile.ts"),
      ]);
    stats.loaded = true;
    if (closed) return;
    const ours = agentScripts();
    const session = new inspector.Session();
    const post = (method: string, params: object = {}) =>
      new Promise<unknown>((resolve, reject) =>
        session.post(method, params, (err, res) => err ? reject(err) : resolve(res))
      );
    session.connect();
    let cancel: () => void = () => {};
    const wait = (ms: number) =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(true), ms);
        unrefTimer(timer);
        cancel = () => (clearTimeout(timer), resolve(false));
      });
    endWindow = () => cancel();
    try {
      await post("HeapProfiler.startSampling", { samplingInterval: interval });
      stats.sampling = true;
      const quarter = Math.round(windowMs / 4);
      if (!await wait(quarter)) return;
      const first = siteTotals(await profile(post), ours);
      const t0 = now();
      if (!await wait(windowMs - quarter)) return;
      const second = siteTotals(await profile(post), ours);
      const at = now();
      const { sites, totalBytes, totalGrowth } = topSites(first, second, top);
      const frame: HeapProfile = {
        service: deps.identity.service,
        instance: deps.identity.instance,
        pid: deps.identity.pid,
        at,
        spanMs: Math.max(0, at - t0),
        samplingInterval: interval,
        heapUsedBytes: Math.max(0, lastHeap),
        totalBytes,
        totalGrowth,
        sites: sourceLines(sites),
      };
      if (await deps.send(encodeHeapProfile(frame))) stats.sent++;
      else stats.failed++;
    } finally {
      stats.sampling = false;
      endWindow = null;
      try {
        await post("HeapProfiler.stopSampling").catch(() => {});
      } finally {
        session.disconnect();
      }
    }
  };

  return {
    observe(t, heapUsedBytes) {
      if (closed || allowed === false) return;
      try {
        lastHeap = heapUsedBytes;
        if (!trigger.add(t, heapUsedBytes) || t < nextAt || stats.sampling) return;
        allowed ??= deps.enabled?.() ?? true;
        if (!allowed) return; // turned off: no window, and no reading looked at again
        nextAt = t + minGapMs;
        stats.sampling = true; // until the window ends: no second one starts meanwhile
        run().catch((e) => {
          stats.failed++;
          stats.sampling = false;
          deps.onError(new Error(`heap profile: ${errorMessage(e)}`));
        });
      } catch (e) {
        deps.onError(e);
      }
    },
    stats: () => ({ ...stats }),
    close() {
      closed = true;
      endWindow?.();
    },
  };
}

async function profile(post: (m: string, p?: object) => Promise<unknown>) {
  const res = await post("HeapProfiler.getSamplingProfile") as { profile: SamplingProfile };
  return res.profile;
}
