/**
 * Pure parsers for Linux `/proc/<pid>` files and cgroup v2 interface files. Each takes the
 * file's text and returns a typed {@link Parsed} result: never a throw, whatever the input
 * (missing file = `null` text, trailing newlines, `max`, huge "no limit" values, garbage).
 *
 * @module
 */

/** A parse result: the value, or why there is none. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Clock ticks per second for `/proc/<pid>/stat` times (`getconf CLK_TCK`; 100 on Linux). */
export const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Limits at or above this are "no limit": the kernel writes `max`, but older kernels and
 * cgroup v1 show PAGE_COUNTER_MAX in bytes (9223372036854771712), which no real limit
 * approaches. 2^53 bytes is 8 PiB, and beyond it a JS number is no longer exact.
 */
export const NO_LIMIT_THRESHOLD = Number.MAX_SAFE_INTEGER;

/** What `/proc/<pid>/stat` says about a process (the fields the sidecar uses). */
export interface ProcStat {
  pid: number;
  /** The command name between the parentheses (may itself hold spaces and parentheses). */
  comm: string;
  /** One letter: R, S, D, Z (zombie), T, X (dead), ... */
  state: string;
  ppid: number;
  /** User-mode CPU time, clock ticks. */
  utime: number;
  /** Kernel-mode CPU time, clock ticks. */
  stime: number;
  numThreads: number;
  /** Start time after boot, clock ticks: with the pid, tells a reused pid apart. */
  starttime: number;
  /** Resident set size, pages. */
  rssPages: number;
}

/** What `/proc/<pid>/status` says (the fields the sidecar uses). */
export interface ProcStatus {
  /** VmRSS in bytes; null for kernel threads and zombies, which have none. */
  vmRssBytes: number | null;
  /** Threads; null if the line is missing. */
  threads: number | null;
}

/** `cpu.stat` of a cgroup v2. Fields absent from the file are null. */
export interface CpuStat {
  usageUsec: number | null;
  nrThrottled: number | null;
  throttledUsec: number | null;
}

/** A cgroup2 mount from `/proc/<pid>/mountinfo`. */
export interface Cgroup2Mount {
  /** Where it is mounted, e.g. `/sys/fs/cgroup` (or `/sys/fs/cgroup/unified` in hybrid mode). */
  mountPoint: string;
  /** The cgroup path mounted there (`/` unless a namespace or bind mount shows a subtree). */
  root: string;
}

/** An ASCII letter's code. */
const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

const fail = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/**
 * Whether `s` is one or more ASCII digits (`/^\d+$/` as a loop). The agent parses cgroup
 * files with these every second: a regular expression there brings the regexp compiler's
 * pages of the runtime into every containerized app (issue 14, docs/architecture.md).
 */
export function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * The words of `s`: runs of characters other than space, tab, line breaks and other ASCII
 * controls (`s.trim().split(/\s+/)` for the kernel's ASCII files, as a loop; see
 * {@link isDigits}). Empty for blank text.
 */
export function words(s: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= s.length; i++) {
    const blank = i === s.length || s.charCodeAt(i) <= 32;
    if (blank && start >= 0) {
      out.push(s.slice(start, i));
      start = -1;
    } else if (!blank && start < 0) start = i;
  }
  return out;
}

/** A non-negative integer written in decimal; null otherwise. */
function int(s: string | undefined): number | null {
  if (s === undefined || !isDigits(s)) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

/**
 * Parse `/proc/<pid>/stat`. The name is the text between the first `(` and the LAST `)`,
 * so `(my (weird) app)` parses; fields are counted after it (proc(5) numbering).
 */
export function parseStat(text: string | null): Parsed<ProcStat> {
  if (text === null) return fail("missing");
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return fail("no (comm) in stat");
  const pid = int(text.slice(0, open).trim());
  if (pid === null) return fail("bad pid in stat");
  // Field 3 (state) is the first after ")"; rest[i] is field i + 3.
  const rest = words(text.slice(close + 1));
  const f = (n: number) => rest[n - 3];
  const state = f(3);
  if (state?.length !== 1 || !isLetter(state.charCodeAt(0))) return fail("bad state in stat");
  const nums = {
    ppid: int(f(4)),
    utime: int(f(14)),
    stime: int(f(15)),
    numThreads: int(f(20)),
    starttime: int(f(22)),
    // rss (field 24) is signed in the kernel's format; a negative value is garbage here.
    rssPages: int(f(24)),
  };
  for (const [k, v] of Object.entries(nums)) {
    if (v === null) return fail(`bad or missing ${k} in stat`);
  }
  return {
    ok: true,
    value: {
      pid,
      comm: text.slice(open + 1, close),
      state,
      ...(nums as { [K in keyof typeof nums]: number }),
    },
  };
}

/** Parse `/proc/<pid>/status` for VmRSS (kB -> bytes) and Threads. */
export function parseStatus(text: string | null): Parsed<ProcStatus> {
  if (text === null) return fail("missing");
  let vmRssBytes: number | null = null;
  let threads: number | null = null;
  let name = false;
  for (const line of text.split("\n")) {
    const m = /^(\w+):\s*(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === "Name") name = true;
    else if (m[1] === "VmRSS") {
      const kb = /^(\d+)\s*kB$/.exec(m[2].trim());
      if (kb) vmRssBytes = Number(kb[1]) * 1024;
    } else if (m[1] === "Threads") threads = int(m[2].trim());
  }
  if (!name && vmRssBytes === null && threads === null) return fail("not a status file");
  return { ok: true, value: { vmRssBytes, threads } };
}

/** Count the open file descriptors from the entry names of `/proc/<pid>/fd`. */
export function countFds(names: Iterable<string> | null): Parsed<number> {
  if (names === null) return fail("missing");
  let n = 0;
  for (const name of names) if (isDigits(name)) n++;
  return { ok: true, value: n };
}

/**
 * Parse `/proc/<pid>/cgroup` for the cgroup v2 path: the `0::/path` line. On a v1-only
 * machine there is no such line (reason "no cgroup v2 entry").
 */
export function parseCgroupPath(text: string | null): Parsed<string> {
  if (text === null) return fail("missing");
  for (const line of text.split("\n")) {
    if (line.startsWith("0::")) {
      const path = line.slice(3).trim();
      if (!path.startsWith("/")) return fail(`bad cgroup v2 path "${path.slice(0, 80)}"`);
      return { ok: true, value: path };
    }
  }
  return fail("no cgroup v2 entry (0::) in /proc/<pid>/cgroup");
}

/**
 * Find the cgroup2 mount in `/proc/<pid>/mountinfo` (fstype after the ` - ` separator).
 * Prefers `/sys/fs/cgroup` (unified mode) over others (hybrid mode: `.../unified`).
 */
export function parseCgroup2Mount(text: string | null): Parsed<Cgroup2Mount> {
  if (text === null) return fail("missing");
  const found: Cgroup2Mount[] = [];
  for (const line of text.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const fields = line.slice(0, sep).split(" ");
    const fstype = line.slice(sep + 3).split(" ")[0];
    if (fstype !== "cgroup2" || fields.length < 5) continue;
    found.push({ root: unescapeMount(fields[3]), mountPoint: unescapeMount(fields[4]) });
  }
  if (found.length === 0) return fail("cgroup v2 is not mounted");
  return { ok: true, value: found.find((m) => m.mountPoint === "/sys/fs/cgroup") ?? found[0] };
}

/** mountinfo escapes space, tab, newline and backslash as octal `\040` etc. */
function unescapeMount(s: string): string {
  if (!s.includes("\\")) return s; // the usual case, without compiling a regular expression
  return s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

/** Parse a file holding one byte count, e.g. `memory.current`. */
export function parseBytes(text: string | null): Parsed<number> {
  if (text === null) return fail("missing");
  const n = int(text.trim());
  return n === null
    ? fail(`not a byte count: "${text.trim().slice(0, 40)}"`)
    : { ok: true, value: n };
}

/**
 * Parse a limit file such as `memory.max`: bytes, or null for no limit (`max`, or a value
 * at or above {@link NO_LIMIT_THRESHOLD} such as 9223372036854771712).
 */
export function parseLimit(text: string | null): Parsed<number | null> {
  if (text === null) return fail("missing");
  if (text.trim() === "max") return { ok: true, value: null };
  const n = parseBytes(text);
  if (!n.ok) return n;
  return { ok: true, value: n.value >= NO_LIMIT_THRESHOLD ? null : n.value };
}

/**
 * Parse `cpu.max` (`$QUOTA $PERIOD`, µs) into a limit in cores: `50000 100000` -> 0.5,
 * `max 100000` -> null (no limit). The period may be omitted (kernel default 100000).
 */
export function parseCpuMax(text: string | null): Parsed<number | null> {
  if (text === null) return fail("missing");
  const [quota, period = "100000", ...more] = words(text);
  const p = int(period);
  if (more.length > 0 || p === null || p === 0) return fail(`bad cpu.max "${text.trim()}"`);
  if (quota === "max") return { ok: true, value: null };
  const q = int(quota);
  if (q === null) return fail(`bad cpu.max "${text.trim()}"`);
  return { ok: true, value: q / p };
}

/** Parse `cpu.stat` (`key value` lines) for usage and throttling; absent keys are null. */
export function parseCpuStat(text: string | null): Parsed<CpuStat> {
  if (text === null) return fail("missing");
  const kv = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [k, v] = words(line);
    const n = int(v);
    if (k && n !== null) kv.set(k, n);
  }
  if (kv.size === 0) return fail("no key/value lines in cpu.stat");
  return {
    ok: true,
    value: {
      usageUsec: kv.get("usage_usec") ?? null,
      nrThrottled: kv.get("nr_throttled") ?? null,
      throttledUsec: kv.get("throttled_usec") ?? null,
    },
  };
}
