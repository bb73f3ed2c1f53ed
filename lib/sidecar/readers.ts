/**
 * Process readers for ANOTHER process, from /proc: what the sidecar hands to
 * `createAgent({ readers })`. One process, or (`tree`) the process and all its
 * descendants summed, plus the container metrics of its cgroup.
 *
 * @module
 */
import { cpuPercent, hundredths, type ProcessReaders } from "../agent/process.ts";
import { createContainerReader } from "../proc/container.ts";
import { CLOCK_TICKS_PER_SECOND } from "../proc/parse.ts";
import {
  descendants,
  type ProcessSnapshot,
  type ProcOptions,
  readAllStats,
  readProcess,
} from "../proc/read.ts";

/** Metric names the sidecar adds (in `extra`). */
export const WATCH_METRICS = {
  threads: "process.threads",
  openFds: "process.open_fds",
  /** With `tree`: processes in the tree, the watched one included. */
  count: "process.count",
} as const;

/** Options for {@link createWatchReaders}. */
export interface WatchReadersOptions extends ProcOptions {
  /** The process to watch. */
  pid: number;
  /** Sum over the process and all its descendants (default false). */
  tree?: boolean;
  /** Container metrics of the process's cgroup (default: read them; false: none). */
  container?: (() => Record<string, number>) | false;
  /** Monotonic clock, ms (default performance.now). */
  clock?: () => number;
}

/** Readers for a watched process; `read()` throws once the process is gone. */
export interface WatchReaders extends ProcessReaders {
  /** True once the process was found gone (exited, zombie, or its pid reused). */
  gone(): boolean;
  /** Check now whether the process is still there (sets `gone()` when it is not). */
  alive(): boolean;
}

/** True when the snapshot is a process that has exited but is not reaped yet. */
const dead = (s: ProcessSnapshot) => s.state === "Z" || s.state === "X" || s.state === "x";

/**
 * Readers for process `pid` (not this one). CPU % is the utime+stime delta over wall time
 * (100 = one core); the baseline is taken now. The agent's heap and loop-lag metrics mean
 * nothing for another process: they are NaN, which the agent leaves out.
 */
export function createWatchReaders(opts: WatchReadersOptions): WatchReaders {
  const clock = opts.clock ?? (() => performance.now());
  const container = opts.container ?? createContainerReader({ pid: opts.pid, root: opts.root });
  const first = readProcess(opts.pid, opts);
  if (!first.ok || dead(first.value)) throw new Error(`no such process: ${opts.pid}`);
  const starttime = first.value.starttime;
  let isGone = false;

  /** The watched process now, or null when it is gone. */
  const rootNow = (): ProcessSnapshot | null => {
    const root = readProcess(opts.pid, opts);
    if (!root.ok || dead(root.value) || root.value.starttime !== starttime) {
      isGone = true;
      return null;
    }
    return root.value;
  };

  /** The watched set now, or null when the watched process is gone. */
  const snapshots = (): ProcessSnapshot[] | null => {
    const root = rootNow();
    if (!root) return null;
    if (!opts.tree) return [root];
    const out = [root];
    for (const pid of descendants(opts.pid, readAllStats(opts))) {
      const s = readProcess(pid, opts);
      if (s.ok && !dead(s.value)) out.push(s.value);
    }
    return out;
  };

  // CPU ticks per process (pid + start time, so a reused pid is a new process).
  const key = (s: ProcessSnapshot) => `${s.pid}:${s.starttime}`;
  let lastTicks = new Map<string, number>((snapshots() ?? []).map((s) => [key(s), s.cpuTicks]));
  let lastWall = clock();

  return {
    gone: () => isGone,
    alive: () => !isGone && rootNow() !== null,
    read() {
      const list = snapshots();
      if (!list) {
        throw new Error(`process ${opts.pid} has exited`);
      }
      const wall = clock();
      let ticks = 0;
      const now = new Map<string, number>();
      for (const s of list) {
        now.set(key(s), s.cpuTicks);
        // A process new since the last read spent all its CPU time in this interval.
        ticks += Math.max(0, s.cpuTicks - (lastTicks.get(key(s)) ?? 0));
      }
      const cpu = cpuPercent(ticks * (1_000_000 / CLOCK_TICKS_PER_SECOND), wall - lastWall);
      lastTicks = now;
      lastWall = wall;
      let rss = 0;
      let threads = 0;
      let fds: number | null = 0;
      for (const s of list) {
        rss += s.rssBytes;
        threads += s.numThreads;
        fds = fds === null || s.openFds === null ? null : fds + s.openFds;
      }
      const extra: Record<string, number> = { [WATCH_METRICS.threads]: threads };
      if (fds !== null) extra[WATCH_METRICS.openFds] = fds;
      if (opts.tree) extra[WATCH_METRICS.count] = list.length;
      if (container) Object.assign(extra, container());
      return {
        cpuPercent: hundredths(cpu),
        rssBytes: rss,
        heapUsedBytes: NaN,
        loopLagMs: NaN,
        extra,
      };
    },
    close() {},
  };
}
