/**
 * The collector's `beforeWait`: held frames are handed on before every wait, and a burst's
 * end ticks history early, at most once per BURST_TICK_MS, showing the durable mark after.
 */
import assert from "node:assert/strict";
import { beforeWaitFor, BURST_TICK_MS } from "../../lib/collector/burst_end.ts";

function parts() {
  let clock = 1_000_000;
  const seen = { flushes: 0, ticks: 0, marks: [] as number[], errors: [] as unknown[] };
  const history = {
    durable: 0,
    tick() {
      seen.ticks++;
      this.durable = clock;
      return Promise.resolve();
    },
  };
  const beforeWait = beforeWaitFor({
    ingest: { flush: () => void seen.flushes++ },
    history,
    durable: (mark) => seen.marks.push(mark),
    now: () => clock,
    onError: (e) => seen.errors.push(e),
  });
  return { beforeWait, seen, advance: (ms: number) => void (clock += ms) };
}

Deno.test("every wait hands on the held frames; only a burst's end ticks history", async () => {
  const { beforeWait, seen } = parts();
  beforeWait(false);
  beforeWait(false);
  assert.equal(seen.flushes, 2);
  assert.equal(seen.ticks, 0);
  beforeWait(true);
  assert.equal(seen.flushes, 3);
  assert.equal(seen.ticks, 1);
  await Promise.resolve();
  assert.deepEqual(seen.marks, [1_000_000]);
});

Deno.test("bursts ending close together tick history once per BURST_TICK_MS", () => {
  const { beforeWait, seen, advance } = parts();
  for (let i = 0; i < 50; i++) {
    beforeWait(true);
    advance(10); // a burst ends every 10 ms for half a second
  }
  assert.equal(seen.flushes, 50);
  assert.equal(seen.ticks, Math.ceil(500 / BURST_TICK_MS));
});

Deno.test("a failed hand-on is reported and the burst's tick still runs", () => {
  const { seen } = parts();
  let ticks = 0;
  const beforeWait = beforeWaitFor({
    ingest: {
      flush: () => {
        throw new Error("bad rows");
      },
    },
    history: { durable: 0, tick: () => (ticks++, Promise.resolve()) },
    durable: () => {},
    now: () => 0,
    onError: (e) => seen.errors.push(e),
  });
  beforeWait(true);
  assert.equal((seen.errors[0] as Error).message, "bad rows");
  assert.equal(ticks, 1);
});
