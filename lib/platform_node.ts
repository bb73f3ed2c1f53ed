/**
 * The Node implementation of lib/platform.ts: `node:*` modules. Loaded by dynamic import
 * only when not under Deno, so a Deno app never loads Deno's Node layer for the agent.
 *
 * @module
 */
import fs from "node:fs";
import os from "node:os";
import process from "node:process";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import type { Platform } from "./platform.ts";

/** The Node implementation: `node:fs`, `node:os`, `node:process`, `node:v8`. */
export function nodePlatform(): Platform {
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
