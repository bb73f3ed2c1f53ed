/**
 * Warm-up is not a leak: RSS traces recorded from real apps that grow while they warm up and
 * then stay flat (tests/fixtures/leak/record.ts, 20 and 18 minutes each), replayed through
 * the default `memory-leak` rule one second at a time, as in alerts_demo_test.ts.
 *
 * - warm-red-http: the demo's red exactly as `deno task demo` runs it (`--http --load 20`):
 *   ~60 -> 72 MiB in its first 5 minutes (JIT, histograms, caches), then flat.
 * - warm-cache: tests/fixtures/leak/cache_app.ts filling a cache for 3 minutes (100 entries
 *   a second, ~10 MiB in all), then only reading it.
 * - warm-cache-fast: the same app at 1 000 entries a second (~80 MiB in 3 minutes, as fast as
 *   a real leak, so it is flagged): the alert must resolve a few minutes after RSS goes flat.
 */
import assert from "node:assert/strict";
import { readTrace, replayTrace } from "../support/leak_replay.ts";

const FIFTEEN_MIN = 15 * 60;

Deno.test("recorded warm-up: the demo's red with HTTP load never fires in 15 minutes", async () => {
  const trace = await readTrace("warm-red-http");
  assert.match(trace.app, /--color red .*--http \d+ --load 20/);
  const end = trace.points.at(-1)![0];
  assert.ok(end >= FIFTEEN_MIN, `the trace covers 15 minutes (${end} s)`);
  const growth = trace.points.at(-1)![1] - trace.points[0][1];
  assert.ok(growth > 10 * 2 ** 20, `it does warm up: +${(growth / 2 ** 20).toFixed(1)} MiB`);
  const r = replayTrace(trace, Math.floor(end));
  assert.equal(r.fired, null, `fired at ${r.fired} s`);
  assert.equal(r.pending, null, `not even pending (pending at ${r.pending} s)`);
});

Deno.test("recorded warm-up: an app that fills caches for 3 minutes never fires in 15 minutes", async () => {
  const trace = await readTrace("warm-cache");
  const end = trace.points.at(-1)![0];
  assert.ok(end >= FIFTEEN_MIN, `the trace covers 15 minutes (${end} s)`);
  const r = replayTrace(trace, Math.floor(end));
  assert.equal(r.fired, null, `fired at ${r.fired} s`);
});

Deno.test("recorded warm-up: a cache filled as fast as a leak fires, then resolves minutes after it stops", async () => {
  const trace = await readTrace("warm-cache-fast");
  const end = trace.points.at(-1)![0];
  assert.ok(end >= FIFTEEN_MIN, `the trace covers 15 minutes (${end} s)`);
  // When the cache stopped growing: the first second RSS is within 2 MiB of its final level.
  const final = trace.points.at(-1)![1];
  const flatFrom = trace.points.find(([, v]) => v >= final - 2 * 2 ** 20)![0];
  assert.ok(flatFrom > 150 && flatFrom < 240, `filled for ~3 minutes (flat from ${flatFrom} s)`);
  const r = replayTrace(trace, Math.floor(end));
  assert.ok(r.fired !== null && r.fired < flatFrom, "flagged while it grows like a leak");
  assert.ok(r.resolved !== null, "resolved");
  const after = r.resolved - flatFrom;
  assert.ok(after <= 6 * 60, `resolved ${after} s after RSS went flat`);
  assert.deepEqual(r.engine.list().active, [], "nothing active at the end");
  assert.equal(r.changes.filter((c) => c.alert.state === "firing").length, 1, "fired once");
});
