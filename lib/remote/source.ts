/**
 * What a remote-write queue reads from: the local WAL (durable, wal_source.ts) or a bounded
 * queue in memory (`--data none`, memory_queue.ts). Each remote has a source of its own, so
 * each keeps its own place. A source hands out the same block until it is committed, so a
 * block is retried as a whole and never shipped past.
 *
 * @module
 */

/** Samples to ship, in parallel arrays; `series` are the source's own series ids. */
export interface Block {
  series: number[];
  times: number[];
  values: number[];
}

/** One remote's queue of samples not yet shipped. */
export interface RemoteSource {
  /** "wal" survives restarts and SIGKILL; "memory" is bounded and lost on exit. */
  readonly kind: "wal" | "memory";
  /** The next samples after the last commit, at most `max`; null when none wait. */
  peek(max: number): Block | null;
  /** The block last peeked is done (shipped or dropped): move past it. */
  commit(): void;
  /** The instance id and metric key of a series id, or null when unknown. */
  seriesOf(id: number): { instance: string; metric: string } | null;
  /** Samples waiting (an estimate for the WAL) and the time of the oldest, or null. */
  backlog(): { samples: number; oldest: number | null };
  /** Samples that went before they were shipped: over the memory bound, or past retention. */
  readonly expired: number;
}
