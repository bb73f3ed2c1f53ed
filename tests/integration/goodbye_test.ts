/**
 * Goodbye and crash with a real collector and real apps (backend_app.ts subprocesses, 100 ms
 * interval, so "gone" comes after 6 s): an app stopped with SIGTERM says goodbye and is
 * `stopped` with no alert; an app killed with SIGKILL raises one `silent` alert, which
 * resolves as "instance gone"; a collector restarted on the same data starts with no
 * firing alert and keeps the stopped instance stopped.
 */
import assert from "node:assert/strict";
import { startTestCollector } from "../support/collector.ts";
import { parseRules } from "../../lib/alerts/rules.ts";
import type { Alert } from "../../lib/alerts/types.ts";
import type { InstanceView } from "../../lib/live/messages.ts";
import { waitFor } from "../support/live.ts";
import { demoApp, getJson } from "../support/demo_app.ts";

const RULES = parseRules(`rules:
  - { name: silent, kind: absence, for: 1s }
  - { name: memory-leak, kind: leak, growth: 50MB/h }
`);

function app(collector: string, name: string): Deno.ChildProcess {
  return demoApp(collector, name, 100, ["--color", "teal"]);
}

Deno.test("SIGTERM says goodbye (stopped, no alert); SIGKILL raises one silent alert that resolves when gone", async () => {
  const dataDir = await Deno.makeTempDir();
  const start = () => startTestCollector({ dataDir, rules: { ...RULES } });
  let collector = await start();
  const apps: Deno.ChildProcess[] = [];
  try {
    const endpoint = collector.zmqEndpoint;
    apps.push(app(endpoint, "polite"), app(endpoint, "crashy"));
    const status = async (name: string) =>
      (await getJson<InstanceView[]>(`${collector.httpUrl}/api/instances`))
        .find((v) => v.instance === name)?.status;
    await waitFor(
      async () => (await status("polite")) === "live" && (await status("crashy")) === "live",
      "both apps live",
      30_000,
    );
    apps[0].kill("SIGTERM");
    apps[1].kill("SIGKILL");
    await Promise.all(apps.map((a) => a.status));
    await waitFor(async () => (await status("polite")) === "stopped", "polite stopped", 10_000);
    // The crash: one silent alert, firing, then resolved as gone (60 x 100 ms).
    const alerts = () =>
      getJson<{ active: Alert[]; recent: Alert[] }>(`${collector.httpUrl}/api/alerts`);
    await waitFor(
      async () => (await alerts()).active.some((a) => a.rule === "silent" && a.state === "firing"),
      "the crash's silent alert fires",
      15_000,
    );
    await waitFor(async () => (await status("crashy")) === "gone", "crashy gone", 15_000);
    const after = await waitFor(async () => {
      const a = await alerts();
      return a.active.length === 0 && a.recent.length > 0 && a;
    }, "every alert resolved");
    assert.deepEqual(after.recent.map((a) => `${a.rule} ${a.instance} ${a.message}`), [
      "silent backend/crashy instance gone",
    ], "one alert in all: none for the app that said goodbye");
    assert.equal(await status("polite"), "stopped", "stopped stays stopped, never gone");

    // A collector restarted on the same data: nothing firing, stopped still stopped.
    await collector.stop();
    collector = await start();
    assert.deepEqual((await alerts()).active, [], "nothing replayed as firing");
    assert.equal(await status("polite"), "stopped");
    await waitFor(async () => (await status("crashy")) === "gone", "crashy gone again");
    await new Promise((r) => setTimeout(r, 2500)); // a few sweeps: still nothing to say
    assert.deepEqual((await alerts()).active, [], "no silent alert for the long-dead app");
  } finally {
    for (const a of apps) {
      try {
        a.kill("SIGKILL");
      } catch { /* exited */ }
      await a.status;
    }
    await collector.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
