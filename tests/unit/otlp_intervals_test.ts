/**
 * An OTLP instance's export interval, learned from the time between its exports: what makes
 * it `stale` after 3 of its own intervals (lib/otlp/intervals.ts).
 */
import assert from "node:assert/strict";
import { ExportIntervals, MIN_LEARNED_INTERVAL_MS } from "../../lib/otlp/intervals.ts";
import { OTLP_INTERVAL_MS } from "../../lib/otlp/identity.ts";

const T0 = 1_700_000_000_000;

Deno.test("the SDKs' default minute until a second export, then the time between exports", () => {
  const iv = new ExportIntervals();
  assert.equal(iv.observe("a", T0), OTLP_INTERVAL_MS);
  assert.equal(iv.observe("a", T0 + 5_004), 5_000, "whole seconds");
  assert.equal(iv.observe("b", T0), OTLP_INTERVAL_MS, "per instance");
});

Deno.test("timer jitter within a quarter of the interval leaves it as it is", () => {
  const iv = new ExportIntervals();
  iv.observe("a", T0);
  assert.equal(iv.observe("a", T0 + 10_000), 10_000);
  assert.equal(iv.observe("a", T0 + 18_400), 10_000);
  assert.equal(iv.observe("a", T0 + 30_300), 10_000);
});

Deno.test("a longer gap is taken at once; one shorter gap (a flush) is not, two in a row are", () => {
  const iv = new ExportIntervals();
  iv.observe("a", T0);
  assert.equal(iv.observe("a", T0 + 5_000), 5_000);
  assert.equal(iv.observe("a", T0 + 20_000), 15_000, "never stale too early");
  assert.equal(iv.observe("a", T0 + 20_200), 15_000, "a flush on the way out");
  assert.equal(iv.observe("a", T0 + 25_200), 5_000, "the second shorter gap in a row");
});

Deno.test("a retried export (no newer than the last) changes nothing; exports closer than 1 s read as 1 s", () => {
  const iv = new ExportIntervals();
  iv.observe("a", T0);
  assert.equal(iv.observe("a", T0 + 300), MIN_LEARNED_INTERVAL_MS);
  assert.equal(iv.observe("a", T0 + 300), MIN_LEARNED_INTERVAL_MS);
  assert.equal(iv.observe("a", T0 + 100), MIN_LEARNED_INTERVAL_MS);
  assert.equal(iv.observe("a", T0 + 600), MIN_LEARNED_INTERVAL_MS);
});

Deno.test("instances remembered are bounded: the least recently heard is forgotten", () => {
  const iv = new ExportIntervals({ maxEntries: 2, maxWeight: 1_000 });
  iv.observe("a", T0);
  iv.observe("b", T0);
  iv.observe("c", T0);
  assert.equal(iv.size, 2);
  assert.equal(iv.observe("a", T0 + 5_000), OTLP_INTERVAL_MS, "a was forgotten: a first export");
});
