/**
 * Opening the data directory: the SQLite file (`node:sqlite`, built into Deno), its
 * pragmas and schema, and the one-collector-per-directory rule. The database is held in
 * exclusive locking mode, so a second collector on the same directory fails at once; it
 * is told which process holds it.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";

/** The data directory cannot be used; the message says why and what to do. */
export class DataDirError extends Error {}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS series(
  id INTEGER PRIMARY KEY, instance TEXT NOT NULL, metric TEXT NOT NULL,
  sealed_wal INTEGER NOT NULL DEFAULT 0, UNIQUE(instance, metric));
-- Raw samples: one compressed chunk per series per seal.
CREATE TABLE IF NOT EXISTS chunks(
  id INTEGER PRIMARY KEY, series INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
  data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_by_series ON chunks(series, end);
CREATE INDEX IF NOT EXISTS chunks_by_end ON chunks(end);
-- Rollup tiers: min/max/sum/count buckets, one row per series, tier and row span.
CREATE TABLE IF NOT EXISTS rollups(
  series INTEGER NOT NULL, tier INTEGER NOT NULL, start INTEGER NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY(series, tier, start)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rollups_by_age ON rollups(tier, start);
-- Samples not yet sealed into chunks, one row per flush (at least every second).
CREATE TABLE IF NOT EXISTS wal(id INTEGER PRIMARY KEY, data BLOB NOT NULL);
-- Instances as last seen, so a restart still lists them.
CREATE TABLE IF NOT EXISTS instances(id TEXT PRIMARY KEY, view TEXT NOT NULL) WITHOUT ROWID;
`;

/** Open (creating if needed) the store in `dir` and take the directory for this process. */
export function openDatabase(dir: string): DatabaseSync {
  try {
    Deno.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new DataDirError(`cannot create data directory ${dir}: ${(e as Error).message}`);
  }
  const path = `${dir}/zeroapm.db`;
  const pidFile = `${dir}/collector.pid`;
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
    db.exec("PRAGMA page_size=16384"); // like auto_vacuum, only takes effect on a new file
    db.exec("PRAGMA auto_vacuum=INCREMENTAL");
    db.exec("PRAGMA locking_mode=EXCLUSIVE");
    db.exec("PRAGMA journal_mode=WAL");
    db.exec("PRAGMA synchronous=NORMAL"); // WAL + NORMAL: a killed process loses nothing committed
    db.exec("BEGIN IMMEDIATE; COMMIT"); // take the exclusive lock now, not at the first write
  } catch (e) {
    const msg = (e as Error).message;
    if (/locked|busy/i.test(msg)) {
      let holder = "another process";
      try {
        holder = `collector pid ${Deno.readTextFileSync(pidFile).trim()}`;
      } catch { /* no pid file */ }
      throw new DataDirError(
        `data directory ${dir} is in use by ${holder}; stop it or pass another --data DIR`,
      );
    }
    if (/readonly|read-only|permission|access/i.test(msg) || !writable(dir)) {
      throw new DataDirError(`data directory ${dir} is not writable: ${msg}`);
    }
    throw new DataDirError(`cannot open ${path}: ${msg}`);
  }
  try {
    db.exec(SCHEMA);
    Deno.writeTextFileSync(pidFile, `${Deno.pid}\n`);
  } catch (e) {
    db.close();
    throw new DataDirError(`cannot initialise ${path}: ${(e as Error).message}`);
  }
  return db;
}

/** True when a file can be created in `dir` (SQLite says only "unable to open" when not). */
function writable(dir: string): boolean {
  const probe = `${dir}/.zeroapm-write-test-${Deno.pid}`;
  try {
    Deno.writeTextFileSync(probe, "");
    Deno.removeSync(probe);
    return true;
  } catch {
    return false;
  }
}

/** Bytes the database occupies (pages in use, excluding free pages). */
export function usedBytes(db: DatabaseSync): number {
  const pages = db.prepare("PRAGMA page_count").get() as { page_count: number };
  const free = db.prepare("PRAGMA freelist_count").get() as { freelist_count: number };
  const size = db.prepare("PRAGMA page_size").get() as { page_size: number };
  return (pages.page_count - free.freelist_count) * size.page_size;
}
