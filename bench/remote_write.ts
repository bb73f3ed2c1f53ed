/**
 * Remote write, measured beside ingest in the same run (`deno task bench`, or this file
 * alone: `deno run -A bench/remote_write.ts`):
 *
 * - export throughput: 1 000 series x 600 s at 1 Hz (600 000 samples) are written to a
 *   durable store's WAL one row per second, as the collector writes them, and then shipped
 *   by the remote writer (WalSource -> protobuf + snappy -> HTTP) to a real VictoriaMetrics
 *   on loopback; samples/s from the first request until the queue is empty and VictoriaMetrics
 *   counts every sample. Compared with the collector's ingest rate (batch frames) measured in
 *   the same run: the export must not be the bottleneck (>= 80 % of ingest).
 * - bytes per sample: the demo's 12 series over 24 h (1 036 800 samples) in zeroapm's store
 *   and in VictoriaMetrics (its data parts after a flush, and its whole directory).
 *
 * @module
 */
import { DurableStore } from "../lib/store/durable.ts";
import { WalSource } from "../lib/remote/wal_source.ts";
import { RemoteWriter } from "../lib/remote/writer.ts";
import { demoSeries, demoValues, writeOurs } from "./storage.ts";
import { runCollector } from "./ingest.ts";
import { summarize } from "./stats.ts";
import { startVictoria, type Tsdb } from "../tests/support/tsdb.ts";
import { countSamples, du } from "./victoria.ts";

/** What the report shows. */
export interface RemoteWriteResults {
  series: number;
  samples: number;
  /** Export samples/s per repetition. */
  exportPerSec: number[];
  /** Collector ingest samples/s (batch frames) per repetition, in the same run. */
  ingestPerSec: number[];
  requests: number;
  bytesPerRequest: number;
  /** Wire bytes (protobuf + snappy) per sample. */
  wireBytesPerSample: number;
  bytesPerSample: { samples: number; ours: number; vmData: number; vmTotal: number };
  /** /proc/loadavg (1, 5, 15 min) when the timed runs started: other work shows here. */
  load: string;
}

const T0 = Date.UTC(2026, 0, 5);

/** Samples of `job` VictoriaMetrics counts (the window is (t - 30d, t]: T0 inside). */
function count(db: Tsdb, job: string): Promise<number> {
  return countSamples(db, `{job="${job}"}`, T0 / 1000 + 30 * 86_400 - 60);
}

/** A WAL of `series` x `seconds` points, one row a second (as the collector flushes). */
function fillWal(dir: string, job: string, series: number, seconds: number): DurableStore {
  let now = T0;
  const store = DurableStore.open({
    dir,
    now: () => now,
    remotes: ["bench"],
    sealEveryMs: 3_600_000,
  });
  const values = Array.from({ length: series }, (_, k) => demoValues("cpu.percent", seconds, k, 0));
  for (let i = 0; i < seconds; i++) {
    for (let k = 0; k < series; k++) {
      store.append(`${job}/host-${Math.floor(k / 4)}`, `m${k % 4}`, T0 + i * 1000, values[k][i]);
    }
    now = T0 + (i + 1) * 1000;
    store.flush();
  }
  return store;
}

/** Ship a store's whole WAL to `db`; samples/s until the queue is empty and counted. */
async function ship(store: DurableStore, db: Tsdb, job: string, samples: number) {
  const writer = new RemoteWriter({
    url: db.writeUrl,
    source: new WalSource({ name: "bench", wal: store.wal(), now: () => T0, maxAgeMs: 1e15 }),
    now: () => T0,
    log: (l) => console.error(l),
  });
  const t0 = performance.now();
  writer.start();
  await writer.drained();
  await writer.stop();
  const s = writer.stats();
  // VictoriaMetrics answers before it has indexed every new series: the clock runs until it
  // counts them all.
  let got = 0;
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    if ((got = await count(db, job)) === samples) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const ms = performance.now() - t0;
  if (got !== samples || s.sent !== samples) {
    throw new Error(`shipped ${s.sent}, VictoriaMetrics counts ${got}, expected ${samples}`);
  }
  return { perSec: samples / (ms / 1000), requests: s.requests, bytes: s.bytes };
}

/** Run the remote-write bench; `log` gets progress lines. */
export async function runRemoteWrite(
  o: { reps?: number; log?: (line: string) => void } = {},
): Promise<RemoteWriteResults> {
  const reps = o.reps ?? 3;
  const log = o.log ?? ((l: string) => console.error(l));
  const SERIES = 1000;
  const SECONDS = 600;
  const samples = SERIES * SECONDS;
  const exportPerSec: number[] = [];
  const ingestPerSec: number[] = [];
  let requests = 0;
  let bytes = 0;
  const ingestRun = () =>
    runCollector({
      form: "batch",
      batchSize: 100,
      senders: 2,
      framesPerSender: 3000,
      instances: 10,
      sendHwm: 1000,
      timeoutMs: 60_000,
    });
  const load = (await Deno.readTextFile("/proc/loadavg").catch(() => "")).split(" ").slice(0, 3)
    .join(" ");
  await ingestRun(); // warm-up: the JIT, as bench/run.ts does before its timed runs
  const db = await startVictoria();
  try {
    for (let r = 0; r < reps; r++) {
      const dir = await Deno.makeTempDir({ prefix: "zeroapm-bench-rw-" });
      const job = `bench${r}`;
      const store = fillWal(dir, job, SERIES, SECONDS);
      const shipped = await ship(store, db, job, samples);
      store.close();
      await Deno.remove(dir, { recursive: true });
      exportPerSec.push(shipped.perSec);
      requests = shipped.requests;
      bytes = shipped.bytes;
      const ingest = await ingestRun();
      ingestPerSec.push(ingest.samplesPerSec);
      log(
        `rep ${r + 1}/${reps}: export ${Math.round(shipped.perSec)} samples/s, ` +
          `ingest ${Math.round(ingest.samplesPerSec)} samples/s`,
      );
    }
  } finally {
    await db.close();
  }

  // Bytes per sample: the same 24 h of demo data in both stores.
  const demo = demoSeries(86_400);
  const demoSamples = demo.length * 86_400;
  const ourDir = await Deno.makeTempDir({ prefix: "zeroapm-bench-rw-ours-" });
  writeOurs(ourDir, demo);
  const ours = await du(`${ourDir}/zeroapm.db`);
  // VictoriaMetrics gets it by remote write, from a WAL like the collector's.
  const vm = await startVictoria();
  let vmData = 0;
  let vmTotal = 0;
  try {
    const walDir = await Deno.makeTempDir({ prefix: "zeroapm-bench-rw-wal-" });
    let now = T0;
    const store = DurableStore.open({
      dir: walDir,
      now: () => now,
      remotes: ["bench"],
      sealEveryMs: 1e12,
    });
    for (let i = 0; i < 86_400; i++) {
      for (const s of demo) store.append(s.instance, s.metric, s.times[i], s.values[i]);
      if (i % 60 === 59) {
        now = T0 + (i + 1) * 1000;
        store.flush();
      }
    }
    store.flush();
    await ship(store, vm, "demo", demoSamples);
    store.close();
    await Deno.remove(walDir, { recursive: true });
    await vm.stop(); // a clean stop writes its in-memory parts
    vmData = await du(`${vm.dataDir}/data`);
    vmTotal = await du(vm.dataDir);
  } finally {
    await vm.close();
    await Deno.remove(ourDir, { recursive: true });
  }
  log(
    `bytes/sample: ours ${(ours / demoSamples).toFixed(2)}, VictoriaMetrics data ${
      (vmData / demoSamples).toFixed(2)
    } (whole directory ${(vmTotal / demoSamples).toFixed(2)})`,
  );
  return {
    series: SERIES,
    samples,
    exportPerSec,
    ingestPerSec,
    load,
    requests,
    bytesPerRequest: bytes / requests,
    wireBytesPerSample: bytes / samples,
    bytesPerSample: {
      samples: demoSamples,
      ours: ours / demoSamples,
      vmData: vmData / demoSamples,
      vmTotal: vmTotal / demoSamples,
    },
  };
}

/** The report's section (also printed when this file runs alone). */
export function renderRemoteWrite(r: RemoteWriteResults): string {
  const ex = summarize(r.exportPerSec);
  const ing = summarize(r.ingestPerSec);
  const ratio = ex.median / ing.median;
  const n = (x: number) => Math.round(x).toLocaleString("en-US");
  return [
    "## Remote write",
    "",
    `${n(r.samples)} samples (${n(r.series)} series x 600 s, one WAL row a second) shipped from ` +
    `the WAL to a real VictoriaMetrics on loopback, ${r.exportPerSec.length} repetitions, each ` +
    "beside a collector ingest run (batch frames) in the same process; every sample counted in " +
    "VictoriaMetrics before the clock stops. VictoriaMetrics runs on the same cores, so its " +
    `ingest is part of the cost. Load average at the start: ${r.load}.`,
    "",
    "| measure | median | min – max |",
    "| --- | ---: | ---: |",
    `| remote write, samples/s | ${n(ex.median)} | ${n(ex.min)} – ${n(ex.max)} |`,
    `| collector ingest, samples/s | ${n(ing.median)} | ${n(ing.min)} – ${n(ing.max)} |`,
    `| **export / ingest** | **${(ratio * 100).toFixed(0)} %** | target >= 80 %: ${
      ratio >= 0.8 ? "**met**" : "**not met**"
    } |`,
    `| request size (protobuf + snappy) | ${n(r.bytesPerRequest)} bytes | ${
      r.wireBytesPerSample.toFixed(2)
    } bytes/sample on the wire |`,
    "",
    `Bytes per sample of the same data (the demo's 12 series over 24 h, ${
      n(r.bytesPerSample.samples)
    } samples):`,
    "",
    "| store | bytes/sample |",
    "| --- | ---: |",
    `| zeroapm (SQLite file: raw chunks + 1 m and 1 h rollups) | ${
      r.bytesPerSample.ours.toFixed(2)
    } |`,
    `| VictoriaMetrics, data parts | ${r.bytesPerSample.vmData.toFixed(2)} |`,
    `| VictoriaMetrics, whole directory (with its index) | ${
      r.bytesPerSample.vmTotal.toFixed(2)
    } |`,
  ].join("\n");
}

if (import.meta.main) {
  const started = performance.now();
  const r = await runRemoteWrite({
    log: (l) => console.error(`[${((performance.now() - started) / 1000).toFixed(0)} s] ${l}`),
  });
  console.log(renderRemoteWrite(r));
}
