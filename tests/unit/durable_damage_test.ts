/**
 * Damage to the history database on open (issue 16.7): a damaged `-wal` after a kill, a
 * damaged main file, a 0-byte file. Each is said out loud with the path of what was kept
 * aside, what is readable is kept, and the store opens so collecting goes on.
 */
import assert from "node:assert/strict";
import { DurableStore } from "../../lib/store/durable.ts";
import type { InstanceView } from "../../lib/live/messages.ts";
import { DatabaseSync } from "node:sqlite";
import { type TempDir, tempDir } from "../support/temp_dir.ts";

const T0 = Date.UTC(2026, 0, 1);

function openReporting(dir: string, t = T0) {
  const lines: string[] = [];
  const store = DurableStore.open({ dir, now: () => t, report: (l) => lines.push(l) });
  return { store, lines };
}

/** A minimal instance view (only the id matters to the store). */
const view = (id: string) => ({ id }) as InstanceView;

/**
 * A data directory as a SIGKILL leaves it: 50 instances, each written by its own flush
 * (one committed WAL transaction each), copied while the store is still open.
 */
function killedDir(): TempDir {
  using liveDir = tempDir("zeroapm-damage-");
  const live = liveDir.path;
  const s = DurableStore.open({ dir: live, now: () => T0 });
  for (let i = 0; i < 50; i++) {
    s.append(`svc/${i}`, "cpu.percent", T0 + i * 1000, i);
    s.touch(view(`svc/${i}`), i, T0);
    s.flush();
  }
  const killed = tempDir("zeroapm-damage-");
  Deno.copyFileSync(`${live}/zeroapm.db`, `${killed.path}/zeroapm.db`);
  Deno.copyFileSync(`${live}/zeroapm.db-wal`, `${killed.path}/zeroapm.db-wal`);
  s.close();
  return killed;
}

/** Overwrite `n` bytes at `at` in `path` with 0xA5. */
function scribble(path: string, at: number, n: number): void {
  const f = Deno.openSync(path, { read: true, write: true });
  f.seekSync(at, Deno.SeekMode.Start);
  f.writeSync(new Uint8Array(n).fill(0xa5));
  f.close();
}

Deno.test("an intact -wal after a kill is replayed whole, and nothing is reported", () => {
  using dir = killedDir();
  const { store, lines } = openReporting(dir.path);
  assert.equal(store.instances().length, 50);
  assert.deepEqual(lines, []);
  store.close();
});

Deno.test("a damaged -wal keeps what precedes the damage and says what was lost and where the copy is", () => {
  using tmp = killedDir();
  const dir = tmp.path;
  const wal = `${dir}/zeroapm.db-wal`;
  const frames = (Deno.statSync(wal).size - 32) / (24 + 16384);
  scribble(wal, 32 + Math.floor(frames / 2) * (24 + 16384) + 24 + 100, 64); // a page mid-file
  const { store, lines } = openReporting(dir);
  const kept = store.instances().length;
  assert.ok(kept > 0 && kept < 50, `kept ${kept} of 50 instances`);
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(lines[0], /zeroapm\.db-wal is damaged/);
  assert.match(lines[0], /\d+ later commits .* are lost/);
  const copy = lines[0].match(/kept as (\S+)\.$/)?.[1];
  assert.ok(copy && Deno.statSync(copy).size === Deno.statSync(`${dir}/zeroapm.db-wal`).size);
  store.append("svc/new", "cpu.percent", T0 + 60_000, 1); // and history goes on
  store.close();
});

Deno.test("a -wal with a damaged header is reported, not silently ignored", () => {
  using tmp = killedDir();
  const dir = tmp.path;
  scribble(`${dir}/zeroapm.db-wal`, 0, 8);
  const { store, lines } = openReporting(dir);
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(lines[0], /zeroapm\.db-wal is damaged \(bad header\)/);
  store.close();
});

/** A closed store with 20 series of 600 points each, sealed into chunks and rollups. */
function closedDir(): TempDir {
  const tmp = tempDir("zeroapm-damage-");
  const dir = tmp.path;
  const s = DurableStore.open({ dir, now: () => T0 + 600_000 });
  for (let k = 0; k < 20; k++) {
    for (let i = 0; i < 600; i++) s.append(`svc/${k}`, "cpu.percent", T0 + i * 1000, i % 50);
    s.touch(view(`svc/${k}`));
  }
  s.close();
  return tmp;
}

Deno.test("a main file with a damaged header is moved aside and history goes on in a new one", () => {
  using tmp = closedDir();
  const dir = tmp.path;
  scribble(`${dir}/zeroapm.db`, 0, 100);
  const { store, lines } = openReporting(dir);
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(lines[0], new RegExp(`${dir}/zeroapm\\.db is damaged`));
  const aside = lines[0].match(/moved to (\S+)\. /)?.[1];
  assert.ok(aside && Deno.statSync(aside).size > 0, `the damaged file is kept: ${aside}`);
  assert.equal(store.instances().length, 0);
  store.append("svc/new", "cpu.percent", T0 + 700_000, 1);
  store.close();
});

Deno.test("a main file with a damaged page keeps every readable row and says what was copied", () => {
  using tmp = closedDir();
  const dir = tmp.path;
  const db = new DatabaseSync(`${dir}/zeroapm.db`, { readOnly: true });
  const { rootpage } = db.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'chunks'")
    .get() as { rootpage: number };
  db.close();
  scribble(`${dir}/zeroapm.db`, (rootpage - 1) * 16384, 64); // the chunks table's page header
  const { store, lines } = openReporting(dir, T0 + 600_000);
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(lines[0], /zeroapm\.db is damaged \(/);
  assert.match(lines[0], /History goes on in a new /);
  // The other tables are whole: every series, its rollups and its instance view are kept.
  assert.match(lines[0], /series 20 rows; rounds 1 rows; chunks 0 rows \(then unreadable/);
  // A clean close keeps the newest WAL row (sealed), so WAL row ids keep rising: durable.ts.
  assert.match(lines[0], /rollups 40 rows; wal 1 rows; instances 20 rows/);
  assert.equal(store.instances().length, 20);
  const a = store.query("svc/3", "cpu.percent", T0, T0 + 600_000, 10); // from the 1-minute tier
  assert.equal(a.tier, 1);
  assert.equal(a.points.length, 10);
  store.close();
});

Deno.test("a 0-byte main file is reported, not taken silently as empty history", () => {
  using dirDir = tempDir("zeroapm-damage-");
  const dir = dirDir.path;
  Deno.writeFileSync(`${dir}/zeroapm.db`, new Uint8Array());
  const { store, lines } = openReporting(dir);
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(lines[0], /zeroapm\.db is empty \(0 bytes/);
  store.close();
});
