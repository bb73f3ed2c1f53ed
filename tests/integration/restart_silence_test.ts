/**
 * Silent alerts across a collector restart, with real processes: `server.ts` restarted on the
 * same data directory and real apps (backend_app.ts, 200 ms interval, so "gone" comes 12 s
 * after the restart). An app that was live when the collector stopped and never reports
 * again (stopped after the collector, its goodbye lost: `deno task demo` closed with its
 * terminal, a whole stack stopped together) raises no silent alert after the restart; an app
 * whose crash the collector watched before it stopped keeps its silent alert, the same one,
 * until it is gone.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Alert } from "../../lib/alerts/types.ts";
import type { InstanceView } from "../../lib/live/messages.ts";
import { startServer } from "../support/server_process.ts";
import { waitFor } from "../support/live.ts";
import { demoApp, getJson } from "../support/demo_app.ts";

function app(collector: string, name: string): Deno.ChildProcess {
  return demoApp(collector, name, 200);
}

Deno.test("after a collector restart, an app that ended with it raises no silent alert; a crash it saw keeps its alert", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "zeroapm-restart-silence-" });
  const rulesFile = `${dataDir}/rules.yaml`;
  await Deno.writeTextFile(rulesFile, "rules:\n  - { name: silent, kind: absence, for: 1s }\n");
  const start = () => startServer(["--data", `${dataDir}/data`, "--rules", rulesFile]);
  let server = await start();
  const apps: Deno.ChildProcess[] = [];
  try {
    apps.push(app(server.zmqEndpoint, "left"), app(server.zmqEndpoint, "crashy"));
    const status = async (name: string) =>
      (await getJson<InstanceView[]>(`${server.httpUrl}/api/instances`))
        .find((v) => v.instance === name)?.status;
    const alerts = () =>
      getJson<{ active: Alert[]; recent: Alert[] }>(`${server.httpUrl}/api/alerts`);
    await waitFor(
      async () => (await status("left")) === "live" && (await status("crashy")) === "live",
      "both apps live",
      30_000,
    );
    // A crash the collector watches: its silent alert fires (and is stored) before the stop.
    apps[1].kill("SIGKILL");
    await apps[1].status;
    const crash = await waitFor(
      async () =>
        (await alerts()).active.find((a) =>
          a.instance === "backend/crashy" && a.state === "firing"
        ),
      "crashy's silent alert fires",
      10_000,
      50,
    );
    // The collector stops first; "left" stops after it, its goodbye reaching no one.
    assert.equal(await server.stop(), 0);
    apps[0].kill("SIGTERM");
    await apps[0].status;

    server = await start();
    assert.equal(await status("left"), "stale", "left is waited for, not stopped");
    // crashy's alert carries on (same id, firing) until crashy is gone 60 intervals later.
    const resolved = await waitFor(
      async () => (await alerts()).recent.find((a) => a.id === crash.id && a.firedAt),
      "crashy's alert resolves as gone",
      30_000,
    );
    assert.equal(resolved.message, "instance gone");
    assert.equal(resolved.firedAt, crash.firedAt, "the same alert, not a second firing");
    await waitFor(async () => (await status("left")) === "gone", "left gone", 30_000);
    await waitFor(async () => (await alerts()).active.length === 0, "nothing active");
    const a = await alerts();
    assert.deepEqual(
      [...a.active, ...a.recent].filter((x) => x.instance === "backend/left")
        .map((x) => `${x.rule} ${x.state} ${x.message}`),
      [],
      "no silent alert for an app that ended with the collector",
    );
  } finally {
    for (const a of apps) {
      try {
        a.kill("SIGKILL");
      } catch { /* exited */ }
      await a.status;
    }
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
