/**
 * ZEROAPM_COLLECTOR names the collector for code that does not (one image, many places): the
 * agent, the watcher and the demo app all take it, and an explicit endpoint still wins.
 */
import assert from "node:assert/strict";
import { startTestCollector } from "../support/collector.ts";
import { waitFor } from "../support/live.ts";
import type { InstanceView } from "../../lib/live/messages.ts";

const APP = new URL("../fixtures/env_collector_app.ts", import.meta.url).pathname;
const WATCH = new URL("../../lib/cmd/watch.ts", import.meta.url).pathname;

async function run(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

async function stoppedInstance(httpUrl: string, service: string): Promise<InstanceView> {
  return await waitFor(async () => {
    const rows = (await (await fetch(`${httpUrl}/api/instances`)).json()) as InstanceView[];
    return rows.find((v) => v.service === service && v.status === "stopped" && v.received > 0);
  }, `${service} reported and said goodbye`);
}

Deno.test("an agent with no collector in its code reports where ZEROAPM_COLLECTOR says", async () => {
  const collector = await startTestCollector();
  try {
    const app = await run([APP], { ZEROAPM_COLLECTOR: collector.zmqEndpoint });
    assert.equal(app.code, 0, app.stderr);
    await stoppedInstance(collector.httpUrl, "env-app");
  } finally {
    await collector.stop();
  }
});

Deno.test("the watcher takes ZEROAPM_COLLECTOR, and --collector wins over it", async () => {
  const collector = await startTestCollector();
  try {
    const env = { ZEROAPM_COLLECTOR: collector.zmqEndpoint };
    const watched = await run([WATCH, "--service", "env-watch", "--", "sleep", "0.5"], env);
    assert.equal(watched.code, 0, watched.stderr);
    assert.match(
      watched.stderr,
      new RegExp(`reporting to ${collector.zmqEndpoint.replace(/\./g, "\\.")}`),
    );
    await stoppedInstance(collector.httpUrl, "env-watch");
    // A bad endpoint in the environment is refused at start, and named as the environment's.
    const bad = await run([WATCH, "--service", "x", "--", "true"], { ZEROAPM_COLLECTOR: "nope" });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /cannot use collector endpoint "nope" \(from ZEROAPM_COLLECTOR\)/);
    // The flag wins: this one names a port nothing listens on, and nothing reaches the collector.
    const flag = await run(
      // (a command that lives a moment, so that the watcher reads it)
      [WATCH, "--service", "env-flag", "--collector", "tcp://127.0.0.1:9", "--", "sleep", "0.3"],
      env,
    );
    assert.match(flag.stderr, /reporting to tcp:\/\/127\.0\.0\.1:9 /, flag.stderr);
  } finally {
    await collector.stop();
  }
});
