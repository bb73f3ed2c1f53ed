/**
 * Issue 14, targets 1 and 3: ingest CPU per sample
 * with the collector run as users run it (durable history on, one live client, a sample
 * counted when it is durable) beside the raw receive loop with and without UTF-8 +
 * `JSON.parse`, same frames, same senders, alternating; then live latency (sample ->
 * WebSocket reader) idle and while batch load runs at half the collector's measured ceiling.
 * `deno task bench` runs it (bench/run.ts); by hand, `deno run -A bench/honest.ts > r.json`
 * prints progress to stderr and the results as JSON on stdout, and
 * `deno run -A bench/report_honest.ts r.json` renders them as docs/benchmarks.md shows them.
 *
 * @module
 */
import {
  METRICS_PER_SAMPLE,
  runCollector,
  runRaw,
  type ThroughputOptions,
  type ThroughputRun,
} from "./ingest.ts";
import { type LatencyRun, runLatency } from "./latency.ts";
import type { Form } from "./frames.ts";
import { summarize } from "./stats.ts";

/** Everything bench/honest.ts measures. */
export interface HonestResults {
  date: string;
  load: string[];
  reps: number;
  batchSize: number;
  senders: Record<Form, number>;
  ingest: Record<
    Form,
    { raw: ThroughputRun[]; parse: ThroughputRun[]; collector: ThroughputRun[] }
  >;
  /** Collector batch ingest ceiling (history on), frames/s and samples/s; the load is half. */
  ceiling: { framesPerSec: number; samplesPerSec: number };
  latency: { rateHz: number; durationMs: number; idle: LatencyRun; busy: LatencyRun };
}

const BATCH = 100;
const INSTANCES = 10;
const REPS = 3;
const SENDERS: Record<Form, number> = { single: 1, batch: 2 };
/** Frames per timed repetition (about 1-2 s of collector work each). */
const FRAMES: Record<Form, number> = { single: 60_000, batch: 3_000 };
const LATENCY = { rateHz: 100, durationMs: 5_000 };
/**
 * A seal round starts at 1 M open points (lib/store/durable.ts: a quarter of maxOpenPoints).
 * Each collector's untimed warm-up takes at least 1.25 M points, so its Worker has sealed once
 * in both forms: 3 000 batch frames always did; 60 000 single frames (240 000 points) never did.
 */
const WARM_POINTS = 1_250_000;

/** Frames of a collector's untimed warm-up: as many as timed, and at least WARM_POINTS. */
function warmupFrames(form: Form, timed: number): number {
  const perFrame = (form === "single" ? 1 : BATCH) * METRICS_PER_SAMPLE;
  return Math.max(timed, Math.ceil(WARM_POINTS / perFrame));
}

function options(form: Form, frames: number, extra: Partial<ThroughputOptions>) {
  const senders = SENDERS[form];
  return {
    form,
    batchSize: BATCH,
    senders,
    framesPerSender: Math.ceil(frames / senders),
    instances: INSTANCES,
    sendHwm: 1000,
    timeoutMs: 60_000,
    ...extra,
  } satisfies ThroughputOptions;
}

const line = (r: ThroughputRun) =>
  `${(r.samplesPerSec / 1000).toFixed(1)}k samples/s, CPU ${
    r.cpuUsPerSample.toFixed(3)
  } us/sample` +
  ` (${r.ms.toFixed(0)} ms, cpu ${r.cpuMs.toFixed(0)} ms, ${r.refusals} refusals)`;

const p = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))];
};

/** Run both parts; progress goes to `say`. */
export async function runHonest(say: (s: string) => void): Promise<HonestResults> {
  const load: string[] = [];
  const noteLoad = async (when: string) => {
    const l = (await Deno.readTextFile("/proc/loadavg").catch(() => "")).split(" ").slice(0, 3);
    load.push(`${when}: ${l.join(" ")}`);
    say(`load average (${when}): ${l.join(" ")}`);
  };
  await noteLoad("start");
  const ingest = {} as HonestResults["ingest"];
  for (const form of ["batch", "single"] as Form[]) {
    const pool = form === "single" ? 50_000 : 1_000;
    const raw = (n: number, parse: boolean) => runRaw(options(form, n, { pool, parse }));
    // The done-poll at 50 ms, not 10: each is an HTTP request made and served in the measured
    // process (about 5 % of the collector's CPU per sample at 10 ms), which the raw peers,
    // reading a counter, do not pay. It adds at most 50 ms to a run's wall time.
    // Each collector run first takes as many frames again (at least WARM_POINTS), untimed, to
    // durable: a collector runs for days, so the timed run meets compiled code, a history
    // Worker that has sealed before, existing instances and series, and the seal work of
    // points taken before it, as users' does.
    const col = (n: number) =>
      runCollector(
        options(form, n, { history: true, pollMs: 50, warmupFrames: warmupFrames(form, n) }),
      );
    // Warm-up (discarded): the JIT, the sockets.
    await raw(FRAMES[form] / 2, true);
    const rows = {
      raw: [] as ThroughputRun[],
      parse: [] as ThroughputRun[],
      collector: [] as ThroughputRun[],
    };
    for (let i = 0; i < REPS; i++) {
      rows.raw.push(await raw(FRAMES[form], false));
      say(`${form} ${i + 1}/${REPS} raw         ${line(rows.raw[i])}`);
      rows.parse.push(await raw(FRAMES[form], true));
      say(`${form} ${i + 1}/${REPS} raw+parse   ${line(rows.parse[i])}`);
      rows.collector.push(await col(FRAMES[form]));
      say(`${form} ${i + 1}/${REPS} collector   ${line(rows.collector[i])}`);
    }
    ingest[form] = rows;
    const med = (rs: ThroughputRun[]) => summarize(rs.map((r) => r.cpuUsPerSample)).median;
    say(
      `${form}: CPU/sample collector / raw+parse = ${
        (med(rows.collector) / med(rows.parse)).toFixed(2)
      }x`,
    );
    await noteLoad(`after ${form}`);
  }
  // The ceiling: collector, history on, batch frames, frames/s to durable (it includes up to
  // a second's wait for the flush tick, so it is under the read ceiling: the load errs low).
  const colBatch = ingest.batch.collector;
  const framesPerSec = summarize(colBatch.map((r) => r.messagesPerSec)).median;
  const ceiling = { framesPerSec, samplesPerSec: framesPerSec * BATCH };
  say(`ceiling (batch, history on): ${framesPerSec.toFixed(0)} frames/s; load at half`);
  const idle = await runLatency({ ...LATENCY, history: true });
  say(
    `latency idle: p50 ${p(idle.endToEnd, 0.5)} p99 ${p(idle.endToEnd, 0.99)} max ${
      p(idle.endToEnd, 1)
    } ms; collector p99 ${idle.queueDelay.p99}`,
  );
  const busy = await runLatency({
    ...LATENCY,
    history: true,
    load: {
      framesPerSec: framesPerSec / 2,
      senders: 2,
      form: "batch",
      batchSize: BATCH,
      instances: INSTANCES,
    },
  });
  say(
    `latency busy: p50 ${p(busy.endToEnd, 0.5)} p99 ${p(busy.endToEnd, 0.99)} max ${
      p(busy.endToEnd, 1)
    } ms; collector p99 ${busy.queueDelay.p99}; load ${busy.loadFrames} frames, ${busy.loadRefusals} refusals`,
  );
  await noteLoad("end");
  return {
    date: new Date().toISOString(),
    load,
    reps: REPS,
    batchSize: BATCH,
    senders: SENDERS,
    ingest,
    ceiling,
    latency: { ...LATENCY, idle, busy },
  };
}

if (import.meta.main) {
  const started = performance.now();
  const say = (s: string) =>
    console.error(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${s}`);
  console.log(JSON.stringify(await runHonest(say)));
}
