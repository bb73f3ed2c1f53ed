/**
 * Alerts end to end over real HTTP: an engine with a SQLite store and a notifier posts to a
 * real webhook server (`Deno.serve` on port 0) when an alert fires and when it resolves, and
 * a webhook that answers 500 twice is retried until it takes the delivery.
 */
import assert from "node:assert/strict";
import { createAlertEngine } from "../../lib/alerts/engine.ts";
import { createNotifier, type WebhookPayload } from "../../lib/alerts/notify.ts";
import { parseRules } from "../../lib/alerts/rules.ts";
import { openAlertStore } from "../../lib/alerts/store.ts";
import { createAgent } from "../../lib/agent/mod.ts";
import { startServer } from "../support/server_process.ts";
import { startTestCollector } from "../support/collector.ts";
import { waitFor } from "../support/live.ts";
import { STOP_NOTIFY_MS } from "../../lib/collector/collector.ts";
import { instanceView } from "../support/views.ts";

const T0 = 1_700_000_000_000;

/** A webhook receiver: answers with `statuses` in turn (then 200) and keeps every body. */
function webhookServer(statuses: number[] = []) {
  const received: Array<{ body: unknown; status: number; headers: Headers }> = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const body = await req.json();
    const status = statuses.shift() ?? 200;
    received.push({ body, status, headers: req.headers });
    for (const w of waiters.filter((w) => received.length >= w.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
    return new Response(null, { status });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    received,
    /** Resolves when `n` requests have arrived. */
    /** Resolves once `n` deliveries arrived; rejects after 10 s (a hang is a failure). */
    until(n: number) {
      if (received.length >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${received.length} of ${n} webhook deliveries in 10 s`)),
          10_000,
        );
        waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    close: () => server.shutdown(),
  };
}

const view = () =>
  instanceView({ instance: "demo-green", pid: 42, color: "green", requestedColor: "green" }, T0);

Deno.test("webhook server receives the firing and the resolving of an alert", async () => {
  const hook = webhookServer();
  const slack = webhookServer();
  const dir = await Deno.makeTempDir();
  const rules = parseRules(`rules:
  - { name: cpu, kind: threshold, metric: cpu.percent, op: ">=", value: 90, for: 30s }
webhooks:
  - url: ${hook.url}
    headers: { X-Zeroapm-Token: s3cret }
  - url: ${slack.url}
    format: slack
`);
  let now = T0;
  const notifier = createNotifier({ targets: rules.webhooks });
  const engine = createAlertEngine({ rules, now: () => now, store: openAlertStore(dir), notifier });
  try {
    const v = view();
    for (const [s, cpu] of [[0, 95], [10, 97], [30, 99], [40, 20]] as const) {
      now = T0 + s * 1000;
      v.lastSeen = now;
      engine.observe(v, [[now, { "cpu.percent": cpu }]]);
      engine.evaluate(now, [v]);
    }
    await Promise.all([hook.until(2), slack.until(2), notifier.idle()]);
    const [firing, resolved] = hook.received.map((r) => r.body as WebhookPayload);
    assert.equal(hook.received[0].headers.get("x-zeroapm-token"), "s3cret");
    assert.equal(hook.received[0].headers.get("content-type"), "application/json");
    assert.equal(firing.status, "firing");
    assert.equal(firing.version, 1);
    assert.equal(firing.alert.rule, "cpu");
    assert.equal(firing.alert.state, "firing");
    assert.equal(firing.alert.instance, "backend/demo-green");
    assert.equal(firing.alert.since, T0);
    assert.equal(firing.alert.firedAt, T0 + 30_000);
    assert.equal(firing.alert.value, 99);
    assert.equal(resolved.status, "resolved");
    assert.equal(resolved.alert.id, firing.alert.id);
    assert.equal(resolved.alert.resolvedAt, T0 + 40_000);
    assert.deepEqual(
      slack.received.map((r) => (r.body as { text: string }).text.split(":")[0]),
      ["FIRING", "RESOLVED"],
    );
    assert.deepEqual(engine.stats().notify, {
      sent: 4,
      failed: 0,
      retried: 0,
      dropped: 0,
      queued: 0,
    });
  } finally {
    engine.close();
    await hook.close();
    await slack.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a webhook that fails with 500 twice is retried and then takes the delivery", async () => {
  const hook = webhookServer([500, 500]);
  const notifier = createNotifier({
    targets: [{ url: hook.url, format: "json", headers: {} }],
    backoffMs: 50,
  });
  let now = T0;
  const engine = createAlertEngine({
    rules: parseRules(`rules: [{ name: silent, kind: absence, for: 1m }]`),
    now: () => now,
    notifier,
  });
  try {
    // Silent for two minutes but not yet gone (a gone instance's alerts end: "instance gone").
    const v = { ...view(), status: "stale" as const };
    now += 120_000;
    engine.evaluate(now, [v]);
    await hook.until(3);
    await notifier.idle();
    assert.deepEqual(hook.received.map((r) => r.status), [500, 500, 200]);
    for (const r of hook.received) assert.equal((r.body as WebhookPayload).status, "firing");
    assert.deepEqual(notifier.stats(), { sent: 1, failed: 0, retried: 2, dropped: 0, queued: 0 });
  } finally {
    engine.close();
    await hook.close();
  }
});

/** A collector whose one rule fires on any agent's first sample, posting to `hookUrl`. */
const busyCollector = (hookUrl: string, log?: (line: string) => void) =>
  startTestCollector({
    ...(log ? { log } : {}),
    rules: parseRules(`rules:
  - { name: busy, kind: threshold, metric: cpu.percent, op: ">=", value: 0, for: 0s }
webhooks:
  - url: ${hookUrl}
`),
  });

Deno.test("a goodbye just before the collector stops resolves its alert, and the webhook hears it before stop() returns", async () => {
  const hook = webhookServer();
  const collector = await busyCollector(hook.url);
  const agent = createAgent({
    service: "shop",
    instance: "last",
    collector: collector.zmqEndpoint,
    intervalMs: 50,
  });
  try {
    await hook.until(1); // cpu.percent >= 0 holds from the first sample
    await agent.stop(); // its goodbye is on the wire
  } finally {
    await collector.stop(); // drains the socket, then evaluates once more
    await hook.close();
  }
  const bodies = hook.received.map((r) => r.body as WebhookPayload);
  assert.deepEqual(bodies.map((b) => b.status), ["firing", "resolved"]);
  assert.equal(bodies[1].alert.message, "instance stopped (said goodbye)");
});

Deno.test("a webhook target that never answers holds the collector's stop for 2 s at most", async () => {
  // Accepts connections and never answers a byte.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })().catch(() => {});
  const lines: string[] = [];
  const collector = await busyCollector(
    `http://127.0.0.1:${listener.addr.port}/hook`,
    (l) => lines.push(l),
  );
  const agent = createAgent({
    service: "shop",
    instance: "hung",
    collector: collector.zmqEndpoint,
  });
  let stopMs = NaN;
  let closedByCollector = false;
  try {
    await waitFor(() => held.length > 0, "the firing webhook's connection");
    await agent.stop();
    const t = performance.now();
    await collector.stop();
    stopMs = performance.now() - t;
    // The request in flight was aborted: the collector closed its connection (end of stream).
    const buf = new Uint8Array(4096);
    const eof = (async () => {
      while (await held[0].read(buf) !== null) { /* the request's bytes */ }
      return true;
    })().catch(() => true);
    let timer: ReturnType<typeof setTimeout> | undefined;
    closedByCollector = await Promise.race([
      eof,
      new Promise<false>((r) => timer = setTimeout(() => r(false), 1000)),
    ]);
    clearTimeout(timer);
  } finally {
    await collector.stop();
    listener.close();
    held.forEach((c) => {
      try {
        c.close();
      } catch { /* closed */ }
    });
    await accepting;
  }
  // Bounded by the stop's wait, not by the request's 10 s timeout (a loose bound: a loaded
  // machine must not fail it).
  assert.ok(stopMs >= STOP_NOTIFY_MS - 50 && stopMs < 8000, `stopped in ${Math.round(stopMs)} ms`);
  assert.ok(closedByCollector, "the webhook request was aborted on stop, not left open");
  assert.ok(
    lines.some((l) => l.includes("webhook deliveries still queued")),
    `the stop says what it dropped: ${lines.join(" | ")}`,
  );
});

Deno.test("server.ts refuses a bad rule file at start, naming the line, and serves /api/alerts with good rules", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zeroapm-rules-" });
  try {
    await Deno.writeTextFile(
      `${dir}/bad.yaml`,
      'rules:\n  - name: cpu\n    kind: threshold\n    metric: cpu.percent\n    op: ">"\n    value: 90\n    for: ten\n',
    );
    const server = new URL("../../server.ts", import.meta.url).pathname;
    const bad = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        server,
        "--rules",
        `${dir}/bad.yaml`,
        "--data",
        "none",
        "--http",
        "127.0.0.1:0",
        "--zmq",
        "tcp://127.0.0.1:*",
      ],
    }).output();
    assert.equal(bad.code, 2);
    assert.match(
      new TextDecoder().decode(bad.stderr),
      /bad\.yaml:7:\d+: rule "cpu": "for" must be a duration/,
    );

    await Deno.writeTextFile(
      `${dir}/good.yaml`,
      'rules:\n  - name: cpu\n    kind: threshold\n    metric: cpu.percent\n    op: ">"\n    value: 90\n    for: 1m\n',
    );
    const good = await startServer([
      "--rules",
      `${dir}/good.yaml`,
    ]);
    try {
      const body = await (await fetch(`${good.httpUrl}/api/alerts`)).json();
      assert.deepEqual(body, { active: [], recent: [] });
      const stats = await (await fetch(`${good.httpUrl}/api/stats`)).json();
      assert.equal(stats.alerts.rules, 1);
    } finally {
      await good.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
