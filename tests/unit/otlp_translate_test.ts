/**
 * OTLP -> Message: the mapping table of docs/protocol.md, point by point. Requests are built
 * by the official OpenTelemetry SDK and serializers where the SDK can make them, and as
 * OTLP/JSON by hand for the cases it does not send (delta sums, odd bounds, bad points).
 */
import assert from "node:assert/strict";
import { AggregationTemporality, MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from "@opentelemetry/otlp-transformer";
import { createOtlpCodec, type Encoding } from "../../lib/otlp/decode.ts";
import { translate, type Translation } from "../../lib/otlp/translate.ts";
import { labelName } from "../../lib/otlp/conventions.ts";
import { OtlpMemory } from "../../lib/otlp/histograms.ts";
import { OTLP_INTERVAL_MS } from "../../lib/otlp/identity.ts";
import { BUCKET_COUNT, BUCKETS } from "../../lib/histogram.ts";
import { LIMITS, type Message } from "../../lib/protocol.ts";
import { CPU_SECONDS } from "../../lib/collector/derive.ts";
import { HostMetrics } from "@opentelemetry/host-metrics";

const codec = createOtlpCodec();

class ManualReader extends MetricReader {
  constructor(delta = false) {
    super(delta ? { aggregationTemporalitySelector: () => AggregationTemporality.DELTA } : {});
  }
  protected override async onForceFlush() {}
  protected override async onShutdown() {}
}

/** Record with the real SDK, collect once, serialize as an exporter would. */
async function sdkRequest(
  encoding: Encoding,
  record: (meter: ReturnType<MeterProvider["getMeter"]>) => void,
  resource: Record<string, string | number> = {
    "service.name": "shop",
    "service.instance.id": "a",
  },
): Promise<Uint8Array> {
  return (await sdkExports(encoding, [record], resource))[0];
}

/** Record with the real SDK, collecting (cumulative) after each step: one request each. */
async function sdkExports(
  encoding: Encoding,
  steps: Array<(meter: ReturnType<MeterProvider["getMeter"]>) => void | Promise<void>>,
  resource: Record<string, string | number> = {
    "service.name": "shop",
    "service.instance.id": "a",
  },
  delta = false,
): Promise<Uint8Array[]> {
  const reader = new ManualReader(delta);
  const provider = new MeterProvider({
    resource: resourceFromAttributes(resource),
    readers: [reader],
  });
  const meter = provider.getMeter("test");
  const out: Uint8Array[] = [];
  for (const step of steps) {
    await step(meter);
    const { resourceMetrics } = await reader.collect();
    out.push(
      encoding === "json"
        ? JsonMetricsSerializer.serializeRequest(resourceMetrics)!
        : ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!,
    );
  }
  await provider.shutdown();
  return out;
}

/**
 * The histograms of the last of several exports of one app, translated in turn with one
 * memory: the first export of a cumulative series is only its baseline.
 */
function lastHistograms(bodies: Uint8Array[], encoding: Encoding): Message {
  const memory = new OtlpMemory();
  const messages = bodies.map((b) => messagesOf(translated(b, encoding, memory))[0]);
  return messages[messages.length - 1];
}

function translated(
  body: Uint8Array | object,
  encoding: Encoding = "json",
  memory = new OtlpMemory(),
): Translation {
  const bytes = body instanceof Uint8Array ? body : new TextEncoder().encode(JSON.stringify(body));
  const decoded = codec.decodeRequest(bytes, encoding);
  assert.ok(decoded.ok, decoded.ok ? "" : decoded.detail);
  return translate(decoded.request, memory);
}

function messagesOf(t: Translation): Message[] {
  assert.ok(t.ok, t.ok ? "" : t.detail);
  return t.messages;
}

const T0 = 1_700_000_000_000; // ms
const nanos = (ms: number) => String(BigInt(ms) * 1_000_000n);

/** An OTLP/JSON request with one resource and the given metrics. */
function jsonRequest(metrics: object[], resource: object[] = [
  { key: "service.name", value: { stringValue: "svc" } },
]): object {
  return { resourceMetrics: [{ resource: { attributes: resource }, scopeMetrics: [{ metrics }] }] };
}

function point(value: number, attrs: object[] = [], at = T0, start = T0 - 10_000): object {
  return {
    attributes: attrs,
    startTimeUnixNano: nanos(start),
    timeUnixNano: nanos(at),
    asDouble: value,
  };
}

for (const encoding of ["protobuf", "json"] as const) {
  Deno.test(`SDK ${encoding}: counters become _total counters, gauges and up-down counters gauges, attributes labels`, async () => {
    const body = await sdkRequest(encoding, (m) => {
      m.createCounter("http.requests").add(7, { "http.route": "/a", code: 200 });
      m.createCounter("jobs_total").add(2);
      m.createGauge("queue.depth").record(4.5);
      m.createUpDownCounter("pool.in_use").add(-3);
    });
    const [msg] = messagesOf(translated(body, encoding));
    assert.equal(msg.identity.service, "shop");
    assert.equal(msg.identity.instance, "a");
    assert.equal(msg.identity.intervalMs, OTLP_INTERVAL_MS);
    assert.equal(msg.samples.length, 1, "one collection is one sample");
    assert.deepEqual(msg.samples[0].metrics, {
      'http.requests_total{code="200",http_route="/a"}': 7,
      "jobs_total": 2,
      "queue.depth": 4.5,
      "pool.in_use": -3,
    });
    assert.equal(msg.sent, msg.samples[0].ts);
    assert.ok(Math.abs(msg.samples[0].ts - Date.now()) < 60_000, "time in ms since the epoch");
  });

  Deno.test(`SDK ${encoding}: an explicit-bucket histogram maps into our buckets with its sum`, async () => {
    const bodies = await sdkExports(encoding, [
      (m) => m.createHistogram("rpc.latency", { unit: "ms" }).record(20, { method: "get" }),
      (m) => {
        const h = m.createHistogram("rpc.latency", { unit: "ms" });
        for (const v of [3, 20, 20, 700, 20_000]) h.record(v, { method: "get" });
      },
    ]);
    const memory = new OtlpMemory();
    const [first, second] = bodies.map((b) => messagesOf(translated(b, encoding, memory))[0]);
    const baseline = first.samples[0].hist!['rpc.latency{method="get"}'];
    assert.deepEqual(baseline, { counts: new Array(BUCKET_COUNT).fill(0), sum: 0 }, "baseline");
    const h = second.samples[0].hist!['rpc.latency{method="get"}'];
    assert.equal(h.sum, 3 + 20 + 20 + 700 + 20_000, "what the second export added");
    // SDK default bounds 0,5,10,25,...,750,1000,...,10000, each bucket narrowed to the
    // series' min (3) and max (20 000), then spread over our buckets it overlaps.
    const expected = new Array(BUCKET_COUNT).fill(0);
    expected[BUCKETS.indexOf(5)] = 1; // 3 in (0,5], narrowed to [3,5]: our (2,5]
    expected[BUCKETS.indexOf(25)] = 2; // 20 in (10,25]: ours
    expected[BUCKETS.indexOf(1000)] = 1; // 700 in (500,750]: within our (500,1000]
    expected[BUCKETS.indexOf(30_000)] = 1; // above 10000 up to max 20000: our (10000,30000]
    assert.deepEqual(h.counts, expected);
  });
}

Deno.test("a cumulative histogram's first export is its baseline; later ones carry what each added", async () => {
  const memory = new OtlpMemory();
  const bodies = await sdkExports("protobuf", [
    (m) => m.createHistogram("job.ms").record(40),
    (m) => m.createHistogram("job.ms").record(40),
    () => {}, // nothing new: the SDK exports the same cumulative point again
  ]);
  const hists = bodies.map((b) =>
    messagesOf(translated(b, "protobuf", memory))[0].samples[0].hist!["job.ms"]
  );
  const total = (h: { counts: number[] }) => h.counts.reduce((a, b) => a + b, 0);
  assert.deepEqual(hists.map(total), [0, 1, 1], "running totals of the intervals");
  assert.deepEqual(hists.map((h) => h.sum), [0, 40, 40]);
  assert.equal(hists[1].counts[BUCKETS.indexOf(50)], 1);
});

Deno.test("seconds recorded into the SDK's default bounds (for ms) read near their value, not 3.75 s", async () => {
  // The reported case: durations in s with the JS SDK's default bounds 0,5,10,..., which are
  // meant for ms: every 0.012 s lands in (0, 5] s, that is (0, 5000] ms. Its min and max
  // narrow it to 12 ms; its upper bound alone put it in our (2500, 5000] (a p50 of 3750).
  const bodies = await sdkExports("protobuf", [
    (m) => m.createHistogram("work.duration", { unit: "s" }).record(0.012),
    (m) => {
      const h = m.createHistogram("work.duration", { unit: "s" });
      for (let i = 0; i < 200; i++) h.record(0.011 + (i % 3) / 1000);
    },
  ]);
  const h = lastHistograms(bodies, "protobuf").samples[0].hist!["work.duration_ms"];
  assert.equal(h.counts[BUCKETS.indexOf(25)], 200, "all in our (10, 25] ms");
  assert.ok(Math.abs(h.sum - (67 * 11 + 67 * 12 + 66 * 13)) < 1e-6, `sum ${h.sum}`);
});

Deno.test("a histogram in seconds is scaled to ms and named _ms", async () => {
  const record = (v: number) => (m: ReturnType<MeterProvider["getMeter"]>) =>
    m.createHistogram("db.client.operation.duration", {
      unit: "s",
      advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05] }, // semconv-style
    }).record(v);
  const bodies = await sdkExports("protobuf", [record(0.02), record(0.02)]);
  const msg = lastHistograms(bodies, "protobuf");
  const h = msg.samples[0].hist!["db.client.operation.duration_ms"];
  assert.ok(h, Object.keys(msg.samples[0].hist!).join());
  assert.equal(h.sum, 20);
  assert.equal(h.counts.reduce((a, b) => a + b, 0), 1);
  assert.equal(h.counts[BUCKETS.indexOf(25)], 1, "0.02 s in (10, 25] ms");
});

Deno.test("HTTP server durations arrive as the agent middleware's histogram and request counter", async () => {
  const GET_USER = {
    "http.request.method": "GET",
    "http.route": "/users/:id",
    "http.response.status_code": 200,
  };
  // As instrumentations record it (semantic conventions 1.23+): seconds, the conventions'
  // bucket advice, one point per method, route and status code.
  const served = (m: ReturnType<MeterProvider["getMeter"]>) =>
    m.createHistogram("http.server.request.duration", {
      unit: "s",
      advice: {
        explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5],
      },
    });
  const bodies = await sdkExports("protobuf", [
    (m) => {
      served(m).record(0.02, GET_USER);
      served(m).record(0.7, { ...GET_USER, "http.response.status_code": 503 });
      served(m).record(0.004, { "http.request.method": "_OTHER" }); // no route, no status
    },
    (m) => {
      const h = served(m);
      for (const v of [0.02, 0.02]) h.record(v, GET_USER);
      h.record(0.7, { ...GET_USER, "http.response.status_code": 503 });
    },
  ]);
  const { metrics, hist } = lastHistograms(bodies, "protobuf").samples[0];
  assert.deepEqual(metrics, {
    'http.requests_total{method="GET",route="/users/:id",status="2xx"}': 3,
    'http.requests_total{method="GET",route="/users/:id",status="5xx"}': 2,
    'http.requests_total{method="OTHER",route="other",status="5xx"}': 1,
  }, "counters count since the start, as sent");
  assert.deepEqual(Object.keys(hist!).sort(), [
    'http.request_duration_ms{method="GET",route="/users/:id"}',
    'http.request_duration_ms{method="OTHER",route="other"}',
  ], "statuses added up; the semconv name is not kept");
  const get = hist!['http.request_duration_ms{method="GET",route="/users/:id"}'];
  assert.equal(get.sum, 20 + 20 + 700, "in ms, the second export's");
  assert.equal(get.counts.reduce((a, b) => a + b, 0), 3);
  assert.equal(get.counts[BUCKETS.indexOf(1000)], 1, "0.7 s in (500, 1000] ms");
  assert.equal(get.counts[BUCKETS.indexOf(25)], 2, "0.02 s in (10, 25] ms");
  const other = hist!['http.request_duration_ms{method="OTHER",route="other"}'];
  assert.equal(other.counts.reduce((a, b) => a + b, 0), 0, "nothing new");
});

Deno.test("HTTP server durations sent as deltas feed the same histogram and a request rate", () => {
  const GET = [
    { key: "http.request.method", value: { stringValue: "GET" } },
    { key: "http.route", value: { stringValue: "/a" } },
    { key: "http.response.status_code", value: { intValue: "200" } },
  ];
  const interval = (at: number, count: number) =>
    jsonRequest([{
      name: "http.server.request.duration",
      unit: "s",
      histogram: {
        aggregationTemporality: 1, // delta, as some SDKs and collectors are set to send
        dataPoints: [{
          attributes: GET,
          startTimeUnixNano: nanos(at - 2_000),
          timeUnixNano: nanos(at),
          count: String(count),
          sum: 0.02 * count,
          bucketCounts: ["0", String(count), "0"],
          explicitBounds: [0.01, 0.025],
        }],
      },
    }]);
  const memory = new OtlpMemory();
  const [first, second] = [interval(T0, 4), interval(T0 + 2_000, 6)].map((b) =>
    messagesOf(translated(b, "json", memory))[0].samples[0]
  );
  const rate = 'http.requests.per_s{method="GET",route="/a",status="2xx"}';
  assert.deepEqual([first.metrics, second.metrics], [{ [rate]: 2 }, { [rate]: 3 }]);
  // Each interval joins the running total the collector takes differences of, as an agent's.
  const h = 'http.request_duration_ms{method="GET",route="/a"}';
  const total = (x: typeof first) => x.hist![h].counts.reduce((a, b) => a + b, 0);
  assert.deepEqual([total(first), total(second)], [4, 10]);
  assert.equal(second.hist![h].sum, 200);
});

Deno.test("the SDK's delta HTTP durations arrive as a request rate and a running histogram", async () => {
  const attrs = {
    "http.request.method": "GET",
    "http.route": "/a",
    "http.response.status_code": 200,
  };
  const served = (n: number) => (m: ReturnType<MeterProvider["getMeter"]>) => {
    const h = m.createHistogram("http.server.request.duration", { unit: "s" });
    for (let i = 0; i < n; i++) h.record(0.012, attrs);
  };
  // A delta point spans the time since the instrument's start or the last export: let some
  // pass before each, or a point within one millisecond has no length, so no rate: refused.
  const thenWait = (step: ReturnType<typeof served>) => async (m: Parameters<typeof step>[0]) => {
    step(m);
    const t = Date.now();
    while (Date.now() - t < 5) await new Promise((r) => setTimeout(r, 1));
  };
  const steps = [thenWait(served(3)), thenWait(served(2))];
  const bodies = await sdkExports("protobuf", steps, undefined, true);
  const { metrics, hist } = lastHistograms(bodies, "protobuf").samples[0];
  assert.deepEqual(Object.keys(metrics), [
    'http.requests.per_s{method="GET",route="/a",status="2xx"}',
  ]);
  assert.ok(Object.values(metrics)[0] > 0);
  const h = hist!['http.request_duration_ms{method="GET",route="/a"}'];
  assert.equal(h.counts.reduce((a, b) => a + b, 0), 5, "both intervals, added up");
});

Deno.test("the older http.server.duration in ms maps the same; in another unit it keeps its name", async () => {
  const post = (m: ReturnType<MeterProvider["getMeter"]>) =>
    m.createHistogram("http.server.duration", { unit: "ms" })
      .record(20, { "http.method": "POST", "http.route": "/orders", "http.status_code": 201 });
  const a = lastHistograms(await sdkExports("json", [post, post]), "json");
  assert.deepEqual(a.samples[0].metrics, {
    'http.requests_total{method="POST",route="/orders",status="2xx"}': 2,
  });
  assert.equal(
    a.samples[0].hist!['http.request_duration_ms{method="POST",route="/orders"}'].sum,
    20,
  );
  const wrongUnit = await sdkRequest("json", (m) => {
    m.createHistogram("http.server.request.duration", { unit: "ms" }).record(20);
  });
  assert.deepEqual(
    Object.keys(messagesOf(translated(wrongUnit))[0].samples[0].hist!),
    ["http.server.request.duration"],
    "not in the conventions' unit: kept as sent",
  );
});

Deno.test("instance falls back to host.name:process.pid, then host.name, then unknown", async () => {
  const one = async (resource: Record<string, string | number>) => {
    const body = await sdkRequest("protobuf", (m) => m.createGauge("g").record(1), resource);
    return messagesOf(translated(body, "protobuf"))[0].identity;
  };
  const a = await one({ "service.name": "s", "host.name": "web1", "process.pid": 42 });
  assert.deepEqual([a.instance, a.host, a.pid], ["web1:42", "web1", 42]);
  assert.equal((await one({ "service.name": "s", "host.name": "web1" })).instance, "web1");
  assert.equal((await one({ "service.name": "s" })).instance, "unknown");
});

Deno.test("the instance's start is its earliest cumulative start; deltas and gauges say nothing", async () => {
  const sum = (temporality: number, start: number) => ({
    name: `n${start}`,
    sum: {
      aggregationTemporality: temporality,
      isMonotonic: true,
      dataPoints: [point(1, [], T0, start)],
    },
  });
  const gauge = { name: "g", gauge: { dataPoints: [point(1, [], T0, T0 - 90_000)] } };
  const startOf = (metrics: object[]) =>
    messagesOf(translated(jsonRequest(metrics)))[0].identity.start;
  assert.equal(startOf([sum(2, T0 - 5_000), sum(2, T0 - 7_000), gauge]), T0 - 7_000);
  assert.equal(startOf([sum(1, T0 - 9_000), gauge]), null, "a delta's start is its interval's");
  assert.equal(startOf([sum(2, T0 + 1_000), sum(2, 0)]), null, "after its point, or none: ignored");
  // The real SDK: its cumulative start is when the provider began, the same in each collection.
  const reader = new ManualReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ "service.name": "s" }),
    readers: [reader],
  });
  const before = Date.now();
  const counter = provider.getMeter("t").createCounter("c");
  const starts: Array<number | null | undefined> = [];
  for (let i = 0; i < 3; i++) {
    counter.add(1);
    const { resourceMetrics } = await reader.collect();
    const body = JsonMetricsSerializer.serializeRequest(resourceMetrics)!;
    starts.push(messagesOf(translated(body))[0].identity.start);
    await new Promise((r) => setTimeout(r, 5));
  }
  await provider.shutdown();
  assert.equal(new Set(starts).size, 1, `one start: ${starts}`);
  assert.ok(starts[0]! >= before - 1 && starts[0]! <= Date.now(), `start ${starts[0]}`);
});

Deno.test("delta sums arrive as .per_s over the point's time span", () => {
  const t = translated(jsonRequest([
    {
      name: "bytes.sent",
      sum: {
        aggregationTemporality: 1,
        isMonotonic: true,
        dataPoints: [point(500, [], T0, T0 - 10_000)],
      },
    },
    {
      name: "errors_total",
      sum: {
        aggregationTemporality: 1,
        isMonotonic: true,
        dataPoints: [point(3, [], T0, T0 - 2_000)],
      },
    },
  ]));
  const [msg] = messagesOf(t);
  assert.deepEqual(msg.samples[0].metrics, { "bytes.sent.per_s": 50, "errors.per_s": 1.5 });
});

Deno.test("an instance's interval is the time between its exports, so it is stale after 3 of them", () => {
  const memory = new OtlpMemory();
  const gauge = (at: number) =>
    jsonRequest([{ name: "queue.depth", gauge: { dataPoints: [point(1, [], at)] } }]);
  const [first] = messagesOf(translated(gauge(T0), "json", memory));
  assert.equal(
    first.identity.intervalMs,
    OTLP_INTERVAL_MS,
    "the SDKs' default, until a second export",
  );
  const [second] = messagesOf(translated(gauge(T0 + 5_000), "json", memory));
  assert.equal(second.identity.intervalMs, 5_000);
});

Deno.test("the real host-metrics' process metrics arrive as mem.rss_bytes and CPU seconds", async () => {
  const reader = new ManualReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ "service.name": "shop", "process.pid": Deno.pid }),
    readers: [reader],
  });
  new HostMetrics({ meterProvider: provider, metricGroups: ["process.cpu", "process.memory"] })
    .start();
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  const sent = new Map(
    resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]),
  );
  const cpuStates = sent.get("process.cpu.time")!.dataPoints.map((p) => p.value as number);
  assert.equal(cpuStates.length, 2, "user and system");
  const rss = sent.get("process.memory.usage")!.dataPoints[0].value as number;
  const body = ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!;
  const [msg] = messagesOf(translated(body, "protobuf"));
  const metrics = msg.samples[0].metrics;
  assert.equal(metrics["mem.rss_bytes"], rss);
  assert.equal(metrics[CPU_SECONDS], cpuStates[0] + cpuStates[1], "the states add up, unlabelled");
  assert.ok(!Object.keys(metrics).some((k) => k.startsWith("process.cpu.time")), "not kept twice");
  assert.ok(!Object.keys(metrics).some((k) => k.startsWith("process.memory")), "not kept twice");
});

Deno.test("process.cpu.time sent as deltas is cpu.percent at once; in other units it is a counter", () => {
  const cpu = (temporality: number, unit: string) => ({
    name: "process.cpu.time",
    unit,
    sum: {
      aggregationTemporality: temporality,
      isMonotonic: true,
      dataPoints: [
        point(3, [{ key: "cpu.mode", value: { stringValue: "user" } }], T0, T0 - 10_000),
        point(1.5, [{ key: "cpu.mode", value: { stringValue: "system" } }], T0, T0 - 10_000),
      ],
    },
  });
  // 4.5 CPU seconds over 10 s: 45 % of one core.
  assert.deepEqual(messagesOf(translated(jsonRequest([cpu(1, "s")])))[0].samples[0].metrics, {
    "cpu.percent": 45,
  });
  assert.deepEqual(messagesOf(translated(jsonRequest([cpu(2, "")])))[0].samples[0].metrics, {
    [CPU_SECONDS]: 4.5,
  }, "no unit is taken as seconds");
  assert.deepEqual(messagesOf(translated(jsonRequest([cpu(2, "ms")])))[0].samples[0].metrics, {
    'process.cpu.time_total{cpu_mode="user"}': 3,
    'process.cpu.time_total{cpu_mode="system"}': 1.5,
  }, "not in seconds: an ordinary counter");
  const memory = (sum: object) => ({ name: "process.memory.usage", unit: "By", sum });
  assert.deepEqual(
    messagesOf(translated(jsonRequest([memory({
      aggregationTemporality: 2,
      isMonotonic: false,
      dataPoints: [point(5e6)],
    })])))[0].samples[0].metrics,
    { "mem.rss_bytes": 5e6 },
    "an UpDownCounter, as the conventions define it",
  );
});

Deno.test("a delta histogram arrives as its derived series", () => {
  const [msg] = messagesOf(translated(jsonRequest([{
    name: "q.wait",
    histogram: {
      aggregationTemporality: 1,
      dataPoints: [{
        startTimeUnixNano: nanos(T0 - 2_000),
        timeUnixNano: nanos(T0),
        count: "4",
        sum: 80,
        bucketCounts: ["0", "4", "0"],
        explicitBounds: [10, 25],
      }],
    },
  }])));
  const m = msg.samples[0].metrics;
  assert.equal(m["q.wait.per_s"], 2);
  assert.equal(m["q.wait.avg"], 20);
  assert.ok(m["q.wait.p50"] > 10 && m["q.wait.p50"] <= 25, String(m["q.wait.p50"]));
  assert.equal(msg.samples[0].hist, undefined);
});

Deno.test("a histogram's bounds, sum, min and max written as strings are read as numbers", () => {
  const wait = (p: object) => ({
    name: "q.wait",
    unit: "ms",
    histogram: { aggregationTemporality: 1, dataPoints: [{ ...p }] },
  });
  const asNumbers = {
    startTimeUnixNano: nanos(T0 - 2_000),
    timeUnixNano: nanos(T0),
    count: "4",
    bucketCounts: ["0", "4", "0"],
  };
  const [plain, strings] = [
    { ...asNumbers, explicitBounds: [10, 1000], sum: 48, min: 11, max: 13 },
    { ...asNumbers, explicitBounds: ["10", "1000"], sum: "48", min: "11", max: "13" },
  ].map((p) => {
    const t = translated(jsonRequest([wait(p)]));
    assert.ok(t.ok && t.rejected.size === 0, JSON.stringify(t.ok && [...t.rejected]));
    return t.messages[0].samples[0].metrics;
  });
  assert.deepEqual(strings, plain);
  assert.equal(strings["q.wait.avg"], 12);
  // All four in (10, 1000]; min and max put them in our (10, 25] bucket, not spread to 1 s.
  assert.ok(
    strings["q.wait.p50"] > 10 && strings["q.wait.p50"] <= 25,
    String(strings["q.wait.p50"]),
  );
});

Deno.test("histograms past the wire's per-sample bound are refused as too_many, the rest go in", () => {
  const histogram = (name: string) => ({
    name,
    histogram: {
      aggregationTemporality: 2,
      dataPoints: [{
        startTimeUnixNano: nanos(T0 - 10_000),
        timeUnixNano: nanos(T0),
        count: "1",
        sum: 5,
        bucketCounts: ["1", "0"],
        explicitBounds: [10],
      }],
    },
  });
  const n = LIMITS.maxHistogramsPerSample;
  const t = translated(jsonRequest(Array.from({ length: n + 1 }, (_, i) => histogram(`h${i}`))));
  assert.ok(t.ok);
  assert.equal(Object.keys(t.messages[0].samples[0].hist!).length, n);
  assert.deepEqual([...t.rejected.keys()], ["too_many"]);
});

Deno.test("points that cannot be mapped are rejected by reason; the others go in", () => {
  const t = translated(jsonRequest([
    { name: "ok.gauge", gauge: { dataPoints: [point(1)] } },
    { name: "Bad-Name", gauge: { dataPoints: [point(1), point(2)] } },
    {
      name: "too.many.labels",
      gauge: {
        dataPoints: [
          point(
            1,
            Array.from({ length: 9 }, (_, i) => ({ key: `k${i}`, value: { stringValue: "v" } })),
          ),
        ],
      },
    },
    { name: "no.value", gauge: { dataPoints: [{ timeUnixNano: nanos(T0) }] } },
    { name: "inf", gauge: { dataPoints: [point(1, [], 0)] } },
    { name: "exp", exponentialHistogram: { dataPoints: [{}] } },
    {
      name: "array.label",
      gauge: { dataPoints: [point(1, [{ key: "a", value: { arrayValue: { values: [] } } }])] },
    },
    // FLAG_NO_RECORDED_VALUE: skipped, not rejected.
    { name: "empty", gauge: { dataPoints: [{ ...point(1) as object, flags: 1 }] } },
  ]));
  assert.ok(t.ok);
  assert.deepEqual(t.messages[0].samples[0].metrics, { "ok.gauge": 1 });
  assert.deepEqual(
    Object.fromEntries([...t.rejected].map(([r, { count }]) => [r, count])),
    { invalid_name: 3, missing_field: 1, invalid_number: 1, wrong_type: 2 },
  );
});

Deno.test("attribute keys an SDK writes in any style become label names, not refusals", () => {
  const attrs = ["customerTier", "Weird-Key", "http.route", "2xx", "snake_case"].map((key) => ({
    key,
    value: { stringValue: "v" },
  }));
  const t = translated(
    jsonRequest([{ name: "orders.open", gauge: { dataPoints: [point(3, attrs)] } }]),
  );
  assert.ok(t.ok);
  assert.deepEqual(t.rejected.size, 0, JSON.stringify([...t.rejected]));
  assert.deepEqual(Object.keys(t.messages[0].samples[0].metrics), [
    'orders.open{_2xx="v",customer_tier="v",http_route="v",snake_case="v",weird_key="v"}',
  ]);
  assert.equal(labelName("HTTPServer"), "httpserver");
  assert.equal(labelName("k8s.pod.name"), "k8s_pod_name");
});

Deno.test("a resource without service.name has every point rejected", () => {
  const t = translated(
    jsonRequest([{ name: "g", gauge: { dataPoints: [point(1), point(2)] } }], []),
  );
  assert.ok(t.ok);
  assert.equal(t.messages.length, 0);
  assert.equal(t.rejected.get("missing_field")?.count, 2);
});

Deno.test("100 000 attributes on one point refuse the whole request as too_many", () => {
  const attrs = Array.from(
    { length: 100_000 },
    (_, i) => ({ key: `k${i}`, value: { intValue: i } }),
  );
  const t = translated(jsonRequest([
    { name: "ok", gauge: { dataPoints: [point(1)] } },
    { name: "wide", gauge: { dataPoints: [point(1, attrs)] } },
  ]));
  assert.deepEqual(t.ok ? null : t.reason, "too_many");
});

Deno.test("bucket counts that do not fit the bounds are rejected", () => {
  const t = translated(jsonRequest([{
    name: "h",
    histogram: {
      aggregationTemporality: 2,
      dataPoints: [
        { timeUnixNano: nanos(T0), sum: 1, bucketCounts: ["1"], explicitBounds: [1, 2] },
        { timeUnixNano: nanos(T0), sum: 1, bucketCounts: ["1", "0", "0"], explicitBounds: [2, 1] },
      ],
    },
  }]));
  assert.ok(t.ok);
  assert.equal(t.messages.length, 0);
  assert.deepEqual([t.rejected.get("wrong_type")?.count, t.rejected.get("invalid_number")?.count], [
    1,
    1,
  ]);
});

Deno.test("64-bit integer attributes keep every digit; a pid stays a number for the instance name", () => {
  const attrs = [
    { key: "user_id", value: { intValue: "9007199254740993" } }, // 2^53 + 1
    { key: "shard", value: { intValue: "-0042" } },
    { key: "small", value: { intValue: 7 } },
  ];
  const t = translated(jsonRequest([{ name: "orders", gauge: { dataPoints: [point(1, attrs)] } }], [
    { key: "service.name", value: { stringValue: "svc" } },
    { key: "host.name", value: { stringValue: "h" } },
    { key: "process.pid", value: { intValue: "4242" } },
  ]));
  assert.ok(t.ok);
  assert.deepEqual(Object.keys(t.messages[0].samples[0].metrics), [
    'orders{shard="-42",small="7",user_id="9007199254740993"}',
  ]);
  const { instance, pid } = t.messages[0].identity;
  assert.deepEqual([instance, pid], ["h:4242", 4242]);
});

Deno.test("the codec answers partial success and Status in a form the official SDK reads", () => {
  const pb = ProtobufMetricsSerializer.deserializeResponse(
    codec.encodeResponse(3, "why", "protobuf"),
  );
  assert.deepEqual(
    { n: Number(pb.partialSuccess?.rejectedDataPoints), m: pb.partialSuccess?.errorMessage },
    { n: 3, m: "why" },
  );
  const js = JsonMetricsSerializer.deserializeResponse(codec.encodeResponse(3, "why", "json"));
  assert.deepEqual(
    { n: Number(js.partialSuccess?.rejectedDataPoints), m: js.partialSuccess?.errorMessage },
    { n: 3, m: "why" },
  );
  assert.equal(codec.encodeResponse(0, "", "protobuf").byteLength, 0, "full success is empty");
  assert.equal(new TextDecoder().decode(codec.encodeResponse(0, "", "json")), "{}");
});

Deno.test("bad protobuf and bad JSON are decode failures, never exceptions", () => {
  for (
    const [bytes, enc] of [
      [new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]), "protobuf"],
      [new Uint8Array([0x0a, 0xff, 0x01]), "protobuf"], // truncated length-delimited field
      [new TextEncoder().encode("{"), "json"],
      [new TextEncoder().encode("[1]"), "json"],
      [new Uint8Array([0xc3, 0x28]), "json"],
    ] as const
  ) {
    const r = codec.decodeRequest(bytes, enc);
    assert.equal(r.ok, false, `${enc} ${bytes}`);
  }
});

Deno.test("doubles written as strings, as proto3's JSON mapping allows, are read", () => {
  const attrs = [{ key: "ratio", value: { doubleValue: "0.25" } }];
  const t = translated(jsonRequest([
    { name: "load", gauge: { dataPoints: [{ timeUnixNano: nanos(T0), asDouble: "1.5" }] } },
    { name: "part", gauge: { dataPoints: [{ ...point(2, attrs) as object }] } },
    { name: "nan", gauge: { dataPoints: [{ timeUnixNano: nanos(T0), asDouble: "NaN" }] } },
  ]));
  assert.ok(t.ok);
  assert.deepEqual(t.messages[0].samples[0].metrics, { load: 1.5, 'part{ratio="0.25"}': 2 });
  assert.deepEqual([...t.rejected.keys()], ["invalid_number"], "NaN is still not a value");
});

Deno.test("JSON of the wrong shape refuses the request or the point, never throws", () => {
  const whole = translated({ resourceMetrics: 7 });
  assert.deepEqual(whole.ok ? null : whole.reason, "wrong_type");
  const t = translated(jsonRequest([
    { name: 5, gauge: { dataPoints: [point(1)] } },
    { name: "g", gauge: { dataPoints: [{ timeUnixNano: nanos(T0), asDouble: "one" }] } },
    { name: "g", gauge: { dataPoints: [{ timeUnixNano: "soon", asDouble: 1 }] } },
    {
      name: "h",
      histogram: {
        aggregationTemporality: 2,
        dataPoints: [{ timeUnixNano: nanos(T0), bucketCounts: "1" }],
      },
    },
    {
      name: "ok",
      sum: {
        aggregationTemporality: "AGGREGATION_TEMPORALITY_CUMULATIVE",
        isMonotonic: true,
        dataPoints: [point(2)],
      },
    },
  ]));
  assert.ok(t.ok);
  assert.deepEqual(t.messages[0].samples[0].metrics, { ok_total: 2 });
  assert.deepEqual(
    Object.fromEntries([...t.rejected].map(([r, { count }]) => [r, count])),
    { wrong_type: 2, invalid_number: 2 },
  );
});
