/**
 * The Node implementation of lib/platform.ts. It takes Node's modules from
 * `process.getBuiltinModule` (Node 20.16 and later), not from `import` statements: so
 * platform.ts picks a platform synchronously, with no top-level await, and a CommonJS app can
 * `require()` the built agent (Node refuses to require a module graph that awaits at its top);
 * and a Deno app, which imports this file without calling it, loads no `node:` module.
 *
 * @module
 */
import type * as Fs from "node:fs";
import type * as Os from "node:os";
import type * as Url from "node:url";
import type * as V8 from "node:v8";
import type { CpuTimes, MemoryFigures, Platform } from "./platform.ts";

/** The parts of Node's `process` global used here. */
interface NodeProcess {
  platform: string;
  pid: number;
  env: Record<string, string | undefined>;
  cpuUsage(): CpuTimes;
  memoryUsage(): MemoryFigures;
  getBuiltinModule?(id: string): unknown;
}

/** The Node implementation: `node:fs`, `node:os`, `node:url`, `node:v8` and `process`. */
export function nodePlatform(): Platform {
  const process = (globalThis as unknown as { process: NodeProcess }).process;
  if (typeof process.getBuiltinModule !== "function") {
    throw new Error("the zeroapm agent needs Node 20.16 or later (process.getBuiltinModule)");
  }
  const fs = process.getBuiltinModule("node:fs") as typeof Fs;
  const os = process.getBuiltinModule("node:os") as typeof Os;
  const { fileURLToPath } = process.getBuiltinModule("node:url") as typeof Url;
  const v8 = process.getBuiltinModule("node:v8") as typeof V8;
  return {
    os: process.platform,
    pid: process.pid,
    hostname: () => os.hostname(),
    env: (name) => process.env[name],
    cpuUsage: () => process.cpuUsage(),
    memoryUsage: () => process.memoryUsage(),
    // V8's own figures: process.memoryUsage() also measures RSS, a syscall.
    heap() {
      const h = v8.getHeapStatistics();
      return {
        heapTotal: h.total_heap_size,
        heapUsed: h.used_heap_size,
        external: h.external_memory,
      };
    },
    heapLimit: () => v8.getHeapStatistics().heap_size_limit,
    readText: (path) => fs.readFileSync(path, "utf8"),
    readDir: (path) => fs.readdirSync(path),
    stat(path) {
      const s = fs.statSync(path);
      return { size: s.size, links: s.nlink };
    },
    fromFileUrl: (url) => fileURLToPath(url),
    keep(path) {
      const fd = fs.openSync(path, "r");
      return {
        readFromStart: (buf) => fs.readSync(fd, buf, 0, buf.length, 0),
        close: () => fs.closeSync(fd),
      };
    },
  };
}
