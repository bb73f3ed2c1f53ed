/**
 * The receive loop while idle (lib/transport/zmq.ts): it waits on one repeating timer, not on a
 * new timeout per try (each costs ~50-140 µs of CPU under Deno 2.9), still sees a frame within
 * a few ms after a long quiet spell or a burst, looks less often once quiet and often again after
 * a frame, and leaves no timer behind when closed (the test sanitizers fail a test that does).
 */
import assert from "node:assert/strict";
import { bindPull, QUIET_AFTER_MS } from "../../lib/transport/zmq.ts";
import { connectZmtpPush } from "../../lib/transport/zmtp/push.ts";
import { waitFor } from "../support/live.ts";
import { setImmediate } from "node:timers";

const enc = new TextEncoder();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

Deno.test("an idle receiver makes one repeating timer, not a timeout per try, and still takes frames", async () => {
  const frames: number[] = [];
  const receiver = await bindPull("tcp://127.0.0.1:*", {
    onFrame: () => frames.push(performance.now()),
  });
  const push = connectZmtpPush(receiver.endpoint);
  const real = { setTimeout: globalThis.setTimeout, setInterval: globalThis.setInterval };
  let timeouts = 0;
  let intervals = 0;
  try {
    await waitFor(() => push.trySend(enc.encode("hello")), "the first frame taken");
    await waitFor(() => frames.length === 1, "the first frame");
    // Count the timers the loop makes over 300 ms of quiet (its first idle wait is already
    // running: at most one more short timeout, then the repeating one).
    globalThis.setTimeout = ((...a: Parameters<typeof setTimeout>) => {
      timeouts++;
      return real.setTimeout(...a);
    }) as typeof setTimeout;
    globalThis.setInterval = ((...a: Parameters<typeof setInterval>) => {
      intervals++;
      return real.setInterval(...a);
    }) as typeof setInterval;
    await new Promise<void>((r) => real.setTimeout(r, 300));
    globalThis.setTimeout = real.setTimeout;
    globalThis.setInterval = real.setInterval;
    assert.ok(timeouts <= 2, `${timeouts} timeouts in 300 ms of idleness (one a try: ~60)`);
    // One at 4 ms, and one at the quiet period once 250 ms have passed with no frame.
    assert.ok(intervals <= 2, `${intervals} intervals`);
    // After the quiet spell, a frame is still seen at once (the timer wakes every ~4 ms).
    for (let round = 0; round < 3; round++) {
      const sent = performance.now();
      await waitFor(() => push.trySend(enc.encode(`after quiet ${round}`)), "the frame taken");
      await waitFor(() => frames.length === 2 + round, "the frame after the quiet spell");
      assert.ok(frames[1 + round] - sent < 100, `seen ${frames[1 + round] - sent} ms after send`);
      await sleep(50);
    }
  } finally {
    globalThis.setTimeout = real.setTimeout;
    globalThis.setInterval = real.setInterval;
    push.close();
    await receiver.close();
  }
});

Deno.test("a receiver takes a burst, goes idle, and closes with no timer left", async () => {
  // Every interval made is cleared by the end (tracked here: the sanitizer does not see them).
  const real = { setInterval: globalThis.setInterval, clearInterval: globalThis.clearInterval };
  const live = new Set<unknown>();
  globalThis.setInterval = ((...a: Parameters<typeof setInterval>) => {
    const id = real.setInterval(...a);
    live.add(id);
    return id;
  }) as typeof setInterval;
  globalThis.clearInterval = ((id?: ReturnType<typeof setInterval>) => {
    live.delete(id);
    real.clearInterval(id);
  }) as typeof clearInterval;
  let count = 0;
  try {
    const receiver = await bindPull("tcp://127.0.0.1:*", { onFrame: () => count++ });
    const push = connectZmtpPush(receiver.endpoint);
    try {
      for (let burst = 0; burst < 2; burst++) {
        let sent = 0;
        while (sent < 2000) {
          if (await push.trySend(enc.encode(`frame ${sent}`))) sent++;
          else await sleep(1);
        }
        await waitFor(() => count === 2000 * (burst + 1), "every frame of the burst");
        await sleep(30); // idle: the repeating timer runs
      }
    } finally {
      push.close();
      await receiver.close();
    }
  } finally {
    globalThis.setInterval = real.setInterval;
    globalThis.clearInterval = real.clearInterval;
    for (const id of live) real.clearInterval(id as ReturnType<typeof setInterval>);
  }
  assert.equal(count, 4000);
  assert.equal(live.size, 0, "the idle timer is cleared on close");
});

Deno.test("a receiver quiet past QUIET_AFTER_MS looks less often, and often again after a frame", async () => {
  const frames: number[] = [];
  const real = globalThis.setInterval;
  const periods: number[] = [];
  globalThis.setInterval = ((fn: () => void, ms?: number) => {
    periods.push(ms ?? 0);
    return real(fn, ms);
  }) as typeof setInterval;
  const receiver = await bindPull("tcp://127.0.0.1:*", {
    onFrame: () => frames.push(performance.now()),
    maxIdleMs: 4,
    quietIdleMs: 40,
  });
  const push = connectZmtpPush(receiver.endpoint);
  try {
    await waitFor(() => push.trySend(enc.encode("first")), "the first frame taken");
    await waitFor(() => frames.length === 1, "the first frame");
    await waitFor(() => periods.at(-1) === 4, "the fast idle timer");
    await waitFor(() => periods.at(-1) === 40, "the quiet idle timer", QUIET_AFTER_MS + 1000);
    assert.ok(
      performance.now() - frames[0] >= QUIET_AFTER_MS,
      "the quiet timer comes only after QUIET_AFTER_MS with no frame",
    );
    // A frame after the quiet spell is seen within the quiet period (and scheduling slack),
    // and the loop goes back to the fast timer for what may follow it.
    const sent = performance.now();
    await waitFor(() => push.trySend(enc.encode("after quiet")), "the frame taken");
    await waitFor(() => frames.length === 2, "the frame after the quiet spell");
    assert.ok(frames[1] - sent < 200, `seen ${frames[1] - sent} ms after send`);
    await waitFor(() => periods.at(-1) === 4, "the fast idle timer again");
  } finally {
    globalThis.setInterval = real;
    push.close();
    await receiver.close();
  }
});

Deno.test("a receiver calls beforeWait before anything else runs, with burstEnd once a burst ends", async () => {
  let count = 0;
  let burstEnds = 0;
  /** Frames read since the last beforeWait: what the collector's ingest would still hold. */
  let unflushed = 0;
  let seenUnflushed = 0;
  let looks = 0;
  let held: Promise<void> | null = null;
  let release = () => {};
  const receiver = await bindPull("tcp://127.0.0.1:*", {
    onFrame: () => {
      count++;
      unflushed++;
      const until = performance.now() + 0.02; // 20 µs a frame: a burst is read back to back
      while (performance.now() < until) { /* a slow ingest */ }
    },
    beforeWait: (burstEnd) => {
      unflushed = 0;
      if (burstEnd) burstEnds++;
    },
    backpressure: () => held, // held while a burst is queued, so it is read back to back
  });
  const push = connectZmtpPush(receiver.endpoint);
  // Anything else (a callback here, an HTTP request in the collector) never sees frames
  // unflushed; 2 x 700 frames cross zeromq.js's 512 reads at once (zmq.ts `receiving`).
  let watching = true;
  const watch = () => {
    looks++;
    if (unflushed > 0) seenUnflushed++;
    if (watching) setImmediate(watch); // every turn of the event loop
  };
  watch();
  const burst = async () => {
    held = new Promise<void>((r) => release = r);
    const before = count;
    let sent = 0;
    while (sent < 700) {
      if (await push.trySend(enc.encode(`frame ${sent}`))) sent++;
      else await sleep(1);
    }
    held = null;
    release();
    await waitFor(() => count === before + 700, "the burst read");
  };
  try {
    await waitFor(() => push.trySend(enc.encode("first")), "the first frame taken");
    await waitFor(() => count === 1, "the first frame");
    await burst();
    await waitFor(() => burstEnds === 1, "burstEnd after the burst");
    // Lone frames, each after a pause: no burst ends.
    for (let i = 0; i < 3; i++) {
      await waitFor(() => push.trySend(enc.encode(`lone ${i}`)), "a lone frame taken");
      await waitFor(() => count === 702 + i, "the lone frame");
      await sleep(30);
    }
    assert.equal(burstEnds, 1, "no burstEnd after lone frames");
    await burst();
    await waitFor(() => burstEnds === 2, "burstEnd after the second burst");
    assert.equal(seenUnflushed, 0, `frames unflushed in ${seenUnflushed} of ${looks} timer runs`);
    assert.ok(looks > 10);
  } finally {
    watching = false;
    release();
    push.close();
    await receiver.close();
  }
});
