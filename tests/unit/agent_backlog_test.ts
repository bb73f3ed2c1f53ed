import assert from "node:assert/strict";
import { createBacklog, INITIAL_CAPACITY } from "../../lib/agent/backlog.ts";

Deno.test("backlog hands items out oldest first", () => {
  const b = createBacklog<number>(10);
  for (let i = 0; i < 5; i++) b.push(i);
  assert.deepEqual(b.size, 5);
  assert.deepEqual(b.take(2), [0, 1]);
  b.push(5);
  assert.deepEqual(b.take(100), [2, 3, 4, 5]);
  assert.deepEqual(b.size, 0);
  assert.deepEqual(b.take(3), []);
});

Deno.test("backlog drops the oldest item when full and counts it", () => {
  const b = createBacklog<number>(3);
  assert.deepEqual([b.push(1), b.push(2), b.push(3)], [false, false, false]);
  assert.deepEqual(b.push(4), true);
  assert.deepEqual(b.push(5), true);
  assert.deepEqual(b.size, 3);
  assert.deepEqual(b.dropped, 2);
  assert.deepEqual(b.take(10), [3, 4, 5]);
});

Deno.test("backlog never holds more than its limit across wrap-arounds", () => {
  const b = createBacklog<number>(4);
  for (let i = 0; i < 1000; i++) {
    b.push(i);
    if (i % 3 === 0) b.take(1);
    if (b.size > 4) throw new Error(`size ${b.size} exceeds the limit`);
  }
  const left = b.take(10);
  assert.deepEqual(left, [997, 998, 999]); // the take after pushing 999 removed 996
  assert.deepEqual(b.dropped + left.length + Math.ceil(1000 / 3), 1000);
});

Deno.test("backlog restore puts taken items back in front, in order", () => {
  const b = createBacklog<number>(10);
  for (let i = 0; i < 6; i++) b.push(i);
  const taken = b.take(4);
  b.push(6);
  b.restore(taken);
  assert.deepEqual(b.take(100), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(b.dropped, 0);
});

Deno.test("backlog restore drops the oldest restored items that no longer fit and counts them", () => {
  const b = createBacklog<number>(5);
  for (let i = 0; i < 5; i++) b.push(i);
  const taken = b.take(3); // [0, 1, 2]
  b.push(5);
  b.push(6); // 3, 4, 5, 6: one free slot
  b.restore(taken);
  assert.deepEqual(b.size, 5);
  assert.deepEqual(b.dropped, 2);
  assert.deepEqual(b.take(100), [2, 3, 4, 5, 6]);
});

Deno.test("backlog keeps its order when the ring grows while wrapped around", () => {
  const b = createBacklog<number>(100);
  for (let i = 0; i < 10; i++) b.push(i);
  assert.deepEqual(b.take(6), [0, 1, 2, 3, 4, 5]); // the oldest is now mid-ring
  for (let i = 10; i < 10 + 3 * INITIAL_CAPACITY; i++) b.push(i); // wraps, then grows twice
  assert.deepEqual(b.dropped, 0);
  assert.deepEqual(b.take(1000), Array.from({ length: 4 + 3 * INITIAL_CAPACITY }, (_, i) => i + 6));
});

Deno.test("backlog restore grows the ring and keeps the order", () => {
  const b = createBacklog<number>(50);
  for (let i = 0; i < INITIAL_CAPACITY - 2; i++) b.push(i);
  const taken = b.take(10);
  for (let i = INITIAL_CAPACITY - 2; i < INITIAL_CAPACITY + 8; i++) b.push(i); // wrapped, full
  b.restore(taken); // needs more than the first ring
  assert.deepEqual(b.size, INITIAL_CAPACITY + 8);
  assert.deepEqual(b.take(1000), Array.from({ length: INITIAL_CAPACITY + 8 }, (_, i) => i));
});

Deno.test("backlog grown to its limit drops the oldest as before", () => {
  const b = createBacklog<number>(INITIAL_CAPACITY * 2 + 3);
  for (let i = 0; i < 200; i++) b.push(i);
  assert.deepEqual(b.size, INITIAL_CAPACITY * 2 + 3);
  assert.deepEqual(b.dropped, 200 - b.size);
  assert.deepEqual(b.take(1000)[0], 200 - (INITIAL_CAPACITY * 2 + 3));
});

Deno.test("backlog rejects a limit below one", () => {
  assert.throws(() => createBacklog(0), RangeError);
  assert.throws(() => createBacklog(1.5), RangeError);
});
