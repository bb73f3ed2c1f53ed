/**
 * Readers over the parsers: read one process from `/proc/<pid>`, every process (for a
 * tree), and the cgroup v2 of a process. Built on `node:fs` so the agent runs under Node
 * too (files are read with Deno's own call under Deno). Every reader returns a value or `{ ok: false, reason }`; none throws.
 *
 * @module
 */
import { platform } from "../platform.ts";
import {
  countFds,
  isDigits,
  parseBytes,
  parseCgroup2Mount,
  parseCgroupPath,
  parseCpuMax,
  parseCpuStat,
  type Parsed,
  parseLimit,
  parseStat,
  parseStatus,
  type ProcStat,
} from "./parse.ts";

/** Where the readers look. */
export interface ProcOptions {
  /** Prefix for every absolute path (default "", the real system); tests use a fixture tree. */
  root?: string;
}

/** A process id, or "self" for the reading process. */
export type Pid = number | "self";

/** Page size for the stat `rss` fallback (status VmRSS, in kB, is preferred). */
const PAGE_BYTES = 4096;

/** One reading of one process. */
export interface ProcessSnapshot extends ProcStat {
  /** utime + stime, clock ticks (see CLOCK_TICKS_PER_SECOND). */
  cpuTicks: number;
  /** Resident memory, bytes (VmRSS; stat rss pages x 4096 when status has none). */
  rssBytes: number;
  /** Open file descriptors; null when /proc/<pid>/fd is not readable (another user's). */
  openFds: number | null;
}

/** One reading of a cgroup v2. A field is absent when its file is missing. */
export interface CgroupReading {
  /** The cgroup path, as in /proc/<pid>/cgroup (`/` for the root cgroup). */
  path: string;
  /** The directory read. */
  dir: string;
  /** `memory.current`, bytes. */
  memoryUsageBytes?: number;
  /** `memory.max`, bytes; null = no limit. */
  memoryLimitBytes?: number | null;
  /** `cpu.max` as cores (quota / period); null = no limit. */
  cpuLimitCores?: number | null;
  /** `cpu.stat` usage_usec: CPU used by the whole cgroup, µs. */
  cpuUsageUsec?: number;
  /** `cpu.stat` nr_throttled: periods in which the cgroup was throttled. */
  nrThrottled?: number;
  /** `cpu.stat` throttled_usec: cumulative time throttled, µs. */
  throttledUsec?: number;
  /** Files present but unreadable or unparsable, with why. Missing files are not listed. */
  problems: string[];
  /** Files asked for that could not be read (absent, or not readable). */
  missing: string[];
}

/**
 * Reads a text file, throwing when it cannot: Deno's own call under Deno (about half the
 * cost of node:fs's there).
 */
export const readTextSync: (path: string) => string = platform.readText;

/** File text, or null when it does not exist or cannot be read. */
export function readText(path: string): string | null {
  try {
    return platform.readText(path);
  } catch {
    return null;
  }
}

function readNames(path: string): string[] | null {
  try {
    return platform.readDir(path).sort();
  } catch {
    return null;
  }
}

const procDir = (pid: Pid, o: ProcOptions) => `${o.root ?? ""}/proc/${pid}`;

/** Read `/proc/<pid>/{stat,status,fd}`. Fails only when stat is unreadable (process gone). */
export function readProcess(pid: Pid, opts: ProcOptions = {}): Parsed<ProcessSnapshot> {
  const dir = procDir(pid, opts);
  const stat = parseStat(readText(`${dir}/stat`));
  if (!stat.ok) {
    return { ok: false, reason: `unavailable: process ${pid}: stat ${stat.reason}` };
  }
  const status = parseStatus(readText(`${dir}/status`));
  const fds = countFds(readNames(`${dir}/fd`));
  const s = stat.value;
  return {
    ok: true,
    value: {
      ...s,
      cpuTicks: s.utime + s.stime,
      rssBytes: (status.ok ? status.value.vmRssBytes : null) ?? s.rssPages * PAGE_BYTES,
      numThreads: (status.ok ? status.value.threads : null) ?? s.numThreads,
      openFds: fds.ok ? fds.value : null,
    },
  };
}

/** Parse the stat of every process in /proc (for walking a tree); unreadable ones are skipped. */
export function readAllStats(opts: ProcOptions = {}): Map<number, ProcStat> {
  const out = new Map<number, ProcStat>();
  for (const name of readNames(`${opts.root ?? ""}/proc`) ?? []) {
    if (!isDigits(name)) continue;
    const s = parseStat(readText(`${opts.root ?? ""}/proc/${name}/stat`));
    if (s.ok) out.set(s.value.pid, s.value);
  }
  return out;
}

/** The pids of every descendant of `pid` (children, their children, ...), by ppid links. */
export function descendants(pid: number, stats: Map<number, ProcStat>): number[] {
  const children = new Map<number, number[]>();
  for (const s of stats.values()) {
    const list = children.get(s.ppid) ?? [];
    list.push(s.pid);
    children.set(s.ppid, list);
  }
  const out: number[] = [];
  const queue = [...(children.get(pid) ?? [])];
  const seen = new Set([pid]);
  while (queue.length > 0) {
    const p = queue.shift()!;
    if (seen.has(p)) continue; // a pid reused mid-walk could make a loop
    seen.add(p);
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

/**
 * Locate the cgroup v2 directory of a process: the cgroup2 mount from the reader's
 * `/proc/self/mountinfo` plus the `0::` path of `/proc/<pid>/cgroup`.
 */
export function cgroupDir(pid: Pid, opts: ProcOptions = {}): Parsed<{ path: string; dir: string }> {
  const root = opts.root ?? "";
  const mount = parseCgroup2Mount(readText(`${root}/proc/self/mountinfo`));
  if (!mount.ok) return { ok: false, reason: `unavailable: ${mount.reason}` };
  const path = parseCgroupPath(readText(`${procDir(pid, opts)}/cgroup`));
  if (!path.ok) return { ok: false, reason: `unavailable: process ${pid}: ${path.reason}` };
  const { mountPoint, root: mounted } = mount.value;
  let rel = path.value;
  if (mounted !== "/") {
    // A bind mount of a subtree (containers without a cgroup namespace): strip its root.
    if (rel !== mounted && !rel.startsWith(`${mounted}/`)) {
      return {
        ok: false,
        reason: `unavailable: cgroup ${rel} is outside the mounted subtree ${mounted}`,
      };
    }
    rel = rel.slice(mounted.length) || "/";
  }
  const dir = `${root}${mountPoint}${rel === "/" ? "" : rel}`;
  return { ok: true, value: { path: path.value, dir } };
}

/** The cgroup v2 files {@link readCgroupAt} reads. */
export const CGROUP_FILES: readonly string[] = [
  "memory.current",
  "memory.max",
  "cpu.max",
  "cpu.stat",
];

/** The controller each of {@link CGROUP_FILES} belongs to. */
const CONTROLLER_OF: Record<string, string> = {
  "memory.current": "memory",
  "memory.max": "memory",
  "cpu.max": "cpu",
  "cpu.stat": "cpu",
};

/**
 * Which of {@link CGROUP_FILES} a cgroup directory should have: those of the controllers
 * its `cgroup.controllers` names (a controller's files appear in a cgroup exactly when it is
 * on there), all of them when that file cannot be read. Read, not listed: a directory
 * listing is a runtime call the agent makes nowhere else, and its first call maps ~0.2-0.4
 * MiB of the deno executable into the app's RSS (docs/benchmarks-changes.md, stop 35). The
 * root cgroup lacks some files of its controllers (memory.max, cpu.max): the caller drops a
 * file its first reading finds {@link CgroupReading.missing}.
 */
export function presentCgroupFiles(dir: string): Set<string> {
  const text = readText(`${dir}/cgroup.controllers`);
  if (text === null) return new Set(CGROUP_FILES);
  const on = new Set(text.trim().split(" "));
  return new Set(CGROUP_FILES.filter((f) => on.has(CONTROLLER_OF[f])));
}

/** Read the cgroup v2 files of a process (`pid` or "self"): memory, cpu.max, cpu.stat. */
export function readCgroup(pid: Pid, opts: ProcOptions = {}): Parsed<CgroupReading> {
  const loc = cgroupDir(pid, opts);
  return loc.ok ? readCgroupAt(loc.value) : loc;
}

/**
 * Read the cgroup v2 files in a directory found by {@link cgroupDir}. Callers that sample
 * every second keep the location (finding it reads mountinfo) and call this.
 */
export function readCgroupAt(
  loc: { path: string; dir: string },
  only?: ReadonlySet<string>,
): Parsed<CgroupReading> {
  const { dir, path } = loc;
  const r: CgroupReading = { path, dir, problems: [], missing: [] };
  const file = <T>(name: string, parse: (t: string | null) => Parsed<T>, set: (v: T) => void) => {
    if (only && !only.has(name)) return; // known absent: no failed open (and error) each second
    const text = readText(`${dir}/${name}`);
    if (text === null) {
      r.missing.push(name);
      return;
    }
    const p = parse(text);
    if (p.ok) set(p.value);
    else r.problems.push(`${name}: ${p.reason}`);
  };
  file("memory.current", parseBytes, (v) => r.memoryUsageBytes = v);
  file("memory.max", parseLimit, (v) => r.memoryLimitBytes = v);
  file("cpu.max", parseCpuMax, (v) => r.cpuLimitCores = v);
  file("cpu.stat", parseCpuStat, (v) => {
    if (v.usageUsec !== null) r.cpuUsageUsec = v.usageUsec;
    if (v.nrThrottled !== null) r.nrThrottled = v.nrThrottled;
    if (v.throttledUsec !== null) r.throttledUsec = v.throttledUsec;
  });
  return { ok: true, value: r };
}
