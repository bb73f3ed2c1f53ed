/**
 * Alert state and history in SQLite (`node:sqlite`): a small `alerts` table in its own file,
 * `alerts.db` in the collector's data directory, or in memory when there is none. Written
 * only when an alert changes state, so a collector restart keeps pending and firing alerts
 * and the recent history.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import type { Alert } from "./types.ts";
import { errorMessage } from "../errors.ts";

/** Where the engine keeps alerts. */
export interface AlertStore {
  /** Insert or replace one alert (by id). */
  save(alert: Alert): void;
  /** Forget one alert (a pending alert whose condition cleared before it fired). */
  remove(id: string): void;
  /** Alerts not resolved, and the `recent` last resolved ones (newest first). */
  load(recent: number): { active: Alert[]; resolved: Alert[] };
  /** Delete resolved alerts older than `before` (ms), keeping at most `keep` of them. */
  prune(before: number, keep: number): void;
  close(): void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS alerts(
  id TEXT PRIMARY KEY, state TEXT NOT NULL, updated INTEGER NOT NULL, data TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alerts_by_state ON alerts(state, updated);
`;

/**
 * Open the alert store: `dir/alerts.db` (created if needed), or an in-memory database when
 * `dir` is null.
 */
export function openAlertStore(dir: string | null): AlertStore {
  let db: DatabaseSync;
  const path = dir === null ? ":memory:" : `${dir}/alerts.db`;
  try {
    if (dir !== null) Deno.mkdirSync(dir, { recursive: true });
    db = new DatabaseSync(path);
    if (dir !== null) {
      db.exec("PRAGMA journal_mode=WAL");
      db.exec("PRAGMA synchronous=NORMAL");
    }
    db.exec(SCHEMA);
  } catch (e) {
    throw new Error(`cannot open alert store ${path}: ${errorMessage(e)}`);
  }
  const upsert = db.prepare(
    "INSERT OR REPLACE INTO alerts(id, state, updated, data) VALUES (?, ?, ?, ?)",
  );
  const active = db.prepare("SELECT data FROM alerts WHERE state != 'resolved' ORDER BY updated");
  const resolved = db.prepare(
    "SELECT data FROM alerts WHERE state = 'resolved' ORDER BY updated DESC LIMIT ?",
  );
  const del = db.prepare("DELETE FROM alerts WHERE id = ?");
  const pruneOld = db.prepare("DELETE FROM alerts WHERE state = 'resolved' AND updated < ?");
  const pruneMany = db.prepare(
    `DELETE FROM alerts WHERE state = 'resolved' AND id NOT IN
       (SELECT id FROM alerts WHERE state = 'resolved' ORDER BY updated DESC LIMIT ?)`,
  );
  const rows = (stmt: typeof active, ...args: number[]) =>
    (stmt.all(...args) as Array<{ data: string }>).flatMap((r) => {
      try {
        return [JSON.parse(r.data) as Alert];
      } catch {
        return [];
      }
    });
  let closed = false;
  return {
    save(alert) {
      const updated = alert.resolvedAt ?? alert.firedAt ?? alert.since;
      upsert.run(alert.id, alert.state, updated, JSON.stringify(alert));
    },
    remove(id) {
      del.run(id);
    },
    load(recent) {
      return { active: rows(active), resolved: rows(resolved, recent) };
    },
    prune(before, keep) {
      pruneOld.run(before);
      pruneMany.run(keep);
    },
    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
