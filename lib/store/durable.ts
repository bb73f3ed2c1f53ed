/**
 * Durable history in SQLite. Points go to per-series open buffers; `flush()` (every
 * second) writes everything new as one WAL row, so a killed collector loses at most the
 * last second. Sealing runs in rounds of small steps: each step compresses a few series'
 * flushed points into a chunk plus rollup buckets, in one transaction that also records
 * the WAL row the series is sealed through, so replaying the WAL after a crash never
 * duplicates a point. When a round is done its WAL rows are deleted. Chunks are keyed by
 * round and series (rounds.ts), rollup rows by tier, row start and series, so both tables
 * grow at the end and need no index. Nothing here blocks ingest for long: every step is
 * bounded.
 *
 * @module
 */
import { OpenPoints } from "./open_points.ts";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { encodeChunk } from "./chunk.ts";
import { readChunk, SharedTimes } from "./shared_times.ts";
import { decodeBucketColumns, foldIntoRows, TIERS } from "./rollup.ts";
import {
  Bucketizer,
  chooseTier,
  DEFAULT_RETENTION,
  type Point,
  type Retention,
  retentionOf,
} from "./query.ts";
import { openDatabase } from "./sqlite.ts";
import { Retainer } from "./retention.ts";
import { type InstanceLoad, Shedder } from "./shed.ts";
import { CHUNK_KEY, MAX_SERIES, Rounds } from "./rounds.ts";
import { decodeWal, encodeWal, WalBuffer } from "./wal.ts";
import { type WalAccess, WalCursors } from "./wal_cursors.ts";
import type { InstanceView, PersistedView } from "../model/instance.ts";
type Points = ArrayLike<number>;

/** Options for {@link DurableStore.open}. */
export interface DurableOptions {
  dir: string;
  now: () => number;
  retention?: Retention;
  /** Cap on the database size in bytes; oldest data goes first (null: no cap). */
  maxDiskBytes?: number | null;
  /**
   * Start a seal round this often, ms. Default 15 minutes: ~900 points per chunk at 1 Hz,
   * which measured 1.90 bytes/sample on disk for 24 h of the demo's data against 1.94 for
   * 10, 20 or 30 minutes (bench/storage.ts; shorter chunks carry more headers, longer ones
   * leave more of each 16 KiB page unused); the cost is up to 15 minutes of points per series
   * in memory (16 bytes each) and in WAL rows.
   */
  sealEveryMs?: number;
  /**
   * Most points held in memory before they are sealed (default 4 M, ~64 MB). A seal round
   * starts early at a quarter of it; past half of it (while writes fall behind: a flood, a
   * full disk) the instances holding more than their share lose new points, counted, and
   * the live view keeps them (shed.ts).
   */
  maxOpenPoints?: number;
  /** Series sealed per step (default 200). */
  sealBatch?: number;
  /** Where damage found on open is said (default: stderr); see damage.ts. */
  report?: (line: string) => void;
  /**
   * Remote-write queues that read the WAL (lib/remote/wal_source.ts): a sealed WAL row is
   * kept while one of them has not shipped it, by name. Names not listed lose their cursor.
   */
  remotes?: string[];
}

interface Open {
  id: number;
  instance: string;
  metric: string;
  load: InstanceLoad;
  points: OpenPoints;
  /** Points [0, flushed) are in the WAL. */
  flushed: number;
  /** Points [0, sealing) belong to the current seal round. */
  sealing: number;
}

/** A seal round in progress: series still to seal, and the time columns it stores. */
interface Round {
  id: number;
  /** The last WAL row it covers. */
  cutoff: number;
  queue: Open[];
  shared: SharedTimes;
}

/** Answer to a history query. */
export interface SeriesAnswer {
  tier: number;
  bucketMs: number;
  points: Point[];
}

/** The durable store of one data directory. */
export class DurableStore {
  readonly retention: Retention;
  #db: DatabaseSync;
  #now: () => number;
  #open = new Map<string, Map<string, Open>>();
  #byId = new Map<number, Open>();
  #dirty = new Map<string, InstanceView>();
  /** Per dirty instance: last sequence number and agent start, persisted with the view. */
  #resume = new Map<string, { lastSeq: number | null; agentStart: number | null }>();
  /** The seal round in progress: its number, the WAL row it seals through, series to go. */
  #round: Round | null = null;
  #rounds: Rounds;
  #lastRound: number;
  #sealEveryMs: number;
  #maxOpenPoints: number;
  #shed: Shedder;
  #sealBatch: number;
  #retainer: Retainer;
  #stmt: Record<string, StatementSync>;
  /** Remote-write cursors over the WAL (wal.ts); rows they have not passed are kept. */
  #cursors: WalCursors;
  #walBuffer = new WalBuffer(); // where flushes encode their WAL row (SQLite copies it)

  private constructor(db: DatabaseSync, opts: DurableOptions) {
    this.#db = db;
    this.#now = opts.now;
    this.retention = opts.retention ?? DEFAULT_RETENTION;
    this.#sealEveryMs = opts.sealEveryMs ?? 15 * 60_000;
    this.#maxOpenPoints = opts.maxOpenPoints ?? 4_000_000;
    this.#shed = new Shedder(this.#maxOpenPoints);
    this.#sealBatch = opts.sealBatch ?? 200;
    this.#lastRound = opts.now();
    this.#rounds = new Rounds(db);
    this.#retainer = new Retainer(db, this.#rounds, this.retention, opts.maxDiskBytes ?? null);
    this.#cursors = new WalCursors(db, opts.remotes ?? []);
    const p = (sql: string) => db.prepare(sql);
    this.#stmt = {
      series: p("INSERT INTO series(instance, metric) VALUES (?, ?) RETURNING id"),
      wal: p("INSERT INTO wal(data) VALUES (?) RETURNING id"),
      chunk: p(`INSERT INTO chunks(id, data) VALUES (${CHUNK_KEY}, ?)`),
      chunkGet: p(`SELECT data FROM chunks WHERE id = ${CHUNK_KEY}`),
      sealed: p("UPDATE series SET sealed_wal = ? WHERE id = ?"),
      rollupGet: p("SELECT data FROM rollups WHERE tier = ? AND start = ? AND series = ?"),
      rollupPut: p("INSERT OR REPLACE INTO rollups(tier, start, series, data) VALUES (?, ?, ?, ?)"),
      // One seek each on the (tier, start, series) key: the rows a tier holds, oldest and newest.
      rollupFirst: p("SELECT min(start) AS s FROM rollups WHERE tier = ?"),
      rollupLast: p("SELECT max(start) AS s FROM rollups WHERE tier = ?"),
      // The newest row is kept: with the table empty SQLite would number rows from 1 again,
      // below series' sealed_wal and remote cursors, and replay would skip them.
      dropWal: p("DELETE FROM wal WHERE id <= ? AND id < (SELECT max(id) FROM wal)"),
      instance: p("INSERT OR REPLACE INTO instances(id, view) VALUES (?, ?)"),
    };
  }

  /** Open the store in `dir`, replaying samples that were flushed but not yet sealed. */
  static open(opts: DurableOptions): DurableStore {
    const db = openDatabase(opts.dir, opts.report);
    const store = new DurableStore(db, opts);
    store.#recover(opts.report ?? ((line) => console.error(line)));
    return store;
  }

  /** Record one point; it becomes durable at the next {@link flush}. */
  append(instance: string, metric: string, t: number, v: number): void {
    const open = this.#open.get(instance)?.get(metric);
    const load = open?.load ?? this.#shed.of(instance);
    if (!this.#shed.admitsAll(1) && !this.#shed.admit(load)) return;
    (open ?? this.#track(instance, metric)).points.push(t, v);
    this.#shed.add(load, 1);
  }

  /**
   * {@link append} for many points of one series (the history thread's hand-over): one lookup.
   * `id`, if given, names `times` (OpenPoints.append): a hand-over's block gives its series one.
   */
  appendMany(instance: string, metric: string, times: Points, values: Points, id?: number): void {
    let open = this.#open.get(instance)?.get(metric);
    const load = open?.load ?? this.#shed.of(instance);
    // Far under the shedding line (the usual case) every point is admitted: one copy.
    if (this.#shed.admitsAll(times.length)) {
      if (times.length === 0) return;
      open ??= this.#track(instance, metric);
      open.points.append(times, values, 0, times.length, id);
      this.#shed.add(load, times.length);
      return;
    }
    for (let i = 0; i < times.length; i++) {
      if (!this.#shed.admit(load)) continue;
      open ??= this.#track(instance, metric);
      open.points.push(times[i], values[i]);
      this.#shed.add(load, 1);
    }
  }

  /**
   * Remember an instance's latest view, with its last sequence number and agent start time;
   * written at the next flush, in the same transaction as the points, so after a crash the
   * persisted `lastSeq` matches the persisted points and the gap is counted as loss.
   */
  touch(view: InstanceView, lastSeq: number | null = null, agentStart: number | null = null): void {
    this.#dirty.set(view.id, view);
    const r = this.#resume.get(view.id);
    if (r) {
      r.lastSeq = lastSeq;
      r.agentStart = agentStart;
    } else this.#resume.set(view.id, { lastSeq, agentStart });
  }

  /**
   * Write every point not yet durable as one WAL row, and changed instances. WAL rows live
   * only until the next seal, so they are plain (see encodeWal), not compressed: a flush
   * costs a copy per point, not a chunk encoding per series.
   */
  flush(): void {
    const pending: Open[] = [];
    let points = 0;
    // By instance: its series share one time column in the row (encodeWal).
    for (const byMetric of this.#open.values()) {
      for (const open of byMetric.values()) {
        if (open.flushed === open.points.length) continue;
        pending.push(open);
        points += open.points.length - open.flushed;
      }
    }
    if (pending.length === 0 && this.#dirty.size === 0) return;
    this.#tx(() => {
      if (pending.length > 0) this.#stmt.wal.get(encodeWal(pending, points, this.#walBuffer));
      for (const view of this.#dirty.values()) {
        const r = this.#resume.get(view.id);
        this.#stmt.instance.run(view.id, JSON.stringify(r ? { ...view, ...r } : view));
      }
    });
    for (const open of pending) open.flushed = open.points.markFlushed();
    this.#dirty.clear();
    this.#resume.clear();
  }

  /** One bounded step of background work: flush, a seal step, a retention step. */
  tick(): void {
    this.flush();
    const due = this.#now() - this.#lastRound >= this.#sealEveryMs ||
      this.#shed.total >= this.#maxOpenPoints / 4;
    if (!this.#round && due) this.#startRound();
    if (this.#round) this.#sealStep();
    this.#retainer.step(this.#now());
  }

  /** Flush and seal everything (a clean stop), then close the database. */
  close(): void {
    try {
      this.flush();
      this.#startRound();
      while (this.#round) this.#sealStep();
      // Give back the pages the deleted WAL rows held (auto_vacuum=INCREMENTAL). While running,
      // new WAL rows reuse them, so only a stopped store has them to spare.
      // (Each step of this pragma frees one page: exec() would run one step, all() runs them all.)
      this.#db.prepare("PRAGMA incremental_vacuum").all();
    } finally {
      this.#db.close(); // even when the disk is full: release the directory's lock
    }
  }

  /** Points of one series over [from, to) as at most `points` buckets. */
  query(instance: string, metric: string, from: number, to: number, points: number): SeriesAnswer {
    const tier = chooseTier(from, to, points, this.#now(), this.retention);
    const b = new Bucketizer(from, to, points);
    const open = this.#open.get(instance)?.get(metric);
    if (!open) return { tier, bucketMs: b.width, points: [] };
    if (tier === 0) {
      for (const round of this.#rounds.overlapping(from, to)) {
        const get = (series: number) =>
          (this.#stmt.chunkGet.get(round.id, series) as { data: Uint8Array } | undefined)?.data;
        const chunk = readChunk(get, open.id, from, to);
        if (chunk) b.addPoints(chunk.times, chunk.values);
      }
    } else {
      // Rows start at multiples of rowMs; none older than the tier's retention is kept. The
      // walk covers only the rows the tier holds, whatever range was asked for: a walk to `to`
      // took 20 s for to = 8.64e15 and held every write and query behind it (issue 16.1).
      const t = TIERS[tier - 1];
      const oldest = this.#now() - retentionOf(tier, this.retention) - t.rowMs;
      const first = (this.#stmt.rollupFirst.get(tier) as { s: number | null }).s;
      const last = (this.#stmt.rollupLast.get(tier) as { s: number | null }).s;
      const lo = Math.max(from, oldest, first ?? Infinity);
      const hi = Math.min(to, (last ?? -Infinity) + 1);
      for (let s = Math.floor(lo / t.rowMs) * t.rowMs; s < hi; s += t.rowMs) {
        const row = this.#stmt.rollupGet.get(tier, s, open.id) as { data: Uint8Array } | undefined;
        if (row) b.addBuckets(decodeBucketColumns(row.data));
      }
    }
    b.addPoints(open.points.times, open.points.values);
    return { tier, bucketMs: b.width, points: b.result() };
  }

  /** Instances as last persisted (for listing after a restart), with `lastSeq`/`agentStart`. */
  instances(): PersistedView[] {
    return this.#db.prepare("SELECT view FROM instances").all()
      .map((r) => JSON.parse((r as { view: string }).view) as PersistedView);
  }

  /** Points not kept in history because too many were waiting to be written (see shed.ts). */
  get dropped(): number {
    return this.#shed.dropped;
  }

  /** The `k` instances that lost the most points to shedding, most first. */
  shedFrom(k = 5): Array<[instance: string, dropped: number]> {
    return this.#shed.top(k);
  }

  /** Size and backlog figures for `/api/stats`. */
  stats(): { openPoints: number; series: number; bytes: number; dropped: number } {
    return {
      openPoints: this.#shed.total,
      series: this.#byId.size,
      bytes: this.#retainer.bytes(),
      dropped: this.dropped,
    };
  }

  /**
   * The WAL as remote write's durable queue reads it: rows after a cursor, series names,
   * and the cursors themselves. Rows a queue has not shipped outlive their seal round.
   */
  wal(): WalAccess {
    return this.#cursors.access((id) => {
      const open = this.#byId.get(id);
      return open ? { instance: open.instance, metric: open.metric } : null;
    });
  }

  /** Track a series; a new one (no `id`) gets its id from the database. */
  #track(
    instance: string,
    metric: string,
    id = (this.#stmt.series.get(instance, metric) as { id: number }).id,
  ): Open {
    if (id > MAX_SERIES) throw new Error(`series id ${id} is beyond the chunk key space`);
    let byMetric = this.#open.get(instance);
    if (!byMetric) this.#open.set(instance, byMetric = new Map());
    const load = this.#shed.of(instance);
    const open: Open = {
      id,
      instance,
      metric,
      load,
      points: new OpenPoints(),
      flushed: 0,
      sealing: 0,
    };
    byMetric.set(metric, open);
    this.#byId.set(id, open);
    return open;
  }

  #recover(report: (line: string) => void): void {
    const sealed = new Map<number, number>();
    for (const r of this.#db.prepare("SELECT id, instance, metric, sealed_wal FROM series").all()) {
      const s = r as { id: number; instance: string; metric: string; sealed_wal: number };
      this.#track(s.instance, s.metric, s.id);
      sealed.set(s.id, s.sealed_wal);
    }
    for (const r of this.#db.prepare("SELECT id, data FROM wal ORDER BY id").iterate()) {
      const { id: walId, data } = r as { id: number; data: Uint8Array };
      try {
        decodeWal(data, (sid, t, v) => {
          const open = this.#byId.get(sid);
          if (!open || walId <= (sealed.get(sid) ?? 0)) return; // already in a sealed chunk
          open.points.push(t, v);
          open.flushed = open.points.length;
          this.#shed.add(open.load, 1);
        });
      } catch (e) {
        report(`history: WAL row ${walId} (a second of points) unreadable, skipped: ${e}`);
      }
    }
  }

  #startRound(): void {
    this.flush();
    const row = this.#db.prepare("SELECT max(id) AS id FROM wal").get() as { id: number | null };
    const queue: Open[] = [];
    for (const open of this.#byId.values()) {
      if (open.flushed === 0) continue;
      open.sealing = open.flushed;
      queue.push(open);
    }
    queue.sort((a, b) => a.id - b.id); // chunks go in key order: appended, pages filled
    this.#lastRound = this.#now();
    this.#round = {
      id: this.#rounds.next(),
      cutoff: row.id ?? 0,
      queue,
      shared: new SharedTimes(),
    };
  }

  #sealStep(): void {
    const round = this.#round!;
    const batch = round.queue.splice(0, this.#sealBatch);
    const span = this.#tx(() => {
      let first = Infinity;
      let last = -Infinity;
      for (const open of batch) {
        const [lo, hi] = this.#sealSeries(open, round);
        first = Math.min(first, lo);
        last = Math.max(last, hi);
      }
      if (round.queue.length === 0) this.#stmt.dropWal.run(this.#cursors.keepAfter(round.cutoff));
      return batch.length > 0 ? this.#rounds.widen(round.id, first, last) : null;
    });
    if (span) this.#rounds.commit(span);
    for (const open of batch) {
      open.points.dropFirst(open.sealing);
      open.flushed -= open.sealing;
      this.#shed.add(open.load, -open.sealing);
      open.sealing = 0;
    }
    if (round.queue.length === 0) this.#round = null;
  }

  /** Seal `open`'s points of this round into `round`; returns their first and last time. */
  #sealSeries(open: Open, round: Round): [number, number] {
    const [times, values] = open.points.inTimeOrder(open.sealing);
    const timesFrom = round.shared.owner(open.instance, open.id, times);
    this.#stmt.chunk.run(round.id, open.id, encodeChunk(times, values, timesFrom));
    foldIntoRows(
      times,
      values,
      (tier, row) =>
        (this.#stmt.rollupGet.get(tier, row, open.id) as { data: Uint8Array } | undefined)?.data,
      (tier, row, data) => this.#stmt.rollupPut.run(tier, row, open.id, data),
    );
    this.#stmt.sealed.run(round.cutoff, open.id);
    return [times[0], times[times.length - 1]];
  }

  #tx<T>(fn: () => T): T {
    this.#db.exec("BEGIN");
    try {
      const out = fn();
      this.#db.exec("COMMIT");
      return out;
    } catch (e) {
      // SQLite may have rolled back already (SQLITE_FULL does): a second ROLLBACK would throw
      // "no transaction is active" and hide the real error.
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw e;
    }
  }
}
