/**
 * The access controls wired through the real server.ts process: CURVE with an allowlist on
 * the ZMQ port (agents configured by environment, as backend_app and the sidecar are), and
 * the HTTP token.
 */
import assert from "node:assert/strict";
import { createAgent } from "../../lib/agent/mod.ts";
import { clientKeysFromEnv, generateKeyPair, writeKeyPair } from "../../lib/transport/keys.ts";
import type { InstanceView } from "../../lib/live/messages.ts";
import { waitFor } from "../support/live.ts";
import { startServer } from "../support/server_process.ts";

Deno.test("with CURVE and an allowlist, an allowed agent is listed and one without keys is not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zeroapm-keys-" });
  const collectorKeys = await writeKeyPair(dir, "collector", await generateKeyPair());
  const agentPair = await generateKeyPair();
  const agentKeys = await writeKeyPair(dir, "agent", agentPair);
  await Deno.writeTextFile(`${dir}/allowed`, `# agents\n${agentPair.publicKey}\n`);
  const server = await startServer([
    "--curve-key",
    collectorKeys.secretPath,
    "--curve-allow",
    `${dir}/allowed`,
  ]);
  const curve = await clientKeysFromEnv({
    ZEROAPM_AGENT_KEY: agentKeys.secretPath,
    ZEROAPM_SERVER_KEY: collectorKeys.publicPath,
  });
  const good = createAgent({
    service: "secure",
    instance: "allowed",
    collector: server.zmqEndpoint,
    intervalMs: 50,
    curve,
  });
  const plain = createAgent({
    service: "secure",
    instance: "plain",
    collector: server.zmqEndpoint,
    intervalMs: 50,
  });
  try {
    await waitFor( // the banner's later lines may still be on their way
      () => server.output.some((l) => l.includes("CURVE on")),
      `the banner's CURVE line; output:\n${server.output.join("\n")}`,
    );
    const list = await waitFor(async () => {
      const l: InstanceView[] = await (await fetch(`${server.httpUrl}/api/instances`)).json();
      return l.some((v) => v.instance === "allowed" && v.received >= 10) && l;
    }, "the allowed agent's samples");
    assert.deepEqual(list.map((v) => v.instance), ["allowed"], "the plain agent got nothing in");
  } finally {
    await good.stop();
    await plain.stop();
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with a token, the API and the page answer 401 without it and 200 with it; /healthz stays open", async () => {
  const token = "a-test-token-that-is-long-enough";
  const server = await startServer(["--token", token]);
  try {
    for (const path of ["/api/instances", "/api/stats", "/"]) {
      const res = await fetch(`${server.httpUrl}${path}`);
      await res.body?.cancel();
      assert.equal(res.status, 401, path);
      const ok = await fetch(`${server.httpUrl}${path}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      await ok.body?.cancel();
      assert.equal(ok.status, 200, path); // deno task test builds the page first
    }
    const health = await fetch(`${server.httpUrl}/healthz`);
    await health.body?.cancel();
    assert.equal(health.status, 200);
  } finally {
    await server.stop();
  }
});

Deno.test("beyond loopback without a token, the collector makes one and prints the URL to open", async () => {
  const server = await startServer([
    "--http",
    "0.0.0.0:0",
  ]);
  try {
    const line = await waitFor(
      () => server.output.find((l) => l.includes("dashboard token generated")),
      "the token line",
    );
    const token = /token=([A-Za-z0-9_-]+)/.exec(line)![1];
    const port = new URL(server.httpUrl).port;
    const denied = await fetch(`http://127.0.0.1:${port}/api/stats`);
    await denied.body?.cancel();
    assert.equal(denied.status, 401);
    const allowed = await fetch(`http://127.0.0.1:${port}/api/stats`, {
      headers: { authorization: `Bearer ${token}` },
    });
    await allowed.body?.cancel();
    assert.equal(allowed.status, 200);
  } finally {
    await server.stop();
  }
});
