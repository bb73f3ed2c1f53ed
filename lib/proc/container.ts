/**
 * Container metrics from a cgroup v2 reading, under stable names, and a reader that keeps
 * going on machines without cgroup v2: it says why ONCE (through `log`) and then returns
 * no metrics instead of failing every sample.
 *
 * @module
 */
import {
  cgroupDir,
  type CgroupReading,
  type Pid,
  presentCgroupFiles,
  type ProcOptions,
  readCgroupAt,
} from "./read.ts";
import { errorMessage } from "../errors.ts";

/** How long a located cgroup directory is reused before it is looked up again, ms. */
const RELOCATE_MS = 60_000;
/**
 * The limits (memory.max, cpu.max) are read this often, ms, and sent as last read in
 * between: `docker update` is rare, and usage and throttling are what move each second.
 */
export const LIMITS_READ_MS = 10_000;
const LIMIT_FILES = new Set(["memory.max", "cpu.max"]);

/** Metric names for container readings; units are part of the name. */
export const CONTAINER_METRICS = {
  /** `memory.max`; absent when unlimited. */
  memLimitBytes: "container.mem.limit_bytes",
  /** `memory.current`. */
  memUsageBytes: "container.mem.usage_bytes",
  /** `cpu.max` quota / period; absent when unlimited. */
  cpuLimitCores: "container.cpu.limit_cores",
  /** `cpu.stat` throttled_usec / 1000, cumulative. */
  cpuThrottledMs: "container.cpu.throttled_ms",
} as const;

/** The metrics a cgroup reading supports: limits only when set, values only when present. */
export function containerMetrics(r: CgroupReading): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof r.memoryLimitBytes === "number") {
    out[CONTAINER_METRICS.memLimitBytes] = r.memoryLimitBytes;
  }
  if (r.memoryUsageBytes !== undefined) out[CONTAINER_METRICS.memUsageBytes] = r.memoryUsageBytes;
  if (typeof r.cpuLimitCores === "number") {
    out[CONTAINER_METRICS.cpuLimitCores] = Math.round(r.cpuLimitCores * 1000) / 1000;
  }
  if (r.throttledUsec !== undefined) {
    out[CONTAINER_METRICS.cpuThrottledMs] = Math.round(r.throttledUsec / 10) / 100;
  }
  return out;
}

/** Options for {@link createContainerReader}. */
export interface ContainerReaderOptions extends ProcOptions {
  /** Whose cgroup: a pid (the sidecar's child) or "self" (default). */
  pid?: Pid;
  /** Where the one "unavailable" line goes (default console.error). */
  log?: (line: string) => void;
  /** Monotonic clock, ms (default `performance.now`): when to relocate and re-read limits. */
  clock?: () => number;
}

/** The reading with no metrics, shared: a host process returns it every second. */
const NONE: Record<string, number> = Object.freeze({});

/**
 * A reader of container metrics for one process. Never throws. Its result may be shared
 * between calls: read it, do not change it. When cgroup v2 is not
 * mounted it logs that once and stops trying (mounts do not come and go under a process);
 * other failures (process gone, unreadable file) are logged once and retried.
 */
export function createContainerReader(
  opts: ContainerReaderOptions = {},
): () => Record<string, number> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const pid = opts.pid ?? "self";
  let said = false;
  let off = false;
  const once = (line: string) => {
    if (said) return;
    said = true;
    try {
      log(`zeroapm: container metrics for process ${pid}: ${line}`);
    } catch { /* a logger must not break sampling */ }
  };
  const clock = opts.clock ?? (() => performance.now());
  let loc: ReturnType<typeof cgroupDir> | null = null;
  let present: Set<string> | undefined;
  let presentButLimits: Set<string> | undefined;
  let locatedAt = -Infinity;
  let limits: Pick<CgroupReading, "memoryLimitBytes" | "cpuLimitCores"> = {};
  let limitsAt = -Infinity;
  return () => {
    if (off) return NONE;
    try {
      // The process's cgroup rarely moves: locate it (mountinfo + cgroup) once a minute.
      const t = clock();
      if (!loc?.ok || t - locatedAt > RELOCATE_MS) {
        loc = cgroupDir(pid, opts);
        present = loc.ok ? presentCgroupFiles(loc.value.dir) : undefined;
        // cpu.stat has throttling only where the cpu controller is on, which cpu.max shows. A
        // host process in the root cgroup has cpu.stat alone: nothing to report, so no file
        // is read each second (the first read after a sleep costs ~100 us).
        if (!present?.has("cpu.max")) present?.delete("cpu.stat");
        presentButLimits = new Set([...present ?? []].filter((f) => !LIMIT_FILES.has(f)));
        locatedAt = t;
        limitsAt = -Infinity; // a new place: read its limits now
      }
      const withLimits = t - limitsAt >= LIMITS_READ_MS;
      const files = withLimits ? present : presentButLimits;
      // Nothing to read here (a host process in the root cgroup): no work until relocated.
      if (loc.ok && files?.size === 0) return NONE;
      const r = loc.ok ? readCgroupAt(loc.value, files) : loc;
      if (!r.ok) {
        if (r.reason.includes("not mounted") || r.reason.includes("no cgroup v2 entry")) {
          off = true;
          once(`${r.reason}; carrying on without them`);
        } else {
          once(r.reason);
        }
        return {};
      }
      if (r.value.problems.length > 0) once(r.value.problems.join("; "));
      // Expected from the controllers but not there (the root cgroup): not read again here.
      // (Its first reading there asks for every file.) Without cpu.max, cpu.stat goes too.
      for (const f of r.value.missing) {
        for (const set of [present, presentButLimits]) {
          set?.delete(f);
          if (f === "cpu.max") set?.delete("cpu.stat");
        }
      }
      if (withLimits) {
        limits = {
          memoryLimitBytes: r.value.memoryLimitBytes,
          cpuLimitCores: r.value.cpuLimitCores,
        };
        limitsAt = t;
      }
      return containerMetrics({ ...r.value, ...limits });
    } catch (e) {
      once(`unavailable: ${errorMessage(e)}`);
      return {};
    }
  };
}
