/**
 * An OTLP/HTTP benchmark sender: `deno run -A bench/otlp_sender.ts '<OtlpSenderConfig JSON>'`.
 *
 * It serializes its requests first with the official OpenTelemetry serializers (what the
 * SDK's exporters send), prints `{"ready":true}`, waits for `go` on stdin, then posts them
 * over `concurrency` keep-alive connections, one request in flight on each, as an exporter
 * does. Each request carries, for one instance, the content of one of our batch frames:
 * `batchSize` points in time of the agent's four metrics (gauges), so "samples" mean the
 * same thing on both wires. The collector answers only once a request is ingested, so the
 * time to the last answer is the ingest time. Prints one JSON result line, then exits when
 * stdin closes.
 *
 * @module
 */
import { ValueType } from "@opentelemetry/api";
import {
  AggregationTemporality,
  DataPointType,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from "@opentelemetry/otlp-transformer";
import { agentMetrics } from "./frames.ts";
import { readLines } from "./procs.ts";

/** What the parent asks an OTLP sender to do. */
export interface OtlpSenderConfig {
  url: string;
  encoding: "protobuf" | "json";
  instances: string[];
  batchSize: number;
  requests: number;
  concurrency: number;
}

/** The line the sender prints when it is done. */
export interface OtlpSenderResult {
  requests: number;
  samples: number;
  points: number;
  /** Mean request body, bytes. */
  bodyBytes: number;
  /** From `go` to the last answer, ms. */
  ms: number;
  /** Answers other than 200, by status. */
  failures: Record<string, number>;
}

const emit = (o: unknown) => console.log(JSON.stringify(o));

/** One request's worth of SDK data: `batchSize` instants of the agent's four metrics. */
function resourceMetrics(
  instance: string,
  batchSize: number,
  t0: number,
  k0: number,
): ResourceMetrics {
  const names = Object.keys(agentMetrics(0));
  const times = Array.from({ length: batchSize }, (_, i) => t0 + i * 10);
  const hr = (ms: number): [number, number] => [Math.floor(ms / 1000), (ms % 1000) * 1e6];
  return {
    resource: resourceFromAttributes({
      "service.name": "bench",
      "service.instance.id": instance,
      "host.name": "bench-host",
      "process.pid": 4242,
    }),
    scopeMetrics: [{
      scope: { name: "bench" },
      metrics: names.map((name) => ({
        descriptor: { name, description: "", unit: "", valueType: ValueType.DOUBLE },
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.GAUGE,
        dataPoints: times.map((t, i) => ({
          startTime: hr(t),
          endTime: hr(t),
          attributes: {},
          value: agentMetrics(k0 + i)[name],
        })),
      })),
    }],
  } as ResourceMetrics;
}

async function main() {
  const cfg = JSON.parse(Deno.args[0]) as OtlpSenderConfig;
  const serializer = cfg.encoding === "json" ? JsonMetricsSerializer : ProtobufMetricsSerializer;
  const now = Date.now();
  const bodies = cfg.instances.map((name, i) =>
    serializer.serializeRequest(
      resourceMetrics(name, cfg.batchSize, now, i * 1000),
    ) as Uint8Array<ArrayBuffer>
  );
  const type = cfg.encoding === "json" ? "application/json" : "application/x-protobuf";
  const lines = readLines(Deno.stdin.readable);
  emit({ ready: true });
  await lines.next(); // "go"
  let next = 0;
  const failures: Record<string, number> = {};
  const t0 = performance.now();
  const worker = async () => {
    while (next < cfg.requests) {
      const body = bodies[next++ % bodies.length];
      const res = await fetch(cfg.url, { method: "POST", body, headers: { "content-type": type } });
      await res.arrayBuffer();
      if (res.status !== 200) failures[res.status] = (failures[res.status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: cfg.concurrency }, worker));
  const ms = performance.now() - t0;
  const bodyBytes = bodies.reduce((n, b) => n + b.byteLength, 0) / bodies.length;
  emit(
    {
      requests: cfg.requests,
      samples: cfg.requests * cfg.batchSize,
      points: cfg.requests * cfg.batchSize * 4,
      bodyBytes,
      ms,
      failures,
    } satisfies OtlpSenderResult,
  );
  for await (const _ of lines) { /* until stdin closes */ }
}

if (import.meta.main) await main();
