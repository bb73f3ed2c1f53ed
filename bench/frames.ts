/**
 * The frames every throughput benchmark sends: real `encode()` output, as an agent makes it.
 * Single frames carry one sample; batch frames carry `batchSize` samples. Each instance
 * counts its own `seq` up from 1, so the collector sees no duplicates and no gaps.
 *
 * Samples in one batch share `ts` (= `sent`): the collector places a sample at
 * `ts + (arrival - sent)`, so batches of one instance arriving within the same millisecond
 * stay in time order and the recent store appends (its out-of-order insert is not measured).
 *
 * @module
 */
import { encode, type Identity, METRICS, type OutgoingSample } from "../lib/protocol.ts";

/** Frame shape of a throughput run. */
export type Form = "single" | "batch";

/** The identity of bench instance `name`, shaped like a real agent's. */
export function benchIdentity(name: string): Identity {
  return {
    service: "bench",
    instance: name,
    pid: 4242,
    host: "bench-host",
    color: null,
    intervalMs: 1000,
  };
}

/** Instance names `i00`..`i{n-1}`. */
export function instanceNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `i${String(i).padStart(2, "0")}`);
}

/** The agent's four standard metrics with plausible values. */
export function agentMetrics(k: number): Record<string, number> {
  return {
    [METRICS.cpuPercent]: Math.round((3 + (k % 97) * 0.37) * 100) / 100,
    [METRICS.rssBytes]: 48_000_000 + (k % 1000) * 4096,
    [METRICS.heapUsedBytes]: 21_000_000 + (k % 777) * 1024,
    [METRICS.loopLagMs]: Math.round((k % 13) * 0.173 * 1000) / 1000,
  };
}

/**
 * Pre-encode `frames` frames round-robin over `instances`, each instance's seq counting up.
 * Returns the frames and the number of samples they carry.
 */
export function makeFrames(
  instances: string[],
  form: Form,
  batchSize: number,
  frames: number,
  now = Date.now(),
): { frames: Uint8Array[]; samples: number } {
  const ids = instances.map(benchIdentity);
  const seq = instances.map(() => 0);
  const per = form === "single" ? 1 : batchSize;
  const out: Uint8Array[] = new Array(frames);
  for (let f = 0; f < frames; f++) {
    const i = f % ids.length;
    const samples: OutgoingSample[] = [];
    for (let j = 0; j < per; j++) {
      const s = ++seq[i];
      samples.push({ seq: s, ts: now, metrics: agentMetrics(s) });
    }
    out[f] = encode(ids[i], samples, now);
  }
  return { frames: out, samples: frames * per };
}
