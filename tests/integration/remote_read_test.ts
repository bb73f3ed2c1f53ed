/**
 * Remote read against a real VictoriaMetrics and a real Prometheus: a second, stateless collector
 * (`--data none --remote-read URL`) lists the first one's instances and serves its history
 * from the cluster, the same samples the first one holds, in the colour the first one drew it;
 * when the instance moves to it, its answer joins the cluster's older samples to its own new
 * ones.
 */
import assert from "node:assert/strict";
import { createAgent } from "../../lib/agent/mod.ts";
import type { InstanceView } from "../../lib/live/messages.ts";
import { waitFor } from "../support/live.ts";
import { startServer } from "../support/server_process.ts";
import { countingReaders } from "../support/readers.ts";
import { startPrometheus, startVictoria } from "../support/tsdb.ts";
import { RemoteReader } from "../../lib/remote/reader.ts";
import { encodeWriteRequest, WRITE_HEADERS } from "../../lib/remote/proto.ts";

async function ids(url: string): Promise<InstanceView[]> {
  return await (await fetch(`${url}/api/instances`)).json();
}

/**
 * The values of cpu.percent over [from, to), from 10 ms buckets (samples are 50 ms apart):
 * `exact`, each bucket's avg in order; else the sorted set of every bucket's min and max
 * (Prometheus 2's range windows are closed, [t - w, t], so a sample on a bucket boundary is
 * also counted in the bucket before: no sample is lost, and none invented).
 */
async function values(url: string, from: number, to: number, exact = true): Promise<number[]> {
  const buckets = Math.ceil((to - from) / 10);
  const q = `instance=${encodeURIComponent("rr/one")}&metric=cpu.percent&from=${from}&to=${to}` +
    `&points=${buckets}`;
  const res = await fetch(`${url}/api/series?${q}`);
  assert.equal(res.status, 200);
  const points: number[][] = (await res.json()).series[0].points;
  if (exact) return points.map((p) => p[2]);
  return [...new Set(points.flatMap((p) => [p[1], p[3]]))].sort((a, b) => a - b);
}

for (
  const [name, engine, exact] of [
    ["VictoriaMetrics", startVictoria, true],
    ["Prometheus", startPrometheus, false],
  ] as const
) {
  Deno.test(`a stateless collector with --remote-read (${name}) lists another collector's instances, serves their history, and joins it to what it received itself`, async () => {
    const db = await engine();
    const dir = await Deno.makeTempDir({ prefix: "zeroapm-rr-" });
    const start = Date.now();
    const writer = await startServer(["--data", dir, "--remote-write", db.writeUrl]);
    const taken = countingReaders();
    const agent = createAgent({
      service: "rr",
      instance: "one",
      color: "teal",
      collector: writer.zmqEndpoint,
      intervalMs: 50,
      readers: taken,
    });
    let reader: Awaited<ReturnType<typeof startServer>> | null = null;
    try {
      await waitFor(async () => (await ids(writer.httpUrl))[0]?.received >= 40, "40 samples");
      await agent.stop();
      // Every sample taken (the agent's last frame, its goodbye, carries no metrics).
      const sent = taken.takenAt.length;
      await waitFor(
        async () => {
          const s = await db.samples(`cpu_percent{job="rr"}`);
          return s[0]?.values.length === sent;
        },
        "every sample in VictoriaMetrics",
        20_000,
        200,
      );

      reader = await startServer(["--remote-read", db.base]);
      const listed = await waitFor(
        async () => (await ids(reader!.httpUrl)).find((v) => v.id === "rr/one"),
        "the remote's instance listed",
      );
      assert.equal(listed.service, "rr");
      assert.equal(listed.status, "gone");
      assert.equal(listed.color, "teal", "the colour it had on the collector that wrote it");
      assert.equal(listed.elsewhere, true, "marked as another collector's instance");
      // Whole 10 ms buckets: the remote's windows then tile the range exactly.
      const from = start - 1000;
      const to = from + Math.ceil((Date.now() + 1000 - from) / 10) * 10;
      const local = await values(writer.httpUrl, from, to);
      const remote = await values(reader.httpUrl, from, to, exact);
      assert.deepEqual(local, Array.from({ length: sent }, (_, i) => i));
      assert.deepEqual(remote, local);
      const stats = await (await fetch(`${reader.httpUrl}/api/stats`)).json();
      assert.equal(stats.remoteRead.errors, 0);
      assert.ok(stats.remoteRead.requests >= 4);

      // The instance moves to the stateless collector: its new samples are local there, the
      // older ones come from the cluster, in one answer.
      const takenLater = countingReaders();
      const moved = createAgent({
        service: "rr",
        instance: "one",
        collector: reader.zmqEndpoint,
        intervalMs: 50,
        readers: takenLater,
      });
      await waitFor(
        async () => (await ids(reader!.httpUrl)).find((v) => v.id === "rr/one")?.status === "live",
        "the moved instance live",
      );
      await waitFor(() => takenLater.takenAt.length >= 20, "20 samples after the move");
      await moved.stop();
      const later = takenLater.takenAt.length;
      await waitFor(
        async () =>
          ((await ids(reader!.httpUrl)).find((v) => v.id === "rr/one")?.received ?? 0) >= later,
        "the moved samples received",
      );
      const to2 = from + Math.ceil((Date.now() + 1000 - from) / 10) * 10;
      const both = [
        ...Array.from({ length: sent }, (_, i) => i),
        ...Array.from({ length: later }, (_, i) => i),
      ];
      assert.deepEqual(
        await values(reader.httpUrl, from, to2, exact),
        exact ? both : [...new Set(both)].sort((a, b) => a - b),
      );
    } finally {
      await agent.stop();
      await reader?.stop();
      await writer.stop();
      await db.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("remote read draws the newest minute from the samples, not VictoriaMetrics' repeat of the last value (its default -search.latencyOffset=30s)", async () => {
  const db = await startVictoria({ latencyOffset: "30s" });
  try {
    const now = Math.floor(Date.now() / 1000) * 1000;
    // Two minutes at 1 Hz whose values all differ: a repeated value can only be made up.
    const samples = Array.from({ length: 120 }, (_, i) => ({
      timestamp: now - 119_000 + i * 1000,
      value: i,
    }));
    const labels = [
      { name: "__name__", value: "cpu_percent" },
      { name: "instance", value: "one" },
      { name: "job", value: "tail" },
    ];
    const res = await fetch(db.writeUrl, {
      method: "POST",
      headers: WRITE_HEADERS,
      body: encodeWriteRequest([{ labels, samples }]) as Uint8Array<ArrayBuffer>,
    });
    assert.ok(res.ok, `write answered ${res.status}`);
    await db.samples('cpu_percent{job="tail"}'); // flushed: searchable
    const reader = new RemoteReader({ url: db.base, now: Date.now, log: () => {} });
    // 2 s buckets over the two minutes: bucket k holds samples 2k and 2k + 1.
    const [from, to] = [now - 120_000, now + 1];
    const points = await reader.range("tail/one", "cpu.percent", from, to, 60);
    const want = Array.from(
      { length: 60 },
      (_, k) => [Math.round(from + k * (to - from) / 60), 2 * k, 2 * k + 0.5, 2 * k + 1],
    );
    assert.deepEqual(points, want);
  } finally {
    await db.close();
  }
});
