/**
 * Durable storage benchmarks: lib/store/durable.ts `DurableStore` beside a naive
 * one-row-per-sample SQLite table, in the same process and run.
 *
 * - disk: bytes per sample on disk for the demo's data (3 apps x 4 standard metrics at 1 Hz),
 *   ticked every simulated second as the collector does, sealed by `close()`, with the pages
 *   each table takes (SQLite's dbstat): every table costs at least one 16 KiB page, which
 *   weighs most in the shortest run;
 * - write: samples persisted per second on one core (append + tick + close, many series);
 * - query: 24 h of 1 s samples for one series as 1 000 points on a reopened store.
 *
 * `deno run -A bench/storage.ts` prints the results as JSON; `deno task bench` renders them.
 * `--disk 6,24` runs only the bytes-per-sample part, for those hours.
 *
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { DurableStore } from "../lib/store/durable.ts";
import { Bucketizer } from "../lib/store/query.ts";

/** Start of every generated data set: a Monday 00:00 UTC, so rollup rows start aligned. */
export const T0 = Date.UTC(2026, 0, 5);
const METRIC_NAMES = ["cpu.percent", "mem.rss_bytes", "mem.heap_used_bytes", "loop.lag_ms"];
/** The demo's three apps and their leaks (lib/cmd/demo.ts: numbers per second, 8 bytes each). */
const DEMO_APPS = [
  { name: "red", leakBytesPerSec: 0 },
  { name: "blue", leakBytesPerSec: 80_000 },
  { name: "green", leakBytesPerSec: 800_000 },
];

/** Mulberry32: seeded, so runs compare. */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One series' values at 1 Hz. */
export function demoValues(metric: string, n: number, seed: number, leak: number): Float64Array {
  const rnd = prng(seed);
  const out = new Float64Array(n);
  if (metric === "cpu.percent") {
    // Random walk in 0..100 (the demo's bursts), rounded to 0.01 as the agent does.
    let v = 5 + rnd() * 20;
    for (let i = 0; i < n; i++) {
      v = Math.min(100, Math.max(0, v + (rnd() - 0.5) * 6));
      out[i] = Math.round(v * 100) / 100;
    }
  } else if (metric === "mem.rss_bytes") {
    // Page-aligned, growing slowly (plus the leak); a GC gives a few pages back.
    let pages = 12_000 + Math.floor(rnd() * 2000);
    let nextGc = 20 + Math.floor(rnd() * 40);
    for (let i = 0; i < n; i++) {
      if (i === nextGc) {
        pages -= Math.floor(rnd() * 64);
        nextGc += 20 + Math.floor(rnd() * 40);
      } else pages += Math.floor(rnd() * 4) + Math.round(leak / 4096 * rnd() * 2);
      out[i] = pages * 4096;
    }
  } else if (metric === "mem.heap_used_bytes") {
    // Integer sawtooth: garbage grows between collections, a GC drops it; the leak stays.
    const base = 6_000_000 + Math.floor(rnd() * 2_000_000);
    let garbage = 0;
    let leaked = 0;
    let nextGc = 20 + Math.floor(rnd() * 40);
    for (let i = 0; i < n; i++) {
      leaked += leak;
      if (i === nextGc) {
        garbage = Math.floor(rnd() * 50_000);
        nextGc += 20 + Math.floor(rnd() * 40);
      } else garbage += 20_000 + Math.floor(rnd() * 60_000);
      out[i] = base + leaked + garbage;
    }
  } else {
    // loop.lag_ms: small, rounded to 0.01, a rare spike.
    for (let i = 0; i < n; i++) {
      const v = 0.2 + rnd() * 1.5 + (rnd() < 0.01 ? rnd() * 50 : 0);
      out[i] = Math.round(v * 100) / 100;
    }
  }
  return out;
}

/** Sample times at 1 Hz with 0-3 ms of arrival jitter, as the collector stamps them. */
export function demoTimes(n: number, seed: number, t0 = T0): Float64Array {
  const rnd = prng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = t0 + i * 1000 + Math.floor(rnd() * 4);
  return out;
}

/** One series of a generated data set. */
export interface SeriesData {
  instance: string;
  metric: string;
  times: Float64Array;
  values: Float64Array;
}

/** The demo's 12 series (3 apps x 4 metrics). */
export function demoSeries(n: number): SeriesData[] {
  const out: SeriesData[] = [];
  DEMO_APPS.forEach((app, a) => {
    METRIC_NAMES.forEach((metric, m) => {
      const seed = 1000 + a * 10 + m;
      out.push({
        instance: `demo/${app.name}`,
        metric,
        times: demoTimes(n, seed + 500),
        values: demoValues(metric, n, seed, app.leakBytesPerSec),
      });
    });
  });
  return out;
}

/** `count` series cycling over the four metric shapes and the three leaks. */
function manySeries(count: number, n: number): SeriesData[] {
  return Array.from({ length: count }, (_, k) => {
    const metric = METRIC_NAMES[k % 4];
    const inst = Math.floor(k / 4);
    return {
      instance: `app-${String(inst).padStart(4, "0")}`,
      metric,
      times: demoTimes(n, 77_000 + k),
      values: demoValues(metric, n, 55_000 + k, DEMO_APPS[inst % 3].leakBytesPerSec),
    };
  });
}

/** Files of a data directory, as `ls -l` (apparent) and `du` (allocated) would add them up. */
export function dirBytes(dir: string, names: string[]): { apparent: number; allocated: number } {
  let apparent = 0;
  let allocated = 0;
  for (const name of names) {
    try {
      const s = Deno.statSync(`${dir}/${name}`);
      apparent += s.size;
      allocated += (s.blocks ?? Math.ceil(s.size / 512)) * 512;
    } catch { /* absent */ }
  }
  return { apparent, allocated };
}

const OURS_FILES = ["zeroapm.db", "zeroapm.db-wal", "zeroapm.db-shm"];
const NAIVE_FILES = ["naive.db", "naive.db-wal", "naive.db-shm"];

/** The naive store: one row per sample, as an ad-hoc design would do it. */
class Naive {
  db: DatabaseSync;
  #ids = new Map<string, number>();
  #insert: StatementSync;
  #range: StatementSync;

  constructor(readonly dir: string) {
    this.db = new DatabaseSync(`${dir}/naive.db`);
    this.db.exec("PRAGMA journal_mode=WAL");
    this.db.exec("PRAGMA synchronous=NORMAL"); // as ours
    this.db.exec(`CREATE TABLE IF NOT EXISTS samples(series INTEGER, t INTEGER, v REAL);
      CREATE INDEX IF NOT EXISTS samples_by_series_t ON samples(series, t);`);
    this.#insert = this.db.prepare("INSERT INTO samples(series, t, v) VALUES (?, ?, ?)");
    this.#range = this.db.prepare(
      "SELECT t, v FROM samples WHERE series = ? AND t >= ? AND t < ? ORDER BY t",
    );
  }

  id(instance: string, metric: string): number {
    const key = `${instance}\0${metric}`;
    let id = this.#ids.get(key);
    if (id === undefined) this.#ids.set(key, id = this.#ids.size + 1);
    return id;
  }

  /** One second's worth of rows, in one transaction. */
  write(rows: Array<[number, number, number]>): void {
    this.db.exec("BEGIN");
    for (const [s, t, v] of rows) this.#insert.run(s, t, v);
    this.db.exec("COMMIT");
  }

  /** The same answer buckets as DurableStore.query, from raw rows. */
  query(series: number, from: number, to: number, points: number) {
    const b = new Bucketizer(from, to, points);
    const ts: number[] = [];
    const vs: number[] = [];
    for (const r of this.#range.iterate(series, from, to)) {
      const row = r as { t: number; v: number };
      ts.push(row.t);
      vs.push(row.v);
    }
    b.addPoints(ts, vs);
    return b.result();
  }

  close(): void {
    this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    this.db.close();
  }
}

/** Write `series` (all the same length) into ours, ticking every `tickEvery` seconds. */
export function writeOurs(
  dir: string,
  series: SeriesData[],
  tickEvery = 1,
): Record<string, number> {
  let now = T0;
  const t0 = performance.now();
  const store = DurableStore.open({ dir, now: () => now });
  const tOpen = performance.now();
  const n = series[0].times.length;
  let appendMs = 0;
  let tickMs = 0;
  for (let i = 0; i < n; i++) {
    const a = performance.now();
    for (const s of series) store.append(s.instance, s.metric, s.times[i], s.values[i]);
    const b = performance.now();
    appendMs += b - a;
    now = T0 + (i + 1) * 1000;
    if ((i + 1) % tickEvery === 0 || i === n - 1) {
      store.tick();
      tickMs += performance.now() - b;
    }
  }
  const c = performance.now();
  store.close();
  const end = performance.now();
  return { openMs: tOpen - t0, appendMs, tickMs, closeMs: end - c, totalMs: end - tOpen };
}

function writeNaive(dir: string, series: SeriesData[]): Record<string, number> {
  const t0 = performance.now();
  const naive = new Naive(dir);
  const ids = series.map((s) => naive.id(s.instance, s.metric));
  const tOpen = performance.now();
  const n = series[0].times.length;
  const rows: Array<[number, number, number]> = series.map(() => [0, 0, 0]);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < series.length; k++) {
      const r = rows[k];
      r[0] = ids[k];
      r[1] = series[k].times[i];
      r[2] = series[k].values[i];
    }
    naive.write(rows);
  }
  const c = performance.now();
  naive.close();
  const end = performance.now();
  return { openMs: tOpen - t0, closeMs: end - c, totalMs: end - tOpen };
}

/** One bytes-per-sample run. */
export interface DiskRun {
  hours: number;
  series: number;
  samples: number;
  /** Files as `ls -l` (apparent) and `du` (allocated) add them up, and what is inside. */
  ours: { apparent: number; allocated: number } & DbFigures;
  naive: { apparent: number; allocated: number };
  /** Wall time to write the data, ms (ticked every simulated second). */
  oursMs: number;
  naiveMs: number;
}

/** What is inside our database file after close. */
export interface DbFigures {
  rows: Record<string, number>;
  pageSize: number;
  pages: number;
  freePages: number;
  /** Sum of chunk blobs (the compressed raw samples) and of rollup blobs, bytes. */
  chunkBytes: number;
  rollupBytes: number;
  /** Chunk bytes per sample by metric (all apps). */
  perMetric: Record<string, number>;
  /**
   * Pages per table or index (SQLite's dbstat), with the bytes of row data in them and the
   * bytes left unused; pages in no table (the pointer map, free pages) under "(other)".
   */
  tables: Record<string, { pages: number; payload: number; unused: number }>;
}

function dbFigures(path: string, series: SeriesData[]): DbFigures {
  const db = new DatabaseSync(path);
  try {
    const one = (q: string) => Object.values(db.prepare(q).get()!)[0] as number;
    const rows: Record<string, number> = {};
    for (const table of ["chunks", "rounds", "rollups", "wal", "series", "instances"]) {
      rows[table] = one(`SELECT count(*) FROM ${table}`);
    }
    const perMetric: Record<string, number> = {};
    const samplesPerMetric: Record<string, number> = {};
    for (const s of series) {
      samplesPerMetric[s.metric] = (samplesPerMetric[s.metric] ?? 0) + s.times.length;
    }
    for (
      const r of db.prepare(
        "SELECT s.metric AS metric, sum(length(c.data)) AS bytes FROM chunks c " +
          "JOIN series s ON s.id = c.id % 4294967296 GROUP BY s.metric",
      ).all()
    ) {
      const { metric, bytes } = r as { metric: string; bytes: number };
      perMetric[metric] = bytes / samplesPerMetric[metric];
    }
    return {
      rows,
      pageSize: one("PRAGMA page_size"),
      pages: one("PRAGMA page_count"),
      freePages: one("PRAGMA freelist_count"),
      chunkBytes: one("SELECT sum(length(data)) FROM chunks"),
      rollupBytes: one("SELECT sum(length(data)) FROM rollups"),
      perMetric,
      tables: tableFigures(db),
    };
  } finally {
    db.close();
  }
}

function tableFigures(db: DatabaseSync): DbFigures["tables"] {
  const out: DbFigures["tables"] = {};
  let inTables = 0;
  for (
    const r of db.prepare(
      "SELECT name, count(*) AS pages, sum(payload) AS payload, sum(unused) AS unused " +
        "FROM dbstat GROUP BY name ORDER BY pages DESC",
    ).all()
  ) {
    const { name, ...t } = r as { name: string; pages: number; payload: number; unused: number };
    out[name] = { ...t };
    inTables += t.pages;
  }
  const pages = (db.prepare("PRAGMA page_count").get() as { page_count: number }).page_count;
  out["(other)"] = { pages: pages - inTables, payload: 0, unused: 0 };
  return out;
}

/** One bytes-per-sample run into `dir` (created): the demo's data for `hours`, ours and naive. */
async function measureDisk(
  dir: string,
  hours: number,
  log: (s: string) => void,
): Promise<{ run: DiskRun; demo: SeriesData[] }> {
  const n = hours * 3600;
  const demo = demoSeries(n);
  await Deno.mkdir(dir);
  const ow = writeOurs(dir, demo, 1);
  const nw = writeNaive(dir, demo);
  const run: DiskRun = {
    hours,
    series: demo.length,
    samples: n * demo.length,
    ours: { ...dirBytes(dir, OURS_FILES), ...dbFigures(`${dir}/zeroapm.db`, demo) },
    naive: dirBytes(dir, NAIVE_FILES),
    oursMs: ow.totalMs,
    naiveMs: nw.totalMs,
  };
  const perSample = (pages: number) => (pages * run.ours.pageSize / run.samples).toFixed(2);
  const { chunks, rollups, ...rest } = run.ours.tables;
  log(
    `disk: ${demo.length} series x ${hours} h = ${run.samples} samples: ours ${
      (run.ours.apparent / run.samples).toFixed(2)
    } B/sample (${ow.totalMs.toFixed(0)} ms; in pages: chunks ${
      perSample(chunks?.pages ?? 0)
    }, rollups ${perSample(rollups?.pages ?? 0)}, the rest ${
      perSample(Object.values(rest).reduce((n, t) => n + t.pages, 0))
    }), naive ${(run.naive.apparent / run.samples).toFixed(2)} B/sample (${
      nw.totalMs.toFixed(0)
    } ms)`,
  );
  return { run, demo };
}

/**
 * The bytes-per-sample runs alone (`deno run -A bench/storage.ts --disk 6,24`), in a temp
 * directory removed after: what {@link runStorage} measures first, without its write and
 * query parts.
 */
export async function runDisk(hours: number[], log: (s: string) => void): Promise<DiskRun[]> {
  const root = await Deno.makeTempDir({ prefix: "zeroapm-bench-disk-" });
  try {
    const out: DiskRun[] = [];
    for (const h of hours) out.push((await measureDisk(`${root}/disk${h}`, h, log)).run);
    return out;
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** What {@link runStorage} measured. */
export interface StorageResults {
  disk: DiskRun[];
  write: {
    series: number;
    seconds: number;
    reps: number;
    /** Samples per second, one per repetition. */
    ours: number[];
    naive: number[];
    /** Per repetition: append, tick (flush + seal steps + retention), close (final seal). */
    oursParts: Array<Record<string, number>>;
  };
  query: {
    hours: number;
    points: number;
    queries: number;
    /** Milliseconds per query (after one warm-up each). */
    ours: number[];
    naive: number[];
    oursTier: number;
    oursPoints: number;
    naivePoints: number;
    /** One hour as 1 000 points (raw tier 0), ours: ms per query. */
    rawHour: number[];
  };
  wallSeconds: number;
}

/** Options (defaults: the sizes `deno task bench` uses). */
export interface StorageOptions {
  diskHours?: number[];
  writeSeries?: number;
  writeSeconds?: number;
  writeReps?: number;
  queryHours?: number;
  queries?: number;
  log?: (s: string) => void;
}

/** Run all storage benchmarks in temp directories (removed afterwards). */
export async function runStorage(o: StorageOptions = {}): Promise<StorageResults> {
  const log = o.log ?? (() => {});
  const started = performance.now();
  const diskHours = o.diskHours ?? [6, 24, 72];
  const writeSeries = o.writeSeries ?? 1000;
  const writeSeconds = o.writeSeconds ?? 300;
  const writeReps = o.writeReps ?? 5;
  const queryHours = o.queryHours ?? 24;
  const queries = o.queries ?? 50;
  const root = await Deno.makeTempDir({ prefix: "zeroapm-bench-storage-" });
  try {
    // 1. Bytes per sample, the demo's data, ticked every simulated second as the collector
    //    does. The longest run's directory is then reused for the query benchmark.
    const disk: DiskRun[] = [];
    let qDir = "";
    let qSeries: SeriesData[] = [];
    for (const hours of diskHours) {
      const dir = `${root}/disk${hours}`;
      const { run, demo } = await measureDisk(dir, hours, log);
      disk.push(run);
      if (hours === queryHours) [qDir, qSeries] = [dir, demo];
      else await Deno.remove(dir, { recursive: true });
    }

    // 2. Samples persisted per second on one core.
    const many = manySeries(writeSeries, writeSeconds);
    const oursRate: number[] = [];
    const naiveRate: number[] = [];
    const parts: Array<Record<string, number>> = [];
    const total = writeSeries * writeSeconds;
    for (let rep = -1; rep < writeReps; rep++) { // rep -1: warm-up, discarded
      const d1 = `${root}/w${rep}o`;
      const d2 = `${root}/w${rep}n`;
      await Deno.mkdir(d2, { recursive: true });
      const o1 = writeOurs(d1, many, 1);
      const n1 = writeNaive(d2, many);
      await Deno.remove(d1, { recursive: true });
      await Deno.remove(d2, { recursive: true });
      if (rep < 0) continue;
      oursRate.push(total / (o1.totalMs / 1000));
      naiveRate.push(total / (n1.totalMs / 1000));
      parts.push(o1);
      log(
        `write rep ${rep + 1}/${writeReps}: ours ${
          (oursRate.at(-1)! / 1000).toFixed(0)
        }k samples/s ` +
          `(append ${o1.appendMs.toFixed(0)} ms, tick ${o1.tickMs.toFixed(0)} ms, close ${
            o1.closeMs.toFixed(0)
          } ms), naive ${(naiveRate.at(-1)! / 1000).toFixed(0)}k samples/s`,
      );
    }

    // 3. Query: 24 h of one series as 1 000 points, on a reopened store.
    const qn = queryHours * 3600;
    if (!qDir) {
      qDir = `${root}/query`;
      await Deno.mkdir(qDir);
      qSeries = demoSeries(qn);
      writeOurs(qDir, qSeries, 60);
      writeNaive(qDir, qSeries);
    }
    const end = T0 + qn * 1000;
    const store = DurableStore.open({ dir: qDir, now: () => end });
    const naive = new Naive(qDir);
    qSeries.forEach((s) => naive.id(s.instance, s.metric));
    const target = qSeries[0];
    const sid = naive.id(target.instance, target.metric);
    const from = end - queryHours * 3_600_000;
    const time = (f: () => unknown) => {
      const t = performance.now();
      f();
      return performance.now() - t;
    };
    const first = store.query(target.instance, target.metric, from, end, 1000);
    const firstNaive = naive.query(sid, from, end, 1000);
    const ours: number[] = [];
    const naiveMs: number[] = [];
    const rawHour: number[] = [];
    for (let i = 0; i < queries; i++) {
      ours.push(time(() => store.query(target.instance, target.metric, from, end, 1000)));
      naiveMs.push(time(() => naive.query(sid, from, end, 1000)));
      rawHour.push(
        time(() => store.query(target.instance, target.metric, end - 3_600_000, end, 1000)),
      );
    }
    store.close();
    naive.close();
    log(
      `query: ${queryHours} h as 1000 points: ours tier ${first.tier}, ${first.points.length} points, ` +
        `median ${median(ours).toFixed(2)} ms; naive ${firstNaive.length} points, median ${
          median(naiveMs).toFixed(2)
        } ms`,
    );

    return {
      disk,
      write: {
        series: writeSeries,
        seconds: writeSeconds,
        reps: writeReps,
        ours: oursRate,
        naive: naiveRate,
        oursParts: parts,
      },
      query: {
        hours: queryHours,
        points: 1000,
        queries,
        ours,
        naive: naiveMs,
        oursTier: first.tier,
        oursPoints: first.points.length,
        naivePoints: firstNaive.length,
        rawHour,
      },
      wallSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

if (import.meta.main) {
  const log = (s: string) => console.error(s);
  const at = Deno.args.indexOf("--disk");
  const r = at >= 0
    ? await runDisk((Deno.args[at + 1] ?? "6,24,72").split(",").map(Number), log)
    : await runStorage({ log });
  console.log(JSON.stringify(r, null, 2));
}
