/**
 * Render the benchmark results as docs/benchmarks.md.
 *
 * @module
 */
import type { Form } from "./frames.ts";
import type { ThroughputRun } from "./ingest.ts";
import type { LatencyRun } from "./latency.ts";
import { quantile, summarize, type Summary } from "./stats.ts";

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
  latency: LatencyRun & { rateHz: number; durationMs: number };
  targets: { batchRatio: number; p99Ms: number };
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

/** The markdown page. */
export function renderReport(r: BenchResults): string {
  const L: string[] = [];
  const p = (s = "") => L.push(s);
  const m = r.machine;
  p("# Benchmarks");
  p();
  p("<!-- Written by `deno task bench` (bench/run.ts). Do not edit by hand: run it again. -->");
  p();
  p("What the collector costs compared with the transport it sits on, and how fresh live data");
  p("is. All numbers come from one run, so the ratios compare like with like. Reproduce with");
  p("`deno task bench` (about two minutes; it rewrites this file).");
  p();
  p("- **Raw ZMQ limit**: PUSH -> PULL over `tcp://127.0.0.1`, received with lib/zmq.ts");
  p("  `bindPull` (the collector's own receive loop) and an `onFrame` that only counts. The");
  p("  ceiling any collector built on this transport could reach on this machine.");
  p("- **Collector ingest**: the same frames into a real `startCollector` (decode, validation,");
  p("  instance accounting, recent store, live hub), with one WebSocket reader on `/ws`");
  p("  (its own process, counting frames). Completion is `/api/stats` `received.messages`.");
  p("- **ratio** = collector / raw, messages per second (same frames, so samples too).");
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
  p();
  p("| form | ratio collector/raw (of medians) | paired ratios min – max | target |");
  p("| --- | ---: | ---: | --- |");
  for (const f of FORMS) {
    const { raw, collector } = r.throughput[f];
    const ratio = medianRatio(raw, collector);
    const pr = summarize(pairedRatios(raw, collector));
    const target = f === "batch"
      ? (ratio >= r.targets.batchRatio ? "**met**" : "**not met**") +
        ` (>= ${num(r.targets.batchRatio * 100)} %)`
      : "none";
    p(
      `| ${formLabel(f, r.batchSize)} | ${num(ratio * 100, 1)} % | ${num(pr.min * 100, 1)} – ${
        num(pr.max * 100, 1)
      } % | ${target} |`,
    );
  }
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
  return L.join("\n");
}
