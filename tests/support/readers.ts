/**
 * Test support: process readers whose `cpu.percent` counts the samples taken (0, 1, 2...),
 * so a test knows exactly which samples exist and can check which arrived; `takenAt` holds
 * the wall time each was taken.
 *
 * @module
 */
import type { ProcessReaders } from "../../lib/agent/process.ts";

const MB = 1024 * 1024;

/** Readers that count samples; value i was taken at `takenAt[i]`. */
export function countingReaders(): ProcessReaders & { takenAt: number[] } {
  const takenAt: number[] = [];
  return {
    takenAt,
    read() {
      takenAt.push(Date.now());
      return { cpuPercent: takenAt.length - 1, rssBytes: MB, heapUsedBytes: MB / 2, loopLagMs: 0 };
    },
    close() {},
  };
}
