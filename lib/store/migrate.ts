/**
 * Upgrading a database written by an older zeroapm, on open, in one transaction (so a crash
 * or a full disk leaves the old file as it was). The first layout (`user_version` 0) keyed
 * chunks by a rowid with two indexes (by series, by end time), rollups by series first with
 * an index by age, and 1-minute rollups were at first kept in 1-hour rows. Version 2 keys
 * chunks by seal round and series and rollups by time (see sqlite.ts), without indexes: the
 * chunks are regrouped into the seal rounds they were written in, the rollup rows realigned
 * to their tier's row span. The old tables' pages go back to the file system when the store
 * closes (incremental vacuum). Version 3 adds a kind of chunk, 4 and 5 kinds of WAL row
 * (wal.ts), nothing else.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import {
  type Buckets,
  decodeBuckets,
  emptyBuckets,
  encodeBuckets,
  mergeBuckets,
  TIERS,
} from "./rollup.ts";
import { CHUNK_KEY } from "./rounds.ts";

/** Bring `db`, at schema `version`, to the current one: `schema` creates the new tables. */
export function migrate(db: DatabaseSync, version: number, schema: string): void {
  // Version 3 only adds chunks that share another series' times (chunk.ts), version 4 WAL rows
  // that share a time column, version 5 WAL rows with int32 columns (wal.ts): the tables stay,
  // and the new number keeps an older zeroapm, which cannot read those, from opening the file
  // (and skipping unsealed seconds).
  if (version >= 2 && version <= 4) return db.exec(schema);
  if (version !== 0) throw new Error(`no migration from schema version ${version}`);
  const columns = (table: string) =>
    db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table)
      .map((r) => (r as { name: string }).name).join(",");
  if (
    columns("chunks") !== "id,series,start,end,data" ||
    columns("rollups") !== "series,tier,start,data"
  ) {
    throw new Error(
      `unrecognised layout (chunks: ${columns("chunks")}; rollups: ${columns("rollups")})`,
    );
  }
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(`ALTER TABLE chunks RENAME TO old_chunks;
      ALTER TABLE rollups RENAME TO old_rollups;
      ALTER TABLE series RENAME TO old_series;`);
    db.exec(schema);
    db.exec(`INSERT INTO series(id, instance, metric, sealed_wal)
      SELECT id, instance, metric, sealed_wal FROM old_series`);
    copyChunks(db);
    copyRollups(db);
    db.exec(`DROP TABLE old_chunks; DROP TABLE old_rollups; DROP TABLE old_series;
      DROP TABLE IF EXISTS meta;`);
    db.exec("COMMIT");
  } catch (e) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw e;
  }
}

/**
 * Old chunks in the order they were written, regrouped into seal rounds: a round wrote each
 * series at most once, so a series seen again starts the next round.
 */
function copyChunks(db: DatabaseSync): void {
  const insert = db.prepare(`INSERT INTO chunks(id, data) SELECT ${CHUNK_KEY}, data
    FROM old_chunks WHERE id = ?`);
  const putRound = db.prepare("INSERT INTO rounds(id, first, last) VALUES (?, ?, ?)");
  let round = { id: 1, first: Infinity, last: -Infinity, series: new Set<number>() };
  const close = () => {
    if (round.series.size > 0) putRound.run(round.id, round.first, round.last);
  };
  const rows = db.prepare("SELECT id, series, start, end FROM old_chunks ORDER BY id").iterate();
  for (const r of rows) {
    const c = r as { id: number; series: number; start: number; end: number };
    if (round.series.has(c.series)) {
      close();
      round = { id: round.id + 1, first: Infinity, last: -Infinity, series: new Set() };
    }
    round.series.add(c.series);
    round.first = Math.min(round.first, c.start);
    round.last = Math.max(round.last, c.end);
    insert.run(round.id, c.series, c.id);
  }
  close();
}

/** Old rollup rows, merged where several fall in one row span of their tier (1-hour rows). */
function copyRollups(db: DatabaseSync): void {
  const insert = db.prepare(
    "INSERT INTO rollups(tier, start, series, data) VALUES (?, ?, ?, ?)",
  );
  let key = "";
  let group: { tier: number; start: number; series: number; blobs: Uint8Array[] } | null = null;
  const flush = () => {
    if (!group) return;
    const data = group.blobs.length === 1 ? group.blobs[0] : encodeBuckets(
      group.blobs.reduce(
        (into, blob) => mergeBuckets(into, asMap(decodeBuckets(blob))),
        emptyBuckets(),
      ),
    );
    insert.run(group.tier, group.start, group.series, data);
  };
  const rows = db.prepare(
    "SELECT series, tier, start, data FROM old_rollups ORDER BY tier, series, start",
  ).iterate();
  for (const r of rows) {
    const row = r as { series: number; tier: number; start: number; data: Uint8Array };
    const rowMs = TIERS.find((t) => t.tier === row.tier)?.rowMs;
    const start = rowMs ? Math.floor(row.start / rowMs) * rowMs : row.start;
    const k = `${row.tier}/${row.series}/${start}`;
    if (k !== key) {
      flush();
      key = k;
      group = { tier: row.tier, start, series: row.series, blobs: [] };
    }
    group!.blobs.push(row.data);
  }
  flush();
}

function asMap(b: Buckets): Map<number, { min: number; max: number; sum: number; count: number }> {
  const m = new Map<number, { min: number; max: number; sum: number; count: number }>();
  for (let i = 0; i < b.start.length; i++) {
    m.set(b.start[i], { min: b.min[i], max: b.max[i], sum: b.sum[i], count: b.count[i] });
  }
  return m;
}
