/**
 * Test support: real Prometheus-compatible engines on spare loopback ports: Debian's
 * `victoria-metrics` and `prometheus` (with its remote-write receiver). Each keeps its data
 * in a temp directory, can be stopped and started again on the same port and data (a remote
 * outage), and answers raw samples through the Prometheus query API.
 *
 * @module
 */

/** A running engine. */
export interface Tsdb {
  readonly kind: "victoria-metrics" | "prometheus";
  /** The Prometheus query API base (for `--remote-read`). */
  readonly base: string;
  /** The remote-write URL. */
  readonly writeUrl: string;
  /** Where it keeps its data. */
  readonly dataDir: string;
  /** Stop it (its data stays); `start()` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Raw samples of every series matching `selector` over the last `lookback` (e.g. `1h`). */
  samples(selector: string, lookback?: string): Promise<RawSeries[]>;
  /** Stop and remove its data. */
  close(): Promise<void>;
}

/** One series as the query API gives it: labels (with `__name__`) and [ms, value] pairs. */
export interface RawSeries {
  labels: Record<string, string>;
  values: Array<[number, number]>;
}

/** A free TCP port on 127.0.0.1 (taken and released, so the engine can bind it). */
export function sparePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * Start `/usr/bin/victoria-metrics` with fresh samples visible at once, or with its own
 * `-search.latencyOffset` (VictoriaMetrics' default is 30s).
 */
export function startVictoria(opts: { latencyOffset?: string } = {}): Promise<Tsdb> {
  return startEngine("victoria-metrics", (port, dir) => ({
    cmd: "victoria-metrics",
    args: [
      `-httpListenAddr=127.0.0.1:${port}`,
      `-storageDataPath=${dir}`,
      "-retentionPeriod=100y",
      `-search.latencyOffset=${opts.latencyOffset ?? "0s"}`,
      "-search.disableCache",
      "-loggerLevel=ERROR",
    ],
    writePath: "/api/v1/write",
    ready: "/health",
  }));
}

/** Start `/usr/bin/prometheus` as a remote-write receiver (out-of-order window of 1 h). */
export function startPrometheus(): Promise<Tsdb> {
  return startEngine("prometheus", (port, dir) => {
    const config = `${dir}/prometheus.yml`;
    Deno.writeTextFileSync(
      config,
      "global:\n  scrape_interval: 1h\nstorage:\n  tsdb:\n    out_of_order_time_window: 1h\n",
    );
    return {
      cmd: "prometheus",
      args: [
        `--config.file=${config}`,
        `--storage.tsdb.path=${dir}/data`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--web.enable-remote-write-receiver",
        "--log.level=error",
      ],
      writePath: "/api/v1/write",
      ready: "/-/ready",
    };
  });
}

interface Spec {
  cmd: string;
  args: string[];
  writePath: string;
  ready: string;
}

async function startEngine(
  kind: Tsdb["kind"],
  spec: (port: number, dir: string) => Spec,
): Promise<Tsdb> {
  const dir = await Deno.makeTempDir({ prefix: `zeroapm-${kind}-` });
  const port = sparePort();
  const s = spec(port, dir);
  const base = `http://127.0.0.1:${port}`;
  let child: Deno.ChildProcess | null = null;
  const start = async () => {
    child = new Deno.Command(s.cmd, { args: s.args, stdout: "null", stderr: "null" }).spawn();
    const deadline = Date.now() + 30_000;
    while (true) {
      try {
        const res = await fetch(`${base}${s.ready}`);
        await res.body?.cancel();
        if (res.ok) return;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) throw new Error(`${kind} did not get ready on port ${port}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const stop = async () => {
    const c = child as Deno.ChildProcess | null;
    child = null;
    if (!c) return;
    try {
      c.kill("SIGTERM");
    } catch { /* gone */ }
    await c.status;
  };
  await start();
  return {
    kind,
    base,
    writeUrl: `${base}${s.writePath}`,
    dataDir: dir,
    start,
    stop,
    async samples(selector, lookback = "1h") {
      if (kind === "victoria-metrics") {
        const res = await fetch(`${base}/internal/force_flush`);
        await res.body?.cancel();
      }
      const q = new URLSearchParams({
        query: `${selector}[${lookback}]`,
        time: `${Date.now() / 1000}`,
      });
      const res = await fetch(`${base}/api/v1/query?${q}`);
      const body = await res.json();
      if (body.status !== "success") {
        throw new Error(`${kind} query failed: ${JSON.stringify(body)}`);
      }
      return (body.data.result as Array<
        { metric: Record<string, string>; values: [number, string][] }
      >)
        .map((r) => ({
          labels: r.metric,
          values: r.values.map(([t, v]) => [Math.round(t * 1000), Number(v)] as [number, number]),
        }));
    },
    async close() {
      await stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
