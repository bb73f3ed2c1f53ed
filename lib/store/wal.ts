/**
 * WAL rows: the plain encoding of every point flushed in one second (durable.ts writes one
 * row per flush), and what remote write's durable queue needs to read them
 * (lib/remote/wal_source.ts): rows after a cursor, and the cursors themselves.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";

/** Points of one series to write: those from `flushed` on. */
export interface WalSeries {
  id: number;
  /** Points [0, length) of the columns are held (lib/store/open_points.ts). */
  points: { length: number; timeColumn: ArrayLike<number>; valueColumn: ArrayLike<number> };
  flushed: number;
}

/** The WAL as remote write reads it (see DurableStore.wal). */
export interface WalAccess {
  /** Up to `limit` WAL rows with ids above `id`, in order. */
  rowsAfter(id: number, limit: number): Array<{ id: number; data: Uint8Array }>;
  /** Rows and bytes after `id` (about 10 bytes a point, see encodeWal). */
  backlog(id: number): { rows: number; bytes: number };
  /** The instance id and metric key of a series id. */
  seriesOf(id: number): { instance: string; metric: string } | null;
  /** A queue's persisted cursor: rows through `wal` shipped, and `skip` points of the next. */
  cursor(name: string): { wal: number; skip: number };
  /** Persist a queue's cursor; rows through `wal` may go once sealed. */
  setCursor(name: string, wal: number, skip: number): void;
}

/**
 * Remote-write cursors, one row each in `remote_cursors` (created only when a remote is
 * configured: it is not part of the versioned schema). A cursor of a remote not configured
 * now is kept but holds no WAL row.
 */
export class WalCursors {
  /** Per configured remote: WAL rows through this id are shipped. */
  #shipped = new Map<string, number>();
  #rows: Record<string, StatementSync>;
  /** Cursor statements: only with a remote configured (the table exists only then). */
  #cursors: Record<string, StatementSync> | null = null;

  constructor(db: DatabaseSync, remotes: string[]) {
    const p = (sql: string) => db.prepare(sql);
    this.#rows = {
      after: p("SELECT id, data FROM wal WHERE id > ? ORDER BY id LIMIT ?"),
      backlog: p("SELECT count(*) AS rows, sum(length(data)) AS bytes FROM wal WHERE id > ?"),
    };
    if (remotes.length === 0) return;
    db.exec(`CREATE TABLE IF NOT EXISTS remote_cursors(
      name TEXT PRIMARY KEY, wal INTEGER NOT NULL, skip INTEGER NOT NULL) WITHOUT ROWID`);
    this.#cursors = {
      get: p("SELECT wal, skip FROM remote_cursors WHERE name = ?"),
      put: p("INSERT OR REPLACE INTO remote_cursors(name, wal, skip) VALUES (?, ?, ?)"),
    };
    for (const name of remotes) this.#shipped.set(name, this.#get(name).wal);
  }

  /** The WAL row through which rows may be deleted: sealed, and shipped by every remote. */
  keepAfter(cutoff: number): number {
    let keep = cutoff;
    for (const wal of this.#shipped.values()) keep = Math.min(keep, wal);
    return keep;
  }

  /** The WAL as a remote's queue reads it; `seriesOf` names a series id. */
  access(seriesOf: WalAccess["seriesOf"]): WalAccess {
    const rows = this.#rows;
    return {
      rowsAfter: (id, limit) =>
        rows.after.all(id, limit) as Array<{ id: number; data: Uint8Array }>,
      backlog: (id) => {
        const r = rows.backlog.get(id) as { rows: number; bytes: number | null };
        return { rows: r.rows, bytes: r.bytes ?? 0 };
      },
      seriesOf,
      cursor: (name) => this.#get(name),
      setCursor: (name, wal, skip) => {
        this.#need().put.run(name, wal, skip);
        this.#shipped.set(name, wal);
      },
    };
  }

  #need(): Record<string, StatementSync> {
    if (!this.#cursors) throw new Error("no remote is configured: the store keeps no cursors");
    return this.#cursors;
  }

  /** A cursor; a new remote starts at the rows still in the WAL, not at the start of history. */
  #get(name: string): { wal: number; skip: number } {
    const r = this.#need().get.get(name) as { wal: number; skip: number } | undefined;
    return r ? { wal: r.wal, skip: r.skip } : { wal: 0, skip: 0 };
  }
}

/** Rows of version 1 (written before 2026-12): still read, for data directories left then. */
const WAL_V1 = 1;
const WAL_VERSION = 2;
/** In a version 2 entry's count word: the times are those of the last entry that has its own. */
const SAME_TIMES = 0x80000000;
/** Float64Array copies write the platform's byte order; rows are little-endian. */
const LITTLE_ENDIAN = new Uint8Array(Float64Array.of(1).buffer)[7] === 0x3f;

/**
 * Where {@link encodeWal} may write a row, kept from one flush to the next: under a flood a
 * row is megabytes, and a fresh zero-filled buffer each second cost the history thread a
 * page fault per 4 KiB. SQLite copies the row when it is bound, so one buffer serves every
 * flush. Rows over {@link WAL_BUFFER_MAX} bytes get a buffer of their own.
 */
export class WalBuffer {
  bytes = new Uint8Array(0);
}
const WAL_BUFFER_MAX = 16 << 20;

/**
 * A WAL row, version 2: 8 header bytes (the version, then 0s), then per series `u32 id,
 * u32 count` (little-endian; the top bit of count set when its times are those of the last
 * entry that stores its own) and `count` float64 times (unless shared), then `count` float64
 * values, little-endian. Every float is 8-aligned, so each column is one copy. An agent frame
 * carries all of an instance's metrics at one time, so `pending` grouped by instance stores
 * one time column per instance: 10 bytes a point for 4 metrics where version 1 took 16.
 * With `into`, the row is a view of its buffer, valid until the next call with it.
 */
export function encodeWal(pending: WalSeries[], points: number, into?: WalBuffer): Uint8Array {
  // First pass: which entries share the times of the last one that stores its own.
  const shares = new Uint8Array(pending.length);
  let owner = -1;
  let size = 8 + pending.length * 8 + points * 8;
  for (let k = 0; k < pending.length; k++) {
    if (owner >= 0 && sameTimes(pending[owner], pending[k])) shares[k] = 1;
    else {
      owner = k;
      size += (pending[k].points.length - pending[k].flushed) * 8;
    }
  }
  let out: Uint8Array;
  if (into && size <= WAL_BUFFER_MAX) {
    if (into.bytes.length < size) {
      into.bytes = new Uint8Array(Math.min(WAL_BUFFER_MAX, Math.ceil(size * 1.25)));
    }
    out = into.bytes.subarray(0, size);
    out.fill(0, 0, 8); // the header's zeros: the rest is written in full below
  } else out = new Uint8Array(size);
  const view = new DataView(out.buffer, out.byteOffset, size);
  out[0] = WAL_VERSION;
  let at = 8;
  const column = (xs: ArrayLike<number>, from: number, to: number) => {
    // Two views cost more than a few points' stores (a 1 Hz series' second is one point).
    if (LITTLE_ENDIAN && to - from > 16 && xs instanceof Float64Array) {
      new Float64Array(out.buffer, out.byteOffset + at, to - from).set(xs.subarray(from, to));
      at += (to - from) * 8;
    } else for (let i = from; i < to; i++, at += 8) view.setFloat64(at, xs[i], true);
  };
  for (let k = 0; k < pending.length; k++) {
    const { id, flushed, points: p } = pending[k];
    view.setUint32(at, id, true);
    view.setUint32(at + 4, (p.length - flushed) | (shares[k] ? SAME_TIMES : 0), true);
    at += 8;
    if (!shares[k]) column(p.timeColumn, flushed, p.length);
    column(p.valueColumn, flushed, p.length);
  }
  return out;
}

/** Whether two series' points to write have the very same times. */
function sameTimes(a: WalSeries, b: WalSeries): boolean {
  const n = a.points.length - a.flushed;
  if (n !== b.points.length - b.flushed) return false;
  const ta = a.points.timeColumn;
  const tb = b.points.timeColumn;
  for (let i = 0; i < n; i++) if (ta[a.flushed + i] !== tb[b.flushed + i]) return false;
  return true;
}

/** Read a WAL row, calling `point(seriesId, t, v)` in order; throws on a corrupt row. */
export function decodeWal(
  data: Uint8Array,
  point: (sid: number, t: number, v: number) => void,
): void {
  if (data[0] === WAL_V1) return decodeWalV1(data, point);
  if (data[0] !== WAL_VERSION) throw new Error(`WAL row of unknown version ${data[0]}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 8;
  let times = -1; // where the last own times column starts
  let owned = -1; // and its length
  while (at < data.byteLength) {
    if (at + 8 > data.byteLength) throw new Error("corrupt WAL row: truncated header");
    const sid = view.getUint32(at, true);
    const word = view.getUint32(at + 4, true);
    const n = word & ~SAME_TIMES & 0x7fffffff;
    at += 8;
    if ((word & SAME_TIMES) === 0) {
      times = at;
      owned = n;
      at += n * 8;
    } else if (owned !== n) throw new Error("corrupt WAL row: shared times do not match");
    if (at + n * 8 > data.byteLength) throw new Error("corrupt WAL row: truncated points");
    for (let i = 0; i < n; i++) {
      point(sid, view.getFloat64(times + i * 8, true), view.getFloat64(at + i * 8, true));
    }
    at += n * 8;
  }
}

/** Version 1: a version byte, then per series `u32 id, u32 count` and `count` (time, value) pairs, big-endian. */
function decodeWalV1(
  data: Uint8Array,
  point: (sid: number, t: number, v: number) => void,
): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 1;
  while (at < data.byteLength) {
    if (at + 8 > data.byteLength) throw new Error("corrupt WAL row: truncated header");
    const sid = view.getUint32(at);
    const n = view.getUint32(at + 4);
    at += 8;
    if (at + n * 16 > data.byteLength) throw new Error("corrupt WAL row: truncated points");
    for (let i = 0; i < n; i++, at += 16) point(sid, view.getFloat64(at), view.getFloat64(at + 8));
  }
}
