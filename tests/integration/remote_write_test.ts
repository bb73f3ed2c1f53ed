/**
 * Remote write against real engines started here on spare ports: Debian's
 * `victoria-metrics` and `prometheus` (remote-write receiver). Samples arrive with the
 * Prometheus names and labels; a remote outage and a SIGKILLed collector lose nothing the
 * local history holds; a bad URL or a remote answering 400 is logged and counted, and ingest
 * goes on.
 */
import assert from "node:assert/strict";
import { startTestCollector } from "../support/collector.ts";
import { createAgent } from "../../lib/agent/mod.ts";
import { instanceId } from "../../lib/collector/instances.ts";
import type { InstanceView } from "../../lib/live/messages.ts";
import type { RemoteStats } from "../../lib/remote/writer.ts";
import { waitFor } from "../support/live.ts";
import { startServer } from "../support/server_process.ts";
import { countingReaders } from "../support/readers.ts";
import { sparePort, startPrometheus, startVictoria, type Tsdb } from "../support/tsdb.ts";

async function remoteStats(url: string): Promise<RemoteStats[]> {
  return (await (await fetch(`${url}/api/stats`)).json()).remoteWrite;
}

async function received(url: string, id: string): Promise<number> {
  const list: InstanceView[] = await (await fetch(`${url}/api/instances`)).json();
  return list.find((v) => v.id === id)?.received ?? 0;
}

/** The cpu.percent values (sample numbers, see countingReaders) the engine holds. */
async function remoteValues(db: Tsdb, job: string, instance: string): Promise<number[]> {
  const s = await db.samples(`cpu_percent{job="${job}",instance="${instance}"}`);
  return s.flatMap((x) => x.values.map(([, v]) => v));
}

/**
 * Every stored cpu.percent value of an instance in the collector's own history: 2 ms buckets,
 * 10 s per request, each bucket's min and max (samples are ~20 ms apart; a bucket that caught
 * two under load still gives both).
 */
async function localValues(url: string, id: string, from: number, to: number): Promise<number[]> {
  const out = new Set<number>();
  for (let a = from; a < to; a += 10_000) {
    const q = `instance=${encodeURIComponent(id)}&metric=cpu.percent&from=${a}&to=${a + 10_000}` +
      `&points=5000`;
    const body = await (await fetch(`${url}/api/series?${q}`)).json();
    for (const p of body.series[0].points as number[][]) out.add(p[1]).add(p[3]);
  }
  return [...out];
}

for (const engine of [startVictoria, startPrometheus]) {
  for (const data of ["dir", "none"] as const) {
    Deno.test(`remote write to ${engine === startVictoria ? "VictoriaMetrics" : "Prometheus"} (--data ${data}) delivers every sample with Prometheus names and labels`, async () => {
      const db = await engine();
      const dir = data === "dir" ? await Deno.makeTempDir({ prefix: "zeroapm-rw-" }) : "none";
      const server = await startServer([
        "--data",
        dir,
        "--remote-write",
        db.writeUrl,
        "--remote-write-header",
        "Authorization: Bearer not-in-any-log",
      ]);
      const readers = countingReaders();
      const agent = createAgent({
        service: "rw",
        instance: "one",
        color: "#3b82f6",
        collector: server.zmqEndpoint,
        intervalMs: 50,
        readers,
      });
      const depth = agent.metrics.gauge("queue.depth");
      depth.set(7, { queue: "email", job: "mine" });
      try {
        await waitFor(async () => (await received(server.httpUrl, "rw/one")) >= 40, "40 samples");
        await agent.stop();
        // Every sample taken (the agent's last frame, its goodbye, carries no metrics).
        const sent = readers.takenAt.length;
        await waitFor(
          async () => (await remoteValues(db, "rw", "one")).length >= sent,
          `${sent} samples in ${db.kind}`,
          20_000,
          200,
        );
        const values = (await remoteValues(db, "rw", "one")).sort((a, b) => a - b);
        assert.deepEqual(values, Array.from({ length: sent }, (_, i) => i));
        const [gauge] = await db.samples(`queue_depth{job="rw"}`);
        assert.deepEqual(gauge.labels, {
          __name__: "queue_depth",
          exported_job: "mine",
          instance: "one",
          job: "rw",
          queue: "email",
        });
        assert.equal(gauge.values.at(-1)?.[1], 7);
        // The dashboard colour rides on cpu_percent alone, for --remote-read collectors.
        const [cpu] = await db.samples(`cpu_percent{job="rw"}`);
        assert.equal(cpu.labels.zeroapm_color, "#3b82f6");
        // The stats are those of the last history tick (once a second): they may not count
        // the last request yet when the database already shows it.
        const stats = await waitFor(async () => {
          const [s] = await remoteStats(server.httpUrl);
          return s.sent >= sent && s;
        }, "the stats count every sample sent");
        assert.equal(stats.queue, data === "dir" ? "wal" : "memory");
        assert.equal(stats.url, db.writeUrl);
        assert.equal(stats.dropped, 0);
        assert.ok(
          server.output.some((l) => l.includes("remote write to")),
          server.output.join("\n"),
        );
        assert.ok(!server.output.some((l) => l.includes("not-in-any-log")));
      } finally {
        await agent.stop();
        await server.stop();
        await db.close();
        if (dir !== "none") await Deno.remove(dir, { recursive: true });
      }
    });
  }
}

Deno.test("a 10 s VictoriaMetrics outage and a SIGKILLed collector lose no sample the local history holds", async () => {
  const db = await startVictoria();
  const dir = await Deno.makeTempDir({ prefix: "zeroapm-rw-kill-" });
  const zmq = `tcp://127.0.0.1:${sparePort()}`;
  const args = ["--zmq", zmq, "--data", dir, "--remote-write", db.writeUrl];
  const start = Date.now();
  let server = await startServer(args);
  const readers = countingReaders();
  const agent = createAgent({
    service: "rw",
    instance: "kill",
    collector: zmq,
    intervalMs: 20,
    readers,
  });
  const id = instanceId("rw", "kill");
  try {
    await waitFor(async () => (await remoteValues(db, "rw", "kill")).length >= 20, "first samples");
    await db.stop(); // the outage begins
    const outage = Date.now();
    await waitFor(
      async () => {
        const [s] = await remoteStats(server.httpUrl);
        // At least 10 s away, and the queue says it holds 10 s of samples.
        return s?.retries > 0 && (s.oldestPendingAgeMs ?? 0) >= 10_000 && s.lastError &&
          Date.now() - outage >= 10_000;
      },
      "10 s of samples queued and retried",
      30_000,
      200,
    );
    await server.stop("SIGKILL"); // while the remote is still away
    await db.start();
    assert.ok(Date.now() - outage >= 10_000);
    server = await startServer(args);
    await waitFor(
      async () => (await received(server.httpUrl, id)) >= 50,
      "the agent to reach the restarted collector",
      20_000,
    );
    await agent.stop();
    const end = Date.now() + 1000;
    const local = new Set(await localValues(server.httpUrl, id, start - 1000, end));
    await waitFor(
      async () => {
        const [s] = await remoteStats(server.httpUrl);
        return s?.pending === 0 && s.sent > 0;
      },
      "the queue to drain",
      30_000,
      200,
    );
    const remote = new Set(await remoteValues(db, "rw", "kill"));
    const missing = [...local].filter((v) => !remote.has(v));
    assert.ok(local.size >= 250, `${local.size} samples in local history`);
    assert.deepEqual(missing, [], "samples in local history but not in VictoriaMetrics");
    const [s] = await remoteStats(server.httpUrl);
    assert.equal(s.dropped, 0);
  } finally {
    await agent.stop();
    await server.stop();
    await db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a bad remote URL and a remote answering 400 are logged and counted; ingest goes on", async () => {
  let refused = 0;
  const bad = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    await req.body?.cancel();
    refused++;
    return new Response("out of order sample", { status: 400 });
  });
  const lines: string[] = [];
  const nowhere = `http://127.0.0.1:${sparePort()}/api/v1/write`;
  const dir = await Deno.makeTempDir({ prefix: "zeroapm-rw-bad-" });
  const collector = await startTestCollector({
    dataDir: dir,
    log: (l) => lines.push(l),
    remoteWrite: [
      { url: `http://127.0.0.1:${bad.addr.port}/api/v1/write` },
      { url: nowhere, headers: { authorization: "Bearer hidden-token" } },
    ],
  });
  const agent = createAgent({
    service: "rw",
    instance: "bad",
    collector: collector.zmqEndpoint,
    intervalMs: 20,
  });
  try {
    const stats = await waitFor(
      async () => {
        const s = await remoteStats(collector.httpUrl);
        return s.length === 2 && s[0].dropped > 0 && s[1].retries > 1 && s;
      },
      "a drop and retries",
      20_000,
      100,
    );
    assert.equal(stats[0].sent, 0);
    assert.match(stats[0].lastError ?? "", /answered 400: out of order sample/);
    assert.match(stats[1].lastError ?? "", /cannot reach/);
    assert.ok(stats[1].pending > 0, "unsent samples stay queued");
    assert.ok(lines.some((l) => /remote write: .* answered 400: .*; dropped \d+ samples/.test(l)));
    assert.ok(lines.some((l) => /remote write: cannot reach .*; retrying/.test(l)));
    assert.ok(!lines.some((l) => l.includes("hidden-token")));
    assert.ok(refused > 0);
    // /metrics has the same figures, per remote, and passes promtool.
    const metrics = await (await fetch(`${collector.httpUrl}/metrics`)).text();
    const drops = new RegExp(
      `^zeroapm_remote_write_samples_dropped_total\\{queue="wal",url="http://127\\.0\\.0\\.1:${bad.addr.port}/api/v1/write"\\} [1-9]`,
      "m",
    );
    assert.match(metrics, drops);
    assert.match(metrics, /^zeroapm_remote_write_retries_total\{queue="wal",url="[^"]+"\} [1-9]/m);
    const check = await new Deno.Command("promtool", { args: ["check", "metrics"], stdin: "piped" })
      .spawn();
    const w = check.stdin.getWriter();
    await w.write(new TextEncoder().encode(metrics));
    await w.close();
    assert.equal((await check.status).code, 0, "promtool check metrics");
    // Ingest is not held by either remote: samples keep arriving.
    const before = await received(collector.httpUrl, "rw/bad");
    await waitFor(
      async () => (await received(collector.httpUrl, "rw/bad")) >= before + 50,
      "ingest to go on",
    );
  } finally {
    await agent.stop();
    await collector.stop();
    await bad.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
