/**
 * Opening the data directory: the SQLite file (`node:sqlite`, built into Deno), its
 * pragmas and schema, and the one-collector-per-directory rule. The database is held in
 * exclusive locking mode, so a second collector on the same directory fails at once; it
 * is told which process holds it.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { migrate } from "./migrate.ts";
import {
  checkWal,
  isCorruption,
  moveAside,
  quickCheck,
  type Report,
  salvage,
  scanWal,
  type WalScan,
} from "./damage.ts";
import { errorMessage } from "../errors.ts";

/** The data directory cannot be used; the message says why and what to do. */
export class DataDirError extends Error {}

/** The schema version this code writes (`PRAGMA user_version`); see migrate.ts for older ones. */
export const SCHEMA_VERSION = 5;
/**
 * The oldest schema version with this version's tables (3 adds a kind of chunk, 4 and 5 kinds
 * of WAL row).
 */
export const SAME_TABLES_SINCE = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS series(
  id INTEGER PRIMARY KEY, instance TEXT NOT NULL, metric TEXT NOT NULL,
  sealed_wal INTEGER NOT NULL DEFAULT 0);
-- Raw samples: one compressed chunk per series per seal round, keyed round * 2^32 + series.
CREATE TABLE IF NOT EXISTS chunks(id INTEGER PRIMARY KEY, data BLOB NOT NULL);
-- Seal rounds: the earliest and latest point in any of the round's chunks.
CREATE TABLE IF NOT EXISTS rounds(id INTEGER PRIMARY KEY, first INTEGER NOT NULL, last INTEGER NOT NULL);
-- Rollup tiers: min/max/sum/count buckets, one row per tier, row span and series; keyed time
-- first, so retention deletes from the front and new rows go at the end.
CREATE TABLE IF NOT EXISTS rollups(
  tier INTEGER NOT NULL, start INTEGER NOT NULL, series INTEGER NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY(tier, start, series)) WITHOUT ROWID;
-- Samples not yet sealed into chunks, one row per flush (at least every second).
CREATE TABLE IF NOT EXISTS wal(id INTEGER PRIMARY KEY, data BLOB NOT NULL);
-- Instances as last seen, so a restart still lists them.
CREATE TABLE IF NOT EXISTS instances(id TEXT PRIMARY KEY, view TEXT NOT NULL) WITHOUT ROWID;
PRAGMA user_version = ${SCHEMA_VERSION};
`;

/** The database file is damaged (SQLITE_CORRUPT, SQLITE_NOTADB, or `quick_check` found it). */
class Damaged extends Error {}

/** The history database's file in data directory `dir`. */
export function databasePath(dir: string): string {
  return `${dir}/zeroapm.db`;
}

/**
 * Open (creating if needed) the store in `dir` and take the directory for this process.
 * Damage is checked on open and reported through `report` (see damage.ts): a damaged `-wal`
 * is replayed as far as it reads and kept aside; a damaged main file is moved aside, its
 * readable rows copied into a new one, and history goes on.
 */
export function openDatabase(
  dir: string,
  report: Report = (line) => console.error(line),
): DatabaseSync {
  try {
    Deno.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new DataDirError(`cannot create data directory ${dir}: ${errorMessage(e)}`);
  }
  const path = databasePath(dir);
  try {
    if (Deno.statSync(path).size === 0) {
      report(`history: ${path} is empty (0 bytes; truncated?): history starts empty`);
    }
  } catch { /* a new directory */ }
  try {
    return openChecked(dir, path, scanWal(`${path}-wal`), report);
  } catch (e) {
    if (!(e instanceof Damaged)) throw e;
    const aside = moveAside(path);
    const db = openChecked(dir, path, null, report);
    const kept = salvage(aside, db, SAME_TABLES_SINCE, SCHEMA_VERSION);
    report(
      `history: ${path} is damaged (${e.message}); moved to ${aside}. Copied from it: ` +
        `${kept.join("; ")}. History goes on in a new ${path}.`,
    );
    return db;
  }
}

function openChecked(
  dir: string,
  path: string,
  wal: WalScan | null,
  report: Report,
): DatabaseSync {
  const pidFile = `${dir}/collector.pid`;
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path);
    db.exec("PRAGMA page_size=16384"); // like auto_vacuum, only takes effect on a new file
    db.exec("PRAGMA auto_vacuum=INCREMENTAL");
    db.exec("PRAGMA locking_mode=EXCLUSIVE");
    db.exec("PRAGMA journal_mode=WAL");
    db.exec("PRAGMA synchronous=NORMAL"); // WAL + NORMAL: a killed process loses nothing committed
    db.exec("BEGIN IMMEDIATE; COMMIT"); // take the exclusive lock now, not at the first write
    // Before anything is written: how much of the -wal file SQLite replayed.
    if (wal) {
      const { log } = db.prepare("PRAGMA wal_checkpoint(PASSIVE)").get() as { log: number };
      checkWal(`${path}-wal`, wal, log, report);
    }
  } catch (e) {
    const msg = errorMessage(e);
    if (isCorruption(e)) {
      db?.close();
      throw new Damaged(msg);
    }
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
    if (diskFull(dir)) {
      throw new DataDirError(
        `cannot open ${path}: the disk holding ${dir} is full (SQLite said "${msg}"); ` +
          "free some space and start again, or pass another --data DIR",
      );
    }
    throw new DataDirError(`cannot open ${path}: ${msg}`);
  }
  try {
    const version = (db.prepare("PRAGMA user_version").get() as { user_version: number })
      .user_version;
    if (version > SCHEMA_VERSION) {
      throw new DataDirError(
        `${path} has schema version ${version}, newer than this zeroapm's ${SCHEMA_VERSION}: ` +
          "run the newer zeroapm, or pass another --data DIR",
      );
    }
    if (version < SCHEMA_VERSION && hasTable(db, "chunks")) {
      try {
        migrate(db, version, SCHEMA);
      } catch (e) {
        throw new DataDirError(
          `cannot upgrade ${path} from schema version ${version}: ${errorMessage(e)}; ` +
            "free some disk space and start again, or pass another --data DIR",
        );
      }
    } else db.exec(SCHEMA);
    const problems = quickCheck(db);
    if (problems.length > 0) throw new Damaged(`quick_check: ${problems.join("; ")}`);
    Deno.writeTextFileSync(pidFile, `${Deno.pid}\n`);
  } catch (e) {
    db.close();
    if (e instanceof DataDirError || e instanceof Damaged) throw e;
    if (isCorruption(e)) throw new Damaged(errorMessage(e));
    throw new DataDirError(`cannot initialise ${path}: ${errorMessage(e)}`);
  }
  return db;
}

/** True when the database has a table called `name`. */
function hasTable(db: DatabaseSync, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").get(name) !==
    undefined;
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

/**
 * Whether the disk under `dir` has no room for what opening the database writes (its -wal
 * and -shm, 32 KiB and more): SQLite says only "disk I/O error" then.
 */
function diskFull(dir: string): boolean {
  const probe = `${dir}/.zeroapm-space-test-${Deno.pid}`;
  try {
    Deno.writeFileSync(probe, new Uint8Array(64 * 1024));
    return false;
  } catch (e) {
    return /no space|os error 28|ENOSPC|quota/i.test(errorMessage(e));
  } finally {
    try {
      Deno.removeSync(probe);
    } catch { /* not created */ }
  }
}

/** Bytes the database occupies (pages in use, excluding free pages). */
export function usedBytes(db: DatabaseSync): number {
  const pages = db.prepare("PRAGMA page_count").get() as { page_count: number };
  const free = db.prepare("PRAGMA freelist_count").get() as { freelist_count: number };
  const size = db.prepare("PRAGMA page_size").get() as { page_size: number };
  return (pages.page_count - free.freelist_count) * size.page_size;
}
