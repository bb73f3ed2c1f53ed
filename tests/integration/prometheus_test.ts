/**
 * `/metrics` and `/federate` from a real collector, fed over real ZMQ, checked by the real
 * `promtool check metrics` (Debian's prometheus package; CI installs it).
 */
import assert from "node:assert/strict";
import { startTestCollector } from "../support/collector.ts";
import { existsSync } from "node:fs";
import { createAgent } from "../../lib/agent/mod.ts";
import { encode, type Identity } from "../../lib/protocol.ts";
import { connectPush, type Sender } from "../../lib/transport/zmq.ts";
import { LiveClient, waitFor } from "../support/live.ts";
import type { InstanceView } from "../../lib/live/messages.ts";

const PROMTOOL = "/usr/bin/promtool";
const havePromtool = existsSync(PROMTOOL);
const inCI = Boolean(Deno.env.get("CI"));

/** `promtool check metrics` on `text`: its exit code and what it printed. */
async function promtool(text: string): Promise<{ code: number; out: string }> {
  const child = new Deno.Command(PROMTOOL, {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(text));
  await w.close();
  const r = await child.output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

async function send(sender: Sender, frame: Uint8Array | string): Promise<void> {
  const bytes = typeof frame === "string" ? new TextEncoder().encode(frame) : frame;
  await waitFor(() => sender.trySend(bytes), "the collector to take a frame", 5000);
}

function identity(service: string, instance: string): Identity {
  return { service, instance, pid: 42, host: "h", color: null, intervalMs: 1000 };
}

/** Value of the one sample line `series` (exact name and labels) in an exposition. */
function valueOf(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1).split(" ")[0]);
}

Deno.test({
  name: "/metrics and /federate pass promtool check metrics and say what the collector holds",
  ignore: !havePromtool && !inCI,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "zeroapm-prom-" });
    const collector = await startTestCollector({ dataDir: dir });
    const sender = connectPush(collector.zmqEndpoint);
    const live = await LiveClient.connect(collector.httpUrl);
    try {
      const t = Date.now();
      await send(
        sender,
        encode(identity("shop", 'web "1" \\ a'), [{
          seq: 0,
          ts: t,
          metrics: {
            "cpu.percent": 12.5,
            "mem.rss_bytes": 1048576,
            'queue.depth{job="mail",q="a\\"b"}': 3,
            "orders.done_total": 7,
          },
        }], t),
      );
      await send(
        sender,
        encode(identity("billing", "b-1"), [{ seq: 0, ts: t, metrics: { "cpu.percent": 1 } }], t),
      );
      await send(sender, "not json");
      await waitFor(async () => {
        const rows = await (await fetch(`${collector.httpUrl}/api/instances`)).json();
        return (rows as InstanceView[]).length === 2;
      }, "two instances");

      const metrics = await fetch(`${collector.httpUrl}/metrics`);
      assert.equal(metrics.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
      const mtext = await metrics.text();
      const m = await promtool(mtext);
      assert.equal(m.code, 0, `promtool on /metrics:\n${m.out}\n${mtext}`);
      assert.equal(valueOf(mtext, "zeroapm_frames_accepted_total"), 2);
      assert.equal(valueOf(mtext, "zeroapm_samples_accepted_total"), 2);
      assert.equal(valueOf(mtext, 'zeroapm_refusals_total{reason="invalid_json"}'), 1);
      assert.equal(valueOf(mtext, 'zeroapm_refusals_total{reason="series_limit"}'), 0);
      assert.equal(valueOf(mtext, 'zeroapm_instances{status="live"}'), 2);
      assert.equal(valueOf(mtext, "zeroapm_websocket_clients"), 1);
      assert.equal(valueOf(mtext, "zeroapm_store_series"), 5);
      assert.ok(valueOf(mtext, "zeroapm_store_disk_bytes")! > 0, mtext);
      assert.ok(valueOf(mtext, "zeroapm_process_resident_memory_bytes")! > 10e6, mtext);
      assert.ok(valueOf(mtext, "zeroapm_process_cpu_seconds_total")! > 0, mtext);
      assert.equal(valueOf(mtext, 'zeroapm_alerts{state="firing"}'), 0);
      assert.ok(mtext.includes("# TYPE zeroapm_history_pending_points gauge"), mtext);
      // Queueing delay at arrival: both frames measured, quantiles present.
      assert.equal(valueOf(mtext, "zeroapm_ingest_queue_measured_frames_total"), 2);
      assert.ok(valueOf(mtext, 'zeroapm_ingest_queue_delay_seconds{stat="p99"}')! >= 0);
      const stats = await (await fetch(`${collector.httpUrl}/api/stats`)).json();
      assert.equal(stats.queueDelayMs.count, 2);
      assert.equal(stats.queueDelayMs.windowMs, 60_000);
      assert.ok(
        stats.queueDelayMs.p99 >= 0 && stats.queueDelayMs.p99 <= stats.queueDelayMs.max,
      );
      // The page's header reads it from the once-a-second `ingest` frame.
      const ingestFrame = await live.until(
        (fs) => fs.find((f) => f.type === "ingest" && f.queueDelayMs.count === 2),
        "an ingest frame",
      );
      assert.equal(ingestFrame.type, "ingest");

      const ftext = await (await fetch(`${collector.httpUrl}/federate`)).text();
      const f = await promtool(ftext);
      assert.equal(f.code, 0, `promtool on /federate:\n${f.out}\n${ftext}`);
      const web = 'instance="web \\"1\\" \\\\ a",job="shop"';
      const line = (name: string) => ftext.split("\n").find((l) => l.startsWith(name));
      // Placed on the collector's clock (the frame's time plus the clock offset), in ms.
      const series = `cpu_percent{${web}} `;
      const [value, at] = line(series)!.slice(series.length).split(" ").map(Number);
      assert.equal(value, 12.5);
      assert.ok(at >= t && at <= Date.now(), `timestamp ${at}`);
      assert.equal(valueOf(ftext, `mem_rss_bytes{${web}}`), 1048576);
      assert.equal(
        valueOf(ftext, `queue_depth{exported_job="mail",${web},q="a\\"b"}`),
        3,
      );
      assert.equal(valueOf(ftext, `orders_done_total{${web}}`), 7);
      assert.equal(valueOf(ftext, `cpu_percent{instance="b-1",job="billing"}`), 1);
      assert.ok(ftext.includes("# TYPE orders_done_total counter"), ftext);
      assert.ok(ftext.includes("# TYPE cpu_percent gauge"), ftext);
      assert.equal(ftext.split("\n").filter((l) => l.startsWith("# TYPE cpu_percent")).length, 1);
    } finally {
      sender.close();
      await live.close();
      await collector.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "/federate with a real agent's series parses in promtool; its lint only names units",
  ignore: !havePromtool && !inCI,
  async fn() {
    const collector = await startTestCollector();
    const agent = createAgent({
      service: "jobs",
      collector: collector.zmqEndpoint,
      intervalMs: 50,
    });
    const done = agent.metrics.counter("jobs.done_total");
    const took = agent.metrics.histogram("jobs.duration_ms");
    const work = setInterval(() => {
      done.inc();
      took.observe(12);
    }, 10);
    try {
      const text = await waitFor(async () => {
        const t = await (await fetch(`${collector.httpUrl}/federate`)).text();
        return t.includes("jobs_duration_ms_p95{") && t.includes("jobs_done_per_s{") && t;
      }, "derived series on /federate");
      const r = await promtool(text);
      // Exit 1 is a parse error; 3 is lint. Our names keep their units (loop.lag_ms,
      // jobs.duration_ms, .per_s), which promtool's lint calls abbreviated: nothing else.
      assert.ok(r.code === 0 || r.code === 3, `promtool exit ${r.code}:\n${r.out}\n${text}`);
      const problems = r.out.split("\n").filter((l) => l.trim() !== "");
      for (const p of problems) {
        assert.match(p, /^\S*(_ms|_per_s)\S* metric names should not contain abbreviated units$/);
      }
      assert.ok(text.includes("# TYPE jobs_done_total counter"), text);
      assert.ok(text.includes("# TYPE jobs_done_per_s gauge"), text);
    } finally {
      clearInterval(work);
      await agent.stop();
      await collector.stop();
    }
  },
});

Deno.test("/metrics and /federate need the token, as /api does", async () => {
  const token = "a-long-enough-token-1234";
  const collector = await startTestCollector({ token });
  try {
    for (const path of ["/metrics", "/federate"]) {
      const open = await fetch(`${collector.httpUrl}${path}`);
      await open.body?.cancel();
      assert.equal(open.status, 401, path);
      const ok = await fetch(`${collector.httpUrl}${path}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      await ok.text();
      assert.equal(ok.status, 200, path);
    }
  } finally {
    await collector.stop();
  }
});
