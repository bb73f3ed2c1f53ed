/**
 * Durable history on a thread of its own. The durable store (lib/store/durable.ts) does all
 * its work synchronously: a flush writes every new point, a seal step compresses whole
 * series. On the collector's one JavaScript thread that work was a stall: with 32 series
 * holding a million points, one seal step took 300-650 ms, and every HTTP request, timer
 * and socket read waited for it (docs/reliability.md, row 3b). Here the store lives in a
 * Worker (history_worker.ts); this side buffers points (history_batch.ts: typed columns, a
 * whole frame at a time on ingest's usual path) and instance views, and hands them over
 * once a second with the tick (or earlier, see below); postMessage copies the columns.
 *
 * Backpressure instead of loss: points handed over and not yet taken by the thread are
 * bounded (`maxPendingPoints`). At the bound {@link HistoryThread.backpressure} returns a
 * promise, and the receive loop waits on it before it reads another frame, so frames stay
 * queued in ZMQ and, past its high-water mark, in the agents' backlogs, as they did when
 * the store's work held the thread itself. Only a caller that ignores it (or a thread that
 * failed) loses points, at 4x the bound, and they are counted in `dropped`.
 *
 * Queries hand over what is buffered first, so they see every point appended before them.
 *
 * Messages (this side -> thread): `open`, `batch` (points, views, and whether to run a tick),
 * `query`, `hold` (tests), `close`; (thread -> this side): `opened`, `done` (a batch taken),
 * `answer`, `closed`. Each carries the collector's clock, so injected clocks still rule.
 *
 * @module
 */
import type { SeriesAnswer } from "../store/durable.ts";
import { type Retention, unflattenPoints } from "../store/query.ts";
import type { InstanceView } from "../live/messages.ts";
import type { PersistedView, PlacedSample } from "./instances.ts";
import type { HistorySink } from "./ingest.ts";
import { HistoryBatch, type HistoryBlock } from "./history_batch.ts";
import type { RemoteStats } from "../remote/writer.ts";

/** A remote-write target: its URL and extra headers (auth). */
export interface RemoteTarget {
  url: string;
  headers?: Record<string, string>;
}

/** A message to the history thread. */
export type HistoryRequest =
  | {
    type: "open";
    now: number;
    dir: string;
    retention?: Retention;
    maxDiskBytes?: number | null;
    sealEveryMs?: number;
    /** Remote write: each remote ships the WAL from its own persisted cursor. */
    remoteWrite?: RemoteTarget[];
  }
  | {
    type: "batch";
    now: number;
    id: number;
    /** Points in `blocks`, echoed back in `done`. */
    points: number;
    /** In the order they were started: each series' points in order (history_batch.ts). */
    blocks: HistoryBlock[];
    touched: Array<[view: InstanceView, lastSeq: number | null, agentStart: number | null]>;
    /** Run the store's tick (flush, a seal step, a retention step) after taking the batch. */
    tick: boolean;
  }
  | {
    type: "query";
    now: number;
    id: number;
    instance: string;
    metric: string;
    from: number;
    to: number;
    points: number;
  }
  | { type: "hold"; now: number; flag: SharedArrayBuffer }
  | { type: "close"; now: number };

/** A message from the history thread. */
export type HistoryReply =
  | {
    type: "opened";
    retention: Retention;
    instances: PersistedView[];
    /** Damage found and repaired on open (lib/store/damage.ts), one line each, for the log. */
    warnings: string[];
    error?: undefined;
  }
  | { type: "opened"; error: string }
  | {
    type: "done";
    id: number;
    points: number;
    dropped: number;
    /** The instances that lost the most points to shedding (lib/store/shed.ts). */
    shed: Array<[string, number]>;
    error?: string;
    /** Per remote, after a tick. */
    remote?: RemoteStats[];
  }
  | { type: "log"; line: string }
  | {
    type: "answer";
    id: number;
    tier: number;
    bucketMs: number;
    /** The points, flat (lib/store/query.ts `flattenPoints`), transferred. */
    flat: Float64Array;
    error?: undefined;
  }
  | { type: "answer"; id: number; error: string }
  | { type: "closed"; error?: string };

/** Options for {@link HistoryThread.open}. */
export interface HistoryThreadOptions {
  dir: string;
  now: () => number;
  retention?: Retention;
  maxDiskBytes?: number | null;
  sealEveryMs?: number;
  /**
   * Points appended and not yet taken by the thread before {@link HistoryThread.backpressure}
   * holds ingest (default 1 M: 10 to 16 MB of typed columns, as a frame's series share their
   * time column or not, up to twice that while the columns grow).
   */
  maxPendingPoints?: number;
  /** Remote-write targets, shipped from the WAL on the thread (lib/remote/). */
  remoteWrite?: RemoteTarget[];
  /** Where the thread's log lines go (remote-write failures). */
  log?: (line: string) => void;
}

interface Waiter {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** The durable store, run on a Worker. */
export class HistoryThread implements HistorySink {
  /** Retention the store applies (the defaults filled in). */
  readonly retention: Retention;
  /** Instances as persisted when the store was opened (for `Instances.restore`). */
  readonly restored: PersistedView[];
  /** What opening found damaged and did about it (lib/store/damage.ts); the collector logs it. */
  readonly warnings: string[];
  #worker: Worker;
  #now: () => number;
  #max: number;
  /** Points appended and not yet handed over. */
  #batch = new HistoryBatch();
  #touched = new Map<string, [InstanceView, number | null, number | null]>();
  #inFlight = 0;
  #nextId = 1;
  #waiters = new Map<number, Waiter>();
  /** The first error of a batch handed over between ticks, reported by the next tick. */
  #laterError: string | null = null;
  #threadDropped = 0;
  /** Points the thread has taken; and of them, written to disk by a completed tick. */
  #taken = 0;
  #durable = 0;
  #shed: Array<[string, number]> = [];
  #lost = 0;
  #failed: Error | null = null;
  #closing: Promise<void> | null = null;
  #held: Promise<void> | null = null;
  #release: () => void = () => {};
  #log: (line: string) => void;
  #remote: RemoteStats[] = [];

  private constructor(
    worker: Worker,
    opts: HistoryThreadOptions,
    opened: { retention: Retention; instances: PersistedView[]; warnings: string[] },
  ) {
    this.#worker = worker;
    this.#now = opts.now;
    this.#max = opts.maxPendingPoints ?? 1_000_000;
    this.#log = opts.log ?? ((line) => console.error(line));
    this.retention = opened.retention;
    this.restored = opened.instances;
    this.warnings = opened.warnings;
    worker.onmessage = (e: MessageEvent<HistoryReply>) => this.#receive(e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      this.#fail(new Error(`history thread failed: ${e.message}`));
    };
  }

  /** Start the thread and open the store in `opts.dir`; rejects with the store's error. */
  static async open(opts: HistoryThreadOptions): Promise<HistoryThread> {
    const worker = new Worker(new URL("./history_worker.ts", import.meta.url).href, {
      type: "module",
    });
    let opened: HistoryReply;
    try {
      opened = await new Promise<HistoryReply>((resolve, reject) => {
        worker.onmessage = (e: MessageEvent<HistoryReply>) => resolve(e.data);
        worker.onerror = (e) => {
          e.preventDefault();
          reject(new Error(`history thread failed to start: ${e.message}`));
        };
        const open: HistoryRequest = {
          type: "open",
          now: opts.now(),
          dir: opts.dir,
          retention: opts.retention,
          maxDiskBytes: opts.maxDiskBytes,
          sealEveryMs: opts.sealEveryMs,
          remoteWrite: opts.remoteWrite,
        };
        worker.postMessage(open);
      });
    } catch (e) {
      worker.terminate();
      throw e;
    }
    if (opened.type !== "opened" || opened.error !== undefined) {
      worker.terminate();
      throw new Error(opened.type === "opened" ? opened.error : "history thread did not open");
    }
    return new HistoryThread(worker, opts, opened);
  }

  /** Points the store did not keep: over its bound (see durable.ts), or lost on this side. */
  get dropped(): number {
    return this.#threadDropped + this.#lost;
  }

  /** Per remote-write target, as of the last tick (see lib/remote/writer.ts). */
  remoteStats(): RemoteStats[] {
    return this.#remote;
  }

  /** The instances that lost the most points to the store's shedding, most first. */
  get shedFrom(): Array<[instance: string, dropped: number]> {
    return this.#shed;
  }

  /**
   * Points on disk: taken by the thread before a tick that flushed without error, less those
   * it shed. Benchmarks count a sample as ingested when it is durable (bench/ingest.ts).
   */
  get durable(): number {
    return this.#durable;
  }
  /** Points appended here and not yet taken by the thread. */
  get pending(): number {
    return this.#batch.points + this.#inFlight;
  }
  /**
   * Buffer one point, a frame (Message.keys: every sample's `metrics` holds exactly `keys`, in
   * order) or a batch's columns (HistorySink); the thread has them by the next tick. At 4x the
   * bound they are lost (counted; a frame whole, so `pending` may pass the bound by one frame).
   */
  append(instance: string, metric: string, t: number, v: number): void {
    if (this.#refusing()) this.#lost++;
    else this.#batch.append(instance, metric, t, v);
  }
  appendFrame(instance: string, keys: readonly string[], samples: readonly PlacedSample[]): void {
    if (this.#refusing()) this.#lost += keys.length * samples.length;
    else this.#batch.appendFrame(instance, keys, samples);
  }
  appendColumns(...a: Parameters<HistorySink["appendColumns"]>): void {
    if (this.#refusing()) this.#lost += a[1].length * a[4];
    else this.#batch.appendColumns(...a);
  }

  /** Failed, closing, or 4x the bound pending (a caller ignoring backpressure): points are lost. */
  #refusing(): boolean {
    return this.#failed !== null || this.#closing !== null || this.pending >= 4 * this.#max;
  }

  /** Remember an instance's latest view; persisted with its points (see durable.ts). */
  touch(view: InstanceView, lastSeq: number | null = null, agentStart: number | null = null): void {
    // Once per message: the entry is written over in place (postMessage copied the last one's).
    const e = this.#touched.get(view.id);
    if (e === undefined) this.#touched.set(view.id, [view, lastSeq, agentStart]);
    else {
      e[0] = view;
      e[1] = lastSeq;
      e[2] = agentStart;
    }
  }

  /**
   * Null while the thread keeps up (an eighth of `maxPendingPoints` buffered is handed over
   * at once, without waiting for the tick); at `maxPendingPoints` not yet taken, hands the
   * buffer over and returns a promise that resolves once the thread has taken enough (or failed,
   * or is closing). The receive loop waits on it before reading the next frame.
   */
  backpressure(): Promise<void> | null {
    if (this.#failed || this.#closing) return null;
    // An eighth of the bound buffered: hand it over now, not at the tick. Under load a second's
    // points reached the bound before the tick took them, and the receive loop then waited for
    // the thread's whole tick (flush and a seal step): 60-130 ms of latency for every instance
    // (bench/honest.ts, latency while busy). The thread now takes points as they come.
    if (this.#batch.points >= this.#max / 8) this.#post(false);
    if (this.pending < this.#max) return null;
    if (this.#batch.points > 0) this.#post(false);
    return this.#held ??= new Promise<void>((r) => this.#release = r);
  }

  /**
   * Hand over what is buffered and run one step of the store's background work (flush,
   * seal, retention). Resolves when the thread has done it; rejects with the store's error
   * (a full disk, say), or one from a batch handed over since the last tick.
   */
  tick(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#closing) return Promise.resolve(); // close() flushes and seals everything
    return this.#post(true) as Promise<void>;
  }

  /** One series over [from, to) as at most `points` buckets, including every point appended. */
  query(
    instance: string,
    metric: string,
    from: number,
    to: number,
    points: number,
  ): Promise<SeriesAnswer> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#closing) return Promise.reject(new Error("history is closing"));
    if (this.#batch.points > 0 || this.#touched.size > 0) this.#post(false);
    const id = this.#nextId++;
    const q: HistoryRequest = {
      type: "query",
      now: this.#now(),
      id,
      instance,
      metric,
      from,
      to,
      points,
    };
    const answer = this.#wait(id) as Promise<SeriesAnswer>;
    this.#worker.postMessage(q);
    return answer;
  }

  /**
   * Hand over the rest, flush and seal everything, close the store and end the thread.
   * Rejects with the store's error (what was flushed before is safe). Safe to call twice.
   */
  close(): Promise<void> {
    return this.#closing ??= (async () => {
      this.#unhold();
      try {
        if (this.#failed) throw this.#failed;
        if (this.#batch.points > 0 || this.#touched.size > 0) this.#post(false);
        const closed = this.#wait(0) as Promise<string | undefined>;
        this.#worker.postMessage({ type: "close", now: this.#now() } satisfies HistoryRequest);
        const error = await closed;
        if (error) throw new Error(error);
      } finally {
        this.#worker.terminate();
      }
    })();
  }

  /** Tests: the thread stands still (as on a stalled disk) until the returned function runs. */
  hold(): () => void {
    const flag = new SharedArrayBuffer(4);
    this.#worker.postMessage({ type: "hold", now: this.#now(), flag } satisfies HistoryRequest);
    return () => {
      const cell = new Int32Array(flag);
      Atomics.store(cell, 0, 1);
      Atomics.notify(cell, 0);
    };
  }

  #post(tick: boolean): Promise<unknown> | null {
    // Copied by postMessage, here and now: the batch writes its next frames over them.
    const { blocks, points } = this.#batch.take();
    const id = this.#nextId++;
    const batch: HistoryRequest = {
      type: "batch",
      now: this.#now(),
      id,
      points,
      blocks,
      touched: [...this.#touched.values()],
      tick,
    };
    this.#inFlight += points;
    this.#touched = new Map();
    const done = tick ? this.#wait(id) : null;
    this.#worker.postMessage(batch);
    return done;
  }

  #wait(id: number): Promise<unknown> {
    return new Promise((resolve, reject) => this.#waiters.set(id, { resolve, reject }));
  }

  #receive(m: HistoryReply): void {
    switch (m.type) {
      case "log":
        this.#log(m.line);
        return;
      case "done": {
        if (m.remote) this.#remote = m.remote;
        this.#inFlight -= m.points;
        this.#taken += m.points;
        this.#threadDropped = m.dropped;
        this.#shed = m.shed;
        if (this.#held && this.pending < this.#max) this.#unhold();
        const w = this.#waiters.get(m.id);
        // Only a tick batch has a waiter: its flush wrote everything taken so far.
        if (w && !m.error) this.#durable = this.#taken - m.dropped;
        if (!w) {
          if (m.error) this.#laterError ??= m.error;
          return;
        }
        this.#waiters.delete(m.id);
        const error = m.error ?? this.#laterError;
        this.#laterError = null;
        if (error) w.reject(new Error(error));
        else w.resolve(undefined);
        return;
      }
      case "answer": {
        const w = this.#waiters.get(m.id);
        this.#waiters.delete(m.id);
        if (m.error !== undefined) w?.reject(new Error(m.error));
        else w?.resolve({ tier: m.tier, bucketMs: m.bucketMs, points: unflattenPoints(m.flat) });
        return;
      }
      case "closed": {
        const w = this.#waiters.get(0);
        this.#waiters.delete(0);
        w?.resolve(m.error);
        return;
      }
    }
  }

  #unhold(): void {
    this.#held = null;
    this.#release();
  }

  #fail(error: Error): void {
    this.#failed = error;
    this.#lost += this.pending;
    this.#batch.clear();
    this.#inFlight = 0;
    for (const w of this.#waiters.values()) w.reject(error);
    this.#waiters.clear();
    this.#unhold();
  }
}
