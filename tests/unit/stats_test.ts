/** Collector stats: every refusal counted, each reason logged at most once a minute. */
import assert from "node:assert/strict";
import { CollectorStats, REFUSAL_REASONS } from "../../lib/collector/stats.ts";
import { REJECT_REASONS } from "../../lib/protocol.ts";

function setup(logEveryMs?: number) {
  let t = 1_000_000;
  const lines: string[] = [];
  const stats = new CollectorStats({
    now: () => t,
    log: (l) => lines.push(l),
    ...(logEveryMs === undefined ? {} : { logEveryMs }),
  });
  return { stats, lines, advance: (ms: number) => (t += ms) };
}

Deno.test("stats start with every refusal reason at zero", () => {
  const { stats } = setup();
  assert.deepEqual(Object.keys(stats.refused).sort(), [...REFUSAL_REASONS].sort());
  for (const r of [...REJECT_REASONS, "instance_limit", "series_limit"] as const) {
    assert.equal(stats.refused[r], 0, r);
  }
  assert.equal(stats.refusedTotal, 0);
  assert.equal(stats.started, 1_000_000);
});

Deno.test("refuse counts every refusal but logs each reason at most once per minute", () => {
  const { stats, lines, advance } = setup();
  for (let i = 0; i < 100; i++) {
    stats.refuse("invalid_json", `bad ${i}`);
    advance(100); // 10 s in all
  }
  assert.equal(stats.refused.invalid_json, 100);
  assert.equal(stats.refusedTotal, 100);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /invalid_json/);
  assert.match(lines[0], /bad 0/);
});

Deno.test("refuse logs each reason on its own schedule", () => {
  const { stats, lines } = setup();
  stats.refuse("invalid_json", "a");
  stats.refuse("not_object", "b");
  stats.refuse("invalid_json", "c");
  stats.refuse("series_limit", "d");
  assert.equal(lines.length, 3);
  assert.equal(stats.refusedTotal, 4);
});

Deno.test("refuse reports how many were suppressed when it logs the reason again", () => {
  const { stats, lines, advance } = setup();
  stats.refuse("too_large", "first");
  for (let i = 0; i < 7; i++) {
    advance(5_000);
    stats.refuse("too_large", `x${i}`);
  }
  assert.equal(lines.length, 1);
  advance(30_000); // now 65 s after the first log
  stats.refuse("too_large", "again");
  assert.equal(lines.length, 2);
  assert.match(lines[1], /again/);
  assert.match(lines[1], /\+7 more/);
  // The suppressed count starts over after it was reported.
  advance(60_000);
  stats.refuse("too_large", "third");
  assert.equal(lines.length, 3);
  assert.doesNotMatch(lines[2], /more/);
  assert.equal(stats.refused.too_large, 10);
});

Deno.test("refuse with a count adds it to the counter and to the suppressed tally", () => {
  const { stats, lines, advance } = setup();
  stats.refuse("series_limit", "a", 3);
  stats.refuse("series_limit", "b", 4);
  advance(60_000);
  stats.refuse("series_limit", "c");
  assert.equal(stats.refused.series_limit, 8);
  assert.match(lines[1], /\+4 more/);
});

Deno.test("refuse honours a custom log interval", () => {
  const { stats, lines, advance } = setup(1000);
  stats.refuse("invalid_utf8", "a");
  advance(999);
  stats.refuse("invalid_utf8", "b");
  advance(1);
  stats.refuse("invalid_utf8", "c");
  assert.equal(lines.length, 2);
});
