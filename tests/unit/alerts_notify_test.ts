/** Webhook notifier: payloads, retries with back-off, a bounded queue that drops and counts. */
import assert from "node:assert/strict";
import { createNotifier, jsonPayload, slackPayload } from "../../lib/alerts/notify.ts";
import type { Alert } from "../../lib/alerts/types.ts";

const ALERT: Alert = {
  id: "memory-leak|backend/green|1000",
  rule: "memory-leak",
  kind: "leak",
  instance: "backend/green",
  service: "backend",
  state: "firing",
  since: 1000,
  firedAt: 21_000,
  value: 2880,
  message: "leaking 45.8 MiB/min, limit in ~3 h",
  leak: { mbPerHour: 2880, confidence: 1, timeToLimitMs: 10_800_000 },
};
const HOOK = { url: "http://hook.test/x", format: "json" as const, headers: {} };

Deno.test("notifier retries a failing webhook with back-off, then counts it sent", async () => {
  const calls: number[] = [];
  const t0 = performance.now();
  const notifier = createNotifier({
    targets: [{ ...HOOK, headers: { authorization: "Bearer t" } }],
    backoffMs: 20,
    random: () => 0.5, // the middle of the jitter band: exactly 20 ms, then 40 ms
    fetch: (_url, init) => {
      calls.push(performance.now() - t0);
      assert.equal(new Headers(init!.headers).get("authorization"), "Bearer t");
      return Promise.resolve(new Response(null, { status: calls.length <= 2 ? 500 : 204 }));
    },
  });
  notifier.notify("firing", ALERT);
  await notifier.idle();
  assert.equal(calls.length, 3);
  assert.ok(calls[1] - calls[0] >= 18 && calls[2] - calls[1] >= 38, `waits ${calls}`);
  assert.deepEqual(notifier.stats(), { sent: 1, failed: 0, retried: 2, dropped: 0, queued: 0 });
});

Deno.test("notifier does not retry a 4xx: the request itself is wrong", async () => {
  let calls = 0;
  const lines: string[] = [];
  const notifier = createNotifier({
    targets: [HOOK],
    backoffMs: 1,
    log: (l) => lines.push(l),
    fetch: () => (calls++, Promise.resolve(new Response(null, { status: 400 }))),
  });
  notifier.notify("firing", ALERT);
  await notifier.idle();
  assert.equal(calls, 1);
  assert.deepEqual(notifier.stats(), { sent: 0, failed: 1, retried: 0, dropped: 0, queued: 0 });
  assert.match(lines[0], /HTTP 400 \(not retried\)/);
});

Deno.test("notifier retries 429 after the wait Retry-After asks for, not its own back-off", async () => {
  const calls: number[] = [];
  const t0 = performance.now();
  const notifier = createNotifier({
    targets: [HOOK],
    backoffMs: 1,
    fetch: () => {
      calls.push(performance.now() - t0);
      const res = calls.length === 1
        ? new Response(null, { status: 429, headers: { "retry-after": "1" } })
        : new Response(null, { status: 204 });
      return Promise.resolve(res);
    },
  });
  notifier.notify("firing", ALERT);
  await notifier.idle();
  assert.equal(calls.length, 2);
  assert.ok(calls[1] - calls[0] >= 990, `waited ${calls[1] - calls[0]} ms, asked for 1 s`);
  assert.equal(notifier.stats().sent, 1);
});

Deno.test("notifier gives up after 5 tries and counts the failure", async () => {
  let calls = 0;
  const lines: string[] = [];
  const notifier = createNotifier({
    targets: [{ ...HOOK, url: "https://hooks.slack.com/services/SECRET" }],
    backoffMs: 1,
    log: (l) => lines.push(l),
    fetch: () => {
      calls++;
      return Promise.reject(new TypeError("connection refused"));
    },
  });
  notifier.notify("resolved", ALERT);
  await notifier.idle();
  assert.equal(calls, 5);
  assert.deepEqual(notifier.stats(), { sent: 0, failed: 1, retried: 4, dropped: 0, queued: 0 });
  assert.equal(lines.length, 1);
  assert.ok(!lines[0].includes("SECRET"), "the log line does not leak the webhook's secret path");
});

Deno.test("a full queue drops the oldest delivery and counts it", async () => {
  const bodies: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const notifier = createNotifier({
    targets: [HOOK],
    queueSize: 2,
    concurrency: 1,
    fetch: async (_url, init) => {
      await gate;
      bodies.push(String(init!.body));
      return new Response(null, { status: 200 });
    },
  });
  for (let i = 0; i < 5; i++) notifier.notify("firing", { ...ALERT, value: i });
  // One in flight (0), two waiting (3, 4): 1 and 2 were dropped.
  assert.deepEqual(notifier.stats(), { sent: 0, failed: 0, retried: 0, dropped: 2, queued: 3 });
  release();
  await notifier.idle();
  assert.deepEqual(bodies.map((b) => JSON.parse(b).alert.value), [0, 3, 4]);
  assert.equal(notifier.stats().sent, 3);
});

Deno.test("notify never blocks or throws, even when fetch throws synchronously", async () => {
  const notifier = createNotifier({
    targets: [HOOK],
    tries: 1,
    fetch: () => {
      throw new Error("boom");
    },
  });
  const t0 = performance.now();
  notifier.notify("firing", ALERT);
  assert.ok(performance.now() - t0 < 50);
  await notifier.idle();
  assert.equal(notifier.stats().failed, 1);
});

Deno.test("close cuts back-offs short and drops what waits", async () => {
  const notifier = createNotifier({
    targets: [HOOK],
    backoffMs: 60_000,
    concurrency: 1,
    fetch: () => Promise.resolve(new Response(null, { status: 503 })),
  });
  notifier.notify("firing", ALERT);
  notifier.notify("resolved", ALERT);
  await new Promise((r) => setTimeout(r, 10));
  notifier.close();
  await notifier.idle();
  assert.deepEqual(notifier.stats(), { sent: 0, failed: 1, retried: 1, dropped: 1, queued: 0 });
});

Deno.test("payloads: zeroapm JSON and Slack-compatible text with escaped wire strings", () => {
  assert.deepEqual(jsonPayload("firing", ALERT, 5), {
    version: 1,
    source: "zeroapm",
    status: "firing",
    alert: ALERT,
    at: 5,
  });
  const slack = slackPayload("resolved", { ...ALERT, instance: "svc/<!channel>&x" });
  assert.equal(
    slack.text,
    "RESOLVED: memory-leak on svc/<!channel>&x: leaking 45.8 MiB/min, limit in ~3 h",
  );
  const block = (slack.blocks[0] as { text: { text: string } }).text.text;
  assert.ok(block.includes("svc/&lt;!channel&gt;&amp;x"), block);
  assert.ok(!block.includes("<!channel>"));
});

Deno.test("a slack message of a leak alert says where the memory grows, escaped", () => {
  const site = {
    fn: "cacheReadings",
    url: "file:///app/backend_app.ts",
    line: 141,
    col: 5,
    bytes: 90_000_000,
    bytesPerMin: 52 * 1024 * 1024,
    share: 0.97,
  };
  const evil = { ...site, fn: "<!channel>", line: 7, bytesPerMin: 1024 * 1024, share: 0.03 };
  const alert = { ...ALERT, leak: { ...ALERT.leak!, sites: [site, evil] } };
  const slack = slackPayload("firing", alert);
  assert.equal(
    slack.text,
    "FIRING: memory-leak on backend/green: leaking 45.8 MiB/min, limit in ~3 h; " +
      "grows in cacheReadings (backend_app.ts:141), +52 MiB/min",
  );
  const [section, context] = slack.blocks as Array<Record<string, unknown>>;
  const main = (section.text as { text: string }).text;
  assert.ok(main.endsWith("\ngrows in cacheReadings (backend_app.ts:141), +52 MiB/min"), main);
  const lines = (context.elements as Array<{ text: string }>).map((e) => e.text);
  assert.deepEqual(lines, [
    "`cacheReadings (backend_app.ts:141) · 97 % · +52 MiB/min`",
    "`&lt;!channel&gt; (backend_app.ts:7) · 3 % · +1 MiB/min`",
  ]);
  // One site with all the growth: the sentence, no list repeating it.
  const one = slackPayload("firing", {
    ...ALERT,
    leak: { ...ALERT.leak!, sites: [{ ...site, share: 1 }] },
  });
  assert.equal(one.blocks.length, 1, JSON.stringify(one.blocks));
  assert.ok(one.text.endsWith("grows in cacheReadings (backend_app.ts:141), +52 MiB/min"));
  // Without sites (no heap profile) or for another kind of alert: the message alone.
  assert.equal(slackPayload("firing", ALERT).blocks.length, 1);
  const cpu = { ...alert, kind: "threshold" as const, rule: "cpu-high" };
  assert.equal(slackPayload("firing", cpu).blocks.length, 1);
});
