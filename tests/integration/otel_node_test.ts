/**
 * examples/otel_node.mjs as its header says to use it: a Node 20 process started with
 * `node --import` and the official OpenTelemetry packages (resolved from the repo's
 * node_modules/), exporting to a real collector's OTLP listener. Its instance is its own
 * host:pid, it draws CPU and memory lines, and SIGTERM ends it cleanly.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { startTestCollector } from "../support/collector.ts";
import { waitFor } from "../support/live.ts";
import type { InstanceView, ServiceView } from "../../lib/live/messages.ts";

const NODE = "/usr/bin/node";
const EXAMPLE = new URL("../../examples/otel_node.mjs", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

/**
 * The app: request durations recorded through the OpenTelemetry API, as an HTTP server
 * instrumentation records them; they reach the collector only through the global provider.
 */
const APP = `
const { metrics } = require("@opentelemetry/api");
const duration = metrics.getMeter("app").createHistogram("http.server.request.duration", { unit: "s" });
const attrs = { "http.request.method": "GET", "http.route": "/orders", "http.response.status_code": 200 };
setInterval(() => duration.record(0.012, attrs), 50);
`;

Deno.test({
  name: "the Node OpenTelemetry example reports its process's CPU and memory as its own line",
  // CI installs Node with the machine; elsewhere a missing node is not this test's failure.
  ignore: !existsSync(NODE) && !Deno.env.get("CI"),
  async fn() {
    const c = await startTestCollector({ otlp: "127.0.0.1:0" });
    const spawnedAt = Date.now();
    const child = new Deno.Command(NODE, {
      args: ["--import", EXAMPLE, "-e", APP],
      cwd: ROOT,
      env: {
        OTEL_SERVICE_NAME: "bookings",
        OTEL_EXPORTER_OTLP_ENDPOINT: c.otlpUrl!,
        OTEL_METRIC_EXPORT_INTERVAL: "300",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = child.output();
    let exited = false;
    output.then(() => exited = true);
    try {
      const view = await waitFor(
        async () => {
          assert.ok(!exited, "node exited early");
          const list: InstanceView[] = await (await fetch(`${c.httpUrl}/api/instances`)).json();
          const v = list.find((x) => x.service === "bookings");
          return v && "cpu.percent" in v.latest && v;
        },
        "the example's instance with cpu.percent (its second export)",
        30_000,
      );
      assert.equal(view.instance, `${Deno.hostname()}:${child.pid}`, "host:pid, one line each");
      assert.equal(view.pid, child.pid);
      assert.ok(view.latest["mem.rss_bytes"] > 10 * 2 ** 20, "node's own RSS");
      // Uptime from the SDK's cumulative start, the same in every export: no restart.
      const later = await waitFor(async () => {
        const list: InstanceView[] = await (await fetch(`${c.httpUrl}/api/instances`)).json();
        const v = list.find((x) => x.id === view.id);
        return v && v.received >= view.received + 5 && v;
      }, "five more exports");
      assert.equal(later.restarts, 0);
      // The app's requests, recorded through the API, fill the service card. They are in
      // seconds, in the SDK's default bounds (0, 5, 10, ..., meant for ms): every 0.012 lands
      // in (0, 5] s, and the points' min and max place them; the bound alone said 3750 ms.
      const services = await waitFor(async () => {
        const list: ServiceView[] = await (await fetch(`${c.httpUrl}/api/services`)).json();
        return list.find((s) => s.service === "bookings" && s.http?.p50 != null);
      }, "the app's requests and latency on its service card");
      assert.ok(services.http!.requestsPerS > 0, JSON.stringify(services));
      const p50 = services.http!.p50!;
      assert.ok(p50 >= 6 && p50 <= 25, `p50 ${p50} ms for requests of 12 ms`);
      assert.ok(
        later.startedAt! >= spawnedAt - 1000 && later.startedAt! <= Date.now(),
        `started ${later.startedAt! - spawnedAt} ms after the spawn`,
      );
      child.kill("SIGTERM");
      const out = await output;
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    } finally {
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
        await output;
      }
      await c.stop();
    }
  },
});

Deno.test({
  name: "a Node app exporting every second and killed is stale within seconds, not three minutes",
  ignore: !existsSync(NODE) && !Deno.env.get("CI"),
  async fn() {
    const c = await startTestCollector({ otlp: "127.0.0.1:0" });
    const child = new Deno.Command(NODE, {
      args: ["--import", EXAMPLE, "-e", "setInterval(() => {}, 1000)"],
      cwd: ROOT,
      env: {
        OTEL_SERVICE_NAME: "bookings",
        OTEL_EXPORTER_OTLP_ENDPOINT: c.otlpUrl!,
        OTEL_METRIC_EXPORT_INTERVAL: "1000",
      },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    let killed = false;
    try {
      const instances = async () =>
        (await (await fetch(`${c.httpUrl}/api/instances`)).json()) as InstanceView[];
      const live = await waitFor(
        async () => {
          const v = (await instances()).find((x) => x.service === "bookings");
          return v && v.received >= 2 && v;
        },
        "two exports",
        30_000,
      );
      assert.equal(live.intervalMs, 1000, "the app's own interval, not the SDKs' default minute");
      child.kill("SIGKILL");
      killed = true;
      await child.status;
      const gone = Date.now();
      await waitFor(
        async () => {
          const v = (await instances()).find((x) => x.id === live.id);
          return v && v.status === "stale";
        },
        "the killed app stale after 3 missed exports",
        15_000,
        100,
      );
      assert.ok(Date.now() - gone < 10_000, `stale ${Date.now() - gone} ms after the kill`);
    } finally {
      if (!killed) {
        child.kill("SIGKILL");
        await child.status;
      }
      await c.stop();
    }
  },
});

/** The example run as a user would, with `env`; `lines` fills with its stderr as it comes. */
function runExample(env: Record<string, string>, interval: string | null = "300") {
  const child = new Deno.Command(NODE, {
    args: ["--import", EXAMPLE, "-e", "setInterval(() => {}, 1000)"],
    cwd: ROOT,
    env: interval === null ? env : { OTEL_METRIC_EXPORT_INTERVAL: interval, ...env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const pumped = (async () => {
    let buf = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      const parts = buf.split("\n");
      buf = parts.pop()!;
      lines.push(...parts);
    }
  })();
  return {
    lines,
    async stop() {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
      await pumped;
    },
  };
}

Deno.test({
  name: "the Node example says why nothing arrives: no service name, each refusal said once",
  ignore: !existsSync(NODE) && !Deno.env.get("CI"),
  async fn() {
    const c = await startTestCollector({ otlp: "127.0.0.1:0" });
    const app = runExample({ OTEL_EXPORTER_OTLP_ENDPOINT: c.otlpUrl! });
    try {
      await waitFor(
        () => app.lines.some((l) => l.includes("OTEL_SERVICE_NAME is not set")),
        "the notice at start, before any export",
      );
      const refused = () => app.lines.filter((l) => l.includes("service.name missing"));
      await waitFor(() => refused().length, "the collector's refusal on stderr", 15_000);
      // Three more exports refused: still one line.
      const stats = async () => (await (await fetch(`${c.httpUrl}/api/stats`)).json());
      const before = (await stats()).rejected.total;
      await waitFor(
        async () => (await stats()).rejected.total >= before + 3 * 5,
        "three more exports refused",
      );
      assert.equal(refused().length, 1, app.lines.join("\n"));
      assert.match(refused()[0], new RegExp(`exporting to ${c.otlpUrl}/v1/metrics`));
    } finally {
      await app.stop();
      await c.stop();
    }
  },
});

Deno.test({
  name: "the Node example pointed at the dashboard's port says where exports go and what to set",
  ignore: !existsSync(NODE) && !Deno.env.get("CI"),
  async fn() {
    const c = await startTestCollector({ otlp: "127.0.0.1:0" });
    const app = runExample({
      OTEL_SERVICE_NAME: "bookings",
      OTEL_EXPORTER_OTLP_ENDPOINT: c.httpUrl,
    });
    try {
      const line = await waitFor(
        () => app.lines.find((l) => l.includes("export")),
        "a notice that the exports fail",
        15_000,
      );
      assert.ok(line.includes(`${c.httpUrl}/v1/metrics`), line);
      assert.ok(line.includes("--otlp"), line);
    } finally {
      await app.stop();
      await c.stop();
    }
  },
});

Deno.test({
  name: "the Node example as the README runs it (no interval set) draws its CPU within seconds",
  ignore: !existsSync(NODE) && !Deno.env.get("CI"),
  async fn() {
    const c = await startTestCollector({ otlp: "127.0.0.1:0" });
    // As a user's shell has it: OTEL_METRIC_EXPORT_INTERVAL unset (empty counts as unset).
    const app = runExample({
      OTEL_SERVICE_NAME: "bookings",
      OTEL_EXPORTER_OTLP_ENDPOINT: c.otlpUrl!,
      OTEL_METRIC_EXPORT_INTERVAL: "",
    }, null);
    try {
      const spawned = Date.now();
      const v = await waitFor(
        async () => {
          const list: InstanceView[] = await (await fetch(`${c.httpUrl}/api/instances`)).json();
          const v = list.find((x) => x.service === "bookings");
          return v && "cpu.percent" in v.latest && v;
        },
        "CPU from the second export",
        20_000,
        100,
      );
      assert.ok(Date.now() - spawned < 15_000, `${Date.now() - spawned} ms`);
      assert.equal(v.intervalMs, 5_000, "the example's 5 s, learned by the collector");
    } finally {
      await app.stop();
      await c.stop();
    }
  },
});

Deno.test({
  name: "the Node example stops within 2 s on SIGTERM when the collector does not answer",
  ignore: !existsSync(NODE) && !Deno.env.get("CI"),
  async fn() {
    // A collector that takes connections and never answers: the last export hangs.
    const mute = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      for await (const conn of mute) held.push(conn);
    })();
    const child = new Deno.Command(NODE, {
      args: ["--import", EXAMPLE, "-e", "setInterval(() => {}, 1000)"],
      cwd: ROOT,
      env: {
        OTEL_SERVICE_NAME: "bookings",
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${mute.addr.port}`,
        OTEL_METRIC_EXPORT_INTERVAL: "300",
      },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      await waitFor(() => held.length > 0, "the example's first export", 15_000);
      const signalled = Date.now();
      child.kill("SIGTERM");
      const { code } = await child.status;
      const took = Date.now() - signalled;
      assert.equal(code, 0);
      assert.ok(took < 4_000, `exited ${took} ms after SIGTERM`);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
      mute.close();
      await accepting.catch(() => {});
      for (const c of held) c.close();
    }
  },
});
