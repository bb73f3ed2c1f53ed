/**
 * Damage to the history database, found on open and said out loud (issue 16.7). SQLite
 * itself is quiet about two kinds: a damaged `-wal` file is replayed only up to the first
 * bad frame (or not at all when its header is bad), so committed history after it is gone
 * without a word; and a 0-byte main file is a new, empty database. A damaged main file
 * makes every open fail, so the collector could never start again. Like Prometheus with a
 * damaged WAL: keep what is readable, keep the damaged file beside it, say what was lost and
 * where the copy is, and go on collecting.
 *
 * File format facts used here (sqlite.org/fileformat2.html, "WAL file format"): a 32-byte
 * header (magic 0x377f0682/3, version, page size, checkpoint number, salt-1, salt-2,
 * checksums), then frames of a 24-byte header (page number, database size in pages after a
 * commit or 0, salt-1, salt-2, checksums) and one page. Frames of the current generation
 * carry the header's salts; older frames left behind after the log restarted do not.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { errorMessage } from "../errors.ts";

/** One line per finding, for the collector's log. */
export type Report = (line: string) => void;

/** What the frame headers of a `-wal` file say, read before SQLite opens it. */
export interface WalScan {
  /** Whether the 32-byte header has the WAL magic. */
  headerOk: boolean;
  /** Per frame of the current generation (in file order): whether it ends a transaction. */
  frames: Array<{ index: number; commit: boolean }>;
}

/**
 * Read the frame headers of `path` (a `-wal` file), not its pages; null when there is none
 * or it is empty.
 */
export function scanWal(path: string): WalScan | null {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch {
    return null;
  }
  try {
    const size = file.statSync().size;
    if (size <= 32) return null;
    const read = (at: number, n: number): DataView => {
      const buf = new Uint8Array(n);
      file.seekSync(at, Deno.SeekMode.Start);
      let got = 0;
      while (got < n) {
        const r = file.readSync(buf.subarray(got));
        if (r === null) break;
        got += r;
      }
      return new DataView(buf.buffer);
    };
    const head = read(0, 32);
    const headerOk = (head.getUint32(0) & 0xfffffffe) === 0x377f0682;
    let pageSize = head.getUint32(8);
    if (pageSize === 1) pageSize = 65536;
    // A header too damaged to give a page size: assume the store's (sqlite.ts sets 16 KiB).
    if (!headerOk || pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1))) {
      pageSize = 16384;
    }
    const frameBytes = 24 + pageSize;
    const count = Math.floor((size - 32) / frameBytes);
    if (count === 0) return { headerOk, frames: [] };
    // The current generation's salts: the header's, or (header damaged) the first frame's.
    const salts = headerOk ? head : read(32, 24);
    const saltAt = headerOk ? 16 : 8;
    const salt1 = salts.getUint32(saltAt);
    const salt2 = salts.getUint32(saltAt + 4);
    const frames: WalScan["frames"] = [];
    for (let i = 0; i < count; i++) {
      const h = read(32 + i * frameBytes, 24);
      if (h.getUint32(8) !== salt1 || h.getUint32(12) !== salt2) continue;
      frames.push({ index: i, commit: h.getUint32(4) !== 0 });
    }
    return { headerOk, frames };
  } finally {
    file.close();
  }
}

/**
 * Compare a WAL scanned before open with the frames SQLite replayed (`kept`, from
 * `PRAGMA wal_checkpoint`). When committed transactions of the current generation lie past
 * what SQLite kept, the file was damaged: keep a copy of it and report what was lost.
 * An unfinished last transaction (no commit frame after `kept`) is a normal kill, not damage.
 */
export function checkWal(walPath: string, scan: WalScan, kept: number, report: Report): void {
  const lost = scan.frames.filter((f) => f.commit && f.index >= kept).length;
  if (lost === 0) return;
  const copy = `${walPath}.damaged-${stamp()}`;
  try {
    Deno.copyFileSync(walPath, copy);
  } catch (e) {
    report(`history: could not keep a copy of ${walPath}: ${errorMessage(e)}`);
  }
  report(
    `history: ${walPath} is damaged${scan.headerOk ? "" : " (bad header)"}: SQLite replayed ` +
      `its first ${kept} pages; ${lost} later commits (history commits about once a second) ` +
      `could not be read and are lost. The damaged file is kept as ${copy}.`,
  );
}

/** True when an SQLite error says the file is damaged (SQLITE_CORRUPT, SQLITE_NOTADB). */
export function isCorruption(e: unknown): boolean {
  return /malformed|not a database|corrupt/i.test(errorMessage(e));
}

/** Problems `PRAGMA quick_check` finds (empty when the file is sound). */
export function quickCheck(db: DatabaseSync): string[] {
  return db.prepare("PRAGMA quick_check(5)").all()
    .map((r) => String((r as { quick_check: string }).quick_check))
    .filter((s) => s !== "ok");
}

/**
 * Move a damaged database (and its `-wal`, which belongs to it) aside, as
 * `<path>.damaged-<time>`; returns the new path.
 */
export function moveAside(path: string): string {
  const aside = `${path}.damaged-${stamp()}`;
  Deno.renameSync(path, aside);
  for (const suffix of ["-wal", "-shm"]) {
    try {
      Deno.renameSync(path + suffix, aside + suffix);
    } catch { /* none */ }
  }
  return aside;
}

/** The tables copied from a damaged database, in an order that keeps references whole. */
const TABLES = ["series", "rounds", "chunks", "rollups", "wal", "instances"];

/**
 * Copy every readable row of the damaged database at `from` (schema version `oldest` to
 * `version`: the same tables) into `into`, table by table, up to the first unreadable page of
 * each. Returns one phrase per table: rows kept, and where reading stopped.
 */
export function salvage(
  from: string,
  into: DatabaseSync,
  oldest: number,
  version: number,
): string[] {
  let old: DatabaseSync;
  try {
    old = new DatabaseSync(from, { readOnly: true });
    const v = (old.prepare("PRAGMA user_version").get() as { user_version: number })
      .user_version;
    if (v < oldest || v > version) {
      old.close();
      return [`nothing (schema version ${v}, not ${oldest} to ${version})`];
    }
  } catch (e) {
    return [`nothing (${errorMessage(e)})`];
  }
  const out: string[] = [];
  try {
    for (const table of TABLES) {
      let rows = 0;
      let stopped = "";
      into.exec("BEGIN");
      try {
        let insert: ReturnType<DatabaseSync["prepare"]> | null = null;
        for (const r of old.prepare(`SELECT * FROM ${table}`).iterate()) {
          const row = r as Record<string, unknown>;
          const cols = Object.keys(row);
          insert ??= into.prepare(
            `INSERT OR IGNORE INTO ${table}(${cols.join(",")}) VALUES (${cols.map(() => "?")})`,
          );
          insert.run(...(Object.values(row) as Array<string | number | Uint8Array | null>));
          rows++;
        }
        // node:sqlite's iterate() ends quietly at a damaged page: count to know.
        const { c } = old.prepare(`SELECT count(*) AS c FROM ${table}`).get() as { c: number };
        if (c > rows) stopped = ` of ${c}`;
      } catch (e) {
        stopped = ` (then unreadable: ${errorMessage(e)})`;
      }
      into.exec("COMMIT");
      out.push(`${table} ${rows} rows${stopped}`);
    }
  } finally {
    old.close();
  }
  return out;
}

/** A time for file names: `2026-12-03T08-30-00Z`. */
function stamp(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z").replaceAll(":", "-");
}
