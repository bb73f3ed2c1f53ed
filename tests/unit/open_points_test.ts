/** A series' open points (lib/store/open_points.ts): growable columns the seal reads in place. */
import assert from "node:assert/strict";
import { OpenPoints } from "../../lib/store/open_points.ts";
import { DurableStore } from "../../lib/store/durable.ts";
import { tempDir } from "../support/temp_dir.ts";
import { prng } from "../support/fuzz.ts";

Deno.test("open points keep every point appended, pushed and left after drops, in order", () => {
  const rnd = prng(7);
  const p = new OpenPoints();
  const want: Array<[number, number]> = [];
  let next = 0;
  for (let round = 0; round < 300; round++) {
    const r = rnd();
    if (r < 0.4) {
      // A hand-over: a Float64Array batch (or a plain array), copied in from an offset.
      const n = Math.floor(rnd() * 3000);
      const from = Math.floor(rnd() * 3);
      const times = Array.from({ length: n + from }, (_, i) => next + i);
      const values = times.map((t) => t * 0.5);
      const typed = rnd() < 0.5;
      p.append(
        typed ? Float64Array.from(times) : times,
        typed ? Float64Array.from(values) : values,
        from,
      );
      for (let i = from; i < n + from; i++) want.push([times[i], values[i]]);
      next += n + from;
    } else if (r < 0.6) {
      p.push(next, -next);
      want.push([next, -next]);
      next++;
    } else {
      // A seal: most of what is held, or all of it (capacity is given back), or a little.
      const k = Math.floor(want.length * [1, 0.9, 0.1][Math.floor(rnd() * 3)]);
      p.dropFirst(k);
      want.splice(0, k);
    }
    assert.equal(p.length, want.length);
    assert.deepEqual([...p.times], want.map((x) => x[0]));
    assert.deepEqual([...p.values], want.map((x) => x[1]));
  }
});

Deno.test("points in time order are read in place; late ones come back sorted, stably", () => {
  const p = new OpenPoints();
  p.append(Float64Array.of(1, 2, 2, 3), Float64Array.of(10, 20, 21, 30));
  const [t, v] = p.inTimeOrder(3);
  assert.deepEqual([...t], [1, 2, 2]);
  assert.deepEqual([...v], [10, 20, 21]);
  assert.equal(t.buffer, p.times.buffer, "a view, not a copy");
  const q = new OpenPoints();
  q.append([5, 3, 4, 3, 1, 9], [50, 30, 40, 31, 10, 90]);
  const [st, sv] = q.inTimeOrder(5);
  assert.deepEqual([...st], [1, 3, 3, 4, 5]);
  assert.deepEqual([...sv], [10, 30, 31, 40, 50]);
  assert.deepEqual([...q.times], [5, 3, 4, 3, 1, 9], "the held points stay as they came");
});

Deno.test("a time column shared in a round stays right when its owner's points move before the next step", () => {
  using dirDir = tempDir("zeroapm-open-points-");
  const T0 = Date.UTC(2026, 0, 1);
  const clock = { t: T0 };
  // One series per seal step: x (another instance), then a's, then b's.
  const s = DurableStore.open({
    dir: dirDir.path,
    now: () => clock.t,
    sealEveryMs: 60_000,
    sealBatch: 1,
  });
  s.append("svc/x", "m", T0, 1);
  for (let i = 0; i < 3; i++) s.append("svc/y", "a", T0 + i, i);
  for (let i = 0; i < 3; i++) s.append("svc/y", "b", T0 + 4 + i, 100 + i);
  clock.t = T0 + 60_000;
  s.tick(); // the round starts; x is sealed
  // a's later points: a's seal moves them to the front of its columns, where the round's
  // record of a's sealed times would see them if it were a view: b's very times.
  for (let i = 0; i < 4; i++) s.append("svc/y", "a", T0 + 4 + i, 50 + i);
  s.tick(); // a: its 3 points sealed
  s.tick(); // b: must store its own times, not name a's
  const b = s.query("svc/y", "b", T0, T0 + 10, 10);
  assert.deepEqual(b.points.map((p) => [p[0], p[2]]), [[T0 + 4, 100], [T0 + 5, 101], [
    T0 + 6,
    102,
  ]]);
  const a = s.query("svc/y", "a", T0, T0 + 10, 10);
  assert.deepEqual(a.points.map((p) => p[2]), [0, 1, 2, 50, 51, 52, 53]);
  s.close();
});

Deno.test("a round that took most of the columns keeps them; a small one gives memory back", () => {
  const p = new OpenPoints();
  const n = 10_000;
  p.append(Float64Array.from({ length: n }, (_, i) => i), new Float64Array(n));
  p.push(n, 1);
  const cap = p.timeColumn.length; // 2n: grown by doubling
  p.dropFirst(n); // a flood's round: the next one will need as much
  assert.equal(p.timeColumn.length, cap);
  assert.deepEqual([...p.times], [n]);
  assert.deepEqual([...p.values], [1]);
  for (let i = 0; i < 100; i++) p.push(n + 1 + i, 2);
  p.dropFirst(100); // the flood is over: a quarter of it
  assert.equal(p.timeColumn.length, cap >> 2);
  assert.deepEqual([...p.times], [n + 100]);
});

Deno.test("open points name the time columns appended since the last flush, and forget them on push", () => {
  const t = Float64Array.of(1, 2, 3);
  const p = new OpenPoints();
  assert.deepEqual(p.timesIds, []);
  p.append(t, t, 0, 3, 7);
  p.append(t, t, 0, 3, 8);
  assert.deepEqual(p.timesIds, [7, 8]);
  assert.equal(p.markFlushed(), 6, "returns the points held");
  assert.deepEqual(p.timesIds, [], "a flush starts the list afresh");
  p.append(t, t, 0, 3, 9);
  p.append(t, t, 1, 3, 9); // part of a column: its id does not name it
  assert.equal(p.timesIds, null);
  p.markFlushed();
  p.append(t, t, 0, 3, 9);
  p.append(t, t); // no id
  assert.equal(p.timesIds, null);
  p.markFlushed();
  p.append(t, t, 0, 3, 9);
  p.push(4, 4);
  assert.equal(p.timesIds, null);
  p.append(t, t, 0, 3, 10);
  assert.equal(p.timesIds, null, "stays unknown until the next flush");
  p.markFlushed();
  p.dropFirst(5);
  p.append(t, t, 0, 3, 11);
  assert.deepEqual(p.timesIds, [11]);
});
