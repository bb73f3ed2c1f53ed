/** Queueing delay at arrival: last-minute percentiles from binned counts. */
import assert from "node:assert/strict";
import { QueueDelay } from "../../lib/collector/queue_delay.ts";

const T0 = 1_700_000_000_000;

Deno.test("queue delay summary is empty before any frame", () => {
  const q = new QueueDelay();
  assert.deepEqual(q.summary(T0), { count: 0, p50: null, p99: null, max: null, windowMs: 60_000 });
});

Deno.test("queue delay gives p50, p99 and max to 1 ms below a second", () => {
  const q = new QueueDelay();
  for (let i = 0; i < 98; i++) q.observe(2.4, T0);
  q.observe(40.2, T0);
  q.observe(700, T0);
  const s = q.summary(T0);
  assert.equal(s.count, 100);
  assert.equal(s.p50, 3); // the upper edge of the [2, 3) ms bin
  assert.equal(s.p99, 41);
  assert.equal(s.max, 700);
});

Deno.test("queue delay clamps negative delays to 0 and bins long ones by 100 ms", () => {
  const q = new QueueDelay();
  q.observe(-3, T0);
  q.observe(2_345, T0);
  const s = q.summary(T0);
  assert.equal(s.p50, 1);
  assert.equal(s.p99, 2_345, "capped at the max seen, not the bin's upper edge 2 400");
  assert.equal(q.sumMs, 2_345);
});

Deno.test("queue delay forgets what is older than a minute", () => {
  const q = new QueueDelay();
  q.observe(500, T0);
  q.observe(5, T0 + 30_000);
  assert.equal(q.summary(T0 + 30_000).max, 500);
  const later = q.summary(T0 + 70_000);
  assert.equal(later.count, 1);
  assert.equal(later.max, 5);
  assert.equal(q.summary(T0 + 200_000).count, 0);
  assert.equal(q.total, 2, "the running total keeps every frame");
});
