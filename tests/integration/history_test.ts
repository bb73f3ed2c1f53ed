/**
 * Durable history across real restarts of the real collector process: a clean stop
 * (SIGTERM) keeps every sample received; a kill (SIGKILL) during ingest loses at most the
 * last second.
 */
import assert from "node:assert/strict";
import { createAgent } from "../../lib/agent/mod.ts";
import { instanceId } from "../../lib/collector/instances.ts";
import type { InstanceView } from "../../lib/live/messages.ts";
import { LiveClient, waitFor } from "../support/live.ts";
import { startServer } from "../support/server_process.ts";
import { countingReaders } from "../support/readers.ts";

async function instance(url: string, id: string): Promise<InstanceView | undefined> {
  const list: InstanceView[] = await (await fetch(`${url}/api/instances`)).json();
  return list.find((v) => v.id === id);
}

/**
 * Every stored cpu.percent value of an instance, in order. Values are consecutive integers,
 * 20 ms apart until a late timer catches up: a 5 ms bucket's min, max and (whole) average give
 * every value of up to three in one bucket.
 */
async function storedValues(url: string, id: string, from: number, to: number): Promise<number[]> {
  const points = Math.ceil((to - from) / 5);
  assert.ok(points <= 5000, "range too long for 5 ms buckets");
  const q = `instance=${
    encodeURIComponent(id)
  }&metric=cpu.percent&from=${from}&to=${to}&points=${points}`;
  const res = await fetch(`${url}/api/series?${q}`);
  assert.equal(res.status, 200, await res.clone().text());
  const body = await res.json();
  const values = new Set<number>();
  for (const [, min, avg, max] of body.series[0].points as number[][]) {
    values.add(min).add(max);
    if (Number.isInteger(avg)) values.add(avg);
  }
  return [...values].sort((a, b) => a - b);
}

Deno.test("a collector stopped with SIGTERM and started again serves every sample it had received", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zeroapm-hist-" });
  const start = Date.now();
  const first = await startServer(["--data", dir]);
  const readers = countingReaders();
  const agent = createAgent({
    service: "durable",
    instance: "one",
    collector: first.zmqEndpoint,
    intervalMs: 20,
    readers,
  });
  const id = instanceId("durable", "one");
  try {
    await waitFor(
      async () => ((await instance(first.httpUrl, id))?.received ?? 0) >= 100,
      "100 samples",
    );
    await agent.stop();
    const sent = agent.stats().sent;
    await waitFor(
      async () => (await instance(first.httpUrl, id))?.received === sent,
      "all sent samples received",
    );
    assert.equal(await first.stop("SIGTERM"), 0, first.output.join("\n"));

    const second = await startServer(["--data", dir]);
    try {
      const restored = await instance(second.httpUrl, id);
      // The agent said goodbye before the restart: it is known, and stays stopped (not stale,
      // which would raise a silent alert for an app that ended cleanly).
      assert.equal(restored?.status, "stopped", "known before the restart, listed as stopped");
      const values = await storedValues(second.httpUrl, id, start - 1000, Date.now() + 1000);
      // Every reading taken is stored (the goodbye that ends the stream carries no metrics).
      assert.deepEqual(values, Array.from({ length: readers.takenAt.length }, (_, i) => i));
      assert.equal(readers.takenAt.length, sent - 1, "sent = the readings and the goodbye");
      // The live view is not empty after a restart: the window is refilled from history.
      const live = await LiveClient.connect(second.httpUrl);
      const hello = await live.until((f) => f.find((x) => x.type === "hello"), "hello");
      await live.close();
      // 1-second buckets of the earlier run: its first and last seconds are both there.
      const refilled = hello.type === "hello" ? hello.series[id]?.["cpu.percent"] ?? [] : [];
      const seconds = Math.floor(readers.takenAt.at(-1)! / 1000) -
        Math.floor(readers.takenAt[0] / 1000);
      assert.ok(refilled.length >= seconds, `${refilled.length} refilled points for ${seconds} s`);
    } finally {
      await second.stop();
    }
  } finally {
    await agent.stop();
    await first.stop("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a collector killed with SIGKILL during ingest reopens cleanly and lost at most the last second", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zeroapm-kill-" });
  const start = Date.now();
  const first = await startServer(["--data", dir]);
  const readers = countingReaders();
  const agent = createAgent({
    service: "durable",
    instance: "killed",
    collector: first.zmqEndpoint,
    intervalMs: 20,
    readers,
  });
  const id = instanceId("durable", "killed");
  try {
    await waitFor(
      async () => ((await instance(first.httpUrl, id))?.received ?? 0) >= 250,
      "250 samples",
    );
    const killedAt = Date.now();
    await first.stop("SIGKILL");
    await agent.stop();

    const second = await startServer(["--data", dir]);
    try {
      const stored = new Set(await storedValues(second.httpUrl, id, start - 1000, killedAt + 1000));
      // Flushes run every second; allow 250 ms for the timer's own lateness on a busy machine.
      const due = readers.takenAt.flatMap((t, v) => t < killedAt - 1250 ? [v] : []);
      const missing = due.filter((v) => !stored.has(v));
      assert.ok(due.length >= 150, `${due.length} samples were due`);
      assert.deepEqual(missing, [], `samples older than 1.25 s at the kill and not stored`);
      assert.ok(second.output.every((l) => !/error/i.test(l)), second.output.join("\n"));
    } finally {
      await second.stop();
    }
  } finally {
    await agent.stop();
    await first.stop("SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});
