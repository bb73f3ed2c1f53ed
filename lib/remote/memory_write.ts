/**
 * Remote write for a collector without a data directory (`--data none`): one bounded
 * {@link MemoryQueue} and one {@link RemoteWriter} per target, on the collector's thread.
 * Ingest appends to {@link MemoryRemoteWrite.sink} as it would to history. With a data
 * directory the writers run on the history thread instead, reading the WAL
 * (lib/collector/history_worker.ts).
 *
 * @module
 */
import { MemoryQueue } from "./memory_queue.ts";
import { type RemoteStats, RemoteWriter } from "./writer.ts";
import type { HistorySink } from "../collector/ingest.ts";
import type { RemoteTarget } from "../collector/history.ts";

/** Running in-memory remote write. */
export interface MemoryRemoteWrite {
  /** Feeds every target's queue. */
  sink: HistorySink;
  stats(): RemoteStats[];
  stop(): Promise<void>;
}

/** Start writers with in-memory queues of `capacity` samples each (default 1 M). */
export function startMemoryRemoteWrite(
  targets: RemoteTarget[],
  opts: { now: () => number; log: (line: string) => void; capacity?: number },
): MemoryRemoteWrite {
  const queues = targets.map(() => new MemoryQueue(opts.capacity));
  /** Each instance's dashboard colour, from its views (sent on its cpu_percent series). */
  const colors = new Map<string, string>();
  const writers = targets.map((t, i) =>
    new RemoteWriter({
      url: t.url,
      headers: t.headers,
      source: queues[i],
      now: opts.now,
      log: opts.log,
      colorOf: (instance) => colors.get(instance) ?? null,
    })
  );
  for (const w of writers) w.start();
  return {
    sink: {
      append(instance, metric, t, v) {
        for (const q of queues) q.append(instance, metric, t, v);
      },
      appendFrame(instance, keys, samples) {
        for (const s of samples) {
          for (const name of keys) {
            for (const q of queues) q.append(instance, name, s.t, s.metrics[name]);
          }
        }
      },
      appendColumns(instance, keys, times, values, n) {
        for (let r = 0; r < n; r++) {
          for (let j = 0; j < keys.length; j++) {
            for (const q of queues) q.append(instance, keys[j], times[r], values[j * n + r]);
          }
        }
      },
      touch(view) {
        colors.set(view.id, view.color);
      },
    },
    stats: () => writers.map((w) => w.stats()),
    // A clean stop ships what is queued for up to 2 s: the queue does not outlive the process.
    stop: async () => {
      await Promise.all(writers.map((w) => w.finish(2000)));
    },
  };
}
