/**
 * An instance's series sealed in one round store their shared time column once
 * (lib/store/shared_times.ts); queries read them back exactly, an older file still opens.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { DurableStore } from "../../lib/store/durable.ts";
import { chunkInfo } from "../../lib/store/chunk.ts";
import { tempDir } from "../support/temp_dir.ts";

const T0 = Date.UTC(2026, 0, 1);
const METRICS = ["cpu.percent", "mem.rss_bytes", "loop.lag_ms"];

/** 600 one-second samples of three metrics per instance (one frame each), 0-3 ms of jitter. */
function fill(dir: string, instances: string[]): Map<string, number[]> {
  const clock = { t: T0 };
  const s = DurableStore.open({ dir, now: () => clock.t, sealEveryMs: 60_000 });
  const want = new Map<string, number[]>();
  for (let i = 0; i < 600; i++) {
    clock.t = T0 + i * 1000;
    instances.forEach((inst, k) => {
      const t = clock.t + ((i * 7 + k) % 4);
      METRICS.forEach((m, j) => {
        const v = (i * (j + 1) + k) % 97;
        s.append(inst, m, t, v);
        const key = `${inst} ${m}`;
        want.set(key, [...want.get(key) ?? [], v]);
      });
      // A metric sent in some frames only has times of its own.
      if (i % 3 === 0) s.append(inst, "sparse.gauge", t, i);
    });
    s.tick();
  }
  s.close();
  return want;
}

/** Chunks as stored: series name -> how many share another series' times, and how many own. */
function chunks(dir: string): { shared: Record<string, number>; bytes: number } {
  const db = new DatabaseSync(`${dir}/zeroapm.db`);
  const rows = db.prepare(
    "SELECT s.metric AS metric, c.data AS data FROM chunks c JOIN series s ON s.id = c.id % 4294967296",
  ).all() as Array<{ metric: string; data: Uint8Array }>;
  db.close();
  const shared: Record<string, number> = {};
  let bytes = 0;
  for (const r of rows) {
    bytes += r.data.length;
    if (chunkInfo(r.data).timesFrom !== null) shared[r.metric] = (shared[r.metric] ?? 0) + 1;
  }
  return { shared, bytes };
}

Deno.test("an instance's series sealed in one round store one time column, and read back exactly", () => {
  using tmp = tempDir("zeroapm-shared-");
  const dir = tmp.path;
  const want = fill(dir, ["svc/a", "svc/b"]);
  const { shared } = chunks(dir);
  // Per round and instance the first metric holds the times, the other two name it; the sparse
  // gauge's times differ and stay its own. 10 rounds of a minute, two instances.
  assert.deepEqual(shared, { "mem.rss_bytes": 20, "loop.lag_ms": 20 });
  const s = DurableStore.open({ dir, now: () => T0 + 600_000 });
  try {
    for (const [key, values] of want) {
      const [inst, metric] = key.split(" ");
      const got = s.query(inst, metric, T0, T0 + 600_000, 600).points.map((p) => p[2]);
      assert.deepEqual(got, values, key);
      const times = s.query(inst, metric, T0, T0 + 600_000, 600).points.map((p) => p[0]);
      assert.equal(new Set(times).size, 600, `${key}: a point in every second`);
    }
    const sparse = s.query("svc/b", "sparse.gauge", T0, T0 + 600_000, 600).points;
    assert.deepEqual(sparse.map((p) => p[2]), Array.from({ length: 200 }, (_, i) => i * 3));
  } finally {
    s.close();
  }
});

Deno.test("a chunk whose time column is already deleted (retention mid-round) is skipped, not an error", () => {
  using tmp = tempDir("zeroapm-shared-gone-");
  const dir = tmp.path;
  fill(dir, ["svc/a"]);
  // Retention deletes a round's chunks in key order: the series holding the times goes first.
  const db = new DatabaseSync(`${dir}/zeroapm.db`);
  const owner = db.prepare("SELECT id FROM series WHERE metric = 'cpu.percent'").get() as {
    id: number;
  };
  const round = Number((db.prepare("SELECT min(id) AS r FROM rounds").get() as { r: number }).r);
  db.prepare("DELETE FROM chunks WHERE id = ?").run(round * 2 ** 32 + owner.id);
  const orphan = db.prepare(
    "SELECT c.data AS data FROM chunks c JOIN series s ON c.id = ? * 4294967296 + s.id WHERE s.metric = 'mem.rss_bytes'",
  ).get(round) as { data: Uint8Array };
  const inRound = chunkInfo(orphan.data).count;
  db.close();
  const s = DurableStore.open({ dir, now: () => T0 + 600_000 });
  try {
    const rss = s.query("svc/a", "mem.rss_bytes", T0, T0 + 600_000, 600).points;
    assert.ok(inRound > 0);
    assert.equal(rss.length, 600 - inRound, "the other rounds still read");
  } finally {
    s.close();
  }
});

Deno.test("a schema version 2, 3 or 4 file opens as version 5 with its history; version 5 stays closed to older code", () => {
  for (const previous of [2, 3, 4]) {
    using tmp = tempDir(`zeroapm-v${previous}-`);
    const dir = tmp.path;
    const want = fill(dir, ["svc/a"]);
    const db = new DatabaseSync(`${dir}/zeroapm.db`);
    db.exec(`PRAGMA user_version = ${previous}`); // as the previous zeroapm left it (same tables)
    db.close();
    const s = DurableStore.open({ dir, now: () => T0 + 600_000 });
    const got = s.query("svc/a", "cpu.percent", T0, T0 + 600_000, 600).points.map((p) => p[2]);
    s.close();
    assert.deepEqual(got, want.get("svc/a cpu.percent"));
    const again = new DatabaseSync(`${dir}/zeroapm.db`);
    assert.deepEqual({ ...again.prepare("PRAGMA user_version").get() }, { user_version: 5 });
    again.close();
  }
});
