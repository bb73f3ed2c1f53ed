/**
 * An app that reports only through OpenTelemetry, with the conventions' process metrics, gets
 * the same leak alert an agent's app gets: a real collector on an injected clock, taking
 * OTLP/JSON exports a minute apart (the SDKs' default interval), as an exporter posts them.
 */
import assert from "node:assert/strict";
import { startTestCollector } from "../support/collector.ts";
import { waitFor } from "../support/live.ts";
import { MB } from "../../lib/alerts/leak.ts";
import type { Alert } from "../../lib/alerts/types.ts";
import type { InstanceView } from "../../lib/live/messages.ts";

const ID = "shop/otel-leaky";

/** One export: RSS as `process.memory.usage`, CPU as cumulative `process.cpu.time` by state. */
function exportAt(ms: number, rssBytes: number, cpuSeconds: number): object {
  const nanos = String(BigInt(ms) * 1_000_000n);
  const start = String(BigInt(ms - 3_600_000) * 1_000_000n);
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
  const c = await startTestCollector({ otlp: "127.0.0.1:0", now: () => clock.now });
  let minutes = 0;
  /** The next export, a minute on: 300 MB/h of growth, 12 CPU seconds a minute (20 %). */
  const post = async () => {
    clock.now += 60_000;
    minutes++;
    const body = JSON.stringify(exportAt(clock.now, 200 * MB + minutes * 5 * MB, minutes * 12));
    const res = await fetch(`${c.otlpUrl}/v1/metrics`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    assert.equal(res.status, 200, await res.text());
  };
  const alerts = async (): Promise<{ active: Alert[] }> =>
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
  } finally {
    await c.stop();
  }
});
