/**
 * Heap profiles end to end: a real Deno app process whose heap grows in `retainOrders`
 * profiles itself with V8's sampling heap profiler and sends the site through real ZMQ to a
 * real collector, which serves it on /api/profiles, puts it on the leak alert in /api/alerts
 * and in the firing webhook. A flat app sends none, and reaches `node:inspector` only
 * through a dynamic import; one with `ZEROAPM_HEAP_PROFILE=0` sends none while its leak alert
 * fires. Hostile profile frames are refused and counted.
 */
import assert from "node:assert/strict";
import { startTestCollector } from "../support/collector.ts";
import type { Collector } from "../../lib/collector/collector.ts";
import { parseRules } from "../../lib/alerts/rules.ts";
import type { WebhookPayload } from "../../lib/alerts/notify.ts";
import type { Alert } from "../../lib/alerts/types.ts";
import { encode } from "../../lib/protocol.ts";
import { connectPush } from "../../lib/transport/zmq.ts";
import { waitFor } from "../support/live.ts";

const FIXTURE = new URL("../fixtures/heap/leaky_app.ts", import.meta.url);
const fixtureLine = (name: string) =>
  Deno.readTextFileSync(FIXTURE).split("\n").findIndex((l) => l.includes(`function ${name}(`)) + 1;

/** A webhook receiver keeping every body (zeroapm's shape, or Slack's as `T`). */
function webhook<T = WebhookPayload>() {
  const bodies: T[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    bodies.push(await req.json());
    return new Response(null, { status: 204 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    bodies,
    close: () => server.shutdown(),
  };
}

async function collector(
  hookUrl: string,
  dataDir: string | null,
  slackUrl?: string,
): Promise<Collector> {
  return await startTestCollector({
    dataDir,
    // The default rule, sooner: 8 s of data instead of 90 s, firing after 20 s (by then the
    // agent's profile, taken ~10 s after start, has arrived).
    leak: { minSpanMs: 8000 },
    rules: parseRules(`rules:
  - { name: memory-leak, kind: leak, growth: 50MB/h, for: 20s }
webhooks:
  - url: ${hookUrl}
${slackUrl ? `  - { url: ${slackUrl}, format: slack }\n` : ""}`),
  });
}

function spawnApp(endpoint: string, ...args: string[]) {
  return spawnAppWith({}, endpoint, ...args);
}

function spawnAppWith(env: Record<string, string>, endpoint: string, ...args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", FIXTURE.pathname, endpoint, ...args],
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  return {
    child,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
      await child.stderr.cancel().catch(() => {});
    },
  };
}

async function getJson(url: string) {
  const res = await fetch(url);
  assert.equal(res.status, 200, url);
  return await res.json();
}

Deno.test("a Deno app leaking in retainOrders shows it with file and line in /api/profiles, the alert and the webhooks", async () => {
  const hook = webhook();
  const slack = webhook<{ text: string }>();
  const dir = await Deno.makeTempDir();
  const c = await collector(hook.url, dir, slack.url);
  const app = spawnApp(c.zmqEndpoint);
  try {
    const id = await waitFor(
      async () => {
        const list = await getJson(`${c.httpUrl}/api/instances`) as Array<
          { id: string; service: string }
        >;
        return list.find((v) => v.service === "leaky-app")?.id;
      },
      "the leaky app's instance",
      20_000,
      200,
    );
    const profile = await waitFor(
      async () => {
        const body = await getJson(`${c.httpUrl}/api/profiles?instance=${encodeURIComponent(id)}`);
        return body.profiles[0];
      },
      "a heap profile",
      60_000,
      250,
    );
    const top = profile.sites[0];
    assert.equal(top.fn, "retainOrders");
    assert.equal(top.url, FIXTURE.href);
    assert.equal(top.line, fixtureLine("retainOrders"));
    assert.ok(top.growth > 1024 * 1024, `growth ${top.growth}`);
    assert.ok(top.growth / profile.totalGrowth > 0.5, "retainOrders is most of the growth");
    assert.equal(profile.samplingInterval, 32 * 1024);

    const alert = await waitFor(
      async () => {
        const { active } = await getJson(`${c.httpUrl}/api/alerts`) as { active: Alert[] };
        return active.find((a) => a.instance === id && a.state === "firing" && a.leak?.sites);
      },
      "a firing leak alert with sites",
      90_000,
      500,
    );
    const site = alert.leak!.sites![0];
    assert.equal(site.fn, "retainOrders");
    assert.equal(site.url, FIXTURE.href);
    assert.equal(site.line, fixtureLine("retainOrders"));
    assert.ok(site.bytesPerMin > 1024 * 1024, `${site.bytesPerMin} bytes/min`);
    assert.ok(site.share > 0.5 && site.share <= 1);
    assert.ok(alert.leak!.sites!.length <= 3);

    const firing = await waitFor(
      () => hook.bodies.find((b) => b.status === "firing" && b.alert.instance === id),
      "the firing webhook",
      15_000,
      100,
    );
    assert.equal(firing.alert.leak?.sites?.[0].fn, "retainOrders");
    assert.equal(firing.alert.leak?.sites?.[0].line, fixtureLine("retainOrders"));
    const inSlack = await waitFor(
      () => slack.bodies.find((b) => b.text.startsWith("FIRING")),
      "the firing Slack message",
      15_000,
      100,
    );
    const where = `${FIXTURE.pathname.split("/").pop()}:${fixtureLine("retainOrders")}`;
    assert.ok(inSlack.text.includes(`grows in retainOrders (${where})`), inSlack.text);
  } finally {
    await app.stop();
    await c.stop();
    await hook.close();
    await slack.close();
    await Deno.remove(dir, { recursive: true });
  }
  // Kept on disk: a restarted collector still serves the profile.
});

/** The collector has no profile of instance `id`, and has received or refused none at all. */
async function assertNoProfile(c: Collector, id: string) {
  const body = await getJson(`${c.httpUrl}/api/profiles?instance=${encodeURIComponent(id)}`);
  assert.deepEqual(body.profiles, []);
  const stats = await getJson(`${c.httpUrl}/api/stats`);
  assert.deepEqual(stats.profiles, { received: 0, refused: 0 });
}

Deno.test("a flat app sends no heap profile and loads node:inspector only through a dynamic import", async () => {
  // The module graph: node:inspector is reached from the agent by one dynamic import only.
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", FIXTURE.pathname],
    stdout: "piped",
    stderr: "null",
  }).output();
  const graph = JSON.parse(new TextDecoder().decode(info.stdout)) as {
    modules: Array<
      { specifier: string; dependencies?: Array<{ specifier: string; isDynamic?: boolean }> }
    >;
  };
  const edges = graph.modules.flatMap((m) =>
    (m.dependencies ?? []).filter((d) => d.specifier === "node:inspector")
      .map((d) => ({ from: m.specifier, dynamic: d.isDynamic === true }))
  );
  assert.deepEqual(edges, [{
    from: new URL("../../lib/agent/heap_profile.ts", import.meta.url).href,
    dynamic: true,
  }]);

  // At run time: the same work as the leaky app, nothing kept, for longer than the leaky app
  // takes to send its profile (~10 s).
  const hook = webhook();
  const c = await collector(hook.url, null);
  const app = spawnApp(c.zmqEndpoint, "--flat");
  try {
    const id = await waitFor(
      async () => {
        const list = await getJson(`${c.httpUrl}/api/instances`) as Array<
          { id: string; service: string; received: number }
        >;
        const v = list.find((v) => v.service === "flat-app");
        return v && v.received >= 80 ? v.id : null; // 80 samples at 4 Hz: 20 s
      },
      "20 s of the flat app",
      60_000,
      250,
    );
    await assertNoProfile(c, id);
  } finally {
    await app.stop();
    await c.stop();
    await hook.close();
  }
});

Deno.test("ZEROAPM_HEAP_PROFILE=0: a leaking app fires its leak alert but sends no heap profile", async () => {
  const hook = webhook();
  const c = await collector(hook.url, null);
  const app = spawnAppWith({ ZEROAPM_HEAP_PROFILE: "0" }, c.zmqEndpoint);
  try {
    // The alert fires ~30 s in; with profiling on, the profile arrives ~10 s in (test above).
    const alert = await waitFor(
      async () => {
        const { active } = await getJson(`${c.httpUrl}/api/alerts`) as { active: Alert[] };
        return active.find((a) => a.service === "leaky-app" && a.state === "firing");
      },
      "a firing leak alert",
      90_000,
      500,
    );
    assert.equal(alert.leak?.sites, undefined, "no sites: no profile");
    await assertNoProfile(c, alert.instance);
  } finally {
    await app.stop();
    await c.stop();
    await hook.close();
  }
});

Deno.test("hostile heap-profile frames are refused and counted, and never stored", async () => {
  const hook = webhook();
  const c = await collector(hook.url, null);
  const push = connectPush(c.zmqEndpoint);
  const identity = {
    service: "evil",
    instance: "e1",
    pid: 1,
    host: null,
    color: null,
    intervalMs: 1000,
  };
  const site = { fn: "f", url: "file:///a.ts", line: 1, col: 1, bytes: 1, samples: 1, growth: 1 };
  const frame = (over: Record<string, unknown>) =>
    JSON.stringify({
      kind: "heap_profile",
      v: 1,
      service: "evil",
      instance: "e1",
      at: Date.now(),
      spanMs: 1000,
      samplingInterval: 32768,
      heapUsedBytes: 1,
      totalBytes: 1,
      totalGrowth: 1,
      sites: [site],
      ...over,
    });
  const hostile = [
    frame({ sites: [{ ...site, fn: "x".repeat(70_000) }] }), // huge
    `{"kind":"heap_profile",` + "[".repeat(5_000) + "]".repeat(5_000) + "}", // deep
    frame({ sites: [{ ...site, extra: { a: { b: 1 } } }] }), // deeper than a site
    frame({ sites: [{ ...site, fn: "bad\u0000name" }] }), // control character
    frame({ sites: [{ ...site, url: 7 }] }), // wrong type
    frame({ sites: Array.from({ length: 21 }, () => site) }), // too many sites
    frame({ sites: [{ ...site, bytes: -5 }] }), // negative
    `{"kind":"heap_profile",\u00ff`, // not JSON
    frame({ service: "unknown-service" }), // a well-formed profile from nobody we know
  ];
  try {
    // A known instance first, so only the frames themselves are at fault.
    assert.ok(
      await waitFor(
        () =>
          push.trySend(
            encode(
              identity,
              [{ seq: 0, ts: Date.now(), metrics: { "cpu.percent": 1 } }],
              Date.now(),
            ),
          ),
        "the first sample sent",
      ),
    );
    for (const f of hostile) {
      assert.ok(await waitFor(() => push.trySend(new TextEncoder().encode(f)), "a frame sent"));
    }
    const stats = await waitFor(
      async () => {
        const s = await getJson(`${c.httpUrl}/api/stats`);
        return s.rejected.byReason.bad_profile >= hostile.length ? s : null;
      },
      "every hostile frame counted",
      10_000,
      100,
    );
    assert.equal(stats.rejected.byReason.bad_profile, hostile.length);
    assert.deepEqual(stats.profiles, { received: 0, refused: hostile.length });
    assert.equal(stats.received.messages, 1, "the hostile frames were not taken as samples");
    const body = await getJson(`${c.httpUrl}/api/profiles`);
    assert.deepEqual(body.profiles, []);
    // A valid one from the known instance is kept: the refusals were the frames' fault.
    assert.ok(await push.trySend(new TextEncoder().encode(frame({}))));
    await waitFor(
      async () => (await getJson(`${c.httpUrl}/api/profiles`)).profiles.length === 1,
      "the valid profile",
    );
  } finally {
    push.close();
    await c.stop();
    await hook.close();
  }
});
