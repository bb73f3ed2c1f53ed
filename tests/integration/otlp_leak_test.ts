/**
 * An app that reports only through OpenTelemetry, with the conventions' process metrics, gets
 * the same leak alert an agent's app gets, and no silent alert between its exports: a real
 * collector on an injected clock, taking OTLP/JSON exports a minute apart (the SDKs' default
 * interval), as an exporter posts them.
 */
import assert from "node:assert/strict";
import { startTestCollector } from "../support/collector.ts";
import { LiveClient, waitFor } from "../support/live.ts";
import { MB } from "../../lib/alerts/leak.ts";
import type { Alert } from "../../lib/alerts/types.ts";
import type { InstanceView } from "../../lib/live/messages.ts";

const ID = "shop/otel-leaky";

/**
 * One export: RSS as `process.memory.usage`, CPU as cumulative `process.cpu.time` by state,
 * counted since `startMs` (the same in every export, as an SDK's cumulative start is).
 */
function exportAt(ms: number, rssBytes: number, cpuSeconds: number, startMs: number): object {
  const nanos = String(BigInt(ms) * 1_000_000n);
  const start = String(BigInt(startMs) * 1_000_000n);
  const point = (value: number, state?: string) => ({
    attributes: state ? [{ key: "process.cpu.state", value: { stringValue: state } }] : [],
    startTimeUnixNano: start,
    timeUnixNano: nanos,
    asDouble: value,
  });
  return {
    resourceMetrics: [{
      resource: {
        attributes: [
          { key: "service.name", value: { stringValue: "shop" } },
          { key: "service.instance.id", value: { stringValue: "otel-leaky" } },
        ],
      },
      scopeMetrics: [{
        metrics: [
          {
            name: "process.cpu.time",
            unit: "s",
            sum: {
              aggregationTemporality: 2,
              isMonotonic: true,
              dataPoints: [point(cpuSeconds * 0.75, "user"), point(cpuSeconds * 0.25, "system")],
            },
          },
          { name: "process.memory.usage", unit: "By", gauge: { dataPoints: [point(rssBytes)] } },
        ],
      }],
    }],
  };
}

Deno.test("an OTel app whose process.memory.usage grows gets the memory-leak alert", async () => {
  const clock = { now: Date.now() - 90 * 60_000 };
  const started = clock.now - 1000; // the app's SDK started a second before the collector
  const c = await startTestCollector({ otlp: "127.0.0.1:0", now: () => clock.now });
  let minutes = 0;
  /** The next export, a minute on: 300 MB/h of growth, 12 CPU seconds a minute (20 %). */
  const post = async (stepMs = 60_000) => {
    clock.now += stepMs;
    minutes++;
    const body = JSON.stringify(
      exportAt(clock.now, 200 * MB + minutes * 5 * MB, minutes * 12, started),
    );
    const res = await fetch(`${c.otlpUrl}/v1/metrics`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    assert.equal(res.status, 200, await res.text());
  };
  const alerts = async (): Promise<{ active: Alert[]; recent: Alert[] }> =>
    await (await fetch(`${c.httpUrl}/api/alerts`)).json();
  try {
    for (let i = 0; i < 30; i++) await post();
    const firing = await waitFor(
      async () => {
        await post();
        return (await alerts()).active.find((a) =>
          a.rule === "memory-leak" && a.instance === ID && a.state === "firing"
        );
      },
      "the leak alert fires",
      30_000,
      200,
    );
    const rate = firing.leak!.mbPerHour;
    assert.ok(rate > 250 && rate < 350, `leaking ${rate} MB/h, sent 300`);
    const list: InstanceView[] = await (await fetch(`${c.httpUrl}/api/instances`)).json();
    const view = list.find((v) => v.id === ID)!;
    assert.equal(view.latest["cpu.percent"], 20, "12 CPU seconds a minute");
    assert.equal(view.status, "live", "a minute between exports is its interval, not silence");
    assert.equal(view.restarts, 0, "the same cumulative start in every export: one process");
    assert.ok(
      Math.abs(view.startedAt! - started) <= 1000,
      `uptime counts from the SDK's cumulative start (${view.startedAt} vs ${started})`,
    );
    // Between exports: a round of the collector 45 s after each of the next few, with no
    // silent alert, however far past the silent rule's 30 s.
    const live = await LiveClient.connect(c.httpUrl);
    try {
      for (let i = 0; i < 4; i++) {
        clock.now += 45_000;
        const at = clock.now;
        const round = await live.until(
          (frames) => frames.findLast((f) => f.type === "alerts" && f.now >= at),
          "a round 45 s after an export",
        );
        assert.equal(round.type, "alerts");
        if (round.type !== "alerts") continue;
        const silent = round.active.filter((a) => a.rule === "instance-silent");
        assert.deepEqual(silent, [], "45 s into a minute between exports is not silence");
        await post(15_000);
      }
    } finally {
      await live.close();
    }
    const { active, recent } = await alerts();
    assert.deepEqual(
      [...active, ...recent].filter((a) => a.rule === "instance-silent"),
      [],
      "never silent between exports",
    );
  } finally {
    await c.stop();
  }
});

Deno.test("an OTel app restarted under the same instance id shows one restart, from its new start", async () => {
  const c = await startTestCollector({ otlp: "127.0.0.1:0" });
  const send = async (at: number, startMs: number) => {
    const res = await fetch(`${c.otlpUrl}/v1/metrics`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(exportAt(at, 200 * MB, 1, startMs)),
    });
    assert.equal(res.status, 200, await res.text());
  };
  const view = async (): Promise<InstanceView> =>
    ((await (await fetch(`${c.httpUrl}/api/instances`)).json()) as InstanceView[])
      .find((v) => v.id === ID)!;
  try {
    const t = Date.now();
    await send(t - 3_000, t - 10_000);
    await send(t - 2_000, t - 10_000);
    assert.equal((await view()).restarts, 0, "the same start: the same process");
    await send(t, t - 500); // a new process under the same id (pid 1 in a new container)
    const v = await view();
    assert.equal(v.restarts, 1);
    assert.ok(Math.abs(v.startedAt! - (t - 500)) <= 1000, `started at its new start`);
  } finally {
    await c.stop();
  }
});
