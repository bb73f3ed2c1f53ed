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
  // Header 8, five 12-byte entry headers; values: 2's, 5's and 4's as int32, 1's (0.1 * 3 is
  // 0.30000000000000004) and 3's (1e300 * i) as float64; times: 1's as a start and 4 int32
  // deltas, 2's (3 points) as a start and 3 deltas, 4's (1 point) as a float64.
  const values = (3 + 3 + 1) * 4 + 2 * 4 * 8;
  assert.equal(row.byteLength, 8 + 5 * 12 + values + (8 + 4 * 4) + (8 + 3 * 4) + 8);
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
    // The times' float64 start (n = 40) or first float64 (n = 3) after the entry's header.
    assert.equal(view.getFloat64(8 + 12, true), T0 + 1, "little-endian, from the first unflushed");
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

Deno.test("a truncated, unknown or corrupt WAL row is refused, not misread, and gives no point", () => {
  const row = encodeWal([
    series(1, [[T0, 1], [T0 + 1, 2], [T0 + 2, 2.5]]),
    series(2, [[T0, 3], [T0 + 1, 4], [T0 + 2, 1e300]]),
  ], 6);
  const refused = (data: Uint8Array, why: RegExp) => {
    let points = 0;
    assert.throws(() => decodeWal(data, () => points++), why);
    assert.equal(points, 0, "no point of a corrupt row");
  };
  // Entry 2's header: after the row header, entry 1 (12 + start 8 + 3 deltas + 3 int32 values).
  const second = 8 + 12 + 8 + 3 * 4 + 3 * 4;
  assert.equal(new DataView(row.buffer).getUint32(second, true), 2, "entry 2 found");
  // Cut anywhere but between entries (a row of fewer entries, as a row can be).
  for (let cut = 9; cut < row.byteLength; cut++) {
    if (cut !== second) refused(row.subarray(0, cut), /corrupt WAL row/);
  }
  const bad = row.slice();
  bad[0] = 9;
  refused(bad, /unknown version 9/);
  const edit = (at: number, byte: number) => {
    const copy = row.slice();
    copy[at] = byte;
    return copy;
  };
  refused(edit(8 + 8, 2), /unknown column kind/); // entry 1's time kind
  refused(edit(8 + 9, 2), /unknown column kind/); // its value kind
  refused(edit(8 + 10, 10), /unknown column kind/); // its decimals
  refused(edit(8 + 11, 1), /unknown column kind/); // its zero byte
  // Entry 2 shares entry 1's times, with a count that differs from its owner's.
  const odd = row.slice();
  new DataView(odd.buffer).setUint32(second + 4, 0x80000002, true);
  refused(odd, /corrupt WAL row/);
});

/** A version 2 row as stop 32's encoder wrote it: 8-byte entry headers, float64 columns. */
function rowV2(entries: Array<[id: number, times: number[] | null, values: number[]]>): Uint8Array {
  let size = 8;
  for (const [, ts, vs] of entries) size += 8 + (ts ? ts.length * 8 : 0) + vs.length * 8;
  const row = new Uint8Array(size);
  const view = new DataView(row.buffer);
  row[0] = 2;
  let at = 8;
  for (const [id, ts, vs] of entries) {
    view.setUint32(at, id, true);
    view.setUint32(at + 4, vs.length | (ts ? 0 : 0x80000000), true);
    at += 8;
    for (const x of [...ts ?? [], ...vs]) {
      view.setFloat64(at, x, true);
      at += 8;
    }
  }
  return row;
}

Deno.test("a version 2 row (float64 columns, shared times) still reads", () => {
  const row = rowV2([
    [7, [T0, T0 + 1000], [1.5, -0]],
    [8, null, [3, 1e300]], // 7's times
    [9, [T0 + 5], [0.1 + 0.2]],
  ]);
  const got = decoded(row);
  assert.deepEqual(got, [[7, T0, 1.5], [7, T0 + 1000, -0], [8, T0, 3], [8, T0 + 1000, 1e300], [
    9,
    T0 + 5,
    0.1 + 0.2,
  ]]);
  assert.ok(Object.is(got[1][2], -0));
  assert.throws(() => decodeWal(row.subarray(0, row.byteLength - 1), () => {}), /corrupt WAL row/);
});

Deno.test("version 3 columns give back every time and value bit for bit, in the smallest kind that does", () => {
  const n = 50;
  const cases: Array<[string, (i: number) => number, number]> = [
    // [what, value i, bytes a value]
    ["whole numbers", (i) => i * 4096 - 100_000, 4],
    ["int32 limits", (i) => [2 ** 31 - 1, -(2 ** 31), 0][i % 3], 4],
    ["two decimals", (i) => Math.round((3 + i * 0.37) * 100) / 100, 4],
    ["decimals rising mid-column", (i) => [7, 0.5, 0.25, 0.125, i / 1000][Math.min(i, 4)], 4],
    ["decimals rising past int32", (i) => [7, 0.5, 1e-9 * i][Math.min(i, 2)], 8],
    ["nine decimals", (i) => (i + 1) / 1e9, 4],
    ["past int32", (i) => 2 ** 31 + i, 8],
    ["past int32 once scaled", (i) => (i === 10 ? 0.5 : 2 ** 30 + i), 8],
    ["ten decimals", (i) => (i + 1) / 1e10, 8],
    ["float noise", (i) => i * 0.1 + 0.2, 8],
    ["-0", (i) => (i === 20 ? -0 : i), 8],
    ["NaN", (i) => (i === 20 ? NaN : i), 8],
    ["infinity", (i) => (i === 20 ? -Infinity : i), 8],
    ["tiny and huge", (i) => [5e-324, 1e300, -1.5][i % 3], 8],
  ];
  const timeCases: Array<[string, (i: number) => number, number]> = [
    // [what, time i, bytes of the column]
    ["ms, repeating", (i) => T0 + Math.floor(i / 10) * 67, 8 + n * 4],
    ["falling", (i) => T0 - i * 1000, 8 + n * 4],
    ["int32 deltas at the limit", (i) => (i === 1 ? T0 + 2 ** 31 - 1 : T0 - i), 8 + n * 4],
    ["past int32", (i) => T0 + i * 2 ** 26, n * 8],
    ["fractional", (i) => T0 + i * 1.5, n * 8],
    ["a fraction in common", (i) => T0 + i + 0.5, 8 + n * 4],
    ["through zero", (i) => -25 + i, n * 8],
    ["-0", (i) => (i === 0 ? -0 : i), n * 8],
    ["NaN", (i) => (i === 3 ? NaN : T0 + i), n * 8],
  ];
  for (const [vWhat, value, perValue] of cases) {
    for (const [tWhat, time, timeBytes] of timeCases) {
      const pts = Array.from({ length: n }, (_, i) => [time(i), value(i)] as [number, number]);
      const row = encodeWal([series(4, pts)], n);
      const back = decoded(row);
      assert.equal(back.length, n);
      back.forEach(([sid, t, v], i) => {
        assert.equal(sid, 4);
        assert.ok(Object.is(t, pts[i][0]), `${tWhat} times: ${t} for ${pts[i][0]} at ${i}`);
        assert.ok(Object.is(v, pts[i][1]), `${vWhat} values: ${v} for ${pts[i][1]} at ${i}`);
      });
      assert.equal(row.byteLength, 8 + 12 + timeBytes + n * perValue, `${vWhat}, ${tWhat}`);
    }
  }
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

Deno.test("a row holds every point even when the caller's point count is short", () => {
  const pts = Array.from({ length: 40 }, (_, i) => [T0 + i * 10, i * 3] as [number, number]);
  const pending = [series(1, pts), series(2, pts.map(([t], i) => [t + 1, i / 4]))];
  const want = decoded(encodeWal(pending, 80));
  assert.equal(want.length, 80);
  assert.deepEqual(decoded(encodeWal(pending, 3)), want);
  assert.deepEqual(decoded(encodeWal(pending, 3, new WalBuffer())), want);
});

Deno.test("series appended the same time columns share them by their ids, without a compare", () => {
  const times = Float64Array.from({ length: 50 }, (_, i) => T0 + i * 7);
  const other = times.map((t) => t + 1); // not the same times
  const values = Float64Array.from({ length: 50 }, (_, i) => i);
  const open = (...appends: Array<[Float64Array, number | undefined]>) => {
    const p = new OpenPoints();
    for (const [t, id] of appends) p.append(t, values, 0, t.length, id);
    return p;
  };
  const entries = (row: Uint8Array) => new Set(decoded(row).map(([sid, t]) => `${sid} ${t}`));
  // Equal ids are the caller's word that the columns are one: the second series' times are
  // not read (here they differ, so the row shows which way was taken).
  const trusted = [
    { id: 1, points: open([times, 4], [times, 5]), flushed: 0 },
    { id: 2, points: open([other, 4], [other, 5]), flushed: 0 },
  ];
  const row = encodeWal(trusted, 200);
  assert.equal(row.byteLength, 8 + 2 * 12 + (8 + 100 * 4) + 2 * 100 * 4, "one time column");
  assert.ok(entries(row).has(`2 ${times[0]}`));
  // Without ids, with other ids, or after a point pushed, the times are compared: kept apart.
  const pushed = open([other, 4]);
  pushed.push(T0, 1);
  const own = [
    [open([other, undefined]), open([times, undefined])],
    [open([other, 4]), open([times, 6])],
    [open([other, 4], [other, 5]), open([times, 4])],
    [pushed, open([times, 4])],
  ];
  for (const [a, b] of own) {
    const pending = [{ id: 1, points: b, flushed: 0 }, { id: 2, points: a, flushed: 0 }];
    const got = entries(encodeWal(pending, a.length + b.length));
    for (let i = 0; i < a.length; i++) assert.ok(got.has(`2 ${a.timeColumn[i]}`));
  }
});
