/** WAL rows (lib/store/wal.ts): what a flush writes reads back point for point, old rows too. */
import assert from "node:assert/strict";
import { decodeWal, encodeWal, WalBuffer, type WalSeries } from "../../lib/store/wal.ts";
import { OpenPoints } from "../../lib/store/open_points.ts";

function series(id: number, points: Array<[number, number]>, flushed = 0): WalSeries {
  const p = new OpenPoints();
  for (const [t, v] of points) p.push(t, v);
  return { id, points: p, flushed };
}

function decoded(row: Uint8Array): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  decodeWal(row, (sid, t, v) => out.push([sid, t, v]));
  return out;
}

const T0 = Date.UTC(2026, 0, 1);

Deno.test("a WAL row gives back every point to write, in order, and stores shared times once", () => {
  const times = [T0, T0 + 1000, T0 + 1000, T0 + 2003];
  const pending = [
    series(1, times.map((t, i) => [t, i * 0.1])),
    series(3, times.map((t, i) => [t, 1e300 * i])), // 1's times
    series(2, times.map((t, i) => [t, -i]), 1), // one point already in an earlier row: its own
    series(5, times.map((t, i) => [t, i]), 1), // 2's times
    series(4, [[T0 + 5, 7]]), // its own
  ];
  const points = pending.reduce((n, s) => n + s.points.length - s.flushed, 0);
  const row = encodeWal(pending, points);
  const want: Array<[number, number, number]> = [];
  for (const s of pending) {
    for (let i = s.flushed; i < s.points.length; i++) {
      want.push([s.id, s.points.timeColumn[i], s.points.valueColumn[i]]);
    }
  }
  assert.deepEqual(decoded(row), want);
  // Header 8, five entry headers, 15 values, the time columns of 1 (4 points), 2 (3) and 4 (1).
  assert.equal(row.byteLength, 8 + 5 * 8 + 15 * 8 + (4 + 3 + 1) * 8);
});

Deno.test("columns copied whole and value by value give the same row, bit for bit", () => {
  // Few points take the value-by-value path, many the whole-column copy: both little-endian.
  for (const n of [3, 40]) {
    const pts = Array.from(
      { length: n },
      (_, i) => [T0 + i, [-0, 5e-324, -1.5, 1e308, i / 3][i % 5]] as [number, number],
    );
    const typed = encodeWal([series(9, pts, 1)], n - 1);
    const plain = encodeWal([{
      id: 9,
      flushed: 1,
      points: { length: n, timeColumn: pts.map((p) => p[0]), valueColumn: pts.map((p) => p[1]) },
    }], n - 1);
    assert.deepEqual(plain, typed);
    const view = new DataView(typed.buffer);
    assert.equal(view.getFloat64(8 + 8, true), T0 + 1, "little-endian, from the first unflushed");
    const back = decoded(typed);
    assert.equal(back.length, n - 1);
    back.forEach(([, t, v], i) => {
      assert.equal(t, pts[i + 1][0]);
      assert.ok(Object.is(v, pts[i + 1][1]), `value ${i} kept bit for bit`);
    });
  }
});

Deno.test("a version 1 row (16 bytes a point, big-endian) still reads", () => {
  const row = new Uint8Array(1 + 2 * 8 + 3 * 16);
  const view = new DataView(row.buffer);
  row[0] = 1;
  let at = 1;
  for (const [sid, pts] of [[7, [[T0, 1.5], [T0 + 1000, 2]]], [8, [[T0, 3]]]] as const) {
    view.setUint32(at, sid);
    view.setUint32(at + 4, pts.length);
    at += 8;
    for (const [t, v] of pts) {
      view.setFloat64(at, t);
      view.setFloat64(at + 8, v);
      at += 16;
    }
  }
  assert.deepEqual(decoded(row), [[7, T0, 1.5], [7, T0 + 1000, 2], [8, T0, 3]]);
});

Deno.test("a truncated or unknown WAL row is refused, not misread", () => {
  const row = encodeWal([series(1, [[T0, 1], [T0 + 1, 2]]), series(2, [[T0, 3], [T0 + 1, 4]])], 4);
  for (const cut of [row.byteLength - 1, row.byteLength - 8, 8 + 4]) {
    assert.throws(() => decodeWal(row.subarray(0, cut), () => {}), /corrupt WAL row/);
  }
  const bad = row.slice();
  bad[0] = 9;
  assert.throws(() => decodeWal(bad, () => {}), /unknown version 9/);
  // A shared-times entry whose count differs from its owner's.
  const odd = row.slice();
  new DataView(odd.buffer).setUint32(8 + 8 + 4 * 8, 2, true); // entry 2's id word, then count
  new DataView(odd.buffer).setUint32(8 + 8 + 4 * 8 + 4, 0x80000001, true);
  assert.throws(() => decodeWal(odd, () => {}), /corrupt WAL row/);
});

Deno.test("rows encoded into a kept buffer are the rows encoded alone, a big one then a small one", () => {
  const into = new WalBuffer();
  const big = Array.from({ length: 300 }, (_, i) => [T0 + i * 10, i * 0.5] as [number, number]);
  const rows = [
    [series(1, big), series(2, big.map(([t], i) => [t, -i]))],
    [series(3, [[T0, 1], [T0 + 1, 2]])],
    [series(4, big.slice(0, 40), 7), series(5, big.slice(0, 40).map(([t]) => [t + 1, 3]), 7)],
  ];
  for (const pending of rows) {
    const points = pending.reduce((n, s) => n + s.points.length - s.flushed, 0);
    const alone = encodeWal(pending, points);
    const kept = encodeWal(pending, points, into);
    assert.deepEqual(kept, alone);
    assert.equal(kept.buffer, into.bytes.buffer, "written into the kept buffer");
    assert.deepEqual(decoded(kept), decoded(alone));
  }
});
