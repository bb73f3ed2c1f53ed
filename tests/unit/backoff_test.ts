/** The shared back-off: doubling to a cap, reset, jitter bounds, and Retry-After. */
import assert from "node:assert/strict";
import { createBackoff, retryAfterMs } from "../../lib/backoff.ts";

Deno.test("back-off doubles from min to max and starts again after reset", () => {
  const b = createBackoff({ minMs: 100, maxMs: 1000 });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [
    100,
    200,
    400,
    800,
    1000,
    1000,
  ]);
  assert.equal(b.attempt, 6);
  b.reset();
  assert.equal(b.next(), 100);
});

Deno.test("back-off jitter spreads each delay within its band", () => {
  const low = createBackoff({ minMs: 1000, maxMs: 8000, jitter: 0.5, random: () => 0 });
  const high = createBackoff({ minMs: 1000, maxMs: 8000, jitter: 0.5, random: () => 0.999999 });
  assert.deepEqual([low.next(), low.next()], [750, 1500]);
  assert.deepEqual([high.next(), high.next()], [1250, 2500]);
});

Deno.test("back-off stays finite and capped after a very long outage", () => {
  const b = createBackoff({ minMs: 1, maxMs: 2000 });
  let last = 0;
  for (let i = 0; i < 10_000; i++) last = b.next();
  assert.equal(last, 2000);
});

Deno.test("retryAfterMs reads seconds and HTTP dates, refuses garbage, caps and floors", () => {
  const now = Date.parse("2026-12-03T10:00:00Z");
  assert.equal(retryAfterMs("7", now), 7000);
  assert.equal(retryAfterMs(" 0 ", now), 0);
  assert.equal(retryAfterMs("Thu, 03 Dec 2026 10:00:30 GMT", now), 30_000);
  assert.equal(retryAfterMs("Thu, 03 Dec 2026 09:00:00 GMT", now), 0, "a date in the past");
  assert.equal(retryAfterMs("86400", now), 300_000, "capped at five minutes");
  assert.equal(retryAfterMs("soon", now), null);
  assert.equal(retryAfterMs("-5", now), null);
  assert.equal(retryAfterMs(null, now), null);
});
