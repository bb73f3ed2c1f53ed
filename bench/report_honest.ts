/**
 * Renders bench/honest.ts results (issue 14, targets 1 and 3) as the rows docs/benchmarks.md
 * shows in its ingest and latency sections: each figure with its peer beside it and what its
 * target is judged against. `deno task bench` calls these from report.ts; by hand:
 * `deno run -A bench/report_honest.ts results.json` prints both sections.
 *
 * @module
 */
import type { HonestResults } from "./honest.ts";
import type { ThroughputRun } from "./ingest.ts";
import type { Form } from "./frames.ts";
import { quantile, summarize } from "./stats.ts";
import { THREAD_KINDS, type ThreadKind } from "./threads.ts";

/** Target 1: collector CPU per sample (batch frames) at most this many times raw + JSON.parse. */
export const BATCH_CPU_RATIO = 2;
/** Target 1: single frames, raw + JSON.parse CPU per sample over the collector's, at least. */
export const SINGLE_SPEED_RATIO = 0.85;
/** Target 3: p99 sample -> browser while ingest runs at half its ceiling, ms. */
export const BUSY_P99_MS = 50;

const f = (x: number, d = 2) =>
  Number.isFinite(x)
    ? x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d })
    : "n/a";
const med = (rs: ThroughputRun[], k: keyof ThroughputRun) =>
  summarize(rs.map((r) => r[k] as number)).median;
const range = (rs: ThroughputRun[], k: keyof ThroughputRun, d = 2) => {
  const s = summarize(rs.map((r) => r[k] as number));
  return `${f(s.min, d)} – ${f(s.max, d)}`;
};

/** The ingest CPU-per-sample rows (history on, one live client, counted when durable). */
export function renderHonestIngest(h: HonestResults, p: (s?: string) => void): void {
  p("### Ingest CPU per sample, history on (issue 14, target 1)");
  p();
  p(
    "The collector as users run it: durable history, one WebSocket reader, and a run ends " +
      "when every point is on disk (`/api/stats` `history.durable`), not when it was read. " +
      "Each run's collector first takes as many frames again, and at least 1.25 M points " +
      "(past the 1 M open points that start a seal round), untimed, to disk: a running " +
      "collector has its code compiled, its history Worker warm from earlier seal rounds, its " +
      "instances and series. In the timed part the batch row's Worker starts a seal round " +
      "again; the single row's (240 000 points) does not. CPU is this process's user + " +
      "system time from `go` to the end, every " +
      "thread (the history Worker too), per sample; the peers are the same receive loop that " +
      "only counts (raw) and one that also decodes UTF-8 and `JSON.parse`s each frame " +
      "(raw + JSON.parse: the least any JSON consumer does). Same frames, same senders, " +
      `alternating, ${h.reps} repetitions each (bench/honest.ts).`,
  );
  p();
  p(
    "| form | raw: µs/sample | raw + JSON.parse: µs/sample | collector (history on): µs/sample | collector / raw+JSON.parse | target | collector samples/s read (to durable) |",
  );
  p("| --- | ---: | ---: | ---: | ---: | --- | ---: |");
  for (const form of ["batch", "single"] as Form[]) {
    const x = h.ingest[form];
    const raw = med(x.raw, "cpuUsPerSample");
    const parse = med(x.parse, "cpuUsPerSample");
    const col = med(x.collector, "cpuUsPerSample");
    const ratio = col / parse;
    const target = form === "batch"
      ? `<= ${BATCH_CPU_RATIO}x: **${ratio <= BATCH_CPU_RATIO ? "met" : "not met"}**`
      : `raw+parse / collector >= ${SINGLE_SPEED_RATIO}: ${f(parse / col)}, **${
        parse / col >= SINGLE_SPEED_RATIO ? "met" : "not met"
      }**`;
    const label = form === "batch" ? `batch (${h.batchSize} samples/frame)` : "single";
    p(
      `| ${label} | ${f(raw)} (${range(x.raw, "cpuUsPerSample")}) | ${f(parse)} (${
        range(x.parse, "cpuUsPerSample")
      }) | ${f(col)} (${range(x.collector, "cpuUsPerSample")}) | **${f(ratio)}x** | ${target} | ${
        f(med(x.collector, "samplesPerSec"), 0)
      } |`,
    );
  }
  p();
  p(
    "Medians, (min – max) over the repetitions. The target is judged on the ratio of medians " +
      "measured in the same run. The samples/s column is wall time to durable, which includes " +
      "up to a second of waiting for the history tick's flush; CPU per sample does not.",
  );
  p();
  renderThreads(h, p);
}

const THREAD_LABEL: Record<ThreadKind, string> = {
  main: "main thread",
  history: "history Worker",
  v8: "V8 helpers (GC, compilers)",
  zmq: "ZMQ I/O",
  other: "Deno's I/O threads",
};

/** Where the CPU per sample went, by thread, for the JSON peer and the collector. */
function renderThreads(h: HonestResults, p: (s?: string) => void): void {
  const rows = (["batch", "single"] as Form[]).flatMap((form) =>
    (["parse", "collector"] as const).map((who) => ({ form, who, runs: h.ingest[form][who] }))
  );
  if (rows.some((r) => r.runs.some((run) => !run.threadMs))) return; // results from before 2026-12-05
  p(
    "Where that CPU went, µs per sample by thread (medians over the repetitions; " +
      "/proc/self/task, 10 ms ticks; bench/threads.ts). The collector runs in the bench " +
      "process, so its main thread also serves the done-polls (`/api/stats`, every 50 ms).",
  );
  p();
  p(`| form | who | ${THREAD_KINDS.map((k) => THREAD_LABEL[k]).join(" | ")} | all threads |`);
  p(`| --- | --- | ${THREAD_KINDS.map(() => "---:").join(" | ")} | ---: |`);
  for (const r of rows) {
    const per = (k: ThreadKind) =>
      summarize(r.runs.map((run) => run.threadMs[k] * 1000 / run.samples)).median;
    p(
      `| ${r.form} | ${r.who === "parse" ? "raw + JSON.parse" : "collector"} | ${
        THREAD_KINDS.map((k) => f(per(k))).join(" | ")
      } | ${f(med(r.runs, "cpuUsPerSample"))} |`,
    );
  }
  p();
}

/** The latency rows: idle and while batch load runs at half the collector's ceiling. */
export function renderHonestLatency(h: HonestResults, p: (s?: string) => void): void {
  const l = h.latency;
  p("### Latency while busy (issue 14, target 3)");
  p();
  p(
    `${l.rateHz} single-sample frames/s for ${l.durationMs / 1000} s, history on, one ` +
      "WebSocket reader; busy: meanwhile two sender processes push batch frames from 10 other " +
      `instances at ${f(h.ceiling.framesPerSec / 2, 0)} frames/s (${
        f(h.ceiling.samplesPerSec / 2, 0)
      } samples/s), half the collector's ceiling measured above (batch, history on, median ` +
      "rate to durable: it includes the wait for the flush tick, so it is under the read " +
      "ceiling and the load is under half of that). The collector's own figure is its queueing delay at arrival " +
      "(`/api/stats` `queueDelayMs`: the agent's send time on the collector's clock vs " +
      "ingest, every instance, last minute).",
  );
  p();
  p(
    "| run | sample -> WebSocket p50 | p99 | max | collector queueing delay p50 | p99 | max | load frames (refused sends) | target |",
  );
  p("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
  for (const [name, r] of [["idle", l.idle], ["busy (half ceiling)", l.busy]] as const) {
    const e = r.endToEnd;
    const p99 = quantile(e, 0.99);
    const q = r.queueDelay;
    const target = name === "idle"
      ? ""
      : `p99 <= ${BUSY_P99_MS} ms: **${p99 <= BUSY_P99_MS ? "met" : "not met"}**`;
    p(
      `| ${name} | ${f(quantile(e, 0.5), 1)} | ${f(p99, 1)} | ${f(Math.max(...e), 1)} | ${
        f(q.p50 ?? NaN, 0)
      } | ${f(q.p99 ?? NaN, 0)} | ${
        f(q.max ?? NaN, 0)
      } | ${r.loadFrames} (${r.loadRefusals}) | ${target} |`,
    );
  }
  p();
  p(
    "ms; 1 ms clock resolution for the WebSocket figures, 1 ms bins (upper edge) for the " +
      "collector's. Load average during the run: " + h.load.join("; ") + ".",
  );
  p();
}

if (import.meta.main) {
  const h = JSON.parse(await Deno.readTextFile(Deno.args[0])) as HonestResults;
  const out: string[] = [];
  const p = (s = "") => out.push(s);
  renderHonestIngest(h, p);
  renderHonestLatency(h, p);
  console.log(out.join("\n"));
}
