/**
 * Runtime health, sent with every sample next to the standard metrics:
 *
 * | name                   | what                                                          |
 * | ---------------------- | ------------------------------------------------------------- |
 * | `loop.lag_ms.p50`      | median event-loop lag over the interval, ms                   |
 * | `loop.lag_ms.p99`      | 99th percentile event-loop lag over the interval, ms          |
 * | `process.open_fds`     | open fds (/proc/self/fd; Linux; every 10 s; asked: `openFds`) |
 * | `process.threads`      | OS threads (/proc/self/stat; Linux; every 10 s)               |
 * | `mem.heap_total_bytes` | V8 heap reserved                                              |
 * | `mem.heap_limit_bytes` | V8 heap size limit (where the heap runs out)                  |
 * | `mem.external_bytes`   | memory of C++ objects bound to JS (buffers, ...)              |
 *
 * Lag percentiles are two gauges, not a histogram: BUCKETS start at 0.5 ms and are too
 * coarse for lag, a per-interval percentile is exact here and needs nothing at the
 * collector. A probe records how late it fires; the interval's observations (at most 4096,
 * 512 from the agent's probe; a uniform reservoir beyond) give nearest-rank percentiles. In
 * the agent the observations come from its one timer (ticker.ts: every ~200 ms while the app
 * works, ~5 a second, so p99 is close to the interval's worst; once per interval while it is
 * quiet); standalone, these readers run their own probe (every 20 ms).
 * `node:perf_hooks` monitorEventLoopDelay is not used: under Deno 2.9 it does not see
 * blocked loops (measured: a 50 ms block reads as 0.1 ms).
 *
 * Threads come from /proc/self/stat, a text file read as the agent reads its others. Open
 * fds are counted only when asked (`openFds`): no text file in /proc holds the count, and
 * the `stat` that gives it (/proc/self/fd's size is its count of fds, Linux 6.2 and later)
 * costs a Deno app about 0.6 MiB of RSS beside the rest of the agent (1.5 MiB alone): the op
 * and the `Date` objects `Deno.statSync` builds, a fifth of the agent's whole budget
 * (bench/agent_rss.ts, docs/benchmarks-changes.md).
 * Where the size is 0 (older kernels) the fds are listed; listing the fds of a server with
 * thousands of connections allocates an entry for each, the `stat` costs the same for any
 * number.
 *
 * Reading never throws: a reading that fails leaves its metric out of that sample, and is
 * reported once per metric. It is tried again at the next reading (every SLOW_READ_MS for
 * fds and threads), so EMFILE, the moment the fd count matters most, passes.
 *
 * @module
 */
import { type FileStat, platform as host, unrefTimer } from "../platform.ts";
import { readTextSync } from "../proc/read.ts";
import { parseStat } from "../proc/parse.ts";
import { errorMessage } from "../errors.ts";

/** Names of the runtime health metrics. */
export const RUNTIME_METRICS = {
  loopLagP50: "loop.lag_ms.p50",
  loopLagP99: "loop.lag_ms.p99",
  openFds: "process.open_fds",
  threads: "process.threads",
  heapTotalBytes: "mem.heap_total_bytes",
  heapLimitBytes: "mem.heap_limit_bytes",
  externalBytes: "mem.external_bytes",
} as const;

/** Reads runtime health; the agent calls `read()` once per sample and `close()` on stop. */
/**
 * Open fds and threads are read this often, ms, and sent as last read in between: they
 * change slowly, and a directory listing plus a file read every second were a third of
 * a sample's cost (bench/agent_cost.ts). Process exporters commonly scrape every 15 s.
 */
export const SLOW_READ_MS = 10_000;

export interface RuntimeReaders {
  /**
   * Metric name -> value for the interval since the last read. Never throws. `heap`: heap
   * figures already read for this sample (the process readers'), saving a second reading.
   */
  read(heap?: HeapFigures): Record<string, number>;
  /** Add a lag observation from another probe (when created with `probe: false`). */
  observeLag(lagMs: number): void;
  /** Stop the lag probe. */
  close(): void;
}

/** V8 heap reserved and memory of C++ objects bound to JS, bytes (`process.memoryUsage()`). */
export interface HeapFigures {
  heapTotal: number;
  external: number;
}

/** Where readings come from; injectable for tests. */
export interface RuntimeSources {
  /** `process.platform`: /proc is read on "linux" only. */
  platform: string;
  /** Names in a directory, as `fs.readdirSync`. */
  readDir(path: string): string[];
  /** A text file, as `fs.readFileSync(path, "utf8")`. */
  readFile(path: string): string;
  /** Size and link count of a file, as `fs.statSync` (lib/platform.ts): the fd count. */
  stat(path: string): FileStat;
  /** Heap size and external memory, as `process.memoryUsage()` gives them. */
  memoryUsage(): HeapFigures;
  /** V8's heap size limit in bytes. */
  heapLimit: (() => number) | null;
  /** Monotonic clock in ms. */
  clock(): number;
}

/** Options for {@link createRuntimeReaders}. */
export interface RuntimeReadersOptions {
  /** Lag probe period in ms (default 20). */
  lagProbeMs?: number;
  /**
   * Run an own lag probe (default true). The agent passes false and feeds `observeLag` from
   * its process probe: each timer waking 50 times a second was a third of its CPU cost.
   */
  probe?: boolean;
  /**
   * Most lag observations kept per interval, a uniform sample beyond. Default 4096 (80 s of
   * the own probe's firings); with `probe: false` 512 (100 s of the agent's fast probe, ~5
   * firings a second, for which 4096 slots were 32 KB held for nothing).
   */
  maxLagObservations?: number;
  /** Replace some sources (tests). */
  sources?: Partial<RuntimeSources>;
  /** A reading that failed, once per metric. Must not throw. */
  onError?: (error: unknown) => void;
  /**
   * Also count open fds (`process.open_fds`; Linux; default false): one `stat` of
   * /proc/self/fd every SLOW_READ_MS, ~0.6 MiB of a Deno app's RSS (see the module doc).
   */
  openFds?: boolean;
}

/** Nearest-rank q-quantile of the first `n` values of `sorted` (ascending). */
export function nearestRank(sorted: ArrayLike<number>, n: number, q: number): number {
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))];
}

/** Start the lag probe and return the readers. The probe timer is unref'd. */
export function createRuntimeReaders(opts: RuntimeReadersOptions = {}): RuntimeReaders {
  const src: RuntimeSources = {
    platform: host.os,
    // Deno's own call under Deno: node:fs's readdirSync also sorts the names (a third of
    // the cost of the fd count, in a profile of the agent).
    readDir: host.readDir,
    readFile: readTextSync,
    stat: host.stat,
    // Without RSS where the runtime allows: the process readers already read it.
    memoryUsage: host.heap,
    // null under Deno (lib/platform.ts): mem.heap_limit_bytes is then not sent.
    heapLimit: host.heapLimit,
    clock: () => performance.now(),
    ...opts.sources,
  };
  const onError = opts.onError ?? (() => {});
  const period = opts.lagProbeMs ?? 20;
  const cap = opts.maxLagObservations ?? (opts.probe === false ? 512 : 4096);
  const lags = new Float64Array(cap);
  let seen = 0;
  let last = src.clock();
  const observe = (lag: number) => {
    const v = Math.max(0, lag);
    if (seen < cap) lags[seen] = v;
    else {
      const j = Math.floor(Math.random() * (seen + 1));
      if (j < cap) lags[j] = v;
    }
    seen++;
  };
  const timer = opts.probe === false ? null : setInterval(() => {
    const t = src.clock();
    observe(t - last - period);
    last = t;
  }, period);
  if (timer) unrefTimer(timer);

  /** Threads (and open fds when asked), as last read (see SLOW_READ_MS), and when. */
  let slow: Record<string, number> = {};
  let slowAt = -Infinity;
  /** V8's heap limit is fixed at startup: read once. */
  let limit: Record<string, number> | null = null;

  const reported = new Set<string>();
  /** Run one reading; a failure leaves the metric out and is reported once. */
  const attempt = (out: Record<string, number>, name: string, read: () => number) => {
    try {
      const v = read();
      if (Number.isFinite(v)) out[name] = v;
    } catch (e) {
      if (reported.has(name)) return;
      reported.add(name);
      try {
        onError(new Error(`${name} unavailable: ${errorMessage(e)}`));
      } catch { /* never into the app */ }
    }
  };

  return {
    read(heap) {
      const out: Record<string, number> = {};
      // A stall in progress (the probe has not fired yet) is lag too.
      if (timer) {
        const pending = src.clock() - last - period;
        if (pending > 0) observe(pending);
      }
      const n = Math.min(seen, cap);
      if (n === 1) {
        // A quiet app's one firing per interval: both percentiles are that lag.
        out[RUNTIME_METRICS.loopLagP50] = out[RUNTIME_METRICS.loopLagP99] = hundredths(lags[0]);
      } else if (n > 1) {
        // Sorted in place: the observations start over after this reading anyway (a copy
        // allocated a new buffer every second).
        const sorted = sortPrefix(lags, n);
        out[RUNTIME_METRICS.loopLagP50] = hundredths(nearestRank(sorted, n, 0.5));
        out[RUNTIME_METRICS.loopLagP99] = hundredths(nearestRank(sorted, n, 0.99));
      }
      seen = 0;
      if (src.platform === "linux") {
        const t = src.clock();
        if (t - slowAt >= SLOW_READ_MS) {
          slowAt = t;
          slow = {};
          if (opts.openFds) {
            attempt(slow, RUNTIME_METRICS.openFds, () => {
              const n = src.stat("/proc/self/fd").size;
              // readdir holds the directory open while it lists it: its own fd is in the list.
              return n > 0 ? n : src.readDir("/proc/self/fd").length - 1;
            });
          }
          attempt(slow, RUNTIME_METRICS.threads, () => {
            const stat = parseStat(src.readFile("/proc/self/stat"));
            if (!stat.ok) throw new Error(`/proc/self/stat: ${stat.reason}`);
            return stat.value.numThreads;
          });
        }
        for (const k in slow) out[k] = slow[k];
      }
      // The heap figures already read for this sample: no reading, nothing that can fail.
      if (heap) {
        if (Number.isFinite(heap.heapTotal)) out[RUNTIME_METRICS.heapTotalBytes] = heap.heapTotal;
        if (Number.isFinite(heap.external)) out[RUNTIME_METRICS.externalBytes] = heap.external;
      } else {
        let mem: HeapFigures | undefined;
        attempt(out, RUNTIME_METRICS.heapTotalBytes, () => {
          mem = src.memoryUsage();
          return mem.heapTotal;
        });
        const external = mem?.external;
        if (external !== undefined) attempt(out, RUNTIME_METRICS.externalBytes, () => external);
      }
      if (!limit) {
        limit = {};
        if (src.heapLimit) attempt(limit, RUNTIME_METRICS.heapLimitBytes, src.heapLimit);
      }
      for (const k in limit) out[k] = limit[k];
      return out;
    },
    observeLag: observe,
    close() {
      if (timer) clearInterval(timer);
    },
  };
}

/**
 * Most observations sorted by insertion in JavaScript; more go to the typed array's native
 * sort. The agent's interval has at most ~5 (its probe every ~200 ms): the native sort is
 * V8 C++ code that a plain app never runs, and its first call maps ~130-190 KiB of the
 * deno executable into the app's RSS (docs/benchmarks-changes.md, stop 34).
 */
export const INSERTION_SORT_MAX = 64;

/** `a`'s first `n` values sorted ascending in place; returns that prefix. */
export function sortPrefix(a: Float64Array, n: number): Float64Array {
  const head = a.subarray(0, n);
  if (n > INSERTION_SORT_MAX) return head.sort();
  for (let i = 1; i < n; i++) {
    const v = head[i];
    let j = i - 1;
    while (j >= 0 && head[j] > v) {
      head[j + 1] = head[j];
      j--;
    }
    head[j + 1] = v;
  }
  return head;
}

function hundredths(v: number): number {
  return Math.round(v * 100) / 100;
}
