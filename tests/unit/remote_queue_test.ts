/** Remote write's queues: the WAL source over the real durable store, and the memory ring. */
import assert from "node:assert/strict";
import { DurableStore } from "../../lib/store/durable.ts";
import { WalSource } from "../../lib/remote/wal_source.ts";
import { MemoryQueue } from "../../lib/remote/memory_queue.ts";
import type { Block } from "../../lib/remote/source.ts";
import { DatabaseSync } from "node:sqlite";

const T0 = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;

function openStore(dir: string, clock: { t: number }, remotes = ["r"]) {
  return DurableStore.open({ dir, now: () => clock.t, sealEveryMs: 10_000, remotes });
}

/** Peek and commit everything a source holds, `max` at a time; the values in order. */
function drain(src: { peek(max: number): Block | null; commit(): void }, max: number): number[] {
  const out: number[] = [];
  for (let b = src.peek(max); b; b = src.peek(max)) {
    out.push(...b.values);
    src.commit();
  }
  return out;
}

Deno.test("the WAL source reads version 3 rows (int32 deltas and scaled values) point for point", () => {
  const dir = Deno.makeTempDirSync({ prefix: "zeroapm-walsrc-" });
  try {
    const clock = { t: T0 };
    const s = DurableStore.open({ dir, now: () => clock.t, sealEveryMs: DAY, remotes: ["r"] });
    const want: Array<[number, number, number]> = []; // series id, time, value
    const metrics: Array<[string, (k: number) => number]> = [
      ["cpu.percent", (k) => Math.round(k * 37) / 100], // two decimals: scaled int32s
      ["mem.rss_bytes", (k) => 48_000_000 + k * 4096], // whole: int32s
      ["odd", (k) => k * 0.1], // float noise: float64s
    ];
    for (let sec = 0; sec < 4; sec++) {
      for (let k = sec * 50; k < sec * 50 + 50; k++) {
        const t = T0 + sec * 1000 + Math.floor((k % 50) / 10) * 20; // 10 points a time
        metrics.forEach(([m, value], i) => {
          s.append("svc/a", m, t, value(k));
          want.push([i + 1, t, value(k)]);
        });
      }
      clock.t = T0 + (sec + 1) * 1000;
      s.tick();
    }
    const rows = s.wal().rowsAfter(0, 10);
    assert.equal(rows.length, 4);
    assert.ok(rows.every((r) => r.data[0] === 3), "version 3 rows");
    const src = new WalSource({ name: "r", wal: s.wal(), now: () => clock.t, maxAgeMs: DAY });
    // The estimate reads the first row's bytes a point: exact here, every row alike.
    assert.deepEqual(src.backlog(), { samples: want.length, oldest: T0 });
    const got: Array<[number, number, number]> = [];
    for (let b = src.peek(64); b; b = src.peek(64)) {
      b.values.forEach((v, i) => got.push([b.series[i], b.times[i], v]));
      src.commit();
    }
    // A row holds each series' second in turn: compare as sets of (series, time, value) in order.
    const key = (p: [number, number, number]) => p.join(" ");
    assert.deepEqual(got.map(key).sort(), want.map(key).sort());
    assert.equal(got.length, want.length, "every point once");
    s.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("the WAL source keeps sealed rows until shipped, and resumes from its cursor after reopening", () => {
  const dir = Deno.makeTempDirSync({ prefix: "zeroapm-walsrc-" });
  const clock = { t: T0 };
  let s = openStore(dir, clock);
  for (let i = 0; i < 30; i++) {
    clock.t = T0 + i * 1000;
    s.append("svc/a", "cpu.percent", clock.t, i);
    s.append("svc/a", "mem.rss_bytes", clock.t, 1000 + i);
    s.tick(); // a seal round every 10 s: rows sealed, but not shipped
  }
  let src = new WalSource({ name: "r", wal: s.wal(), now: () => clock.t, maxAgeMs: DAY });
  assert.equal(src.backlog().oldest, T0);
  // Ship 25 points in blocks of 7 (ending inside rows), then "crash" without the rest.
  const first: number[] = [];
  for (let n = 0; n < 4; n++) {
    const b = src.peek(7)!;
    first.push(...b.values);
    src.commit();
  }
  const peeked = src.peek(7)!.values; // peeked, never committed: sent again after reopening
  s.close();

  s = openStore(dir, clock);
  src = new WalSource({ name: "r", wal: s.wal(), now: () => clock.t, maxAgeMs: DAY });
  const rest = drain(src, 1000);
  assert.deepEqual(rest.slice(0, peeked.length), peeked);
  const all = [...first, ...rest];
  assert.equal(all.length, 60, "every point once");
  assert.deepEqual(all.filter((v) => v < 1000), Array.from({ length: 30 }, (_, i) => i));
  assert.deepEqual(src.backlog(), { samples: 0, oldest: null });
  assert.deepEqual(src.seriesOf(1), { instance: "svc/a", metric: "cpu.percent" });

  // Once shipped and sealed, the rows go (all but the newest, which keeps the ids rising).
  clock.t += 20_000;
  s.append("svc/a", "cpu.percent", clock.t, 99);
  s.tick();
  s.tick();
  const left = s.wal().rowsAfter(0, 1000).length;
  assert.ok(left <= 2, `${left} WAL rows left`);
  assert.deepEqual(drain(src, 1000), [99]);
  s.close();
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("a WAL row older than the raw retention is skipped and counted as expired", () => {
  const dir = Deno.makeTempDirSync({ prefix: "zeroapm-walsrc-" });
  const clock = { t: T0 };
  const s = openStore(dir, clock);
  s.append("svc/a", "cpu.percent", T0, 1);
  s.append("svc/a", "cpu.percent", T0 + 1, 2);
  s.flush();
  clock.t = T0 + 2 * DAY;
  s.append("svc/a", "cpu.percent", clock.t, 3);
  s.flush();
  const src = new WalSource({ name: "r", wal: s.wal(), now: () => clock.t, maxAgeMs: DAY });
  assert.deepEqual(drain(src, 100), [3]);
  assert.equal(src.expired, 2);
  s.close();
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("the memory queue is bounded: the oldest unsent samples go first and are counted", () => {
  const q = new MemoryQueue(5);
  for (let i = 0; i < 3; i++) q.append("svc/a", "m", i, i);
  const b = q.peek(2)!;
  assert.deepEqual(b.values, [0, 1]);
  q.commit();
  for (let i = 3; i < 9; i++) q.append("svc/a", "m", i, i);
  // Held: 4..8; 2 and 3 were dropped unsent (0 and 1 were shipped).
  assert.equal(q.expired, 2);
  assert.deepEqual(q.backlog(), { samples: 5, oldest: 4 });
  assert.deepEqual(drain(q, 3), [4, 5, 6, 7, 8]);
  assert.equal(q.peek(3), null);
  assert.deepEqual(q.seriesOf(0), { instance: "svc/a", metric: "m" });
});

Deno.test("WAL row ids keep rising after a clean stop empties the WAL, so replay and cursors see new rows", () => {
  const dir = Deno.makeTempDirSync({ prefix: "zeroapm-walsrc-" });
  const clock = { t: T0 };
  let s = openStore(dir, clock, []);
  for (let i = 0; i < 5; i++) {
    s.append("svc/a", "cpu.percent", T0 + i * 1000, i);
    s.flush();
  }
  s.close(); // seals everything: every series is sealed through the last WAL row
  const db = new DatabaseSync(`${dir}/zeroapm.db`);
  const sealed = (db.prepare("SELECT max(sealed_wal) AS w FROM series").get() as { w: number }).w;
  db.close();
  assert.ok(sealed >= 5);
  s = openStore(dir, clock, []);
  s.append("svc/a", "cpu.percent", T0 + 9000, 9);
  s.flush();
  const fresh = s.wal().rowsAfter(sealed, 10);
  assert.equal(fresh.length, 1, "the new row is numbered after the sealed ones");
  s.close();
  Deno.removeSync(dir, { recursive: true });
});
