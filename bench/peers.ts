/**
 * zeroapm's store beside its peers, on the same generated data, in the same run (issue 14,
 * targets 4 and 5; `deno task bench` runs it; `deno run -A bench/peers.ts` alone prints its part
 * of docs/benchmarks.md and rewrites that part in place, between the PEERS_BEGIN/END markers):
 *
 * - disk: 50 instances x 6 metrics x 1 s x 6 h (6 480 000 samples), generated once in memory
 *   and written into zeroapm's store (ticked every simulated second, then closed), imported
 *   into a real VictoriaMetrics (Debian's `victoria-metrics`, JSON-lines import, then
 *   force_flush + force_merge and a clean stop before `du`), and written as OpenMetrics for
 *   `promtool tsdb create-blocks-from openmetrics` (Prometheus blocks, `du`). Bytes per sample.
 * - wide query: `cpu.percent` of 50 instances over 24 h as 1 000 points each, in one HTTP
 *   request: zeroapm's `/api/series` handler over the history thread (lib/collector/history.ts,
 *   a real Worker), and VictoriaMetrics' `/api/v1/query_range` (step 86.4 s) over the same data.
 *
 * @module
 */
import { DurableStore } from "../lib/store/durable.ts";
import { HistoryThread } from "../lib/collector/history.ts";
import { seriesHandler } from "../lib/http/series.ts";
import { startVictoria, type Tsdb } from "../tests/support/tsdb.ts";
import { countSamples, du } from "./victoria.ts";
import { demoTimes, demoValues, prng, type SeriesData, T0 } from "./storage.ts";

/** The six metrics each instance reports, and the demo shape each one's values take. */
const METRICS = [
  "cpu.percent",
  "mem.rss_bytes",
  "mem.heap_used_bytes",
  "loop.lag_ms",
  "process.open_fds",
  "process.threads",
];
const LEAKS = [0, 80_000, 800_000];

/** Small counts that rarely change (open fds, threads): a step now and then. */
function rareSteps(n: number, seed: number, base: number): Float64Array {
  const rnd = prng(seed);
  const out = new Float64Array(n);
  let v = base + Math.floor(rnd() * 10);
  for (let i = 0; i < n; i++) {
    if (rnd() < 0.02) v = Math.max(1, v + (rnd() < 0.5 ? -1 : 1));
    out[i] = v;
  }
  return out;
}

/**
 * The data set: `instances` x the six metrics at 1 Hz for `seconds`. An instance's metrics
 * share its times (one agent frame carries them all), 1 s ticks with 0-3 ms arrival jitter.
 */
export function peerData(instances: number, seconds: number, metrics = METRICS): SeriesData[] {
  const out: SeriesData[] = [];
  for (let i = 0; i < instances; i++) {
    const instance = `app-${String(i).padStart(2, "0")}`;
    const times = demoTimes(seconds, 90_000 + i);
    metrics.forEach((metric, m) => {
      const seed = 10_000 + i * 10 + m;
      const values = metric === "process.open_fds"
        ? rareSteps(seconds, seed, 20)
        : metric === "process.threads"
        ? rareSteps(seconds, seed, 7)
        : demoValues(metric, seconds, seed, LEAKS[i % 3]);
      out.push({ instance, metric, times, values });
    });
  }
  return out;
}

/** Prometheus-style metric name of ours (`cpu.percent` -> `cpu_percent`). */
const promName = (m: string) => m.replaceAll(".", "_");

/** Import `data` into VictoriaMetrics (JSON lines, one series a line), flushed. */
async function importVictoria(db: Tsdb, data: SeriesData[]): Promise<void> {
  for (let k = 0; k < data.length; k += 6) {
    const lines = data.slice(k, k + 6).map((s) =>
      JSON.stringify({
        metric: { __name__: promName(s.metric), instance: s.instance, job: "bench" },
        values: Array.from(s.values),
        timestamps: Array.from(s.times),
      })
    ).join("\n");
    const res = await fetch(`${db.base}/api/v1/import`, { method: "POST", body: lines });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`VictoriaMetrics import: HTTP ${res.status}`);
  }
  await (await fetch(`${db.base}/internal/force_flush`)).body?.cancel();
}

/** VictoriaMetrics' sample count of job="bench" (every sample imported must be there). */
function victoriaCount(db: Tsdb, metric?: string): Promise<number> {
  const sel = metric ? `${promName(metric)}{job="bench"}` : `{job="bench"}`;
  return countSamples(db, sel, T0 / 1000 + 29 * 86_400);
}

/** The data set as an OpenMetrics file (times in seconds), for promtool. */
async function writeOpenMetrics(path: string, data: SeriesData[]): Promise<void> {
  const f = await Deno.open(path, { write: true, create: true, truncate: true });
  const enc = new TextEncoder();
  const names = [...new Set(data.map((s) => s.metric))];
  let buf = "";
  const put = async (s: string) => {
    buf += s;
    if (buf.length > 1 << 20) {
      await f.write(enc.encode(buf));
      buf = "";
    }
  };
  // OpenMetrics wants each metric family's lines together.
  for (const name of names) {
    await put(`# TYPE ${promName(name)} gauge\n`);
    for (const s of data) {
      if (s.metric !== name) continue;
      const head = `${promName(name)}{instance="${s.instance}",job="bench"} `;
      for (let i = 0; i < s.times.length; i++) {
        await put(`${head}${s.values[i]} ${(s.times[i] / 1000).toFixed(3)}\n`);
      }
    }
  }
  await put("# EOF\n");
  await f.write(enc.encode(buf));
  f.close();
}

/** Write `data` into a DurableStore in `dir`, ticking every `tickEvery` simulated seconds. */
function writeStore(dir: string, data: SeriesData[], tickEvery: number): void {
  let now = T0;
  const store = DurableStore.open({ dir, now: () => now });
  const n = data[0].times.length;
  for (let i = 0; i < n; i++) {
    for (const s of data) store.append(s.instance, s.metric, s.times[i], s.values[i]);
    if ((i + 1) % tickEvery === 0 || i === n - 1) {
      now = T0 + (i + 1) * 1000;
      store.tick();
    }
  }
  store.close();
}

/** What {@link runPeers} measured. */
export interface PeerResults {
  disk: {
    instances: number;
    metrics: number;
    hours: number;
    samples: number;
    /**
     * Bytes on disk (`du -sb`): ours (the data directory: the SQLite file, nothing else after
     * close), VictoriaMetrics (its whole directory; its `data` parts and `indexdb`, which is
     * what the target is judged against: the rest is caches it writes on stop), Prometheus
     * blocks (promtool's output directory).
     */
    bytes: { ours: number; vm: number; vmData: number; vmIndex: number; prom: number };
  };
  query: {
    instances: number;
    hours: number;
    points: number;
    queries: number;
    /** Milliseconds per request (one HTTP round trip each, body read), after a warm-up. */
    ours: number[];
    vm: number[];
    /** Points in the first answer (all series). */
    oursPoints: number;
    vmPoints: number;
    /** Size of the JSON answer, bytes. */
    oursBytes: number;
    vmBytes: number;
    /** /proc/loadavg (1, 5, 15 min) as the timed queries started: other work shows here. */
    load: string;
  };
  wallSeconds: number;
}

/** Options (defaults: the sizes of issue 14). */
export interface PeerOptions {
  instances?: number;
  diskHours?: number;
  queryHours?: number;
  queries?: number;
  log?: (s: string) => void;
}

/** Run both comparisons in temp directories (removed afterwards). */
export async function runPeers(o: PeerOptions = {}): Promise<PeerResults> {
  const log = o.log ?? (() => {});
  const started = performance.now();
  const instances = o.instances ?? 50;
  const diskHours = o.diskHours ?? 6;
  const queryHours = o.queryHours ?? 24;
  const queries = o.queries ?? 100;
  const root = await Deno.makeTempDir({ prefix: "zeroapm-bench-peers-" });
  try {
    const disk = await diskRun(root, instances, diskHours, log);
    const query = await queryRun(root, instances, queryHours, queries, log);
    return { disk, query, wallSeconds: (performance.now() - started) / 1000 };
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

async function diskRun(
  root: string,
  instances: number,
  hours: number,
  log: (s: string) => void,
): Promise<PeerResults["disk"]> {
  const data = peerData(instances, hours * 3600);
  const samples = data.length * hours * 3600;
  const ourDir = `${root}/ours`;
  await Deno.mkdir(ourDir);
  writeStore(ourDir, data, 1);
  const ours = await du(ourDir);
  log(`disk: ours ${(ours / samples).toFixed(3)} B/sample`);

  const vmDb = await startVictoria();
  let vm = 0;
  let vmData = 0;
  let vmIndex = 0;
  try {
    await importVictoria(vmDb, data);
    const counted = await victoriaCount(vmDb);
    if (counted !== samples) throw new Error(`VictoriaMetrics counts ${counted} of ${samples}`);
    // Merge what the import left in small parts (the month's partition), then stop cleanly.
    const merge = await fetch(`${vmDb.base}/internal/force_merge?partition_prefix=2026_01`);
    await merge.body?.cancel();
    await vmDb.stop();
    vm = await du(vmDb.dataDir);
    vmData = await du(`${vmDb.dataDir}/data`);
    vmIndex = await du(`${vmDb.dataDir}/indexdb`);
  } finally {
    await vmDb.close();
  }
  log(
    `disk: VictoriaMetrics ${((vmData + vmIndex) / samples).toFixed(3)} B/sample in data + ` +
      `indexdb (whole directory ${(vm / samples).toFixed(3)})`,
  );

  const om = `${root}/data.om`;
  await writeOpenMetrics(om, data);
  const blocks = `${root}/blocks`;
  const out = await new Deno.Command("promtool", {
    args: ["tsdb", "create-blocks-from", "openmetrics", om, blocks],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`promtool: ${new TextDecoder().decode(out.stderr)}`);
  await Deno.remove(om);
  const prom = await du(blocks);
  log(`disk: Prometheus blocks ${(prom / samples).toFixed(3)} B/sample`);
  return {
    instances,
    metrics: METRICS.length,
    hours,
    samples,
    bytes: { ours, vm, vmData, vmIndex, prom },
  };
}

async function queryRun(
  root: string,
  instances: number,
  hours: number,
  queries: number,
  log: (s: string) => void,
): Promise<PeerResults["query"]> {
  const seconds = hours * 3600;
  const data = peerData(instances, seconds, ["cpu.percent"]);
  const dir = `${root}/query`;
  await Deno.mkdir(dir);
  writeStore(dir, data, 60);
  const end = T0 + seconds * 1000;
  const from = end - hours * 3_600_000;
  const now = () => end;

  const history = await HistoryThread.open({ dir, now });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => seriesHandler(new URL(req.url), history, now),
  );
  const vmDb = await startVictoria();
  try {
    await importVictoria(vmDb, data);
    const counted = await victoriaCount(vmDb, "cpu.percent");
    if (counted !== data.length * seconds) throw new Error(`VictoriaMetrics counts ${counted}`);
    const ourUrl = new URL(`http://127.0.0.1:${server.addr.port}/api/series`);
    for (const s of data) ourUrl.searchParams.append("instance", s.instance);
    ourUrl.searchParams.set("metric", "cpu.percent");
    ourUrl.searchParams.set("from", String(from));
    ourUrl.searchParams.set("to", String(end));
    ourUrl.searchParams.set("points", "1000");
    const step = (end - from) / 1000 / 1000; // seconds
    const vmUrl = `${vmDb.base}/api/v1/query_range?${new URLSearchParams({
      query: `cpu_percent{job="bench"}`,
      start: String(from / 1000),
      end: String(end / 1000 - step),
      step: String(step),
    })}`;
    const get = async (url: string | URL) => {
      const t = performance.now();
      const res = await fetch(url);
      const text = await res.text();
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${text.slice(0, 200)}`);
      return { ms: performance.now() - t, text };
    };
    const o0 = JSON.parse((await get(ourUrl)).text);
    const v0 = JSON.parse((await get(vmUrl)).text);
    const oursPoints = o0.series.reduce(
      (n: number, s: { points: unknown[] }) => n + s.points.length,
      0,
    );
    const vmPoints = v0.data.result.reduce(
      (n: number, s: { values: unknown[] }) => n + s.values.length,
      0,
    );
    const ours: number[] = [];
    const vm: number[] = [];
    const load = (await Deno.readTextFile("/proc/loadavg").catch(() => "")).split(" ").slice(0, 3)
      .join(" ");
    let oursBytes = 0;
    let vmBytes = 0;
    for (let i = 0; i < queries; i++) { // alternate, so load hits both alike
      const a = await get(ourUrl);
      const b = await get(vmUrl);
      ours.push(a.ms);
      vm.push(b.ms);
      oursBytes = a.text.length;
      vmBytes = b.text.length;
    }
    log(`query: ours ${oursPoints} points, VictoriaMetrics ${vmPoints} points`);
    return {
      instances,
      hours,
      points: 1000,
      queries,
      ours,
      vm,
      oursPoints,
      vmPoints,
      oursBytes,
      vmBytes,
      load,
    };
  } finally {
    await vmDb.close();
    await server.shutdown();
    await history.close();
  }
}

/** What each figure is judged against (issue 14, targets 4 and 5). */
export const PEER_TARGETS = { bytesVsVictoria: 0.8, wideQueryP99Ms: 50 } as const;

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(s.length * q) - 1))];
}

/** The report's "Beside the peers" part of the storage section, as lines. */
export function renderPeers(r: PeerResults): string[] {
  const d = r.disk;
  const q = r.query;
  const per = (b: number) => (b / d.samples).toFixed(2);
  const vm = d.bytes.vmData + d.bytes.vmIndex;
  const ratio = d.bytes.ours / vm;
  const met = (ok: boolean) => (ok ? "**met**" : "**not met**");
  const n = (x: number) => Math.round(x).toLocaleString("en-US");
  const ms = (xs: number[], p: number) => quantile(xs, p).toFixed(1);
  const p99 = quantile(q.ours, 0.99);
  return [
    "### Beside the peers: VictoriaMetrics and Prometheus",
    "",
    "Same generated data in every store, same run (bench/peers.ts, `deno run -A bench/peers.ts` " +
    "alone). The data set is generated once in memory: " +
    `${d.instances} instances x ${d.metrics} metrics (\`cpu.percent\`, \`mem.rss_bytes\`, ` +
    "`mem.heap_used_bytes`, `loop.lag_ms` shaped as above, `process.open_fds` and " +
    "`process.threads` small counts that step now and then) x 1 s x " +
    `${d.hours} h = ${n(d.samples)} samples; an instance's metrics share its times (one agent ` +
    "frame), 1 s ticks with 0-3 ms jitter. zeroapm: `DurableStore`, `tick()` every simulated " +
    "second, `close()`, `du -sb` of the data directory. VictoriaMetrics (Debian's " +
    "`victoria-metrics`, on loopback): `/api/v1/import` (JSON lines, every sample counted back " +
    "with `count_over_time`), `/internal/force_flush`, `/internal/force_merge`, a clean stop, " +
    "then `du -sb` of its `data` and `indexdb` (the target is judged against these two; the " +
    "whole directory adds the caches it writes on stop). Prometheus: the same samples as an " +
    "OpenMetrics file, `promtool tsdb create-blocks-from openmetrics`, `du -sb` of the blocks.",
    "",
    "| store | bytes on disk | bytes/sample | / VictoriaMetrics | target |",
    "| --- | ---: | ---: | ---: | --- |",
    `| zeroapm (SQLite file: raw chunks + 1 m and 1 h rollups) | ${n(d.bytes.ours)} | ${
      per(d.bytes.ours)
    } | ${ratio.toFixed(2)}x | <= ${PEER_TARGETS.bytesVsVictoria}x VictoriaMetrics: ${
      met(ratio <= PEER_TARGETS.bytesVsVictoria)
    } |`,
    `| VictoriaMetrics, data + indexdb | ${n(vm)} | ${per(vm)} | 1.00x | (the peer) |`,
    `| VictoriaMetrics, whole directory | ${n(d.bytes.vm)} | ${per(d.bytes.vm)} | ${
      (d.bytes.vm / vm).toFixed(2)
    }x | |`,
    `| Prometheus 2 blocks (promtool) | ${n(d.bytes.prom)} | ${per(d.bytes.prom)} | ${
      (d.bytes.prom / vm).toFixed(2)
    }x | |`,
    "",
    `Wide query: \`cpu.percent\` of ${q.instances} instances over ${q.hours} h (1 s samples) ` +
    `as ${n(q.points)} points each, in one HTTP request, ${q.queries} times, alternating with ` +
    "the peer (after one warm-up each; timed from the request to the last byte of the body). " +
    "zeroapm: `GET /api/series?instance=...x" +
    `${q.instances}&metric=cpu.percent&points=${q.points}\` through the real handler ` +
    "(lib/http/series.ts) and history thread (a Worker, lib/collector/history.ts), answered " +
    "from the 1-minute rollups as `[ts, min, avg, max]`. VictoriaMetrics: " +
    "`/api/v1/query_range` of the same samples, `step` = 86.4 s (one value per step, not " +
    "min/avg/max). Both run on the same 2 cores as the client; load average as the timed " +
    `queries started: ${q.load} (other people's work on the machine shows here).`,
    "",
    "| store | p50 ms | p99 ms | max ms | points | body bytes | target (p99) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    `| zeroapm \`/api/series\` | ${ms(q.ours, 0.5)} | ${ms(q.ours, 0.99)} | ${ms(q.ours, 1)} | ${
      n(q.oursPoints)
    } | ${n(q.oursBytes)} | <= ${PEER_TARGETS.wideQueryP99Ms} ms: ${
      met(p99 <= PEER_TARGETS.wideQueryP99Ms)
    } |`,
    `| VictoriaMetrics \`query_range\` | ${ms(q.vm, 0.5)} | ${ms(q.vm, 0.99)} | ${ms(q.vm, 1)} | ${
      n(q.vmPoints)
    } | ${n(q.vmBytes)} | (the peer) |`,
    "",
  ];
}

/** Markers around the part in docs/benchmarks.md, so a run of this file alone can replace it. */
export const PEERS_BEGIN = "<!-- bench/peers.ts: begin -->";
export const PEERS_END = "<!-- bench/peers.ts: end -->";

/**
 * `doc` with its peers part replaced by `lines` (between the markers; the first time, at the
 * end of the "Durable storage" section).
 */
export function splicePeers(doc: string, lines: string[]): string {
  const part = [PEERS_BEGIN, "", ...lines, PEERS_END].join("\n");
  const a = doc.indexOf(PEERS_BEGIN);
  const b = doc.indexOf(PEERS_END);
  if (a >= 0 && b > a) return doc.slice(0, a) + part + doc.slice(b + PEERS_END.length);
  const storage = doc.indexOf("## Durable storage");
  const next = storage < 0 ? -1 : doc.indexOf("\n## ", storage + 1);
  if (next < 0) return `${doc.trimEnd()}\n\n${part}\n`;
  return `${doc.slice(0, next + 1)}${part}\n\n${doc.slice(next + 1)}`;
}

if (import.meta.main) {
  // Alone: run, print, and replace the peers part of docs/benchmarks.md with this run's.
  const r = await runPeers({ log: (s) => console.error(`[${new Date().toISOString()}] ${s}`) });
  const lines = renderPeers(r);
  console.log(lines.join("\n"));
  const doc = new URL("../docs/benchmarks.md", import.meta.url);
  await Deno.writeTextFile(doc, splicePeers(await Deno.readTextFile(doc), lines));
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", doc.pathname] }).output();
}
