import assert from "node:assert/strict";
import { createAgent } from "../../lib/agent/agent.ts";
import {
  createRegistry,
  DEFAULT_MAX_SERIES,
  REGISTRY_LIMITS,
  REPORT_EVERY_MS,
} from "../../lib/agent/registry.ts";
import {
  createRuntimeReaders,
  INSERTION_SORT_MAX,
  nearestRank,
  RUNTIME_METRICS,
  SLOW_READ_MS,
  sortPrefix,
} from "../../lib/agent/runtime.ts";
import type { Transport } from "../../lib/agent/sender.ts";
import { BUCKET_COUNT, BUCKETS } from "../../lib/histogram.ts";
import {
  decode,
  encode,
  type Identity,
  LIMITS,
  type Message,
  METRICS,
} from "../../lib/protocol.ts";

const identity: Identity = {
  service: "svc",
  instance: "i-1",
  pid: 1,
  host: null,
  color: null,
  intervalMs: 1000,
  start: 1,
};

/** A registry whose reports and clock the test controls. */
function registry(maxSeries?: number) {
  const errors: string[] = [];
  let clock = 1_000_000;
  const m = createRegistry({
    maxSeries,
    now: () => clock,
    onError: (e) => errors.push((e as Error).message),
  });
  return { m, errors, advance: (ms: number) => clock += ms };
}

/** Round-trip a snapshot through the wire: encode as one sample, decode. */
function onTheWire(snap: ReturnType<ReturnType<typeof createRegistry>["snapshot"]>): Message {
  const frame = encode(identity, [{ seq: 0, ts: 5, metrics: snap.metrics, hist: snap.hist }], 6);
  const d = decode(frame);
  if (!d.ok) throw new Error(`snapshot is not valid on the wire: ${d.error.detail}`);
  return d.message;
}

Deno.test("registry counters accumulate per label set, cumulatively", () => {
  const { m } = registry();
  const jobs = m.counter("jobs.done_total");
  jobs.inc();
  jobs.inc();
  jobs.inc({ queue: "email" }, 3);
  jobs.inc({ queue: "email" });
  jobs.inc({ queue: "sms" }, 0.5);
  assert.deepEqual(m.snapshot().metrics, {
    "jobs.done_total": 2,
    'jobs.done_total{queue="email"}': 4,
    'jobs.done_total{queue="sms"}': 0.5,
  });
  jobs.inc({ queue: "sms" });
  assert.equal(m.snapshot().metrics['jobs.done_total{queue="sms"}'], 1.5, "since start");
  // The same name again is the same counter; label order does not make a new series.
  m.counter("jobs.done_total").inc({ b: "2", a: "1" });
  jobs.inc({ a: "1", b: "2" });
  assert.equal(m.snapshot().metrics['jobs.done_total{a="1",b="2"}'], 2);
  assert.equal(m.stats().series, 4);
});

Deno.test("registry gauges keep the last value per label set", () => {
  const { m } = registry();
  const depth = m.gauge("queue.depth");
  depth.set(5);
  depth.set(3);
  depth.set(-2, { queue: "sms" });
  depth.set(7, { queue: "sms" });
  assert.deepEqual(m.snapshot().metrics, { "queue.depth": 3, 'queue.depth{queue="sms"}': 7 });
});

Deno.test("registry histogram counts land in the right buckets and the sum is exact", () => {
  const { m } = registry();
  const h = m.histogram("jobs.duration_ms");
  const values = [0, 0.5, 0.7, 1, 3, 100, 101, 60_000, 60_001, 1e9];
  for (const v of values) h.observe(v);
  h.observe(42, { queue: "email" });
  const { hist } = m.snapshot();
  const counts = hist["jobs.duration_ms"].counts;
  assert.equal(counts.length, BUCKET_COUNT);
  const want = new Array(BUCKET_COUNT).fill(0);
  want[0] = 2; // 0, 0.5 (bounds are inclusive)
  want[1] = 2; // 0.7, 1
  want[BUCKETS.indexOf(5)] = 1; // 3
  want[BUCKETS.indexOf(100)] = 1; // 100
  want[BUCKETS.indexOf(250)] = 1; // 101
  want[BUCKETS.indexOf(60_000)] = 1; // 60 000
  want[BUCKETS.length] = 2; // overflow: 60 001, 1e9
  assert.deepEqual(counts, want);
  assert.equal(hist["jobs.duration_ms"].sum, values.reduce((a, b) => a + b, 0));
  assert.deepEqual(hist['jobs.duration_ms{queue="email"}'].counts[BUCKETS.indexOf(50)], 1);
  assert.equal(hist['jobs.duration_ms{queue="email"}'].sum, 42);
});

Deno.test("registry snapshot histograms do not change after later observations", () => {
  const { m } = registry();
  const h = m.histogram("jobs.duration_ms");
  h.observe(1);
  const first = m.snapshot().hist["jobs.duration_ms"];
  assert.equal(m.snapshot().hist["jobs.duration_ms"], first, "unchanged: the same copy");
  h.observe(1);
  assert.equal(first.counts[1], 1, "a snapshot in the backlog must not change");
  assert.equal(first.sum, 1);
  assert.equal(m.snapshot().hist["jobs.duration_ms"].counts[1], 2);
});

Deno.test("registry throws at registration for bad names, and only there", () => {
  const { m } = registry();
  assert.throws(() => m.counter("jobs.done"), /must end with "_total"/);
  assert.throws(() => m.counter("Jobs_total"), RangeError);
  assert.throws(() => m.gauge("constructor"), RangeError);
  assert.throws(() => m.gauge("jobs..depth"), RangeError);
  assert.throws(() => m.gauge("queue.items_total"), /_total" is for counters/);
  assert.throws(() => m.histogram(""), RangeError);
  assert.throws(() => m.histogram("x".repeat(101)), RangeError);
  assert.throws(() => m.gauge(METRICS.cpuPercent), /sent by the agent itself/);
  assert.throws(() => m.gauge(RUNTIME_METRICS.openFds), /sent by the agent itself/);
  m.gauge("queue.depth");
  assert.throws(() => m.histogram("queue.depth"), /already a gauge/);
  assert.throws(() => createRegistry({ maxSeries: DEFAULT_MAX_SERIES + 1 }), RangeError);
  assert.throws(() => createRegistry({ maxSeries: -1 }), RangeError);
});

Deno.test("registry counts bad label values and bad values instead of throwing", () => {
  const { m, errors, advance } = registry();
  const c = m.counter("jobs.done_total");
  const g = m.gauge("queue.depth");
  const h = m.histogram("jobs.duration_ms");
  const bad: Array<Record<string, string>> = [
    { queue: "a\nb" }, // control character
    { queue: "x".repeat(129) }, // too long
    { Queue: "a" }, // bad label name
    { queue: 42 as unknown as string }, // not a string (from JS)
    Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`l${i}`, "v"])), // too many
  ];
  for (const labels of bad) {
    c.inc(labels);
    g.set(1, labels);
    h.observe(1, labels);
  }
  for (const v of [NaN, Infinity, -Infinity]) {
    c.inc(undefined, v);
    g.set(v);
    h.observe(v);
  }
  c.inc(undefined, -1); // a counter never goes down
  assert.deepEqual(m.snapshot(), { metrics: {}, hist: {} });
  assert.deepEqual(m.stats(), {
    series: 0,
    refusedSeries: 0,
    invalidLabels: bad.length * 3,
    invalidValues: 10,
  });
  // Logged once per kind of problem per minute, however many happened.
  assert.equal(errors.length, 2);
  assert.match(errors[0], /invalid label/);
  assert.match(errors[1], /value NaN ignored/);
  advance(REPORT_EVERY_MS);
  g.set(NaN);
  assert.equal(errors.length, 3);
});

Deno.test("registry refuses series beyond maxSeries, counts them and logs once a minute", () => {
  const { m, errors, advance } = registry(3);
  const c = m.counter("jobs.done_total");
  const h = m.histogram("jobs.duration_ms");
  c.inc({ q: "a" });
  c.inc({ q: "b" });
  h.observe(1, { q: "a" });
  c.inc({ q: "c" }); // a fourth series
  h.observe(1, { q: "b" });
  for (let i = 0; i < 100; i++) m.gauge("queue.depth").set(i, { q: String(i) });
  assert.deepEqual(m.stats(), {
    series: 3,
    refusedSeries: 102,
    invalidLabels: 0,
    invalidValues: 0,
  });
  assert.equal(errors.length, 1);
  assert.match(errors[0], /series jobs\.done_total\{q="c"\} refused/);
  // Existing series keep counting.
  c.inc({ q: "a" });
  h.observe(2, { q: "a" });
  const snap = m.snapshot();
  assert.equal(snap.metrics['jobs.done_total{q="a"}'], 2);
  assert.equal(snap.hist['jobs.duration_ms{q="a"}'].sum, 3);
  assert.equal(snap.metrics['jobs.done_total{q="c"}'], undefined);
  advance(REPORT_EVERY_MS - 1);
  c.inc({ q: "d" });
  assert.equal(errors.length, 1);
  advance(1);
  c.inc({ q: "d" });
  assert.equal(errors.length, 2);
  assert.equal(m.stats().refusedSeries, 104);
});

Deno.test("registry at its default bounds still fits one sample on the wire", () => {
  const { m } = registry();
  const c = m.counter("requests_total");
  const h = m.histogram("latency_ms");
  // Try far more than fit: counters beyond 224 and histograms beyond 60 are refused.
  for (let i = 0; i < 1000; i++) c.inc({ route: `/r/${i}`, status: "2xx" });
  for (let i = 0; i < 1000; i++) h.observe(i, { route: `/r/${i}` });
  const s = m.stats();
  assert.equal(s.series, DEFAULT_MAX_SERIES);
  assert.equal(s.refusedSeries, 2000 - DEFAULT_MAX_SERIES);
  const snap = m.snapshot();
  assert.equal(Object.keys(snap.metrics).length, REGISTRY_LIMITS.maxValueSeries);
  assert.equal(Object.keys(snap.hist).length, REGISTRY_LIMITS.maxHistogramSeries);
  const msg = onTheWire(snap);
  assert.deepEqual(msg.samples[0].metrics, snap.metrics);
  assert.deepEqual(msg.samples[0].hist, snap.hist);
  // With the agent's own metrics added there is still room: the reserved 32.
  const own = Object.keys(METRICS).length + Object.keys(RUNTIME_METRICS).length;
  assert.ok(own <= REGISTRY_LIMITS.reservedMetrics);
  assert.ok(
    REGISTRY_LIMITS.maxValueSeries + REGISTRY_LIMITS.reservedMetrics <= LIMITS.maxMetricsPerSample,
  );
  assert.ok(REGISTRY_LIMITS.maxHistogramSeries <= LIMITS.maxHistogramsPerSample);
});

/** A transport that takes every frame. */
function recording() {
  const frames: Uint8Array[] = [];
  const transport: Transport = {
    trySend: (f) => (frames.push(f), Promise.resolve(true)),
    close() {},
  };
  const messages = () =>
    frames.map((f) => {
      const d = decode(f);
      if (!d.ok) throw new Error(`agent sent an invalid frame: ${d.error.detail}`);
      return d.message;
    });
  return { transport, messages };
}

async function until(pred: () => boolean, ms = 5000) {
  const deadline = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > deadline) throw new Error("condition not met");
    await new Promise((r) => setTimeout(r, 5));
  }
}

const fakeReaders = {
  read: () => ({ cpuPercent: 1, rssBytes: 2, heapUsedBytes: 3, loopLagMs: 4 }),
  close() {},
};

Deno.test("agent sends its start time and the app's series with every sample, within LIMITS", async () => {
  const t = recording();
  const agent = createAgent({
    service: "svc",
    intervalMs: 3_600_000,
    transport: t.transport,
    readers: fakeReaders,
    now: () => 1_700_000_000_000,
    onError: () => {},
  });
  const c = agent.metrics.counter("jobs.done_total");
  const h = agent.metrics.histogram("jobs.duration_ms");
  for (let i = 0; i < 500; i++) c.inc({ i: String(i) });
  for (let i = 0; i < 100; i++) h.observe(i, { i: String(i) });
  agent.sampleNow();
  c.inc({ i: "0" });
  agent.sampleNow();
  await until(() => t.messages().flatMap((m) => m.samples).length === 2);
  await agent.stop();
  const msgs = t.messages();
  assert.equal(msgs[0].identity.start, 1_700_000_000_000);
  const [a, b] = msgs.flatMap((m) => m.samples);
  for (const s of [a, b]) {
    assert.ok(Object.keys(s.metrics).length <= LIMITS.maxMetricsPerSample);
    assert.ok(Object.keys(s.hist!).length <= LIMITS.maxHistogramsPerSample);
    assert.equal(s.metrics[METRICS.cpuPercent], 1, "the agent's own metrics are kept");
    assert.ok(s.metrics[RUNTIME_METRICS.heapTotalBytes] > 0, "runtime health is sent");
  }
  assert.equal(a.metrics['jobs.done_total{i="0"}'], 1);
  assert.equal(b.metrics['jobs.done_total{i="0"}'], 2, "counters are cumulative");
  assert.equal(Object.keys(a.hist!).length, REGISTRY_LIMITS.maxHistogramSeries);
  assert.equal(a.hist!['jobs.duration_ms{i="7"}'].sum, 7);
  assert.ok(agent.metrics.stats().refusedSeries > 0);
});

Deno.test("runtime readers report loop-lag percentiles over the interval", async () => {
  const r = createRuntimeReaders({ lagProbeMs: 5 });
  try {
    await new Promise((res) => setTimeout(res, 100));
    r.read(); // start a fresh interval
    await new Promise((res) => setTimeout(res, 100));
    const block = performance.now();
    while (performance.now() - block < 80) { /* block the loop */ }
    await new Promise((res) => setTimeout(res, 10));
    const out = r.read();
    const p50 = out[RUNTIME_METRICS.loopLagP50];
    const p99 = out[RUNTIME_METRICS.loopLagP99];
    assert.ok(p99 >= 60, `p99 ${p99} ms should see the 80 ms block`);
    assert.ok(p50 < p99, `p50 ${p50} ms should be a typical tick, not the block`);
  } finally {
    r.close();
  }
  assert.equal(nearestRank([1, 2, 3, 4], 4, 0.5), 2);
  assert.equal(nearestRank([1, 2, 3, 4], 4, 0.99), 4);
  assert.equal(nearestRank([7], 1, 0.5), 7);
});

Deno.test("runtime readers' lag percentiles from the agent's probe: one firing, several, each interval anew", () => {
  const r = createRuntimeReaders({
    probe: false,
    sources: { platform: "test", heapLimit: null },
  });
  const heap = { heapTotal: 100, external: 7 };
  const lag = (out: Record<string, number>) => [
    out[RUNTIME_METRICS.loopLagP50],
    out[RUNTIME_METRICS.loopLagP99],
  ];
  // A quiet app: one firing per interval, both percentiles are its lag.
  r.observeLag(3.456);
  assert.deepEqual(lag(r.read(heap)), [3.46, 3.46]);
  // No firing: no percentiles.
  assert.deepEqual(lag(r.read(heap)), [undefined, undefined]);
  // A busy interval, observed out of order, then one whose values are all smaller: each
  // interval's percentiles are its own (the observations are sorted where they lie).
  for (const l of [9, 1, 5, 7, 3]) r.observeLag(l);
  assert.deepEqual(lag(r.read(heap)), [5, 9]);
  for (const l of [0.2, 0.1]) r.observeLag(l);
  const out = r.read(heap);
  assert.deepEqual(lag(out), [0.1, 0.2]);
  // The heap figures given are sent as they are.
  assert.equal(out[RUNTIME_METRICS.heapTotalBytes], 100);
  assert.equal(out[RUNTIME_METRICS.externalBytes], 7);
  r.close();
});

Deno.test("runtime readers keep a uniform sample of an interval's lags beyond their bound", () => {
  const r = createRuntimeReaders({ probe: false, sources: { platform: "test", heapLimit: null } });
  // More than 100 s of the agent's fast probe: on time at first, then late by 50 ms for the
  // last 7/8 of the interval. The kept sample must be of the whole interval, not its start.
  for (let i = 0; i < 8000; i++) r.observeLag(i < 1000 ? 0 : 50);
  const out = r.read({ heapTotal: 1, external: 1 });
  assert.equal(out[RUNTIME_METRICS.loopLagP50], 50);
  assert.equal(out[RUNTIME_METRICS.loopLagP99], 50);
  r.close();
});

Deno.test("sortPrefix sorts the first n values in place, below and above the insertion-sort bound", () => {
  for (const n of [0, 1, 2, 5, INSERTION_SORT_MAX, INSERTION_SORT_MAX + 1, 300]) {
    const a = new Float64Array(n + 3);
    let x = 7;
    for (let i = 0; i < a.length; i++) a[i] = (x = (x * 48271) % 2147483647) % 1000 / 10;
    const tail = Array.from(a.subarray(n));
    const want = Array.from(a.subarray(0, n)).sort((p, q) => p - q);
    const got = sortPrefix(a, n);
    assert.deepEqual(Array.from(got), want, `n = ${n}`);
    assert.equal(got.buffer, a.buffer, "in place");
    assert.deepEqual(Array.from(a.subarray(n)), tail, "values past n untouched");
  }
  // Ties and zeros (lags are clamped at 0).
  assert.deepEqual(Array.from(sortPrefix(new Float64Array([2, 0, 2, 0, 1]), 5)), [0, 0, 1, 2, 2]);
});

Deno.test("runtime readers leave out what they cannot read, report it once, and never throw", () => {
  const errors: string[] = [];
  const r = createRuntimeReaders({
    onError: (e) => errors.push((e as Error).message),
    openFds: true,
    sources: {
      platform: "linux",
      // A kernel before 6.2: /proc/self/fd has no size, so the fds are listed; the stat
      // file, where the threads are, cannot be read here.
      stat: () => ({ size: 0, links: 0 }),
      readDir: () => ["0", "1", "2", "3"],
      readFile: () => {
        throw new Error("ENOENT: /proc/self/stat");
      },
      memoryUsage: () => ({ heapTotal: 100, external: 7 }),
      heapLimit: () => {
        throw new Error("no v8");
      },
    },
  });
  try {
    for (let i = 0; i < 3; i++) {
      const out = r.read();
      assert.equal(out[RUNTIME_METRICS.openFds], 3, "readdir's own handle is not counted");
      assert.equal(out[RUNTIME_METRICS.threads], undefined);
      assert.equal(out[RUNTIME_METRICS.heapTotalBytes], 100);
      assert.equal(out[RUNTIME_METRICS.externalBytes], 7);
      assert.equal(out[RUNTIME_METRICS.heapLimitBytes], undefined);
    }
    assert.deepEqual(errors, [
      "process.threads unavailable: ENOENT: /proc/self/stat",
      "mem.heap_limit_bytes unavailable: no v8",
    ]);
  } finally {
    r.close();
  }
  const mac = createRuntimeReaders({
    onError: (e) => errors.push(String(e)),
    openFds: true,
    sources: {
      platform: "darwin",
      readDir: () => assert.fail("no /proc off Linux"),
      stat: () => assert.fail("no /proc off Linux"),
    },
  });
  const out = mac.read();
  mac.close();
  assert.equal(out[RUNTIME_METRICS.openFds], undefined);
  assert.equal(out[RUNTIME_METRICS.threads], undefined);
  assert.equal(errors.length, 2, "off Linux, absence is not an error");
});

Deno.test("runtime readers read threads from /proc/self/stat and stat nothing unless open fds are asked for", () => {
  const stat = "4242 (my (odd) app) S 1 4242 4242 0 -1 4194560 2 0 0 0 7 3 0 0 20 0 5 0 " +
    "123 456 789 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  const read: string[] = [];
  const plain = createRuntimeReaders({
    probe: false,
    sources: {
      platform: "linux",
      stat: () => assert.fail("no stat (~0.6 MiB of a Deno app's RSS) unless openFds"),
      readDir: () => assert.fail("no listing unless openFds"),
      readFile: (path) => (read.push(path), stat),
    },
  });
  try {
    const out = plain.read();
    assert.equal(
      out[RUNTIME_METRICS.threads],
      5,
      "num_threads, field 20, after a name with parentheses",
    );
    assert.equal(out[RUNTIME_METRICS.openFds], undefined);
    assert.deepEqual(read, ["/proc/self/stat"]);
  } finally {
    plain.close();
  }
  const statted: string[] = [];
  const fds = createRuntimeReaders({
    probe: false,
    openFds: true,
    sources: {
      platform: "linux",
      stat: (path) => (statted.push(path), { size: 12, links: 2 }),
      readDir: () => assert.fail("the fds are not listed when the size counts them"),
      readFile: () => stat,
    },
  });
  try {
    const out = fds.read();
    assert.equal(out[RUNTIME_METRICS.openFds], 12);
    assert.equal(out[RUNTIME_METRICS.threads], 5);
    assert.deepEqual(statted, ["/proc/self/fd"], "one stat, of the fd directory only");
  } finally {
    fds.close();
  }
});

Deno.test("runtime readers read this process's fds and threads every SLOW_READ_MS", () => {
  if (Deno.build.os !== "linux") return;
  let t = 0;
  const r = createRuntimeReaders({ probe: false, openFds: true, sources: { clock: () => t } });
  try {
    const before = r.read()[RUNTIME_METRICS.openFds];
    const files = [0, 1, 2].map(() => Deno.openSync("/proc/self/stat"));
    t += SLOW_READ_MS - 1;
    assert.equal(r.read()[RUNTIME_METRICS.openFds], before, "sent as last read in between");
    t += 1;
    const after = r.read()[RUNTIME_METRICS.openFds];
    files.forEach((f) => f.close());
    assert.equal(after - before, 3);
    const status = Deno.readTextFileSync("/proc/self/status");
    const threads = Number(/^Threads:\s*(\d+)/m.exec(status)![1]);
    assert.equal(r.read()[RUNTIME_METRICS.threads], threads);
  } finally {
    r.close();
  }
});

Deno.test("label sets that differ only in order share a series; a bad label is never taken for a good one", () => {
  const reg = createRegistry({ onError: () => {} });
  const c = reg.counter("jobs_total");
  c.inc({ queue: "a", kind: "x" });
  c.inc({ kind: "x", queue: "a" }); // the same series, labels in another order
  c.inc({ queue: "a\u0000x" }); // invalid (control character): refused, not merged anywhere
  assert.deepEqual(reg.snapshot().metrics, { 'jobs_total{kind="x",queue="a"}': 2 });
  assert.equal(reg.stats().invalidLabels, 1);
});

Deno.test("runtime readers take heap figures read for the sample instead of reading them again", () => {
  let reads = 0;
  const r = createRuntimeReaders({
    probe: false,
    sources: {
      memoryUsage: () => {
        reads++;
        return { heapTotal: 1, external: 2 };
      },
    },
  });
  try {
    const out = r.read({ heapTotal: 300, external: 40 });
    assert.equal(out[RUNTIME_METRICS.heapTotalBytes], 300);
    assert.equal(out[RUNTIME_METRICS.externalBytes], 40);
    assert.equal(reads, 0);
    assert.equal(r.read()[RUNTIME_METRICS.heapTotalBytes], 1, "without them, its own reading");
    assert.equal(reads, 1);
  } finally {
    r.close();
  }
});
