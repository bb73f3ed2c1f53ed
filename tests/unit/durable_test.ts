/** The SQLite history store: durability, replay, tiers, rollups, retention, disk cap. */
import assert from "node:assert/strict";
import { DurableStore } from "../../lib/store/durable.ts";
import { DataDirError } from "../../lib/store/sqlite.ts";
import { chooseTier, DEFAULT_RETENTION } from "../../lib/store/query.ts";
import { chunkInfo } from "../../lib/store/chunk.ts";
import { DatabaseSync } from "node:sqlite";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

function tempDir(): string {
  return Deno.makeTempDirSync({ prefix: "zeroapm-durable-" });
}

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
  const dir = tempDir();
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
    "SELECT s.instance AS instance, c.data AS data FROM chunks c JOIN series s ON s.id = c.series",
  ).all() as Array<{ instance: string; data: Uint8Array }>;
  for (const r of rows) out[r.instance] = (out[r.instance] ?? 0) + chunkInfo(r.data).count;
  db.close();
  return out;
}

Deno.test("a store killed mid-seal replays every flushed point exactly once", async () => {
  const dir = tempDir();
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
  s.close(); // seals the replayed points
  assert.deepEqual(storedCounts(dir), { "svc/a": 3, "svc/b": 3 }, "no point stored twice");
});

Deno.test("a second store on the same directory is refused with the holder's pid", () => {
  const dir = tempDir();
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
  const dir = tempDir();
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
  const dir = tempDir();
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
  const dir = tempDir();
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
  const dir = tempDir();
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

Deno.test("points waiting to be written are bounded: a seal starts early, and past the bound they are counted and dropped", () => {
  const dir = tempDir();
  const clock = { t: T0 };
  const s = open(dir, clock, { sealEveryMs: 3_600_000, maxOpenPoints: 1000 });
  for (let i = 0; i < 300; i++) s.append("svc/a", "cpu.percent", T0 + i, i);
  s.tick(); // 300 >= 1000 / 4: a seal round starts before its hour is up
  assert.equal(s.stats().openPoints, 0, "sealed early");
  for (let i = 0; i < 1200; i++) s.append("svc/a", "cpu.percent", T0 + 1000 + i, i);
  assert.equal(s.stats().openPoints, 1000);
  assert.equal(s.stats().dropped, 200);
  s.close();
});
