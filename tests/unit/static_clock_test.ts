import assert from "node:assert/strict";
import { ClockSync } from "../../static/clock.ts";

Deno.test("ClockSync takes the first offset, smooths jitter and resets on a jump", () => {
  let local = 1_000_000;
  const clock = new ClockSync({ local: () => local, alpha: 0.5, jumpMs: 1000 });
  assert.equal(clock.synced, false);
  assert.equal(clock.offsetMs, 0);
  clock.observe(local + 5000); // collector 5 s ahead of the browser
  assert.equal(clock.synced, true);
  assert.equal(clock.offsetMs, 5000);
  clock.observe(local + 5100); // jitter: blended
  assert.equal(clock.offsetMs, 5050);
  assert.equal(clock.now(), local + 5050);
  local += 10_000;
  clock.observe(local - 60_000); // a new collector with another clock: replaced
  assert.equal(clock.offsetMs, -60_000);
});

Deno.test("ClockSync ignores frames without a usable now", () => {
  const clock = new ClockSync({ local: () => 0 });
  clock.observe(Number.NaN);
  clock.observe(undefined as unknown as number);
  assert.equal(clock.synced, false);
});
