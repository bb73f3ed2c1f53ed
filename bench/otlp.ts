/**
 * OTLP/HTTP ingest throughput: requests made by the official OpenTelemetry serializers
 * (bench/otlp_sender.ts, its own process) posted to a real `startCollector`'s OTLP listener,
 * with one WebSocket reader connected, as the collector rows of bench/ingest.ts have. Each
 * request holds what one of our batch frames holds (100 instants x 4 metrics of one
 * instance), so samples/s compare directly with our own wire in the same run.
 *
 * `deno run -A bench/otlp.ts` runs this piece alone and prints its rows; `deno task bench`
 * runs it beside the ZMQ rows and writes them into docs/benchmarks.md.
 *
 * @module
 */
import { startCollector } from "../lib/collector/collector.ts";
import { instanceNames } from "./frames.ts";
import { Child } from "./procs.ts";
import type { OtlpSenderConfig, OtlpSenderResult } from "./otlp_sender.ts";
import type { WsClientConfig } from "./ws_client.ts";
import { summarize } from "./stats.ts";

/** The two OTLP/HTTP encodings. */
export type OtlpEncoding = "protobuf" | "json";

/** One OTLP run's settings. */
export interface OtlpOptions {
  encoding: OtlpEncoding;
  instances: number;
  batchSize: number;
  requests: number;
  /** Requests in flight at once (one per connection, as an exporter sends). */
  concurrency: number;
}

/** One OTLP run's outcome. */
export interface OtlpRun {
  requests: number;
  samples: number;
  ms: number;
  requestsPerSec: number;
  samplesPerSec: number;
  /** Data points (values) per second: 4 per sample. */
  pointsPerSec: number;
  bodyBytes: number;
  /** Collector's received samples and refusals (checks every sample went in). */
  received: number;
  refused: number;
  failures: number;
}

/** Post `o.requests` OTLP requests to a fresh collector and time them. */
export async function runOtlp(o: OtlpOptions): Promise<OtlpRun> {
  const logs: string[] = [];
  const c = await startCollector({
    httpPort: 0,
    zmq: "tcp://127.0.0.1:*",
    otlp: "127.0.0.1:0",
    log: (l) => logs.push(l),
  });
  const ws = new Child("./ws_client.ts", { httpUrl: c.httpUrl, mode: "count" } as WsClientConfig);
  const sender = new Child(
    "./otlp_sender.ts",
    {
      url: `${c.otlpUrl}/v1/metrics`,
      encoding: o.encoding,
      instances: instanceNames(o.instances),
      batchSize: o.batchSize,
      requests: o.requests,
      concurrency: o.concurrency,
    } satisfies OtlpSenderConfig,
  );
  try {
    await ws.next<{ ready: true }>();
    await sender.next<{ ready: true }>();
    await sender.say("go");
    const r = await sender.result<OtlpSenderResult>();
    const stats = await (await fetch(`${c.httpUrl}/api/stats`)).json();
    return {
      requests: r.requests,
      samples: r.samples,
      ms: r.ms,
      requestsPerSec: r.requests / (r.ms / 1000),
      samplesPerSec: r.samples / (r.ms / 1000),
      pointsPerSec: r.points / (r.ms / 1000),
      bodyBytes: r.bodyBytes,
      received: stats.received.samples,
      refused: stats.rejected.total,
      failures: Object.values(r.failures).reduce((a, b) => a + b, 0),
    };
  } finally {
    sender.kill();
    ws.kill();
    await c.stop();
    if (logs.length > 0) console.error(`collector log: ${logs.slice(0, 3).join(" | ")}`);
  }
}

/** Settings `deno task bench` uses. */
export const OTLP_BENCH = { instances: 10, batchSize: 100, concurrency: 4, reps: 5, repMs: 1200 };

/**
 * Warm up, calibrate the request count to about `repMs` per repetition, then alternate the
 * encodings for `reps` repetitions each.
 */
export async function runOtlpBench(
  say: (line: string) => void,
  settings = OTLP_BENCH,
): Promise<Record<OtlpEncoding, OtlpRun[]>> {
  const { instances, batchSize, concurrency, reps, repMs } = settings;
  const base = { instances, batchSize, concurrency };
  const count = {} as Record<OtlpEncoding, number>;
  const out: Record<OtlpEncoding, OtlpRun[]> = { protobuf: [], json: [] };
  for (const encoding of ["protobuf", "json"] as const) {
    const first = await runOtlp({ ...base, encoding, requests: 300 }); // JIT warm-up
    const warm = await runOtlp({ ...base, encoding, requests: 600 });
    const perSec = Math.max(first.requestsPerSec, warm.requestsPerSec);
    count[encoding] = Math.max(100, Math.round(perSec * repMs / 1000));
    say(`otlp ${encoding}: warm-up ${line(warm)}`);
  }
  for (let i = 0; i < reps; i++) {
    for (const encoding of ["protobuf", "json"] as const) {
      const r = await runOtlp({ ...base, encoding, requests: count[encoding] });
      if (r.received !== r.samples || r.refused > 0 || r.failures > 0) {
        throw new Error(`otlp ${encoding}: ${JSON.stringify(r)}`);
      }
      out[encoding].push(r);
      say(`otlp ${encoding} rep ${i + 1}/${reps}: ${line(r)}`);
    }
  }
  return out;
}

const k = (x: number) => `${(x / 1000).toFixed(1)}k`;

function line(r: OtlpRun): string {
  return `${r.requestsPerSec.toFixed(0)} req/s, ${k(r.samplesPerSec)} samples/s, ` +
    `${k(r.pointsPerSec)} points/s (${r.ms.toFixed(0)} ms, ${r.bodyBytes.toFixed(0)} B/request)`;
}

if (import.meta.main) {
  const t0 = performance.now();
  const say = (s: string) =>
    console.error(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${s}`);
  const runs = await runOtlpBench(say);
  for (const encoding of ["protobuf", "json"] as const) {
    const s = summarize(runs[encoding].map((r) => r.samplesPerSec));
    const req = summarize(runs[encoding].map((r) => r.requestsPerSec));
    console.log(
      `OTLP ${encoding}: samples/s median ${s.median.toFixed(0)} (min ${s.min.toFixed(0)}, max ${
        s.max.toFixed(0)
      }), requests/s median ${req.median.toFixed(0)}, ${
        runs[encoding][0].bodyBytes.toFixed(0)
      } B/request`,
    );
  }
}
