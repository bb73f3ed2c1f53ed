/**
 * Percentiles from an OTel SDK's cumulative histogram, end to end: the official JS SDK in a
 * real Deno process (tests/fixtures/otel_seconds_app.ts) records request durations of about
 * 12 ms in seconds into its default bucket bounds (0, 5, 10, ..., meant for ms, so every one
 * lands in (0, 5] s), exports when told, and a real collector's HTTP API must read them as
 * about 12 ms: on the instance and on the service card. Before min and max narrowed the
 * buckets it read 3750 ms.
 */
import assert from "node:assert/strict";
import { startTestCollector } from "../support/collector.ts";
import { waitFor } from "../support/live.ts";
import { instanceId } from "../../lib/collector/instances.ts";
import type { InstanceView, ServiceView } from "../../lib/live/messages.ts";

const FIXTURE = new URL("../fixtures/otel_seconds_app.ts", import.meta.url).pathname;
const ORDERS = 'method="GET",route="/orders"';
const DURATION = (suffix: string) => `http.request_duration_ms.${suffix}{${ORDERS}}`;
const REQUESTS = `http.requests.per_s{${ORDERS},status="2xx"}`;

/** The fixture, driven a command at a time; each export waits for the collector's answer. */
function sdkApp(otlpUrl: string, service: string, instance: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", FIXTURE, otlpUrl, service, instance],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdin = child.stdin.getWriter();
  const stdout = child.stdout.getReader();
  const text = new TextDecoder();
  let buffered = "";
  const nextLine = async (): Promise<string> => {
    for (;;) {
      const nl = buffered.indexOf("\n");
      if (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        return line;
      }
      const { done, value } = await stdout.read();
      if (done) throw new Error("the SDK app exited");
      buffered += text.decode(value, { stream: true });
    }
  };
  const send = (line: string) => stdin.write(new TextEncoder().encode(`${line}\n`));
  return {
    record: (n: number, ms?: number) => send(`record ${n}${ms === undefined ? "" : ` ${ms}`}`),
    async export(): Promise<void> {
      await send("export");
      assert.equal(await nextLine(), "exported");
    },
    /** Close its stdin (it shuts the SDK down and exits); its stderr. */
    async stop(): Promise<string> {
      await stdin.close().catch(() => {});
      await stdout.cancel();
      const err = new Response(child.stderr).text();
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await child.status;
      clearTimeout(timer);
      return await err;
    },
  };
}

async function instance(httpUrl: string, id: string): Promise<InstanceView | undefined> {
  const list: InstanceView[] = await (await fetch(`${httpUrl}/api/instances`)).json();
  return list.find((v) => v.id === id);
}

async function service(httpUrl: string, name: string): Promise<ServiceView | undefined> {
  const list: ServiceView[] = await (await fetch(`${httpUrl}/api/services`)).json();
  return list.find((s) => s.service === name);
}

/** Within `factor` of 12 ms, either way. */
function near12(v: number | null | undefined, factor: number, what: string): void {
  assert.ok(typeof v === "number" && v >= 12 / factor && v <= 12 * factor, `${what}: ${v} ms`);
}

Deno.test("seconds in the SDK's default buckets, exported cumulative, read near 12 ms; an export with nothing new adds nothing", async () => {
  const c = await startTestCollector({ otlp: "127.0.0.1:0" });
  const app = sdkApp(c.otlpUrl!, "orders", "orders-1");
  const id = instanceId("orders", "orders-1");
  let stderr = "";
  try {
    // The series' first export is its baseline: nothing to read yet.
    await app.record(200);
    await app.export();
    const first = await waitFor(() => instance(c.httpUrl, id), "the app's instance");
    assert.equal(first.latest[DURATION("p50")], undefined, "no interval yet");

    // The second export's interval: 200 more requests of 11 to 13 ms.
    await app.record(200);
    await app.export();
    const second = await waitFor(async () => {
      const v = await instance(c.httpUrl, id);
      return v && DURATION("p50") in v.latest && v;
    }, "percentiles from the second export");
    for (const p of ["p50", "p95", "p99"]) {
      // Every value is 11 to 13 ms; our bucket (10, 25] is as fine as it can be told.
      near12(second.latest[DURATION(p)], 2.1, p);
    }
    near12(second.latest[DURATION("avg")], 1.01, "avg, from the exported sum");
    assert.ok(second.latest[DURATION("per_s")] > 0);
    const card = (await waitFor(async () => {
      const s = await service(c.httpUrl, "orders");
      return s?.http?.p50 != null && s;
    }, "the service card's latency")).http!;
    near12(card.p50, 2.1, "service card p50");
    near12(card.p99, 2.1, "service card p99");

    // The same cumulative point again: nothing happened, so nothing is counted.
    await app.export();
    const third = await waitFor(async () => {
      const v = await instance(c.httpUrl, id);
      return v && v.received > second.received && v;
    }, "the third export");
    assert.equal(third.latest[DURATION("per_s")], 0, "no observations in the third interval");
    assert.equal(third.latest[REQUESTS], 0, "no requests either");
    assert.equal(third.latest[DURATION("p50")], second.latest[DURATION("p50")]);

    // A fourth interval with one slow request: its own counts only, none of the 400 before
    // again (the life's max grows to 40 ms, which moves where those would be spread).
    await app.record(50);
    await app.record(1, 40);
    await app.export();
    const fourth = await waitFor(async () => {
      const v = await instance(c.httpUrl, id);
      return v && v.received > third.received && v;
    }, "the fourth export");
    const perS = fourth.latest[DURATION("per_s")];
    assert.ok(perS > 0);
    assert.equal(perS, fourth.latest[REQUESTS], "as many observations as requests: 51");
    assert.ok(
      Math.abs(fourth.latest[DURATION("avg")] - (50 * 12 + 40) / 51) < 0.05,
      `avg ${fourth.latest[DURATION("avg")]}`,
    );
    // One 40 ms request in (0, 5] s spreads the interval over [11, 40] ms: the data says no
    // more (docs/protocol.md), but it stays within that range.
    const p50 = fourth.latest[DURATION("p50")];
    assert.ok(p50 > 10 && p50 <= 40, `p50 ${p50}`);
  } finally {
    stderr = await app.stop();
    await c.stop();
  }
  assert.ok(!/error/i.test(stderr), stderr);
});
