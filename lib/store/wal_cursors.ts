/**
 * What remote write's durable queue needs of the WAL (lib/remote/wal_source.ts): rows after a
 * cursor, and the cursors themselves. The rows' encoding is wal.ts.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";

/** The WAL as remote write reads it (see DurableStore.wal). */
export interface WalAccess {
  /** Up to `limit` WAL rows with ids above `id`, in order. */
  rowsAfter(id: number, limit: number): Array<{ id: number; data: Uint8Array }>;
  /** Rows and bytes after `id` (about 5 to 18 bytes a point, see encodeWal). */
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
