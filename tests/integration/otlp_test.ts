/**
 * OTLP/HTTP ingest end to end: the official OpenTelemetry JS SDK, exporting from a real Deno
 * process (tests/fixtures/otel_app.ts) over protobuf and JSON, into a real collector; and
 * hostile OTLP requests, each answered and counted while that app keeps arriving.
 */
import assert from "node:assert/strict";
import { startTestCollector } from "../support/collector.ts";
import type { Collector } from "../../lib/collector/collector.ts";
import { instanceId } from "../../lib/collector/instances.ts";
import { startServer } from "../support/server_process.ts";
import { waitFor } from "../support/live.ts";
import type { InstanceView, ServiceView } from "../../lib/live/messages.ts";
import { JsonMetricsSerializer } from "@opentelemetry/otlp-transformer";

const FIXTURE = new URL("../fixtures/otel_app.ts", import.meta.url).pathname;
const ROUTE = 'http_route="/users/:id"';

/** Start the SDK app; it exports until killed. */
function otelApp(
  otlpUrl: string,
  protocol: "proto" | "json",
  instance: string,
  opts: { token?: string; gzip?: boolean; host?: boolean } = {},
): { stop(): Promise<void>; stderr: () => string } {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      FIXTURE,
      otlpUrl,
      protocol,
      "shop",
      instance,
      opts.token ?? "",
      opts.gzip ? "gzip" : "",
      opts.host ? "host" : "",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let err = "";
  const pump = (async () => {
    const text = new TextDecoder();
    for await (const b of child.stderr) err += text.decode(b, { stream: true });
  })();
  return {
    async stop() {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
      await pump;
    },
    stderr: () => err,
  };
}

async function instanceOf(
  httpUrl: string,
  id: string,
  token?: string,
): Promise<InstanceView | undefined> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const list: InstanceView[] = await (await fetch(`${httpUrl}/api/instances`, { headers })).json();
  return list.find((v) => v.id === id);
}

/**
 * After five more samples of an SDK app started at `spawnedAt`: one process, so no restart,
 * and an uptime from its SDK's cumulative start (a little after the spawn, before now).
 */
async function steadyStart(httpUrl: string, id: string, spawnedAt: number): Promise<void> {
  const first = (await instanceOf(httpUrl, id))!.received;
  const view = await waitFor(async () => {
    const v = await instanceOf(httpUrl, id);
    return v && v.received >= first + 5 && v;
  }, "five more samples");
  assert.equal(view.restarts, 0, "the same cumulative start in every export");
  const started = view.startedAt!;
  assert.ok(
    started >= spawnedAt - 1000 && started <= Date.now(),
    `started ${started - spawnedAt} ms after the spawn`,
  );
}

async function refusals(httpUrl: string, token?: string): Promise<Record<string, number>> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const stats = await (await fetch(`${httpUrl}/api/stats`, { headers })).json();
  return stats.rejected.byReason;
}

/** A service's HTTP health from `/api/services`, once it has requests, errors and a latency. */
function serviceHttp(httpUrl: string, service: string) {
  return waitFor(
    async () => {
      const list: ServiceView[] = await (await fetch(`${httpUrl}/api/services`)).json();
      const h = list.find((s) => s.service === service)?.http;
      return h && h.requestsPerS > 0 && h.errorsPerS > 0 && h.p50 !== null && h;
    },
    `the ${service} service's request rate, errors and latency`,
    30_000,
  );
}

/** The series the fixture's counter, gauges and histogram must arrive as. */
async function checkSeries(httpUrl: string, id: string, token?: string): Promise<void> {
  const view = await waitFor(
    async () => {
      const v = await instanceOf(httpUrl, id, token);
      return v && `app.latency.p50{${ROUTE}}` in v.latest &&
        `app.requests.per_s{${ROUTE}}` in v.latest &&
        v;
    },
    `counter rate and histogram percentiles of ${id}`,
    30_000,
  );
  const latest = view.latest;
  assert.equal(latest['app.queue_depth{pool="main"}'], 42, "gauge as recorded");
  assert.equal(latest["app.inflight"], 3, "up-down counter as a gauge");
  assert.ok(latest[`app.requests_total{${ROUTE}}`] >= 1, "monotonic sum as a _total counter");
  const rate = latest[`app.requests.per_s{${ROUTE}}`];
  assert.ok(rate > 0 && rate < 500, `counter rate ${rate}/s`);
  assert.equal(latest[`app.latency.avg{${ROUTE}}`], 20, "every observation was 20 ms");
  for (const p of ["p50", "p95", "p99"]) {
    const v = latest[`app.latency.${p}{${ROUTE}}`];
    assert.ok(v > 10 && v <= 25, `${p} ${v} within the (10, 25] ms bucket`);
  }
  assert.ok(latest[`app.latency.per_s{${ROUTE}}`] > 0);
  assert.equal(view.host, "fixture-host");
  assert.ok(view.pid !== null && view.pid > 0);
  // The same series are in the history API, as plain series.
  const q = new URLSearchParams({ instance: id, metric: `app.requests.per_s{${ROUTE}}` });
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const series = await (await fetch(`${httpUrl}/api/series?${q}`, { headers })).json();
  assert.ok(series.series[0].points.length >= 1, "rate points in /api/series");
}

Deno.test("server.ts --otlp: an OTel SDK app exporting protobuf arrives as counters, gauges and a histogram", async () => {
  const server = await startServer([
    "--otlp",
    "127.0.0.1:0",
  ]);
  assert.ok(server.otlpUrl, server.output.join("\n"));
  const app = otelApp(server.otlpUrl!, "proto", "proto-1");
  try {
    await checkSeries(server.httpUrl, instanceId("shop", "proto-1"));
    assert.equal((await refusals(server.httpUrl)).invalid_protobuf, 0);
  } finally {
    await app.stop();
    await server.stop();
  }
});

Deno.test("an OTel SDK app exporting gzipped JSON arrives as the same series", async () => {
  const c = await startTestCollector({ otlp: "127.0.0.1:0" });
  const app = otelApp(c.otlpUrl!, "json", "json-1", { gzip: true });
  try {
    await checkSeries(c.httpUrl, instanceId("shop", "json-1"));
    assert.equal((await refusals(c.httpUrl)).invalid_json, 0);
  } finally {
    await app.stop();
    await c.stop();
  }
});

Deno.test("an OTel app's host-metrics draw its CPU and memory lines like an agent's", async () => {
  const c = await startTestCollector({ otlp: "127.0.0.1:0" });
  const spawnedAt = Date.now();
  const app = otelApp(c.otlpUrl!, "proto", "host-1", { host: true });
  try {
    const view = await waitFor(
      async () => {
        const v = await instanceOf(c.httpUrl, instanceId("shop", "host-1"));
        return v && "cpu.percent" in v.latest && v;
      },
      "cpu.percent, derived from process.cpu.time at its second export",
      30_000,
    );
    // The fixture works 10 ms of every 20: about half a core, whatever else the machine does.
    const cpu = view.latest["cpu.percent"];
    assert.ok(cpu > 10 && cpu < 100 * navigator.hardwareConcurrency, `cpu.percent ${cpu}`);
    const status = await Deno.readTextFile(`/proc/${view.pid}/status`);
    const vmRss = Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
    const rss = view.latest["mem.rss_bytes"];
    assert.ok(rss > vmRss / 2 && rss < vmRss * 2, `mem.rss_bytes ${rss}, the process has ${vmRss}`);
    const renamed = Object.keys(view.latest).filter((k) =>
      k.startsWith("process.cpu.time") || k.startsWith("process.memory.usage")
    );
    assert.deepEqual(renamed, [], "one name each");
    // The history API has the CPU line under the chart's own name.
    const q = new URLSearchParams({ instance: view.id, metric: "cpu.percent" });
    const series = await (await fetch(`${c.httpUrl}/api/series?${q}`)).json();
    assert.ok(series.series[0].points.length >= 1, "cpu.percent points in /api/series");
    await steadyStart(c.httpUrl, view.id, spawnedAt);
  } finally {
    await app.stop();
    await c.stop();
  }
});

Deno.test("an OTel app's HTTP server durations fill its service card: requests, errors, latency", async () => {
  const c = await startTestCollector({ otlp: "127.0.0.1:0" });
  const app = otelApp(c.otlpUrl!, "proto", "http-1");
  try {
    const http = await serviceHttp(c.httpUrl, "shop");
    // One request every 20 ms, every tenth a 500, each 20 ms long.
    assert.ok(http.requestsPerS < 100, `requests ${http.requestsPerS}/s`);
    assert.ok(http.errorRatio > 0 && http.errorRatio < 0.5, `error ratio ${http.errorRatio}`);
    assert.ok(http.p50! > 10 && http.p50! <= 25, `p50 ${http.p50} within the (10, 25] ms bucket`);
    const view = (await instanceOf(c.httpUrl, instanceId("shop", "http-1")))!;
    const route = 'method="GET",route="/users/:id"';
    assert.ok(`http.requests.per_s{${route},status="2xx"}` in view.latest, "the agent's names");
    assert.ok(`http.request_duration_ms.p99{${route}}` in view.latest);
  } finally {
    await app.stop();
    await c.stop();
  }
});

Deno.test("a Deno.serve app with Deno's own OpenTelemetry (OTEL_DENO) fills its service card, no code", async () => {
  const c = await startTestCollector({ otlp: "127.0.0.1:0" });
  const spawnedAt = Date.now();
  const app = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../fixtures/deno_otel_app.ts", import.meta.url).pathname],
    env: {
      OTEL_DENO: "true",
      OTEL_SERVICE_NAME: "plain",
      OTEL_RESOURCE_ATTRIBUTES: "service.instance.id=plain-1",
      OTEL_EXPORTER_OTLP_ENDPOINT: c.otlpUrl!,
      OTEL_METRIC_EXPORT_INTERVAL: "300",
    },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const http = await serviceHttp(c.httpUrl, "plain");
    assert.ok(http.errorRatio > 0 && http.errorRatio < 0.5, `error ratio ${http.errorRatio}`);
    const view = (await instanceOf(c.httpUrl, instanceId("plain", "plain-1")))!;
    assert.ok(
      'http.requests.per_s{method="GET",route="other",status="5xx"}' in view.latest,
      Object.keys(view.latest).join("\n"),
    );
    await steadyStart(c.httpUrl, view.id, spawnedAt);
  } finally {
    try {
      app.kill("SIGKILL");
    } catch { /* gone */ }
    await app.status;
    await c.stop();
  }
});

Deno.test("a service whose resource names no instance is told once that its processes are one line", async () => {
  const lines: string[] = [];
  const c = await startTestCollector({ otlp: "127.0.0.1:0", log: (l) => lines.push(l) });
  const post = async (resource: Record<string, string>) => {
    const attributes = Object.entries(resource).map(([key, v]) => ({
      key,
      value: { stringValue: v },
    }));
    const body = {
      resourceMetrics: [{
        resource: { attributes },
        scopeMetrics: [{
          metrics: [{
            name: "queue.depth",
            gauge: { dataPoints: [{ timeUnixNano: String(Date.now() * 1e6), asDouble: 1 }] },
          }],
        }],
      }],
    };
    const res = await fetch(`${c.otlpUrl}/v1/metrics`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, await res.text());
  };
  try {
    await post({ "service.name": "bare" });
    await post({ "service.name": "bare" });
    await post({ "service.name": "named", "service.instance.id": "n-1" });
    await post({ "service.name": "hosted", "host.name": "web1" });
    const told = lines.filter((l) => l.startsWith("otlp:"));
    assert.deepEqual(told, [
      'otlp: service "bare" sends no service.instance.id, host.name or process.pid: all its ' +
      'processes are one instance, "unknown"; give each OTEL_RESOURCE_ATTRIBUTES=service.instance.id=NAME',
    ], "once, and only for the service that names no instance");
    // Also where a user looks without the log: /api/stats names the service and the fix.
    const { otlp } = await (await fetch(`${c.httpUrl}/api/stats`)).json();
    assert.deepEqual(otlp.unnamed, ["bare"]);
    assert.match(otlp.fix, /OTEL_RESOURCE_ATTRIBUTES=service\.instance\.id=NAME/);
  } finally {
    await c.stop();
  }
});

Deno.test("an SDK pointed at the dashboard's port is answered and logged with where OTLP goes", async () => {
  const lines: string[] = [];
  const c = await startTestCollector({ otlp: "127.0.0.1:0", log: (l) => lines.push(l) });
  const off = await startTestCollector({ log: () => {} });
  const exportTo = (base: string) =>
    fetch(`${base}/v1/metrics`, {
      method: "POST",
      headers: { "content-type": "application/x-protobuf" },
      body: new Uint8Array(0),
    });
  try {
    for (let i = 0; i < 3; i++) {
      const res = await exportTo(c.httpUrl);
      assert.equal(res.status, 404);
      const { error } = await res.json();
      assert.ok(error.includes(`${c.otlpUrl}/v1/metrics`), error);
    }
    const told = lines.filter((l) => l.includes("dashboard's port"));
    assert.equal(told.length, 1, "said once, not per export");
    assert.ok(told[0].includes(`OTEL_EXPORTER_OTLP_ENDPOINT=${c.otlpUrl}`), told[0]);
    // With OTLP off, it says so; other methods are refused as before.
    const res = await exportTo(off.httpUrl);
    assert.match((await res.json()).error, /--otlp none/);
    assert.equal((await fetch(`${c.httpUrl}/api/stats`, { method: "POST" })).status, 405);
  } finally {
    await off.stop();
    await c.stop();
  }
});

Deno.test("with a token, OTLP needs Authorization: Bearer; without it nothing arrives and it is counted", async () => {
  const token = "otlp-test-token-0123456789";
  const c = await startTestCollector({ otlp: "127.0.0.1:0", token });
  const without = otelApp(c.otlpUrl!, "proto", "no-token");
  const withToken = otelApp(c.otlpUrl!, "proto", "with-token", { token });
  try {
    await checkSeries(c.httpUrl, instanceId("shop", "with-token"), token);
    await waitFor(
      async () => (await refusals(c.httpUrl, token)).unauthorized >= 2,
      "refusals counted",
    );
    assert.equal(await instanceOf(c.httpUrl, instanceId("shop", "no-token"), token), undefined);
  } finally {
    await without.stop();
    await withToken.stop();
    await c.stop();
  }
});

async function post(
  c: Collector,
  body: BodyInit,
  headers: Record<string, string>,
  path = "/v1/metrics",
  method = "POST",
): Promise<{ status: number; bytes: Uint8Array }> {
  const res = await fetch(`${c.otlpUrl}${path}`, {
    method,
    body: method === "POST" ? body : undefined,
    headers,
  });
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) };
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const nowNanos = () => String(BigInt(Date.now()) * 1_000_000n);

function jsonBody(metrics: object[], attributes: object[] = []): string {
  return JSON.stringify({
    resourceMetrics: [{
      resource: {
        attributes: [
          { key: "service.name", value: { stringValue: "hand" } },
          { key: "service.instance.id", value: { stringValue: "made" } },
          ...attributes,
        ],
      },
      scopeMetrics: [{ metrics }],
    }],
  });
}

Deno.test("malformed OTLP is answered 400/413/415 and counted, and an SDK app alongside keeps arriving", async () => {
  const c = await startTestCollector({ otlp: "127.0.0.1:0" });
  const app = otelApp(c.otlpUrl!, "proto", "steady");
  const id = instanceId("shop", "steady");
  const PB = { "content-type": "application/x-protobuf" };
  const JSON_ = { "content-type": "application/json" };
  try {
    await waitFor(
      async () => (await instanceOf(c.httpUrl, id))?.received,
      "the app's first export",
      30_000,
    );
    const before = await refusals(c.httpUrl);

    const badProto = await post(c, new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 1, 2]), PB);
    assert.equal(badProto.status, 400);
    const badJson = await post(c, "{not json", JSON_);
    assert.equal(badJson.status, 400);
    assert.match(
      new TextDecoder().decode(badJson.bytes),
      /"code":3/,
      "a google.rpc.Status in JSON",
    );
    assert.equal((await post(c, "x", { "content-type": "text/plain" })).status, 415);
    assert.equal((await post(c, "x", { ...PB, "content-encoding": "br" })).status, 415);
    const tenMb = new Uint8Array(10 * 1024 * 1024);
    assert.equal((await post(c, tenMb, PB)).status, 413);
    // A gzip bomb: 10 MB of zeros in ~10 kB; refused once 4 MiB have come out.
    const bomb = await gzip(tenMb);
    assert.ok(bomb.byteLength < 100_000);
    assert.equal((await post(c, bomb, { ...PB, "content-encoding": "gzip" })).status, 413);
    assert.equal((await post(c, "not gzip", { ...JSON_, "content-encoding": "gzip" })).status, 400);
    // 100 000 distinct attributes in ~3.8 MB of JSON (under the 4 MiB bound), sent gzipped.
    const wide = Array.from(
      { length: 100_000 },
      (_, i) => ({ key: i.toString(36), value: { intValue: 1 } }),
    );
    const at = nowNanos();
    const hundredK = jsonBody([{
      name: "wide",
      gauge: { dataPoints: [{ timeUnixNano: at, asInt: 1, attributes: wide }] },
    }]);
    const hundredKGz = await gzip(new TextEncoder().encode(hundredK));
    assert.equal((await post(c, hundredKGz, { ...JSON_, "content-encoding": "gzip" })).status, 400);
    assert.equal((await post(c, "", PB, "/v1/metrics", "GET")).status, 405);
    assert.equal((await post(c, "", PB, "/v1/traces")).status, 404);

    // Partial success: the good point goes in, the bad one is rejected and said so.
    const partial = await post(
      c,
      jsonBody([
        { name: "hand.good", gauge: { dataPoints: [{ timeUnixNano: at, asDouble: 7 }] } },
        { name: "Hand.Bad", gauge: { dataPoints: [{ timeUnixNano: at, asDouble: 1 }] } },
      ]),
      JSON_,
    );
    assert.equal(partial.status, 200);
    const answer = JsonMetricsSerializer.deserializeResponse(partial.bytes);
    assert.equal(Number(answer.partialSuccess?.rejectedDataPoints), 1);
    assert.match(answer.partialSuccess?.errorMessage ?? "", /invalid_name/);
    const made = await waitFor(
      () => instanceOf(c.httpUrl, instanceId("hand", "made")),
      "hand/made",
    );
    assert.equal(made.latest["hand.good"], 7);

    const after = await refusals(c.httpUrl);
    const diff = Object.fromEntries(
      Object.keys(after).map((k) => [k, after[k] - before[k]]).filter(([, n]) => n !== 0),
    );
    assert.deepEqual(diff, {
      invalid_protobuf: 1,
      invalid_json: 1,
      unsupported_media_type: 2,
      too_large: 2,
      invalid_gzip: 1,
      too_many: 1,
      invalid_name: 1,
    });
    // Nothing else affected: the app's exports keep arriving after all of that.
    const received = (await instanceOf(c.httpUrl, id))!.received;
    await waitFor(
      async () => (await instanceOf(c.httpUrl, id))!.received > received + 1,
      "more exports",
    );
    assert.equal((await fetch(`${c.httpUrl}/healthz`)).status, 200);
    assert.equal(app.stderr().includes("Bad Request"), false, app.stderr());
  } finally {
    await app.stop();
    await c.stop();
  }
});

Deno.test("an OTLP address already in use is a clear start-up error, and the collector leaves nothing open", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = taken.addr as Deno.NetAddr;
  try {
    await assert.rejects(
      startTestCollector({ otlp: `127.0.0.1:${port}` }),
      (e: Error) => e.message.includes(`cannot listen for OTLP on 127.0.0.1:${port}`),
    );
  } finally {
    taken.close();
  }
  // Nothing leaked: a collector on the same address starts once the port is free.
  const c = await startTestCollector({ otlp: `127.0.0.1:${port}` });
  assert.equal(c.otlpUrl, `http://127.0.0.1:${port}`);
  await c.stop();
});
