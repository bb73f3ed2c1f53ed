/** HistoryBatch: what ingest hands durable history, in typed columns, each series in order. */
import assert from "node:assert/strict";
import { eachSeries, HistoryBatch, type HistoryBlock } from "../../lib/collector/history_batch.ts";
import type { PlacedSample } from "../../lib/collector/instances.ts";

/** Every series' points as the history thread reads the blocks, in block order. */
function bySeries(blocks: HistoryBlock[]): Record<string, Array<[number, number]>> {
  const out: Record<string, Array<[number, number]>> = {};
  for (const block of blocks) {
    eachSeries(block, (metric, times, values) => {
      const to = out[`${block[0]} ${metric}`] ??= [];
      times.forEach((t, i) => to.push([t, values[i]]));
    });
  }
  return out;
}

/** `n` samples from time `t`, each with `keys` in order; values `base + row * 10 + column`. */
function frame(keys: string[], t: number, n: number, base = 0): PlacedSample[] {
  return Array.from({ length: n }, (_, r) => ({
    t: t + r,
    metrics: Object.fromEntries(keys.map((k, j) => [k, base + (t + r) * 10 + j])),
  }));
}

Deno.test("history batch: many frames of one instance grow one block, every column in order", () => {
  const keys = ["a", "b", "c"];
  const b = new HistoryBatch();
  // 3 rows at a time from a start of 8: the block grows (columns moved) again and again.
  for (let f = 0; f < 1000; f++) b.appendFrame("i1", keys, frame(keys, f * 3, 3));
  assert.equal(b.points, 9000);
  const taken = b.take();
  assert.equal(taken.points, 9000);
  assert.equal(taken.blocks.length, 1, "one time column for the instance's series");
  const got = bySeries(taken.blocks);
  for (const [j, k] of keys.entries()) {
    assert.deepEqual(got[`i1 ${k}`], Array.from({ length: 3000 }, (_, t) => [t, t * 10 + j]));
  }
  assert.equal(b.points, 0, "take empties the batch");
  assert.deepEqual(b.take().blocks, []);
});

Deno.test("history batch: frames and single points of one instance keep each series' order", () => {
  const b = new HistoryBatch();
  b.appendFrame("i1", ["x", "y"], frame(["x", "y"], 0, 2)); // t 0, 1
  b.append("i1", "x", 2, 20); // the general path: a new series joins...
  b.append("i1", "z", 2, 22);
  b.append("i1", "x", 3, 30);
  b.appendFrame("i2", ["x"], frame(["x"], 0, 1, 1000)); // another instance between
  b.appendFrame("i1", ["x", "y"], frame(["x", "y"], 4, 2)); // t 4, 5: a new block, after
  b.appendFrame("i1", ["x", "y"], frame(["x", "y"], 6, 1)); // same keys: the same block
  b.appendFrame("i1", ["y", "x"], frame(["y", "x"], 7, 1)); // other order: a new block
  b.append("i1", "y", 8, 80);
  const { blocks, points } = b.take();
  assert.equal(points, 4 + 3 + 1 + 4 + 2 + 2 + 1);
  assert.deepEqual(blocks.map((x) => [x[0], x[1].join(), x[2].length]), [
    ["i1", "x,y", 2],
    ["i1", "x", 2],
    ["i1", "z", 1],
    ["i2", "x", 1],
    ["i1", "x,y", 3],
    ["i1", "y,x", 1],
    ["i1", "y", 1],
  ]);
  const got = bySeries(blocks);
  assert.deepEqual(got["i1 x"], [[0, 0], [1, 10], [2, 20], [3, 30], [4, 40], [5, 50], [6, 60], [
    7,
    71,
  ]]);
  assert.deepEqual(got["i1 y"], [[0, 1], [1, 11], [4, 41], [5, 51], [6, 61], [7, 70], [8, 80]]);
  assert.deepEqual(got["i1 z"], [[2, 22]]);
  assert.deepEqual(got["i2 x"], [[0, 1000]]);
});

Deno.test("history batch: taken blocks copy whole, and an instance's next frames reuse its buffers", () => {
  const b = new HistoryBatch();
  for (let f = 0; f < 5; f++) b.appendFrame("i1", ["a", "b"], frame(["a", "b"], f * 7, 7));
  for (let t = 0; t < 20; t++) b.append("i1", "c", t, t);
  const taken = b.take();
  const want = bySeries(taken.blocks);
  // postMessage's structured clone, no transfer list: the thread gets copies.
  const copied = structuredClone(taken.blocks);
  assert.deepEqual(bySeries(copied), want);
  // The next hand-over's frames of i1 are written over the same buffers (no new ArrayBuffer a
  // hand-over on the main isolate), and the copy does not change.
  b.appendFrame("i1", ["a", "b"], frame(["a", "b"], 100, 1));
  const next = b.take().blocks;
  assert.deepEqual(bySeries(next), { "i1 a": [[100, 1000]], "i1 b": [[100, 1001]] });
  assert.equal(next[0][2].buffer, taken.blocks[0][2].buffer, "times reused");
  assert.equal(next[0][3].buffer, taken.blocks[0][3].buffer, "values reused");
  assert.deepEqual(bySeries(copied), want);
  // Other keys start a block of their own.
  b.appendFrame("i1", ["a"], frame(["a"], 200, 1));
  assert.notEqual(b.take().blocks[0][2].buffer, next[0][2].buffer);
});

Deno.test("history batch: an empty frame adds nothing", () => {
  const b = new HistoryBatch();
  b.appendFrame("i1", ["a"], []);
  assert.equal(b.points, 0);
  assert.deepEqual(b.take().blocks, []);
});

Deno.test("history batch: an instance's frame block starts as big as its last hand-over's", () => {
  const keys = ["a", "b"];
  const b = new HistoryBatch();
  const hand = (instances: string[], frames: number) => {
    for (let f = 0; f < frames; f++) {
      for (const i of instances) b.appendFrame(i, keys, frame(keys, f * 100, 100));
    }
    return b.take().blocks;
  };
  // Capacity is the values buffer's: rows x keys x 8 bytes.
  const rowsOf = (block: HistoryBlock) => block[3].length / keys.length;
  const first = hand(["i1", "i2"], 30); // 100 rows, grown by doubling to 3 200
  assert.deepEqual(first.map(rowsOf), [3200, 3200]);
  const second = hand(["i1"], 30); // i1's last block again: room for all of them at once
  assert.deepEqual(second.map(rowsOf), [3200]);
  assert.deepEqual(bySeries(second)["i1 b"].slice(-1), [[2999, 29991]]);
  // i2 was not in the last hand-over: forgotten, it starts from its frame again.
  const third = hand(["i1", "i2"], 1);
  assert.deepEqual(third.map(rowsOf), [3200, 100]);
  // A larger hand-over than the last still grows, and what it holds stays in order.
  const fourth = hand(["i1"], 40);
  assert.deepEqual(fourth.map(rowsOf), [6400]); // 3 200 (i1's block), then doubled once
  const rows = bySeries(fourth)["i1 a"];
  assert.deepEqual(rows, Array.from({ length: 4000 }, (_, t) => [t, t * 10]));
});
