/**
 * `deno task bench`: measure the raw ZMQ limit, collector ingest, OTLP/HTTP ingest
 * (bench/otlp.ts), the cost of ingest by stage,
 * live latency, durable storage (bench/storage.ts) and the agent's own cost
 * (bench/agent_cost.ts) and remote write (bench/remote_write.ts) in one run and write docs/benchmarks.md. Progress goes to stderr as
 * it runs (about eight minutes).
 *
 * @module
 */
import { type Form, makeFrames } from "./frames.ts";
import { measureBreakdown } from "./ingest_breakdown.ts";
import { runStorage } from "./storage.ts";
import { runPeers } from "./peers.ts";
import { runCollector, runRaw, type ThroughputOptions, type ThroughputRun } from "./ingest.ts";
import { runLatency } from "./latency.ts";
import { runHonest } from "./honest.ts";
import { AGENT_COST, AGENT_TARGETS, ROLES, runAgentCost } from "./agent_cost.ts";
import { runHeapProfileCost } from "./heap_profile_cost.ts";
import { OTLP_BENCH, runOtlpBench } from "./otlp.ts";
import { runRemoteWrite } from "./remote_write.ts";
import { measureFederate } from "./federate.ts";
import { measureLeakEstimate } from "./leak_bench.ts";
import { batchedVsSingleRaw, type BenchResults, medianRatio, renderReport } from "./report.ts";
import { summarize } from "./stats.ts";

const INSTANCES = 10;
const BATCH = 100;
const REPS = 5;
const SEND_HWM = 1000;
/** Aim for this long per timed repetition (frame counts are calibrated by a warm-up). */
const REP_MS = 1200;
const PROBE_MS = 700;
const POOL: Record<Form, number> = { single: 50_000, batch: 1_000 };
const WARMUP_FRAMES: Record<Form, number> = { single: 40_000, batch: 3_000 };
const FORMS: Form[] = ["single", "batch"];
const OUT = new URL("../docs/benchmarks.md", import.meta.url);

const started = performance.now();
const say = (s: string) =>
  console.error(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${s}`);
const k = (x: number) => `${(x / 1000).toFixed(1)}k`;

function options(form: Form, senders: number, totalFrames: number, raw: boolean) {
  return {
    form,
    batchSize: BATCH,
    senders,
    framesPerSender: Math.max(1, Math.ceil(totalFrames / senders)),
    instances: INSTANCES,
    sendHwm: SEND_HWM,
    timeoutMs: 60_000,
    pool: raw ? POOL[form] : undefined,
  } satisfies ThroughputOptions;
}

const line = (r: ThroughputRun) =>
  `${k(r.messagesPerSec)} msg/s, ${k(r.samplesPerSec)} samples/s (${r.ms.toFixed(0)} ms, ` +
  `sender ${r.senderMs.toFixed(0)} ms, ${r.refusals} refusals` +
  (r.hubDropped !== undefined
    ? `, hub drops ${r.hubDropped}, stall ${r.maxStallMs?.toFixed(0)} ms`
    : "") +
  ")";

/** Load average samples taken during the run: other work on the machine shows here. */
const loads: string[] = [];
async function noteLoad(when: string) {
  const l = (await Deno.readTextFile("/proc/loadavg").catch(() => "")).split(" ").slice(0, 3);
  loads.push(`${when}: ${l.join(" ")}`);
  say(`load average (${when}): ${l.join(" ")}`);
}

async function machine() {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const cpu = cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1] ?? "unknown";
  const dv = new Deno.Command(Deno.execPath(), { args: ["--version"] }).outputSync();
  return {
    nproc: navigator.hardwareConcurrency,
    cpu,
    deno: new TextDecoder().decode(dv.stdout).trim(),
    os: `${Deno.build.os} ${Deno.osRelease()} (${Deno.build.arch})`,
    load: loads.join("; "),
  };
}

async function main() {
  say(`zeroapm bench: ${INSTANCES} instances, batches of ${BATCH}, ${REPS} reps per row`);
  await noteLoad("start");
  // 1. Sender scaling: does a second (third) sender process raise the raw ceiling?
  const scaling: BenchResults["scaling"] = [];
  const senders = {} as Record<Form, number>;
  for (const form of FORMS) {
    const warm = await runRaw(options(form, 2, WARMUP_FRAMES[form] * 2, true));
    const total = Math.round(warm.messagesPerSec * PROBE_MS / 1000);
    let best = { senders: 1, median: 0 };
    for (const n of [1, 2, 3]) {
      const xs: number[] = [];
      for (let i = 0; i < 3; i++) {
        xs.push((await runRaw(options(form, n, total, true))).messagesPerSec);
      }
      const med = summarize(xs).median;
      say(`scaling ${form}: ${n} sender(s): median ${k(med)} msg/s`);
      scaling.push({ form, senders: n, messagesPerSec: xs });
      if (med > best.median) best = { senders: n, median: med };
    }
    senders[form] = best.senders;
    say(`scaling ${form}: using ${best.senders} sender(s)`);
  }

  await noteLoad("after scaling");
  // 2. Raw vs collector, interleaved, same frames and senders.
  const throughput = {} as BenchResults["throughput"];
  for (const form of FORMS) {
    const n = senders[form];
    // Two warm-ups each: the first warms the JIT, the second calibrates the frame counts.
    await runRaw(options(form, n, WARMUP_FRAMES[form], true));
    await runCollector(options(form, n, WARMUP_FRAMES[form] / 4, false));
    const rw = await runRaw(options(form, n, WARMUP_FRAMES[form], true));
    const cw = await runCollector(options(form, n, WARMUP_FRAMES[form] / 2, false));
    const rawTotal = Math.round(rw.messagesPerSec * REP_MS / 1000);
    const colTotal = Math.round(cw.messagesPerSec * REP_MS / 1000);
    say(`${form}: warm-up raw ${line(rw)}`);
    say(`${form}: warm-up collector ${line(cw)}`);
    const raw: ThroughputRun[] = [];
    const collector: ThroughputRun[] = [];
    for (let i = 0; i < REPS; i++) {
      raw.push(await runRaw(options(form, n, rawTotal, true)));
      say(`${form} rep ${i + 1}/${REPS}: raw       ${line(raw[i])}`);
      collector.push(await runCollector(options(form, n, colTotal, false)));
      say(`${form} rep ${i + 1}/${REPS}: collector ${line(collector[i])}`);
    }
    throughput[form] = { raw, collector };
    say(`${form}: ratio collector/raw = ${(medianRatio(raw, collector) * 100).toFixed(1)} %`);
  }

  // OTLP/HTTP into the same collector, beside our own wire.
  const otlp = await runOtlpBench(say);

  // Where a batch frame's time goes, in process (explains ratio B).
  const breakdown = {} as BenchResults["breakdown"];
  const frameBytes = {} as BenchResults["frameBytes"];
  for (const form of FORMS) {
    breakdown[form] = await measureBreakdown(form, BATCH);
    const { frames } = makeFrames(["i00"], form, BATCH, 100);
    frameBytes[form] = frames.reduce((n, f) => n + f.byteLength, 0) / frames.length;
    say(
      `breakdown ${form}: ${
        breakdown[form].map((s) => `${s.stage} ${s.usPerFrame.toFixed(2)} us`).join(", ")
      }`,
    );
  }

  await noteLoad("after throughput");
  // 3. Latency.
  const rateHz = 100;
  const durationMs = 10_000;
  say(`latency: ${rateHz} msg/s for ${durationMs / 1000} s ...`);
  const lat = await runLatency({ rateHz, durationMs });
  const sorted = [...lat.endToEnd].sort((a, b) => a - b);
  say(
    `latency: ${lat.endToEnd.length}/${lat.sent} samples, p50 ${
      sorted[Math.floor(sorted.length * 0.5)]
    } ms, p99 ${sorted[Math.floor(sorted.length * 0.99)]} ms, max ${sorted.at(-1)} ms`,
  );

  // Issue 14: CPU per sample with history on (counted when durable), latency while busy.
  const honest = await runHonest((l) => say(`honest: ${l}`));

  await noteLoad("after latency");
  // 4. Durable storage, ours vs a naive table.
  const storage = await runStorage({ log: (l) => say(`storage: ${l}`) });
  say(`storage: ${storage.wallSeconds.toFixed(0)} s`);
  // 4b. The same kind of data in VictoriaMetrics and Prometheus blocks (~3 min).
  const peers = await runPeers({ log: (l) => say(`peers: ${l}`) });
  say(`peers: ${peers.wallSeconds.toFixed(0)} s`);

  await noteLoad("after storage");
  // 4b. Remote write to a real VictoriaMetrics, beside ingest in the same run.
  const remoteWrite = await runRemoteWrite({ log: (l) => say(`remote write: ${l}`) });

  // 5. The agent's own cost: an app with the agent vs the same app without it.
  say(
    `agent cost: ${AGENT_COST.reps} reps x ${
      AGENT_COST.windowMs / 1000
    } s, ${ROLES.length} apps each ...`,
  );
  const agentCost = await runAgentCost({ ...AGENT_COST, log: (l) => say(`agent cost: ${l}`) });
  // 6. A heap-profiling window: the same leaking app with profiling on and off (~2.5 min).
  const heapProfile = await runHeapProfileCost(3, (l) => say(`heap profile cost: ${l}`));

  await noteLoad("end");
  const results: BenchResults = {
    date: new Date().toISOString(),
    machine: await machine(),
    command: "deno task bench",
    wallSeconds: (performance.now() - started) / 1000,
    instances: INSTANCES,
    batchSize: BATCH,
    reps: REPS,
    sendHwm: SEND_HWM,
    scaling,
    senders,
    throughput,
    otlp,
    otlpConcurrency: OTLP_BENCH.concurrency,
    latency: { ...lat, rateHz, durationMs },
    honest,
    frameBytes,
    breakdown,
    storage,
    peers,
    agentCost,
    heapProfile,
    remoteWrite,
    targets: {
      batchRatio: 0.8,
      p99Ms: 20,
      bytesPerSample: 2,
      writeSamplesPerSec: 300_000,
      queryMs: 20,
      ...AGENT_TARGETS,
    },
  };
  say(
    `ratio A (batched samples/s / raw single msg/s) = ${
      (batchedVsSingleRaw(results) * 100).toFixed(1)
    } %`,
  );
  await Deno.mkdir(new URL(".", OUT), { recursive: true });
  const leak = measureLeakEstimate();
  say(`leak estimate: median ${leak.median.toFixed(2)} ms, p99 ${leak.p99.toFixed(2)} ms`);
  const federate = await measureFederate();
  say(`federate: ${federate.section.split("\n").slice(-2).join(" ")}`);
  await Deno.writeTextFile(
    OUT,
    `${renderReport(results)}\n\n${leak.section}\n\n${federate.section}\n`,
  );
  // Format it as the repo's `deno fmt --check` expects (prose wrapping, table alignment).
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", OUT.pathname] }).output();
  say(`wrote ${OUT.pathname}`);
}

if (import.meta.main) await main();
