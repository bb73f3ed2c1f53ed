/**
 * The runtime calls the agent makes, behind one small adapter: Deno's own `Deno.*` under
 * Deno, `node:*` under Node (lib/platform_node.ts, which takes them from
 * `process.getBuiltinModule` when it is called, under Node only).
 * Why: the first `node:` module a Deno app loads brings up Deno's Node layer, about 9 MiB
 * of RSS that an app importing nothing else would pay for the agent alone
 * (docs/benchmarks.md, agent cost). tests/unit/agent_graph_test.ts checks that no `node:`
 * module is statically reachable from lib/agent/mod.ts.
 *
 * Under Deno, V8's heap size limit is not available (Deno.memoryUsage has heapTotal,
 * heapUsed and external only): {@link Platform.heapLimit} is null there and the agent does
 * not send `mem.heap_limit_bytes`.
 *
 * @module
 */

import { nodePlatform } from "./platform_node.ts";

/** CPU time used by this process, µs (as `process.cpuUsage()`). */
export interface CpuTimes {
  user: number;
  system: number;
}

/** Memory of this process, bytes (as `process.memoryUsage()`). */
export interface MemoryFigures {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
}

/** What {@link Platform.stat} tells of a file. */
export interface FileStat {
  size: number;
  links: number;
}

/** A file opened once, read from its start on each call. */
export interface KeptFile {
  /** Bytes read into `buf` from offset 0. */
  readFromStart(buf: Uint8Array): number;
  close(): void;
}

/** What the agent asks of its runtime. Stateless: one per runtime, no timers or files held. */
export interface Platform {
  /** `"linux"`, `"darwin"`, ...: /proc is read on Linux only. */
  os: string;
  pid: number;
  hostname(): string;
  /** An environment variable, or undefined (also when reading it is not allowed, unasked). */
  env(name: string): string | undefined;
  cpuUsage(): CpuTimes;
  /** Memory including RSS (a syscall). */
  memoryUsage(): MemoryFigures;
  /**
   * V8 heap figures, cheaper than memoryUsage() where the runtime allows (Node: no RSS).
   * `rss` is there when the same call gives it anyway (Deno: `Deno.memoryUsage()` always
   * reads it), so a caller need not read RSS a second time.
   */
  heap(): Omit<MemoryFigures, "rss"> & { rss?: number };
  /** V8's heap size limit in bytes; null where the runtime does not say (Deno). */
  heapLimit: (() => number) | null;
  /** A text file; throws when it cannot be read. */
  readText(path: string): string;
  /** Names in a directory; throws when it cannot be read. */
  readDir(path: string): string[];
  /** A file's size in bytes and its number of links; throws when it does not exist. */
  stat(path: string): FileStat;
  /** A local path from a `file:` URL. */
  fromFileUrl(url: string): string;
  /** Open a file to read it again and again (/proc/self/statm). */
  keep(path: string): KeptFile;
}

/**
 * The host name. On Linux from /proc/sys/kernel/hostname (the same name, the UTS
 * namespace's), through the file read the agent already does: `Deno.hostname()` is one
 * more runtime path whose pages of the executable a plain app would carry (issue 14).
 */
function denoHostname(): string {
  if (Deno.build.os === "linux") {
    try {
      const name = Deno.readTextFileSync("/proc/sys/kernel/hostname").trim();
      if (name) return name;
    } catch {
      // no /proc (a sandbox): ask the runtime
    }
  }
  return Deno.hostname();
}

/** The Deno implementation: `Deno.*` only. */
export function denoPlatform(): Platform {
  return {
    os: Deno.build.os,
    pid: Deno.pid,
    hostname: denoHostname,
    env(name) {
      try {
        // Read only when allowed: a library must not make Deno prompt the app's user.
        const allowed = Deno.permissions.querySync({ name: "env", variable: name });
        return allowed.state === "granted" ? Deno.env.get(name) : undefined;
      } catch {
        return undefined;
      }
    },
    cpuUsage: denoCpuUsage(),
    memoryUsage: () => Deno.memoryUsage(),
    // One op gives all four figures, RSS included (it reads /proc/self/statm itself).
    heap: () => Deno.memoryUsage(),
    heapLimit: null,
    readText: (path) => Deno.readTextFileSync(path),
    readDir: (path) => Array.from(Deno.readDirSync(path), (e) => e.name),
    stat(path) {
      const s = Deno.statSync(path);
      return { size: s.size, links: s.nlink ?? 0 };
    },
    fromFileUrl: (url) => decodeURIComponent(new URL(url).pathname),
    keep(path) {
      const file = Deno.openSync(path);
      return {
        readFromStart(buf) {
          file.seekSync(0, Deno.SeekMode.Start);
          return file.readSync(buf) ?? 0;
        },
        close: () => file.close(),
      };
    },
  };
}

/**
 * `Deno.cpuUsage()` (µs, as Node's; present in Deno 2.9 though not in its types), else
 * utime + stime from /proc/self/stat at the usual 100 ticks a second.
 */
function denoCpuUsage(): () => CpuTimes {
  const own = (Deno as unknown as { cpuUsage?: () => CpuTimes }).cpuUsage;
  if (typeof own === "function") return () => own();
  return () => {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { user: Number(f[11]) * 10_000, system: Number(f[12]) * 10_000 };
  };
}

/** Whether this is Deno (the Node build runs the same code under Node). */
export const isDeno = (): boolean => "Deno" in globalThis;

/**
 * The platform of the runtime we are in: chosen once at load, stateless, synchronously (no
 * top-level await: a CommonJS app may `require()` the Node build). Under Deno no `node:`
 * module is loaded: the Node one takes its modules only when called (platform_node.ts).
 */
export const platform: Platform = isDeno() ? denoPlatform() : nodePlatform();

/**
 * Let a timer not keep the process alive: `Deno.unrefTimer` for Deno's numeric ids,
 * `.unref()` for Node's Timeout objects.
 */
export function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  const t = timer as unknown;
  if (typeof t === "number") Deno.unrefTimer(t);
  else (t as { unref(): void }).unref();
}
