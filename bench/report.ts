/**
 * Render the benchmark results as docs/benchmarks.md.
 *
 * @module
 */
import { type RemoteWriteResults, renderRemoteWrite } from "./remote_write.ts";
import type { Form } from "./frames.ts";
import type { ThroughputRun } from "./ingest.ts";
import type { LatencyRun } from "./latency.ts";
import type { HonestResults } from "./honest.ts";
import { renderHonestIngest, renderHonestLatency } from "./report_honest.ts";
import { quantile, summarize, type Summary } from "./stats.ts";
import type { StorageResults } from "./storage.ts";
import { type PeerResults, PEERS_BEGIN, PEERS_END, renderPeers } from "./peers.ts";
import type { Stage } from "./ingest_breakdown.ts";
import type { OtlpEncoding, OtlpRun } from "./otlp.ts";
import {
  type AgentCostResults,
  type AppRole,
  costOf,
  type CostSummary,
  type MeasuredRole,
  SLOW_READ_FDS,
} from "./agent_cost.ts";
import { type HeapCostResults, renderHeapProfileCost } from "./heap_profile_cost.ts";

/** The machine the numbers come from. */
export interface Machine {
  nproc: number;
  cpu: string;
  deno: string;
  os: string;
  /** /proc/loadavg at points of the run (1, 5, 15 min). */
  load: string;
}

/** Everything one `deno task bench` measured. */
export interface BenchResults {
  date: string;
  machine: Machine;
  command: string;
  wallSeconds: number;
  instances: number;
  batchSize: number;
  reps: number;
  sendHwm: number;
  scaling: Array<{ form: Form; senders: number; messagesPerSec: number[] }>;
  senders: Record<Form, number>;
  throughput: Record<Form, { raw: ThroughputRun[]; collector: ThroughputRun[] }>;
  /** OTLP/HTTP ingest into the same collector (bench/otlp.ts), by encoding. */
  otlp: Record<OtlpEncoding, OtlpRun[]>;
  /** OTLP requests in flight at once. */
  otlpConcurrency: number;
  latency: LatencyRun & { rateHz: number; durationMs: number };
  /** Issue 14 targets 1 and 3: CPU per sample with history on, latency while busy. */
  honest?: HonestResults;
  /** Mean encoded frame size per form, bytes. */
  frameBytes: Record<Form, number>;
  /** In-process cost of ingest stages per frame form (bench/ingest_breakdown.ts). */
  breakdown: Record<Form, Stage[]>;
  storage: StorageResults;
  /** zeroapm's store beside VictoriaMetrics and Prometheus (bench/peers.ts). */
  peers?: PeerResults;
  agentCost: AgentCostResults;
  /** A heap-profiling window's cost (bench/heap_profile_cost.ts). */
  heapProfile?: HeapCostResults;
  /** Remote write beside ingest, and bytes/sample against VictoriaMetrics (remote_write.ts). */
  remoteWrite?: RemoteWriteResults;
  targets: {
    batchRatio: number;
    p99Ms: number;
    bytesPerSample: number;
    writeSamplesPerSec: number;
    queryMs: number;
    /** The agent's CPU at 1 Hz with 50 custom series, % of one core. */
    agentCorePercent: number;
    /** The agent's extra resident memory, MiB. */
    agentRssMiB: number;
  };
}

const FORMS: Form[] = ["single", "batch"];

function num(x: number, digits = 0): string {
  if (!Number.isFinite(x)) return "n/a";
  return x.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

function rate(s: Summary): string[] {
  return [num(s.median), `${num(s.min)} – ${num(s.max)}`, `${num(s.q1)} – ${num(s.q3)}`];
}

function formLabel(f: Form, batchSize: number): string {
  return f === "single" ? "single (1 sample/frame)" : `batch (${batchSize} samples/frame)`;
}

/** Paired ratios collector/raw of interleaved repetitions (rep i with rep i). */
export function pairedRatios(raw: ThroughputRun[], col: ThroughputRun[]): number[] {
  const n = Math.min(raw.length, col.length);
  return Array.from({ length: n }, (_, i) => col[i].messagesPerSec / raw[i].messagesPerSec);
}

/** The ratio of medians, the headline number. */
export function medianRatio(raw: ThroughputRun[], col: ThroughputRun[]): number {
  return summarize(col.map((r) => r.messagesPerSec)).median /
    summarize(raw.map((r) => r.messagesPerSec)).median;
}

/**
 * Ratio A, the one the ingest target is judged by: samples/s the collector ingests from batch
 * frames over the messages/s the raw transport carries with single-sample frames (the
 * samples/s it could carry one per frame).
 */
export function batchedVsSingleRaw(r: BenchResults): number {
  return summarize(r.throughput.batch.collector.map((x) => x.samplesPerSec)).median /
    summarize(r.throughput.single.raw.map((x) => x.messagesPerSec)).median;
}

const met = (ok: boolean) => ok ? "**met**" : "**not met**";

/** The markdown page. */
export function renderReport(r: BenchResults): string {
  const L: string[] = [];
  const p = (s = "") => L.push(s);
  const m = r.machine;
  p("# Benchmarks");
  p();
  p("<!-- Written by `deno task bench` (bench/run.ts). Do not edit by hand: run it again. -->");
  p();
  p("What the collector costs compared with the transport it sits on, how fresh live data is,");
  p("and what durable history costs on disk, to write and to query. All numbers come from one");
  p("run, so the ratios compare like with like. Reproduce with `deno task bench` (about 13");
  p("minutes on 2 cores; it rewrites this file). Before/after measurements of single changes,");
  p("which this file does not keep, are in [benchmarks-changes.md](benchmarks-changes.md).");
  p();
  p("- **Raw ZMQ limit**: PUSH -> PULL over `tcp://127.0.0.1`, received with lib/transport/zmq.ts");
  p("  `bindPull` (the collector's own receive loop) and an `onFrame` that only counts. The");
  p("  ceiling any collector built on this transport could reach on this machine.");
  p("- **Collector ingest**: the same frames into a real `startCollector` (decode, validation,");
  p("  instance accounting, recent store, live hub), with one WebSocket reader on `/ws`");
  p("  (its own process, counting frames). Completion is `/api/stats` `received.messages`.");
  p("- **Ratio A** (the ingest target): collector samples/s with batch frames / raw limit in");
  p("  messages/s with single-sample frames. **Ratio B**: collector / raw with identical batch");
  p("  frames (decode-bound). See [Ingest ratios](#ingest-ratios).");
  p("- **OTLP/HTTP ingest**: requests made by the official OpenTelemetry serializers, each");
  p("  holding what one batch frame holds, posted to the same collector's OTLP listener. See");
  p("  [OTLP/HTTP ingest](#otlphttp-ingest).");
  p("- **Durable storage**: lib/store `DurableStore` beside a naive one-row-per-sample SQLite");
  p("  table, same samples, same process. See [Durable storage](#durable-storage).");
  p("- **Agent -> WebSocket latency**: a sender process pushes single-sample frames at a");
  p("  steady rate, each carrying its send time (`Date.now()`) as metric `bench.sent_ms`; a");
  p("  WebSocket reader process records receive time minus send time per sample.");
  p();
  p("How it is measured: frames are real `encode()` output (the agent's four standard metrics,");
  p(`${r.instances} distinct instances, each with its own increasing \`seq\`), encoded before the`);
  p("clock starts, by sender processes (bench/sender.ts, one PUSH socket each, `connectPush`");
  p("as the agent uses it: every send awaited, a refused send retried after yielding). The");
  p("receiver (raw PULL or collector) runs alone in the bench process; both are timed from");
  p("`go` to the 10 ms poll that sees the last frame counted. Raw and collector repetitions");
  p(`alternate (raw, collector, raw, ...) after one discarded warm-up each; ${r.reps} timed`);
  p("repetitions per row. Raw runs cycle a pool of pre-encoded frames; collector runs send");
  p("every frame once (unique `seq`), so nothing is refused as a duplicate.");
  p();
  p("## Machine");
  p();
  p(`- Date: ${r.date}`);
  p(`- CPU: ${m.cpu}, \`nproc\` = ${m.nproc}`);
  p(`- OS: ${m.os}`);
  p(`- ${m.deno.split("\n").join(", ")}`);
  p(`- Command: \`${r.command}\` (wall time ${num(r.wallSeconds)} s)`);
  p(`- Load average during the run (other work on the machine shows here): ${m.load}`);
  p();

  p("## Sender scaling (is the sender the bottleneck?)");
  p();
  p("Raw limit with 1, 2, 3 sender processes (messages/s, 3 repetitions each). The main");
  p("tables use the best sender count per frame form.");
  p();
  p("| form | senders | median msg/s | min – max |");
  p("| --- | ---: | ---: | ---: |");
  for (const s of r.scaling) {
    const x = summarize(s.messagesPerSec);
    p(`| ${s.form} | ${s.senders} | ${num(x.median)} | ${num(x.min)} – ${num(x.max)} |`);
  }
  p();

  p("## Throughput: raw limit vs collector ingest");
  p();
  p("| form | receiver | senders | messages/s median | min – max | IQR | samples/s median |");
  p("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
  for (const f of FORMS) {
    for (const kind of ["raw", "collector"] as const) {
      const runs = r.throughput[f][kind];
      const msg = summarize(runs.map((x) => x.messagesPerSec));
      const smp = summarize(runs.map((x) => x.samplesPerSec));
      p(
        `| ${formLabel(f, r.batchSize)} | ${kind} | ${r.senders[f]} | ${rate(msg).join(" | ")} | ${
          num(smp.median)
        } |`,
      );
    }
  }
  for (const enc of ["protobuf", "json"] as const) {
    const runs = r.otlp[enc];
    const req = summarize(runs.map((x) => x.requestsPerSec));
    const smp = summarize(runs.map((x) => x.samplesPerSec));
    p(
      `| OTLP/HTTP ${enc} (${r.batchSize} samples/request) | collector | ${r.otlpConcurrency} | ${
        rate(req).join(" | ")
      } | ${num(smp.median)} |`,
    );
  }
  p();
  p("OTLP rows count requests as messages; senders are requests in flight at once.");
  p();
  p("Diagnostics per form (medians over the timed repetitions):");
  p();
  p(
    "| form | receiver | run ms | slowest sender ms | trySend refusals | WS frames read | hub drops | longest event-loop stall ms |",
  );
  p("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const f of FORMS) {
    for (const kind of ["raw", "collector"] as const) {
      const runs = r.throughput[f][kind];
      const med = (g: (x: ThroughputRun) => number | undefined) => {
        const xs = runs.map(g).filter((x): x is number => x !== undefined);
        return xs.length ? num(summarize(xs).median) : "–";
      };
      p(
        `| ${f} | ${kind} | ${med((x) => x.ms)} | ${med((x) => x.senderMs)} | ${
          med((x) => x.refusals)
        } | ${med((x) => x.wsFrames)} | ${med((x) => x.hubDropped)} | ${
          med((x) => x.maxStallMs)
        } |`,
      );
    }
  }
  p();
  p("A slowest-sender time close to the run time and few refusals mean the senders, not the");
  p("receiver, set the pace; many refusals mean the receiver's queue was full (it set the pace).");
  p();

  renderRatios(r, p);
  if (r.honest) renderHonestIngest(r.honest, p);
  renderOtlp(r, p);

  const lat = r.latency;
  const e = lat.endToEnd;
  const c = lat.toCollector;
  const p99 = quantile(e, 0.99);
  p("## Agent -> WebSocket latency");
  p();
  p(
    `${num(lat.rateHz)} single-sample frames/s for ${
      num(lat.durationMs / 1000)
    } s from one sender process; one WebSocket reader.`,
  );
  p("Latency per sample in ms (1 ms clock resolution).");
  p();
  p("| path | count | p50 | p90 | p99 | max | target |");
  p("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
  p(
    `| send -> WebSocket receive | ${e.length} of ${lat.sent} | ${num(quantile(e, 0.5), 1)} | ${
      num(quantile(e, 0.9), 1)
    } | ${num(p99, 1)} | ${num(Math.max(...e), 1)} | p99 <= ${r.targets.p99Ms} ms: **${
      p99 <= r.targets.p99Ms ? "met" : "not met"
    }** |`,
  );
  p(
    `| send -> collector ingest | ${c.length} | ${num(quantile(c, 0.5), 1)} | ${
      num(quantile(c, 0.9), 1)
    } | ${num(quantile(c, 0.99), 1)} | ${num(Math.max(...c), 1)} | |`,
  );
  p();
  if (r.honest) renderHonestLatency(r.honest, p);
  renderStorage(r, p);
  renderAgentCost(r, p);
  if (r.heapProfile) renderHeapProfileCost(r.heapProfile, p);
  if (r.remoteWrite) {
    p();
    p(renderRemoteWrite(r.remoteWrite));
  }
  return L.join("\n");
}

function renderRatios(r: BenchResults, p: (s?: string) => void): void {
  const t = r.throughput;
  const colBatch = summarize(t.batch.collector.map((x) => x.samplesPerSec));
  const colBatchMsg = summarize(t.batch.collector.map((x) => x.messagesPerSec));
  const rawSingle = summarize(t.single.raw.map((x) => x.messagesPerSec));
  const rawBatch = summarize(t.batch.raw.map((x) => x.messagesPerSec));
  const colSingle = summarize(t.single.collector.map((x) => x.messagesPerSec));
  const a = batchedVsSingleRaw(r);
  const b = medianRatio(t.batch.raw, t.batch.collector);
  const bp = summarize(pairedRatios(t.batch.raw, t.batch.collector));
  const sg = medianRatio(t.single.raw, t.single.collector);
  const sp = summarize(pairedRatios(t.single.raw, t.single.collector));
  const pct = (x: number) => `${num(x * 100, 1)} %`;
  p("## Ingest ratios");
  p();
  p("| ratio | numerator (median) | denominator (median) | ratio of medians | range | target |");
  p("| --- | --- | --- | ---: | ---: | --- |");
  p(
    `| **A**: batched ingest vs the per-message limit | collector, batch frames: ${
      num(colBatch.median)
    } samples/s | raw, single-sample frames: ${num(rawSingle.median)} msg/s | **${pct(a)}** | ${
      pct(colBatch.min / rawSingle.max)
    } – ${pct(colBatch.max / rawSingle.min)} (worst – best pairing) | >= ${
      num(r.targets.batchRatio * 100)
    } %: ${met(a >= r.targets.batchRatio)} |`,
  );
  p(
    `| **B**: identical batch frames (decode-bound) | collector, batch frames: ${
      num(colBatchMsg.median)
    } msg/s | raw, batch frames: ${num(rawBatch.median)} msg/s | ${pct(b)} | ${pct(bp.min)} – ${
      pct(bp.max)
    } (paired reps) | none (explained below) |`,
  );
  p(
    `| identical single-sample frames | collector: ${num(colSingle.median)} msg/s | raw: ${
      num(rawSingle.median)
    } msg/s | ${pct(sg)} | ${pct(sp.min)} – ${pct(sp.max)} (paired reps) | none |`,
  );
  p();
  p(
    `**Ratio A is the one the target ("batched ingest at least ${
      num(r.targets.batchRatio * 100)
    } % of the raw limit") is judged by.**`,
  );
  p("The transport's limit is a number of messages per second, whatever they carry; an agent");
  p("that sent one sample per message could never get more samples/s through than that. The");
  p("collector beats the per-message limit by batching: agents send up to");
  p(`${r.batchSize} samples per frame, so it ingests samples faster than the transport could carry`);
  p("them one per frame. The range takes the slowest collector repetition against the fastest");
  p("raw one, and the other way round.");
  p();
  const bd = r.breakdown.batch;
  const rawUs = 1e6 / rawBatch.median;
  const colUs = 1e6 / colBatchMsg.median;
  const stage = (i: number) => bd[i]?.usPerFrame ?? NaN;
  p(
    `**Ratio B** compares the collector with a receiver that only counts the very same ${
      num(r.frameBytes.batch / 1024, 1)
    } KB batch frames. No consumer that reads JSON can approach it: a raw receive costs ${
      num(rawUs, 1)
    } µs per frame on this machine, while utf8 decoding and \`JSON.parse\` alone cost ${
      num(stage(0), 1)
    } µs (${
      num(stage(0) / rawUs, 1)
    }x a raw receive). In process, without sockets, \`decode()\` (parse and validate) takes ${
      num(stage(1), 1)
    } µs, ingest (plus instance accounting and the recent store) ${
      num(stage(2), 1)
    } µs, and publishing to one live client (building and \`JSON.stringify\` of the samples message) brings it to ${
      num(stage(3), 1)
    } µs per frame. End to end the collector spends ${num(colUs, 1)} µs per frame; the other ${
      num(colUs - stage(3), 1)
    } µs are the ZMQ receive, event-loop scheduling, the \`/api/stats\` polling and sharing ${r.machine.nproc} cores with the sender and WebSocket reader processes (not measured separately). So B stays low as long as the wire format is JSON; it is reported as a diagnostic, with no target.`,
  );
  p();
  p("Cost of ingest by stage, in process (bench/ingest_breakdown.ts, best of 3 rounds; stages");
  p("are cumulative, each includes the ones above it):");
  p();
  p("| stage | batch: µs/frame | batch: samples/s | single: µs/frame | single: samples/s |");
  p("| --- | ---: | ---: | ---: | ---: |");
  r.breakdown.batch.forEach((s, i) => {
    const s1 = r.breakdown.single[i];
    p(
      `| ${s.stage} | ${num(s.usPerFrame, 1)} | ${num(s.samplesPerSec)} | ${
        num(s1?.usPerFrame ?? NaN, 2)
      } | ${num(s1?.samplesPerSec ?? NaN)} |`,
    );
  });
  p(
    `| raw receive (1 / raw msg/s above) | ${num(rawUs, 1)} | ${
      num(rawBatch.median * r.batchSize)
    } | ${num(1e6 / rawSingle.median, 2)} | ${num(rawSingle.median)} |`,
  );
  p();
}

/** The OTLP/HTTP section (also used by bench/otlp.ts run alone). */
export function renderOtlp(r: BenchResults, p: (s?: string) => void): void {
  const ours = summarize(r.throughput.batch.collector.map((x) => x.samplesPerSec)).median;
  p("## OTLP/HTTP ingest");
  p();
  p("bench/otlp.ts: a sender process (bench/otlp_sender.ts) serializes its requests with");
  p("npm:@opentelemetry/otlp-transformer (what the SDK's exporters send) before the clock");
  p(`starts, then posts them over ${r.otlpConcurrency} keep-alive connections, one request in`);
  p("flight on each, to a real `startCollector`'s OTLP listener with one WebSocket reader on");
  p(`\`/ws\`. A request holds, for one of ${r.instances} instances, ${r.batchSize} instants of the`);
  p("agent's four metrics as gauges: the content of one batch frame. The collector answers");
  p("once a request is ingested, so the time to the last answer is the ingest time. Each");
  p("repetition checks that every sample arrived and none was refused.");
  p();
  p("| encoding | body bytes/request | samples/s median | min – max | data points/s median | vs our batch frames |");
  p("| --- | ---: | ---: | ---: | ---: | ---: |");
  for (const enc of ["protobuf", "json"] as const) {
    const runs = r.otlp[enc];
    const smp = summarize(runs.map((x) => x.samplesPerSec));
    const pts = summarize(runs.map((x) => x.pointsPerSec));
    p(
      `| ${enc} | ${num(runs[0].bodyBytes)} | ${num(smp.median)} | ${num(smp.min)} – ${
        num(smp.max)
      } | ${num(pts.median)} | ${num((smp.median / ours) * 100, 1)} % |`,
    );
  }
  p();
  p(`Our own wire, batch frames, same run: ${num(ours)} samples/s (collector row above).`);
  p();
}

function renderStorage(r: BenchResults, p: (s?: string) => void): void {
  const st = r.storage;
  const tg = r.targets;
  const w = st.write;
  const q = st.query;
  const ow = summarize(w.ours);
  const nw = summarize(w.naive);
  const oq = (x: number) => quantile(q.ours, x);
  const nq = (x: number) => quantile(q.naive, x);
  p("## Durable storage");
  p();
  p("lib/store `DurableStore` (compressed chunks sealed every 15 minutes, a WAL row per flush,");
  p("1-minute and 1-hour rollups) beside a **naive table**:");
  p("`CREATE TABLE samples(series INTEGER, t INTEGER, v REAL)` with an index on `(series, t)`,");
  p("WAL journal, `synchronous = NORMAL` (as ours), one prepared INSERT and one transaction per");
  p("simulated second's rows.");
  p("Same samples, same process, same run (bench/storage.ts); temp directories, removed after.");
  p();
  p("- **Data**: the demo's 3 apps (red, blue leaking ~80 KB/s, green ~800 KB/s) x the 4");
  p("  standard metrics at 1 Hz: `cpu.percent` a random walk in 0..100 rounded to 0.01,");
  p("  `mem.rss_bytes` page-aligned, growing slowly with a GC sawtooth, `mem.heap_used_bytes` an");
  p("  integer sawtooth (plus the leak), `loop.lag_ms` small, rounded to 0.01, rare spikes; times");
  p("  on a 1 s tick with 0-3 ms arrival jitter. Seeded, so every run writes the same samples.");
  p("- **Disk**: `tick()` every simulated second (the collector's timer; the injected clock");
  p("  `now` advances 1 s), then `close()` seals everything. Bytes = the database files (`.db`,");
  p("  `-wal`, `-shm` if present) after close, as `ls -l` adds them up; `du` (allocated) is shown");
  p("  too. The naive table is checkpointed (`PRAGMA wal_checkpoint(TRUNCATE)`) and closed.");
  p(
    `- **Write**: ${
      num(w.series)
    } series x ${w.seconds} s at 1 Hz simulated, timed from open to the end of \`close()\`: \`append\` of every sample, \`tick()\` every simulated second (flush, seal steps, retention) and the final seal in \`close()\`. ${w.reps} repetitions after one discarded warm-up, each into a fresh directory.`,
  );
  p(
    `- **Query**: the ${q.hours} h store above, reopened; \`query(instance, "cpu.percent", end - ${q.hours} h, end, ${q.points})\` ${q.queries} times after one warm-up. The naive equivalent is \`SELECT t, v FROM samples WHERE series = ? AND t >= ? AND t < ? ORDER BY t\` folded into the same ${q.points} buckets in JS (the same \`Bucketizer\`).`,
  );
  p();
  p("| measure | ours (`DurableStore`) | naive table | naive / ours | target (ours) |");
  p("| --- | ---: | ---: | ---: | --- |");
  for (const d of st.disk) {
    const o = d.ours.apparent / d.samples;
    const n = d.naive.apparent / d.samples;
    p(
      `| bytes per sample on disk, demo data, ${d.hours} h (${num(d.samples)} samples) | ${
        num(o, 2)
      } | ${num(n, 2)} | ${num(n / o, 1)}x | <= ${tg.bytesPerSample}: ${
        met(o <= tg.bytesPerSample)
      } |`,
    );
  }
  p(
    `| samples persisted per second, one core (median of ${w.reps}) | ${num(ow.median)} | ${
      num(nw.median)
    } | ${num(nw.median / ow.median, 2)}x | >= ${num(tg.writeSamplesPerSec)}: ${
      met(ow.median >= tg.writeSamplesPerSec)
    } |`,
  );
  p(
    `| query ${q.hours} h -> ${q.points} points, median ms | ${num(oq(0.5), 2)} | ${
      num(nq(0.5), 2)
    } | ${num(nq(0.5) / oq(0.5), 0)}x | <= ${tg.queryMs} ms: ${met(oq(0.5) <= tg.queryMs)} |`,
  );
  p(
    `| query ${q.hours} h -> ${q.points} points, p95 ms | ${num(oq(0.95), 2)} | ${
      num(nq(0.95), 2)
    } | ${num(nq(0.95) / oq(0.95), 0)}x | <= ${tg.queryMs} ms: ${met(oq(0.95) <= tg.queryMs)} |`,
  );
  p();
  p("Spread:");
  p();
  p("| measure | store | median | min – max | IQR |");
  p("| --- | --- | ---: | ---: | ---: |");
  p(`| samples/s | ours | ${rate(ow).join(" | ")} |`);
  p(`| samples/s | naive | ${rate(nw).join(" | ")} |`);
  const ms = (xs: number[], name: string, what: string) => {
    const s = summarize(xs);
    p(
      `| ${what} ms | ${name} | ${num(s.median, 2)} | ${num(s.min, 2)} – ${num(s.max, 2)} | ${
        num(s.q1, 2)
      } – ${num(s.q3, 2)} |`,
    );
  };
  ms(q.ours, "ours", `query ${q.hours} h (tier ${q.oursTier}, ${q.oursPoints} points)`);
  ms(q.naive, "naive", `query ${q.hours} h (${q.naivePoints} points)`);
  ms(q.rawHour, "ours", "query 1 h -> 1 000 points (raw chunks, tier 0)");
  p();
  p("Where our bytes go (after `close()`; payload = the blobs themselves, the rest is SQLite");
  p("pages, row headers, the `chunks` indexes and free pages left by deleted WAL rows):");
  p();
  p(
    "| run | file bytes (`ls`) | `du` bytes | pages (free) | chunk payload B/sample | rollup payload B/sample | chunk B/sample by metric |",
  );
  p("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
  for (const d of st.disk) {
    const o = d.ours;
    const by = Object.entries(o.perMetric).map(([m, x]) => `${m} ${num(x, 2)}`).join(", ");
    p(
      `| ${d.hours} h | ${num(o.apparent)} | ${num(o.allocated)} | ${num(o.pages)} (${
        num(o.freePages)
      }) | ${num(o.chunkBytes / d.samples, 2)} | ${num(o.rollupBytes / d.samples, 2)} | ${by} |`,
    );
  }
  p();
  const part = (k: string) => summarize(w.oursParts.map((x) => x[k])).median;
  p(
    `Where our write time goes (medians, ms, for ${
      num(w.series * w.seconds)
    } samples): \`append\` ${num(part("appendMs"))}, \`tick()\` ${num(part("tickMs"))} (${
      num(part("tickMs") / w.seconds, 2)
    } ms per tick for ${
      num(w.series)
    } series, almost all of it \`flush()\`: every series with a new point is encoded as its own small chunk for the WAL row, ${
      num(part("tickMs") / w.seconds / w.series * 1000, 1)
    } µs per series per flush), \`close()\` (the final seal: chunks and rollups) ${
      num(part("closeMs"))
    }.`,
  );
  p();
  if (r.peers) {
    p(PEERS_BEGIN);
    p();
    for (const line of renderPeers(r.peers)) p(line);
    p(PEERS_END);
    p();
  }
}

/** The "Agent cost" section. */
export function renderAgentCost(r: BenchResults, p: (s?: string) => void): void {
  const a = r.agentCost;
  const tg = r.targets;
  const med = (xs: number[]) => summarize(xs).median;
  const mib = (b: number) => b / 2 ** 20;
  const ticksPerSec = 1000 / a.tickMs;
  const s = a.series;
  const window = med(a.reps.map((x) => x.agent.wallMs)) / 1000;
  p("## Agent cost");
  p();
  p(
    `What the agent costs the app it runs in: sampling at 1 Hz with ${
      s.counters + s.gauges + s.histograms
    } custom series (${s.counters} counter, ${s.gauges} gauge and ${s.histograms} histogram series, all with labels), against the same app without the agent, in the same run (bench/agent_cost.ts).`,
  );
  p();
  p(
    `- **The app** (bench/agent_app.ts): a timer every ${a.tickMs} ms (${
      num(ticksPerSec)
    } "requests"/s) does a little work (a small JSON round trip) and ${a.updatesPerTick} metric updates (2 \`counter.inc\` with 2 labels, 2 \`gauge.set\` and 1 \`histogram.observe\` with labels): ${
      num(ticksPerSec * a.updatesPerTick)
    } updates/s. With the agent they go to \`agent.metrics\` and \`createAgent\` samples at 1 Hz, pushing to a real PULL socket (lib/transport/zmq.ts \`bindPull\`) in the bench process. Without it the same code calls a no-op metrics object and loads no module: a plain Deno app (no lib/agent, no npm:zeromq, no \`node:\` module; issue 14). With the agent the app starts from a three-line entry module that imports \`createAgent\` statically, as an app does; without it, from the app's own module, which imports nothing. (A literal \`import()\` in the app loaded the agent into the app without it too, since Deno fetches every \`import("literal")\` of a graph at start-up: about 1.5 MiB of the agent's cost was hidden until 2026-12-04; an \`import()\` of a computed specifier then added Deno's dynamic-import code, ~0.3 MiB, to the agent's side until 2026-12-06.) The bench talks to the apps by signals (SIGUSR2: report a reading on stdout; SIGTERM: stop), not on stdin: reading stdin as lines loaded a module and Deno's stream code into both apps, which hid the part of the agent's cost that overlaps with them in an app that has neither.`,
  );
  p(
    `- **Runs**: each of ${a.reps.length} repetitions starts seven fresh app processes side by side: with the agent, two without it (an A/A pair: their difference is what noise alone produces under the same conditions), one with the agent and the same 50 series, set once, whose ticks update nothing (the agent's own cost, apart from the app's cost per update), one with the agent and none of the app's series (\`createAgent\` in a plain app: issue 14's own setup; it sends the agent's standard and runtime metrics, ${a.received.bareValues} values, ${
      num(a.received.bareFrameBytes)
    } bytes per frame), the same from the **built agent** (\`deno task build-agent\`'s bundle, plain JavaScript that Deno runs without transpiling, the way the README offers it to Deno apps; ${
      num(a.received.builtFrames)
    } frames arrived from it) and, as the peer, a **floor reporter** without the agent: once a second \`Deno.memoryUsage()\`, \`Deno.cpuUsage()\`, \`JSON.stringify\` and one write on a loopback TCP connection to a sink in the bench process, the least any in-process 1 Hz reporter does in Deno. Spawn order rotates. After ${
      num(a.warmupMs / 1000)
    } s of warm-up each app reports \`Deno.cpuUsage()\` (user + system, all threads) at the start and end of a ${
      num(window)
    } s window; /proc/<pid>/stat utime + stime (10 ms ticks) is read too, as a cross-check. VmRSS is read from /proc/<pid>/status every 0.5 s; an app's memory is the median over its window.`,
  );
  p(
    "- **Cost** per repetition = with-agent app minus the mean of the pair, per sample sent and as % of one core (at 1 Hz a sample a second). **Noise** = the larger of that cost's range over repetitions and the largest A/A difference. A cost whose median does not exceed the noise is reported as below it; it then meets a target only when the noise itself is under the target.",
  );
  p(
    `- **Received**: ${num(a.received.samples)} samples in ${
      num(a.received.frames)
    } frames from the agent app, ${
      num(a.received.frameBytes)
    } bytes per frame; its last sample carried ${a.received.customValues} custom counter/gauge series, ${a.received.customHists} custom histograms and ${
      a.received.totalValues - a.received.customValues
    } metrics of the agent's own.`,
  );
  p();
  const main = costOf(a, "agent");
  const idle = costOf(a, "idle");
  const bare = costOf(a, "bare");
  const built = costOf(a, "built");
  const floor = costOf(a, "floor");
  const cost = (xs: number[], above: boolean, noise: number, d: number, unit: string) =>
    above
      ? `**${num(med(xs), d)}${unit}**`
      : `${num(med(xs), d)}${unit}, below measurement noise (${num(noise, d)}${unit})`;
  const cpuPct = (role: AppRole) => med(a.reps.map((x) => x[role].cpuMs / x[role].wallMs * 100));
  const basePct = med(
    a.reps.map((x) => (x.baseA.cpuMs + x.baseB.cpuMs) / (x.baseA.wallMs + x.baseB.wallMs) * 100),
  );
  const rssOf = (role: AppRole) => mib(med(a.reps.map((x) => x[role].rssBytes)));
  const baseRss = mib(med(a.reps.map((x) => (x.baseA.rssBytes + x.baseB.rssBytes) / 2)));
  const range = (xs: number[], d: number, f = (x: number) => x) =>
    `${num(f(Math.min(...xs)), d)} – ${num(f(Math.max(...xs)), d)}`;
  const verdict = (ok: boolean, limit: string) => `< ${limit}: ${met(ok)}`;
  /** Three rows for one role; `judged` false: the peer, shown beside the targets. */
  const rows = (c: CostSummary, role: MeasuredRole, label: string, judged = true) => {
    const pct = med(c.corePercent);
    const rss = mib(med(c.rssBytes));
    // Below the noise, the cost is known only to be under the noise: that meets the target
    // only when the noise itself is under it. A noisy run says nothing either way.
    const cpuShown = c.cpuAboveNoise || c.noisePercent <= tg.agentCorePercent;
    const cpuOk = c.cpuAboveNoise ? pct < tg.agentCorePercent : cpuShown;
    const cpuVerdict = (limit: string) =>
      !judged
        ? "peer (no target)"
        : cpuShown
        ? verdict(cpuOk, limit)
        : `< ${limit}: **not shown** (the noise is above the target)`;
    p(
      `| ${label}: CPU per sample, ms | | | ${
        cost(c.msPerSample, c.cpuAboveNoise, c.noiseMsPerSample, 3, "")
      } | ${range(c.msPerSample, 3)} | ${num(c.noiseMsPerSample, 3)} | ${
        cpuVerdict(`${num(tg.agentCorePercent * 10, 2)} ms`)
      } |`,
    );
    p(
      `| ${label}: CPU, % of one core at 1 Hz | ${num(cpuPct(role), 3)} | ${num(basePct, 3)} | ${
        cost(c.corePercent, c.cpuAboveNoise, c.noisePercent, 3, " %")
      } | ${range(c.corePercent, 3)} | ${num(c.noisePercent, 3)} | ${
        cpuVerdict(`${num(tg.agentCorePercent, 2)} %`)
      } |`,
    );
    p(
      `| ${label}: resident memory (VmRSS), MiB | ${num(rssOf(role), 1)} | ${num(baseRss, 1)} | ${
        cost(c.rssBytes.map(mib), c.rssAboveNoise, mib(c.rssNoiseBytes), 1, " MiB")
      } | ${range(c.rssBytes, 1, mib)} | ${num(mib(c.rssNoiseBytes), 1)} | ${
        judged ? verdict(rss < tg.agentRssMiB, `${num(tg.agentRssMiB)} MiB`) : "peer (no target)"
      } |`,
    );
  };
  const updatesPerSec = ticksPerSec * a.updatesPerTick;
  p(
    "| measure | with agent (median) | without (median of the pair) | agent's cost (median) | min – max over reps | noise | target |",
  );
  p("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
  rows(idle, "idle", "the agent's own (1 Hz sample of the 50 series; the app updates nothing)");
  rows(bare, "bare", "`createAgent` alone (no series of the app's)");
  rows(built, "built", "`createAgent` alone, from the built agent (dist/agent/mod.js)");
  rows(main, "agent", `with the app's ${num(updatesPerSec)} labelled updates/s`);
  rows(floor, "floor", "peer: the floor reporter (no agent)", false);
  p();
  p(
    `Cross-check from /proc/<pid>/stat (10 ms ticks, so ±${
      num(20 / window, 2)
    } ms per sample per repetition): the agent's own ${
      range(idle.statMsPerSample, 3)
    } ms per sample; with the updates ${range(main.statMsPerSample, 3)} ms per sample.`,
  );
  p();
  const parts = (c: CostSummary) =>
    `${num(mib(med(c.rssAnonBytes)), 1)} MiB RssAnon and ${
      num(mib(med(c.rssFileBytes)), 1)
    } MiB RssFile`;
  p(
    `What the RSS cost is made of (/proc/<pid>/status, medians over reps): the agent's own ${
      parts(idle)
    }; \`createAgent\` alone ${parts(bare)}, from the built agent ${
      parts(built)
    }; with the updates ${parts(main)}; the floor reporter ${
      parts(floor)
    }. RssAnon is the process's private memory (V8 heap, ` +
      "malloc, stacks). RssFile is pages of the deno executable that the agent's calls touch " +
      "(its ops, V8 builtins and compiler code, mapped 64 KiB at a time): the same pages serve " +
      "every Deno process on the machine, but RSS counts them in full in each one. The target is " +
      "judged on VmRSS, their sum.",
  );
  p();
  p("Per repetition (CPU over the window, ms; median VmRSS, MiB):");
  p();
  p(
    "| rep | window s | samples sent | CPU with updates | CPU own (no updates) | CPU `createAgent` alone | CPU built agent | CPU floor reporter | CPU without A | CPU without B | own cost ms/sample | cost with updates ms/sample | RSS with updates | RSS own | RSS `createAgent` alone | RSS built agent | RSS floor reporter | RSS without A | RSS without B |",
  );
  p(`|${" ---: |".repeat(19)}`);
  a.reps.forEach((x, i) => {
    const apps = [x.agent, x.idle, x.bare, x.built, x.floor, x.baseA, x.baseB];
    const cpu = apps.map((w) => num(w.cpuMs));
    const rss = apps.map((w) => num(mib(w.rssBytes), 1));
    p(
      `| ${i + 1} | ${num(x.agent.wallMs / 1000, 1)} | ${x.agent.sent} | ${cpu.join(" | ")} | ${
        num(idle.msPerSample[i], 3)
      } | ${num(main.msPerSample[i], 3)} | ${rss.join(" | ")} |`,
    );
  });
  p();
  const m = a.micro;
  const cps = ticksPerSec * 2;
  const gps = ticksPerSec * 2;
  const hps = ticksPerSec;
  // What an update costs in the app: (with updates - without) over the updates made.
  const perUpdateUs = a.reps.map((x) =>
    (x.agent.cpuMs / x.agent.wallMs - x.idle.cpuMs / x.idle.wallMs) * x.agent.wallMs /
    x.agent.updates * 1000
  );
  p("In process (bench process, best of 5 rounds after a warm-up, hot loop):");
  p();
  p("| operation | cost | calls/s in the app | µs per second |");
  p("| --- | ---: | ---: | ---: |");
  p(
    `| \`counter.inc(labels)\`, 2 labels, 20 series | ${num(m.counterIncNs)} ns | ${num(cps)} | ${
      num(m.counterIncNs * cps / 1000)
    } |`,
  );
  p(
    `| \`gauge.set(v, labels)\`, 1 label, 20 series | ${num(m.gaugeSetNs)} ns | ${num(gps)} | ${
      num(m.gaugeSetNs * gps / 1000)
    } |`,
  );
  p(
    `| \`histogram.observe(v, labels)\`, 1 label, 10 series | ${num(m.histObserveNs)} ns | ${
      num(hps)
    } | ${num(m.histObserveNs * hps / 1000)} |`,
  );
  p(
    `| one sample: \`sampleNow()\` (process and runtime readers, snapshot of the 50 series) + encode, into a transport that accepts at once | ${
      num(m.sampleUs)
    } µs | 1 | ${num(m.sampleUs)} |`,
  );
  p(
    `| with \`openFds: true\`, open fds and threads (read every 10 s), ${
      num(SLOW_READ_FDS)
    } more files open: one \`stat\` and /proc/self/stat (lib/agent/runtime.ts) | ${
      num(m.slowRead.stat)
    } µs | 0.1 | ${num(m.slowRead.stat / 10, 1)} |`,
  );
  p(
    `| the same by listing /proc/self/fd (the fallback for kernels before 6.2, and how it was read before) | ${
      num(m.slowRead.list)
    } µs | 0.1 | ${num(m.slowRead.list / 10, 1)} |`,
  );
  p();
  p(
    `In the app an update costs about ${
      num(med(perUpdateUs), 2)
    } µs (median over reps of (with updates − own) / updates; ${range(perUpdateUs, 2)}), against ${
      num((m.counterIncNs + m.gaugeSetNs + m.histObserveNs) / 3)
    } ns hot: each tick runs after 10 ms of sleep, on cold caches. So the agent's cost is its own cost per sample plus the app's updates, which grow with the app's request rate. The agent has one timer (lib/agent/ticker.ts): in this app, which uses under 2 % of a core, it fires once a second, on the sample; an app that works harder also gets the lag probe every 200 ms (each Deno timer wake-up of an idle process costs tens of µs). npm:zeromq is not loaded (the agent speaks ZMTP itself, lib/transport/zmtp/).`,
  );
  p();
}
