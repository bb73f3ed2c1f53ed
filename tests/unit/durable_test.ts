/** The SQLite history store: durability, replay, tiers, rollups, retention, disk cap. */
import assert from "node:assert/strict";
import { DurableStore } from "../../lib/store/durable.ts";
import { DataDirError, openDatabase } from "../../lib/store/sqlite.ts";
import { Retainer } from "../../lib/store/retention.ts";
import { CHUNK_KEY, Rounds } from "../../lib/store/rounds.ts";
import {
  chooseTier,
  DEFAULT_RETENTION,
  flattenPoints,
  type Point,
  unflattenPoints,
} from "../../lib/store/query.ts";
import { chunkInfo, encodeChunk } from "../../lib/store/chunk.ts";
import { bucketPoints, emptyBuckets, encodeBuckets, mergeBuckets } from "../../lib/store/rollup.ts";
import { DatabaseSync } from "node:sqlite";
import { tempDir } from "../support/temp_dir.ts";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

function open(
  dir: string,
  clock: { t: number },
  extra: Partial<Parameters<typeof DurableStore.open>[0]> = {},
) {
  return DurableStore.open({ dir, now: () => clock.t, sealEveryMs: 60_000, ...extra });
}

/** Values of a raw query with one bucket per second over [from, to). */
function rawValues(s: DurableStore, from: number, to: number): number[] {
  const a = s.query("svc/a", "cpu.percent", from, to, Math.round((to - from) / 1000));
  return a.points.map((p) => p[2]);
}

Deno.test("points flushed and the store closed are all there after reopening", () => {
  using dirDir = tempDir("zeroapm-durable-");
  const dir = dirDir.path;
  const clock = { t: T0 };
  const s = open(dir, clock);
  for (let i = 0; i < 600; i++) {
    clock.t = T0 + i * 1000;
    s.append("svc/a", "cpu.percent", clock.t, i % 100);
    s.tick();
  }
  s.close();
  const again = open(dir, clock);
  assert.deepEqual(
    rawValues(again, T0, T0 + 600_000),
    Array.from({ length: 600 }, (_, i) => i % 100),
  );
  again.close();
});

/** Points stored in raw chunks per instance, read straight from the file (a closed store). */
function storedCounts(dir: string): Record<string, number> {
  const db = new DatabaseSync(`${dir}/zeroapm.db`);
  const out: Record<string, number> = {};
  const rows = db.prepare(
    "SELECT s.instance AS instance, c.data AS data FROM chunks c JOIN series s ON s.id = c.id % 4294967296",
  ).all() as Array<{ instance: string; data: Uint8Array }>;
  for (const r of rows) out[r.instance] = (out[r.instance] ?? 0) + chunkInfo(r.data).count;
  db.close();
  return out;
}

Deno.test("a store killed with points only in version 3 WAL rows replays each bit for bit, once", async () => {
  using dirDir = tempDir("zeroapm-durable-");
  const dir = dirDir.path;
  const fixture = new URL("../fixtures/wal_v3_crash.ts", import.meta.url);
  const { WAL_V3_POINTS, WAL_V3_SERIES, walV3Time } = await import(fixture.href);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", fixture.pathname, dir],
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const db = new DatabaseSync(`${dir}/zeroapm.db`);
  const rows = db.prepare("SELECT data FROM wal").all() as Array<{ data: Uint8Array }>;
  db.close();
  assert.equal(rows.length, WAL_V3_POINTS / 30);
  assert.ok(rows.every((r) => r.data[0] === 3), "version 3 rows");
  // One 10 ms bucket per point: each bucket's min and max are the point's value, bit for bit.
  const clock = { t: 10_000 };
  const check = (s: DurableStore, when: string) => {
    for (const [instance, metric, value] of WAL_V3_SERIES) {
      const got = s.query(instance, metric, 0, 7000, 700).points;
      assert.equal(got.length, WAL_V3_POINTS, `${instance} ${metric} ${when}: once each`);
      got.forEach(([t, min, avg, max]: Point, k: number) => {
        assert.equal(t, walV3Time(instance, k) - (instance === "svc/b" ? 3 : 0));
        for (const x of [min, max]) {
          assert.ok(Object.is(x, value(k)), `${instance} ${metric} ${when} ${k}: ${x}`);
        }
        // A bucket's average is a sum from 0 over the count: -0 comes back as 0 there.
        assert.ok(avg === value(k), `${instance} ${metric} ${when} ${k}: avg ${avg}`);
      });
    }
  };
  const s = open(dir, clock);
  check(s, "replayed");
  s.close(); // seals them
  const again = open(dir, clock);
  check(again, "sealed");
  again.close();
});

Deno.test("a store killed mid-seal replays every flushed point exactly once", async () => {
  using dirDir = tempDir("zeroapm-durable-");
  const dir = dirDir.path;
  // The fixture flushes 3 points per series, then dies after sealing svc/a but not svc/b:
  // svc/a's points are in a chunk and still in the WAL; svc/b's are only in the WAL.
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../fixtures/durable_crash.ts", import.meta.url).pathname,
      dir,
      "3",
    ],
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.deepEqual(storedCounts(dir), { "svc/a": 3 }, "the fixture died mid-round");
  const clock = { t: 4000 };
  const s = open(dir, clock);
  assert.deepEqual(rawValues(s, 0, 4000), [1, 2, 3]);
  assert.deepEqual(s.query("svc/b", "cpu.percent", 0, 4000, 4).points.map((p) => p[2]), [1, 2, 3]);
  assert.deepEqual(s.query("svc/b", "mem.rss", 0, 4000, 4).points.map((p) => p[2]), [10, 20, 30]);
  s.append("svc/a", "cpu.percent", 4000, 4);
  s.close(); // seals the replayed points, and the new one, in a round after the one cut short
  assert.deepEqual(storedCounts(dir), { "svc/a": 4, "svc/b": 6 }, "no point stored twice");
  const db = new DatabaseSync(`${dir}/zeroapm.db`);
  assert.deepEqual(
    db.prepare("SELECT id, first, last FROM rounds").all().map((r) => Object.values(r)),
    [[1, 1000, 3000], [2, 1000, 4000]],
  );
  db.close();
  const again = open(dir, clock);
  assert.deepEqual(rawValues(again, 0, 5000), [1, 2, 3, 4]);
  again.close();
});

Deno.test("a second store on the same directory is refused with the holder's pid", () => {
  using dirDir = tempDir("zeroapm-durable-");
  const dir = dirDir.path;
  const s = open(dir, { t: T0 });
  assert.throws(
    () => open(dir, { t: T0 }),
    (e: Error) =>
      e instanceof DataDirError && e.message.includes(`collector pid ${Deno.pid}`) &&
      e.message.includes("--data"),
  );
  s.close();
});

Deno.test("a query reads the coarsest tier that still gives the points asked for", () => {
  const now = T0 + 10 * DAY;
  const r = DEFAULT_RETENTION;
  assert.equal(chooseTier(now - 3_600_000, now, 1000, now, r), 0); // 3.6 s buckets: raw
  assert.equal(chooseTier(now - DAY, now, 1000, now, r), 1); // 86 s buckets: 1-minute tier
  assert.equal(chooseTier(now - 30 * DAY, now, 500, now, r), 2); // 1.4 h buckets: 1-hour tier
  assert.equal(chooseTier(now - 4 * DAY, now - 4 * DAY + 60_000, 60, now, r), 1); // raw expired
  assert.equal(chooseTier(now - 100 * DAY, now - 99 * DAY, 100, now, r), 2); // 1m expired
});

Deno.test("24 h of 1 s samples answer as 1000 points from rollups with the exact min, avg and max", () => {
  using dirDir = tempDir("zeroapm-durable-");
  const dir = dirDir.path;
  const clock = { t: T0 };
  const s = open(dir, clock, { sealEveryMs: 3_600_000, sealBatch: 10 });
  const values: number[] = [];
  for (let i = 0; i < DAY / 1000; i++) {
    const v = Math.round(((i * 7919) % 10_000) / 100 * 100) / 100; // a deterministic 0..99.99 pattern
    values.push(v);
    clock.t = T0 + i * 1000;
    s.append("svc/a", "cpu.percent", clock.t, v);
    if (i % 60 === 0) s.tick();
  }
  s.close();
  const reopened = open(dir, clock);
  const a = reopened.query("svc/a", "cpu.percent", T0, T0 + DAY, 1000);
  assert.equal(a.tier, 1);
  assert.ok(a.points.length <= 1000 && a.points.length >= 950, `${a.points.length} points`);
  // Check every answer bucket against the raw values it covers (its 1-minute buckets).
  const width = DAY / 1000;
  for (const [ts, min, avg, max] of a.points) {
    const k = Math.min(999, Math.floor((ts - T0) / width));
    const lo = T0 + k * width;
    const hi = lo + width;
    // a 1-minute bucket belongs to the answer bucket its start falls in
    const covered = values.filter((_, i) => {
      const minute = Math.floor((T0 + i * 1000) / 60_000) * 60_000;
      return minute >= lo && minute < hi;
    });
    assert.equal(min, Math.min(...covered));
    assert.equal(max, Math.max(...covered));
    assert.ok(Math.abs(avg - covered.reduce((x, y) => x + y, 0) / covered.length) < 1e-9);
  }
  reopened.close();
});

Deno.test("a late point for an already sealed minute merges into that minute's rollup", () => {
  using dirDir = tempDir("zeroapm-durable-");
  const dir = dirDir.path;
  const clock = { t: T0 + 120_000 };
  const s = open(dir, clock, { sealEveryMs: 1 });
  s.append("svc/a", "cpu.percent", T0 + 1000, 10);
  s.tick(); // flush + seal: the minute [T0, T0+60s) has one point
  clock.t += 10;
  s.append("svc/a", "cpu.percent", T0 + 2000, 30); // a backlog point for the same minute
  s.tick();
  s.close();
  const again = open(dir, clock);
  const a = again.query("svc/a", "cpu.percent", T0, T0 + 3_600_000, 60); // 1-minute tier
  assert.equal(a.tier, 1);
  assert.deepEqual(a.points, [[T0, 10, 20, 30]]);
  again.close();
});

Deno.test("retention deletes raw data past its age and nothing newer; rollups outlive it", () => {
  using dirDir = tempDir("zeroapm-durable-");
  const dir = dirDir.path;
  const clock = { t: T0 };
  const retention = { rawMs: 2 * DAY, minuteMs: 10 * DAY, hourMs: 100 * DAY };
  const s = open(dir, clock, { retention, sealEveryMs: 1 });
  for (let d = 0; d < 5; d++) {
    clock.t = T0 + d * DAY;
    s.append("svc/a", "cpu.percent", clock.t, d);
    s.tick();
  }
  clock.t = T0 + 5 * DAY;
  s.tick();
  s.tick();
  // Raw: only days 3 and 4 are younger than 2 days.
  const raw = s.query("svc/a", "cpu.percent", T0 + 3 * DAY, T0 + 5 * DAY, 2 * 24 * 3600);
  assert.equal(raw.tier, 0);
  assert.deepEqual(raw.points.map((p) => p[2]), [3, 4]);
  // The 1-minute tier still has every day.
  const minute = s.query("svc/a", "cpu.percent", T0, T0 + 5 * DAY, 5 * 24 * 60);
  assert.equal(minute.tier, 1);
  assert.deepEqual(minute.points.map((p) => p[2]), [0, 1, 2, 3, 4]);
  s.close();
});

Deno.test("over the disk cap, the oldest raw chunks go first and the newest stay", () => {
  using dirDir = tempDir("zeroapm-durable-");
  const dir = dirDir.path;
  const clock = { t: T0 };
  const s = open(dir, clock, { sealEveryMs: 1, maxDiskBytes: 300_000 });
  let v = 0;
  for (let chunk = 0; chunk < 400; chunk++) {
    for (let i = 0; i < 300; i++) {
      clock.t = T0 + (chunk * 300 + i) * 1000;
      s.append("svc/a", "cpu.percent", clock.t, (v = (v * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    }
    s.tick();
  }
  for (let i = 0; i < 20; i++) s.tick();
  assert.ok(s.stats().bytes <= 300_000, `${s.stats().bytes} bytes`);
  const newest = s.query("svc/a", "cpu.percent", clock.t - 299_000, clock.t + 1000, 300);
  assert.equal(newest.points.length, 300, "the newest chunk is kept");
  const oldest = s.query("svc/a", "cpu.percent", T0, T0 + 300_000, 300);
  assert.equal(oldest.points.length, 0, "the oldest chunk was deleted");
  s.close();
});

Deno.test("points waiting to be written are bounded: a seal starts early, and past the line they are counted and dropped", () => {
  using dirDir = tempDir("zeroapm-durable-");
  const dir = dirDir.path;
  const clock = { t: T0 };
  const s = open(dir, clock, { sealEveryMs: 3_600_000, maxOpenPoints: 1000 });
  for (let i = 0; i < 300; i++) s.append("svc/a", "cpu.percent", T0 + i, i);
  s.tick(); // 300 >= 1000 / 4: a seal round starts before its hour is up
  assert.equal(s.stats().openPoints, 0, "sealed early");
  for (let i = 0; i < 1200; i++) s.append("svc/a", "cpu.percent", T0 + 1000 + i, i);
  // Past half the bound an instance over its share (here the only one: half) is shed.
  assert.equal(s.stats().openPoints, 500);
  assert.equal(s.stats().dropped, 700);
  s.close();
});

/** The first schema (user_version 0), as zeroapm wrote it before version 2. */
const FIRST_SCHEMA = `
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE series(
  id INTEGER PRIMARY KEY, instance TEXT NOT NULL, metric TEXT NOT NULL,
  sealed_wal INTEGER NOT NULL DEFAULT 0, UNIQUE(instance, metric));
CREATE TABLE chunks(
  id INTEGER PRIMARY KEY, series INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
  data BLOB NOT NULL);
CREATE INDEX chunks_by_series ON chunks(series, end);
CREATE INDEX chunks_by_end ON chunks(end);
CREATE TABLE rollups(
  series INTEGER NOT NULL, tier INTEGER NOT NULL, start INTEGER NOT NULL, data BLOB NOT NULL,
  PRIMARY KEY(series, tier, start)) WITHOUT ROWID;
CREATE INDEX rollups_by_age ON rollups(tier, start);
CREATE TABLE wal(id INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE instances(id TEXT PRIMARY KEY, view TEXT NOT NULL) WITHOUT ROWID;
`;

const HOUR = 3_600_000;
/** Values of the migration fixture: series 1 and 2, every 10 s for 2 hours from T0. */
const fixtureValue = (series: number, i: number) => series === 1 ? i % 97 : 1000 - (i % 89);

/** A WAL row in the first format: version 1, then per series u32 id, u32 count, f64 pairs. */
function walRow(id: number, points: Array<[number, number]>): Uint8Array {
  const out = new Uint8Array(9 + points.length * 16);
  const view = new DataView(out.buffer);
  out[0] = 1;
  view.setUint32(1, id);
  view.setUint32(5, points.length);
  points.forEach(([t, v], i) => {
    view.setFloat64(9 + i * 16, t);
    view.setFloat64(17 + i * 16, v);
  });
  return out;
}

/**
 * A data directory as the first schema left it: two series, each sealed in two rounds of an
 * hour, 1-minute rollups in 1-hour rows (as before they moved to 6-hour rows), 1-hour
 * rollups, a WAL row not yet sealed, an instance.
 */
function writeFirstSchema(dir: string): void {
  const db = new DatabaseSync(`${dir}/zeroapm.db`);
  db.exec(FIRST_SCHEMA);
  db.exec(`INSERT INTO series VALUES (1, 'svc/a', 'cpu.percent', 0), (2, 'svc/b', 'cpu.percent', 0);
    INSERT INTO meta VALUES ('k', 'v');`);
  const chunk = db.prepare("INSERT INTO chunks(series, start, end, data) VALUES (?, ?, ?, ?)");
  const rollup = db.prepare("INSERT INTO rollups VALUES (?, ?, ?, ?)");
  for (let hour = 0; hour < 2; hour++) {
    for (const series of [1, 2]) {
      const i0 = hour * 360;
      const times = Array.from({ length: 360 }, (_, k) => T0 + (i0 + k) * 10_000);
      const values = times.map((_, k) => fixtureValue(series, i0 + k));
      chunk.run(series, times[0], times[359], encodeChunk(times, values));
      const minutes = mergeBuckets(emptyBuckets(), bucketPoints(times, values, 60_000));
      rollup.run(series, 1, T0 + hour * HOUR, encodeBuckets(minutes));
    }
  }
  for (const series of [1, 2]) {
    const times = Array.from({ length: 720 }, (_, k) => T0 + k * 10_000);
    const values = times.map((_, k) => fixtureValue(series, k));
    rollup.run(
      series,
      2,
      T0,
      encodeBuckets(mergeBuckets(emptyBuckets(), bucketPoints(times, values, HOUR))),
    );
  }
  db.prepare("INSERT INTO wal(data) VALUES (?)").run(
    walRow(1, [[T0 + 2 * HOUR, 5], [T0 + 2 * HOUR + 10_000, 6]]),
  );
  db.prepare("INSERT INTO instances VALUES (?, ?)").run(
    "svc",
    JSON.stringify({ id: "svc", lastSeq: 7 }),
  );
  db.close();
}

/** Raw values, minute averages and hour averages of both fixture series over its 2 hours. */
function fixtureAnswers(s: DurableStore) {
  return [1, 2].map((series) => {
    const inst = series === 1 ? "svc/a" : "svc/b";
    const at = (from: number, to: number, n: number) => s.query(inst, "cpu.percent", from, to, n);
    const raw = at(T0, T0 + 2 * HOUR, 720);
    const minutes = at(T0, T0 + 2 * HOUR, 120);
    assert.equal(raw.tier, 0);
    assert.equal(minutes.tier, 1);
    return { raw: raw.points.map((p) => p[2]), minutes: minutes.points };
  });
}

Deno.test("a data directory of the first schema is migrated on open, with every point and bucket", () => {
  using dirDir = tempDir("zeroapm-durable-");
  const dir = dirDir.path;
  writeFirstSchema(dir);
  const clock = { t: T0 + 3 * HOUR };
  const s = open(dir, clock);
  const [a, b] = fixtureAnswers(s);
  const want = (series: number) => Array.from({ length: 720 }, (_, i) => fixtureValue(series, i));
  assert.deepEqual(a.raw, want(1));
  assert.deepEqual(b.raw, want(2));
  assert.equal(a.minutes.length, 120, "both 1-hour rows of 1-minute buckets are there");
  for (const [k, [ts, min, avg, max]] of a.minutes.entries()) {
    const v = want(1).slice(k * 6, k * 6 + 6);
    assert.deepEqual([ts, min, max], [T0 + k * 60_000, Math.min(...v), Math.max(...v)]);
    assert.ok(Math.abs(avg - v.reduce((x, y) => x + y) / 6) < 1e-9);
  }
  const hours = s.query("svc/a", "cpu.percent", T0 - 498 * HOUR, T0 + 2 * HOUR, 500);
  assert.equal(hours.tier, 2);
  assert.equal(hours.points.length, 2);
  // The WAL row, not yet sealed in the old file, is replayed.
  assert.deepEqual(rawValues(s, T0 + 2 * HOUR, T0 + 2 * HOUR + 20_000), [5, 6]);
  assert.equal(s.instances()[0].lastSeq, 7);
  // New points seal into rounds after the migrated ones.
  s.append("svc/b", "cpu.percent", T0 + 2 * HOUR, 9);
  s.close();

  const db = new DatabaseSync(`${dir}/zeroapm.db`);
  assert.deepEqual({ ...db.prepare("PRAGMA user_version").get() }, { user_version: 5 });
  const names = db.prepare("SELECT name FROM sqlite_schema ORDER BY name").all()
    .map((r) => (r as { name: string }).name);
  assert.deepEqual(names, ["chunks", "instances", "rollups", "rounds", "series", "wal"]);
  const rows = (sql: string) => db.prepare(sql).all().map((r) => Object.values(r));
  assert.deepEqual(rows("SELECT id, first, last FROM rounds"), [
    [1, T0, T0 + HOUR - 10_000],
    [2, T0 + HOUR, T0 + 2 * HOUR - 10_000],
    [3, T0 + 2 * HOUR, T0 + 2 * HOUR + 10_000],
  ]);
  assert.deepEqual(
    rows("SELECT tier, start, series FROM rollups"),
    [[1, T0, 1], [1, T0, 2], [2, T0, 1], [2, T0, 2]],
    "the two 1-hour rows of 1-minute buckets became one 6-hour row",
  );
  db.close();

  const again = open(dir, clock);
  assert.deepEqual(fixtureAnswers(again), [a, b], "the same answers after a reopen");
  assert.deepEqual(
    again.query("svc/b", "cpu.percent", T0 + 2 * HOUR, T0 + 2 * HOUR + 1000, 1).points,
    [[T0 + 2 * HOUR, 9, 9, 9]],
  );
  again.close();
});

Deno.test("a data directory from a newer zeroapm is refused with a message naming the fix", () => {
  using dirDir = tempDir("zeroapm-durable-");
  const dir = dirDir.path;
  const db = new DatabaseSync(`${dir}/zeroapm.db`);
  db.exec("PRAGMA user_version = 99");
  db.close();
  assert.throws(
    () => open(dir, { t: T0 }),
    (e: Error) =>
      e instanceof DataDirError && /schema version 99/.test(e.message) &&
      e.message.includes("--data"),
  );
});

Deno.test("retention drops what is wholly past its age, a bounded step at a time, and nothing newer", () => {
  using dirDir = tempDir("zeroapm-durable-");
  const dir = dirDir.path;
  const db = openDatabase(dir);
  const rounds = new Rounds(db);
  const chunk = db.prepare(`INSERT INTO chunks(id, data) VALUES (${CHUNK_KEY}, x'00')`);
  const rollup = db.prepare("INSERT INTO rollups VALUES (?, ?, ?, x'00')");
  db.exec("BEGIN");
  // Round 1: 1200 series, all old. Round 2: one old chunk and one with a point after the cutoff.
  for (let s = 1; s <= 1200; s++) chunk.run(1, s);
  rounds.commit(rounds.widen(1, T0, T0 + 1000));
  chunk.run(2, 1);
  chunk.run(2, 2);
  rounds.commit(rounds.widen(2, T0 + 500, T0 + 3 * DAY));
  // 1-minute rows (6 h each) over two days, for 600 series.
  for (let k = 0; k < 8; k++) for (let s = 1; s <= 600; s++) rollup.run(1, T0 + k * 6 * HOUR, s);
  db.exec("COMMIT");
  const count = (sql: string) => Object.values(db.prepare(sql).get()!)[0];
  const retainer = new Retainer(db, rounds, { rawMs: DAY, minuteMs: DAY, hourMs: 100 * DAY }, null);
  const now = T0 + 2 * DAY;
  assert.equal(retainer.step(now), 1000, "500 chunks and 500 rollup rows");
  assert.equal(rounds.size, 2, "round 1 is kept until its last chunk goes");
  assert.equal(retainer.step(now), 1000);
  assert.equal(retainer.step(now), 700, "the last 200 chunks of round 1");
  assert.equal(rounds.size, 1);
  assert.equal(retainer.step(now), 500);
  assert.equal(retainer.step(now), 400, "the 2400 rollup rows due are gone");
  assert.equal(retainer.step(now), 0, "nothing more is due");
  assert.equal(count("SELECT count(*) FROM chunks"), 2, "round 2 has a point within retention");
  // A 6-hour row goes once it ends by now - 1 day: rows starting at T0 + 24 h and later stay.
  assert.deepEqual(
    db.prepare("SELECT DISTINCT start FROM rollups ORDER BY start").all().map((r) => r.start),
    [4, 5, 6, 7].map((k) => T0 + k * 6 * HOUR),
  );
  assert.equal(count("SELECT count(*) FROM rollups"), 4 * 600);
  db.close();
});

Deno.test("a query's answer survives the flat hand-over from the history thread unchanged", () => {
  const points: Point[] = [[T0, -0.5, 0.30000000000000004, 1e300], [T0 + 60_000, -0, 2, 5e-324]];
  const flat = flattenPoints(points);
  assert.equal(flat.length, 8);
  const back = unflattenPoints(flat);
  assert.deepEqual(back, points);
  assert.ok(Object.is(back[1][1], -0));
  assert.deepEqual(unflattenPoints(flattenPoints([])), []);
});

Deno.test("appendMany keeps what append keeps, sheds as it does, and sealing still sorts late points", () => {
  using dirDir = tempDir("zeroapm-durable-");
  const dir = dirDir.path;
  const clock = { t: T0 };
  const s = open(dir, clock, { sealEveryMs: 3_600_000, maxOpenPoints: 1000 });
  // Out of order within the hand-over: the seal must sort them.
  const times = Float64Array.from(
    { length: 300 },
    (_, i) => T0 + (i % 2 === 0 ? i + 1 : i - 1) * 1000,
  );
  const values = Float64Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? i + 1 : i - 1));
  s.appendMany("svc/a", "cpu.percent", times, values);
  clock.t = T0 + 400_000;
  s.tick(); // 300 >= 1000 / 4: a seal round starts and seals them
  assert.equal(s.stats().openPoints, 0, "sealed");
  assert.deepEqual(rawValues(s, T0, T0 + 300_000), Array.from({ length: 300 }, (_, i) => i));
  // Past half the bound the only instance is shed at its share, as with append.
  const more = Float64Array.from({ length: 1200 }, (_, i) => T0 + 400_000 + i);
  s.appendMany("svc/a", "cpu.percent", more, more);
  assert.equal(s.stats().openPoints, 500);
  assert.equal(s.stats().dropped, 700);
  s.close();
});
