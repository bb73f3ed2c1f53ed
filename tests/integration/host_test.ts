/**
 * DNS rebinding: a real collector on loopback with no token answers only requests whose `Host`
 * is its bound address, localhost, or a name given with `allowedHosts` (`--allowed-host`).
 * Requests are written by hand over TCP, since fetch sets `Host` itself.
 */
import assert from "node:assert/strict";
import { startTestCollector } from "../support/collector.ts";
import { createHostCheck, hostName } from "../../lib/http/host.ts";

/** Send one GET with the given Host (and headers) and return the status code. */
async function statusOf(
  httpUrl: string,
  path: string,
  host: string,
  headers: Record<string, string> = {},
): Promise<number> {
  const { hostname, port } = new URL(httpUrl);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    const lines = [`GET ${path} HTTP/1.1`, `Host: ${host}`, "Connection: close"];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    await conn.write(new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
    const buf = new Uint8Array(256);
    let text = "";
    while (!text.includes("\r\n")) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
    assert.ok(m, `an HTTP status line, got ${JSON.stringify(text.slice(0, 80))}`);
    return Number(m[1]);
  } finally {
    conn.close();
  }
}

const UPGRADE = {
  Upgrade: "websocket",
  Connection: "Upgrade",
  "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
  "Sec-WebSocket-Version": "13",
};

Deno.test("a loopback collector refuses a rebinding Host with 421 on the API and /ws, and serves its own", async () => {
  const c = await startTestCollector({ dataDir: null, allowedHosts: ["apm.internal"] });
  try {
    const port = new URL(c.httpUrl).port;
    assert.equal(await statusOf(c.httpUrl, "/api/instances", "rebind.evil.example"), 421);
    assert.equal(await statusOf(c.httpUrl, "/api/instances", `rebind.evil.example:${port}`), 421);
    assert.equal(await statusOf(c.httpUrl, "/", "rebind.evil.example"), 421);
    // /ws would upgrade (101) and then stream every metric: refused before the upgrade.
    const upgradeHeaders = { ...UPGRADE, Origin: "http://rebind.evil.example" };
    assert.equal(await statusOf(c.httpUrl, "/ws", "rebind.evil.example", upgradeHeaders), 421);
    // The liveness probe answers whatever the Host (uptime and instance count only).
    assert.equal(await statusOf(c.httpUrl, "/healthz", "rebind.evil.example"), 200);

    assert.equal(await statusOf(c.httpUrl, "/api/instances", `127.0.0.1:${port}`), 200);
    assert.equal(await statusOf(c.httpUrl, "/api/instances", `localhost:${port}`), 200);
    assert.equal(await statusOf(c.httpUrl, "/api/instances", `apm.internal:${port}`), 200);
    assert.equal(await statusOf(c.httpUrl, "/ws", `127.0.0.1:${port}`, UPGRADE), 101);
  } finally {
    await c.stop();
  }
});

Deno.test("the OTLP listener refuses a rebinding Host with 421 too", async () => {
  const c = await startTestCollector({ otlp: "127.0.0.1:0", dataDir: null });
  try {
    const url = c.otlpUrl!;
    const port = new URL(url).port;
    assert.equal(await statusOf(url, "/v1/metrics", "rebind.evil.example"), 421);
    // Its own address gets past the Host check (to the listener's answer for a GET).
    assert.notEqual(await statusOf(url, "/v1/metrics", `127.0.0.1:${port}`), 421);
  } finally {
    await c.stop();
  }
});

Deno.test("the Host check takes the bound address, loopback names, IPs on 0.0.0.0, and * from --allowed-host", () => {
  const req = (host: string | null, path = "/api/instances") =>
    new Request(`http://x${path}`, { headers: host === null ? {} : { host } });
  const loop = createHostCheck({ bound: "127.0.0.1" });
  assert.equal(loop(req("127.0.0.1:8000")), null);
  assert.equal(loop(req("[::1]:8000")), null);
  assert.equal(loop(req("LOCALHOST.:8000")), null);
  assert.equal(loop(req("10.0.0.5:8000"))?.status, 421, "another machine's address");
  assert.equal(loop(req("evil.example"))?.status, 421);
  assert.equal(loop(req(null))?.status, 421, "no Host at all");
  assert.equal(loop(req("evil.example", "/healthz")), null);

  const wide = createHostCheck({ bound: "0.0.0.0", allowed: ["apm.example.com"] });
  assert.equal(wide(req("10.0.0.5:8000")), null, "an IP literal cannot be rebound");
  assert.equal(wide(req("apm.example.com")), null);
  assert.equal(wide(req("evil.example"))?.status, 421);

  assert.equal(createHostCheck({ bound: "127.0.0.1", allowed: ["*"] })(req("evil.example")), null);
  assert.equal(hostName("[::1]:80"), "::1");
  assert.equal(hostName("Apm.Example.com:443"), "apm.example.com");
});
