/** Service summaries: instance counts, request and error rates, merged latency percentiles. */
import assert from "node:assert/strict";
import { Services } from "../../lib/collector/services.ts";
import { BUCKET_COUNT, bucketIndex } from "../../lib/histogram.ts";
import { Instances } from "../../lib/collector/instances.ts";
import type { InstanceView } from "../../lib/live/messages.ts";
import type { Message } from "../../lib/protocol.ts";
import { instanceView } from "../support/views.ts";

/** The views below are seen at 0; the summaries are taken a second later. */
const NOW = 1000;
const view = (
  service: string,
  instance: string,
  latest: Record<string, number>,
  status: InstanceView["status"] = "live",
  lastSeen = 0,
) => instanceView({ service, instance, latest, status, lastSeen });

function counts(values: number[]): number[] {
  const c = new Array(BUCKET_COUNT).fill(0);
  for (const v of values) c[bucketIndex(v)]++;
  return c;
}

Deno.test("a service's request and error rates sum its live instances' routes and statuses", () => {
  const s = new Services();
  const [summary] = s.summarise([
    view("api", "a", {
      'http.requests.per_s{method="GET",route="/u",status="2xx"}': 40,
      'http.requests.per_s{method="GET",route="/u",status="5xx"}': 2,
    }),
    view("api", "b", { 'http.requests.per_s{method="POST",route="/b",status="2xx"}': 18 }),
    view("api", "c", { 'http.requests.per_s{method="GET",route="/u",status="5xx"}': 99 }, "stale"),
  ], NOW);
  assert.equal(summary.instances, 3);
  assert.equal(summary.live, 2);
  assert.equal(summary.http?.requestsPerS, 60);
  assert.equal(summary.http?.errorsPerS, 2);
  assert.equal(summary.http?.errorRatio, 0.033);
});

Deno.test("request and error rates are the mean of the last 10 seconds, not one second's", () => {
  const s = new Services();
  const ok = 'http.requests.per_s{method="GET",route="/u",status="2xx"}';
  const bad = 'http.requests.per_s{method="GET",route="/u",status="5xx"}';
  // 2 % of 20 requests a second fail: in a given second an instance sees 0 or 1 failure.
  const second = (errors: number) => [view("api", "a", { [ok]: 20 - errors, [bad]: errors })];
  for (let i = 0; i < 10; i++) s.advance(second(i % 5 === 0 ? 2 : 0)); // 4 failures in 10 s
  const http = s.summarise(second(0), NOW)[0].http!;
  assert.equal(http.requestsPerS, 20);
  assert.equal(http.errorsPerS, 0.4);
  assert.equal(http.errorRatio, 0.02);
  // The window slides: 10 quiet seconds later the failures no longer count.
  for (let i = 0; i < 10; i++) s.advance(second(0));
  assert.equal(s.summarise(second(0), NOW)[0].http!.errorRatio, 0);
});

Deno.test("before its first full second a service shows what its instances report now", () => {
  const s = new Services();
  const key = 'http.requests.per_s{method="GET",route="/u",status="2xx"}';
  assert.equal(s.summarise([view("api", "a", { [key]: 7 })], NOW)[0].http?.requestsPerS, 7);
});

Deno.test("instances that ended over 15 minutes ago are not counted, nor their service", () => {
  const s = new Services();
  const now = 20 * 60_000;
  const list = [
    view("api", "new", {}, "live", now - 1000),
    view("api", "crashed-recently", {}, "gone", now - 5 * 60_000),
    view("api", "crashed-long-ago", {}, "gone", now - 16 * 60_000),
    view("api", "redeployed", {}, "stopped", now - 16 * 60_000),
    view("old", "only", {}, "stopped", now - 19 * 60_000),
  ];
  const counts = (at: number) =>
    s.summarise(list, at).map((x) => [x.service, x.live, x.instances, x.stopped]);
  assert.deepEqual(counts(now), [["api", 1, 2, 0]]);
  // 15 minutes earlier every one of them counts; the goodbyes are counted as stopped.
  assert.deepEqual(counts(now - 15 * 60_000), [["api", 1, 4, 1], ["old", 0, 1, 1]]);
});

Deno.test("latency percentiles come from histograms merged across instances, not averaged", () => {
  const s = new Services();
  const key = 'http.request_duration_ms{method="GET",route="/u"}';
  // Instance a: 95 fast requests; instance b: 5 very slow ones. Averaging per-instance p99s
  // would report ~1 s; the service's real p99 is among the slow ones and p50 is fast.
  s.addHistogram("api", key, counts(new Array(95).fill(3)));
  s.addHistogram("api", key, counts(new Array(5).fill(2000)));
  const [summary] = s.summarise([view("api", "a", {}), view("api", "b", {})], NOW);
  assert.ok(summary.http!.p50! <= 5, `p50 ${summary.http!.p50}`);
  assert.ok(summary.http!.p99! > 1000 && summary.http!.p99! <= 2500, `p99 ${summary.http!.p99}`);
});

Deno.test("the latency window slides: counts older than 10 s no longer count", () => {
  const s = new Services();
  const key = "http.request_duration_ms";
  s.addHistogram("api", key, counts([2000]));
  for (let i = 0; i < 9; i++) s.advance();
  assert.notEqual(s.summarise([view("api", "a", {})], NOW)[0].http!.p50, null);
  s.advance();
  assert.equal(s.summarise([view("api", "a", {})], NOW)[0].http!.p50, null);
});

Deno.test("a service without request metrics has no http summary; other histograms are ignored", () => {
  const s = new Services();
  s.addHistogram("worker", "job.duration_ms", counts([5]));
  const [summary] = s.summarise([view("worker", "w", { "cpu.percent": 3 })], NOW);
  assert.equal(summary.http, null);
});

Deno.test("instances feed their histogram deltas to the service, per interval", () => {
  const fed: Array<[string, string, number]> = [];
  const reg = new Instances({
    onHistogram: (svc, key, c) => fed.push([svc, key, Array.from(c).reduce((a, b) => a + b, 0)]),
  });
  const msg = (seq: number, ts: number, n: number): Message => ({
    identity: { service: "api", instance: "a", pid: 1, host: null, color: null, intervalMs: 1000 },
    sent: ts,
    samples: [{
      seq,
      ts,
      metrics: {},
      hist: { "http.request_duration_ms": { counts: counts(new Array(n).fill(4)), sum: 4 * n } },
    }],
    legacy: false,
  });
  reg.observe(msg(0, 1000, 10), 1000);
  reg.observe(msg(1, 2000, 25), 2000);
  assert.deepEqual(fed, [["api", "http.request_duration_ms", 15]]);
});
