/**
 * Process readers: what the agent measures about its own process, behind one small
 * interface so tests inject fake readings. Built on lib/platform.ts (`Deno.*` under Deno,
 * `node:*` under Node), so the same code runs under both. On Linux with cgroup v2 the readings also carry the
 * container's memory and CPU limits, usage and throttling (see lib/proc/container.ts).
 *
 * @module
 */
import { type MemoryFigures, platform } from "../platform.ts";
import { createContainerReader } from "../proc/container.ts";
import { openSelfRss, type SelfRss } from "../proc/self_rss.ts";
import { type LagProbe, startLagProbe } from "./lag.ts";
import type { HeapFigures } from "./runtime.ts";

/** One reading of the process. CPU and lag cover the time since the previous reading. */
export interface ProcessReading {
  /** CPU time over wall time, in %; above 100 when several cores are busy. */
  cpuPercent: number;
  /** Resident set size, bytes. */
  rssBytes: number;
  /** V8 heap in use, bytes. */
  heapUsedBytes: number;
  /** Worst event-loop lag since the previous reading, ms. */
  loopLagMs: number;
  /**
   * V8 heap reserved and external memory from the same memory reading, when the source
   * gives them: the agent hands them to the runtime readers (one reading per sample).
   */
  heap?: HeapFigures;
  /**
   * More metrics by series key (e.g. `container.mem.limit_bytes`, see CONTAINER_METRICS in
   * lib/proc/container.ts), sent alongside the four above. A key is absent when its value
   * is unknown or unlimited; a non-finite value is dropped like any other.
   */
  extra?: Record<string, number>;
}

/** Reads the process; the agent calls `read()` once per sample and `close()` on stop. */
export interface ProcessReaders {
  /** Read now. May throw; the agent reports the error and skips that sample. */
  read(): ProcessReading;
  /** Stop background probes (the lag timer). */
  close(): void;
}

/** Where readings come from; injectable so the arithmetic is testable. */
export interface ProcessSources {
  /** Cumulative process CPU time in µs, as `process.cpuUsage()`. */
  cpuUsage(): { user: number; system: number };
  /** Memory, as `process.memoryUsage()` (heapTotal and external are optional). */
  memoryUsage(): { rss: number; heapUsed: number; heapTotal?: number; external?: number };
  /** Monotonic wall clock in ms, as `performance.now()`. */
  clock(): number;
}

/** Options for {@link createProcessReaders}. */
export interface ProcessReadersOptions {
  /** Every lag the probe observes, ms (not used with `lag`). */
  onLag?: (lagMs: number) => void;
  /**
   * Loop-lag probe period in ms (default 200). A stall is seen when it covers a firing, and
   * then from that firing to its end; a stall longer than the period is always seen. Each
   * wake-up costs tens of µs of CPU under Deno (bench/agent_cost.ts), so the period is a
   * trade between short stalls seen and cost.
   */
  lagProbeMs?: number;
  /**
   * A running probe to read lag from instead of starting one (the agent's, whose timer
   * also takes the samples). `close()` leaves it running: its owner closes it.
   */
  lag?: LagProbe;
  /** Replace some sources (tests). */
  sources?: Partial<ProcessSources>;
  /**
   * Container metrics for `extra`: a function returning them, or false for none. Default:
   * this process's cgroup v2 on Linux (logs once and carries on where there is none),
   * nothing elsewhere.
   */
  container?: (() => Record<string, number>) | false;
}

/** CPU % from a CPU-time delta (µs) over a wall-time delta (ms); 0 when no time passed. */
export function cpuPercent(cpuMicros: number, wallMs: number): number {
  if (!(wallMs > 0) || !(cpuMicros >= 0)) return 0;
  return hundredths(cpuMicros / 1000 / wallMs * 100);
}

/**
 * Round to 0.01, far below what these readings can resolve. Values that are exact
 * hundredths compress to about a third of the size of arbitrary floats in storage.
 */
export function hundredths(v: number): number {
  return Math.round(v * 100) / 100;
}

/** Readers for the current process. Starts a lag probe unless given one; the baseline is taken now. */
export function createProcessReaders(opts: ProcessReadersOptions = {}): ProcessReaders {
  const memory = opts.sources?.memoryUsage ? null : ownMemory();
  const src: ProcessSources = {
    cpuUsage: platform.cpuUsage,
    memoryUsage: memory ? memory.read : platform.memoryUsage,
    clock: () => performance.now(),
    ...opts.sources,
  };
  const own = opts.lag === undefined;
  const lag: LagProbe = opts.lag ?? startLagProbe({
    intervalMs: opts.lagProbeMs ?? 200,
    clock: src.clock,
    onLag: opts.onLag,
  });
  const cpuMicros = () => {
    const u = src.cpuUsage();
    return u.user + u.system;
  };
  const container = opts.container ??
    (platform.os === "linux" ? createContainerReader({ pid: "self" }) : false);
  let lastCpu = cpuMicros();
  let lastWall = src.clock();
  return {
    read() {
      const cpu = cpuMicros();
      const wall = src.clock();
      const mem = src.memoryUsage();
      const reading: ProcessReading = {
        cpuPercent: cpuPercent(cpu - lastCpu, wall - lastWall),
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        loopLagMs: hundredths(lag.takeMaxLagMs()),
      };
      const { heapTotal, external } = mem;
      if (heapTotal !== undefined && external !== undefined) {
        reading.heap = { heapTotal, external };
      }
      if (container) {
        const extra = container();
        for (const _ in extra) {
          reading.extra = extra; // not empty (without building the list of its keys)
          break;
        }
      }
      lastCpu = cpu;
      lastWall = wall;
      return reading;
    },
    close() {
      if (own) lag.close();
      memory?.close();
    },
  };
}

/**
 * This process's memory, one reading per sample: `platform.heap()`, with RSS when it comes
 * with it (Deno), else from a kept-open /proc/self/statm on Linux (lib/proc/self_rss.ts,
 * opened on first need), else `platform.memoryUsage()`.
 */
function ownMemory(): { read(): MemoryFigures; close(): void } {
  let kept: SelfRss | null | undefined; // undefined: not tried yet; null: not available
  const rssBytes = () => {
    if (kept === undefined) kept = keptRss();
    if (kept) {
      try {
        return kept.read();
      } catch {
        // fall back to the runtime's reading
      }
    }
    return platform.memoryUsage().rss;
  };
  return {
    read() {
      const h = platform.heap();
      return {
        rss: h.rss ?? rssBytes(),
        heapUsed: h.heapUsed,
        heapTotal: h.heapTotal,
        external: h.external,
      };
    },
    close: () => kept?.close(),
  };
}

/** RSS from a kept-open /proc/self/statm on Linux; null elsewhere. */
function keptRss(): SelfRss | null {
  if (platform.os !== "linux") return null;
  try {
    return openSelfRss();
  } catch {
    return null;
  }
}
