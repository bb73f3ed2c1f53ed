/**
 * The seed's own apps, unchanged: a pyzmq PUB that connects to tcp://localhost:5555 and sends
 * `{"color","timestamp","cpu","mem"}` once a second (tests/fixtures/seed_backend_app.py, run by
 * Debian's python3 with python3-zmq and python3-psutil). The collector is the real server.ts
 * with `--sub-bind tcp://127.0.0.1:5555`, the port the app has hard-coded: if something else
 * holds 5555 on this machine, this test fails saying so.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startServer } from "../support/server_process.ts";
import { waitFor } from "../support/live.ts";
import type { InstanceView } from "../../lib/live/messages.ts";

const PYTHON = "/usr/bin/python3";
const APP = fileURLToPath(new URL("../fixtures/seed_backend_app.py", import.meta.url));
const inCI = Boolean(Deno.env.get("CI"));

function havePyzmq(): boolean {
  if (!existsSync(PYTHON)) return false;
  const r = new Deno.Command(PYTHON, { args: ["-c", "import zmq, psutil"], stderr: "null" })
    .outputSync();
  return r.success;
}

/** VmRSS of a process, bytes. */
function rssOf(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))?.[1];
  return Number(kb) * 1024;
}

Deno.test({
  name: "an unchanged pyzmq PUB app that connects to :5555 shows up through --sub-bind",
  ignore: !havePyzmq() && !inCI,
  async fn() {
    const server = await startServer([
      "--sub-bind",
      "tcp://127.0.0.1:5555",
    ]).catch((e) => {
      throw new Error(`${(e as Error).message}\n(the seed app's port 5555 must be free)`);
    });
    const apps = ["red", "blue"].map((color) =>
      new Deno.Command(PYTHON, {
        args: [APP, "--color", color],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn()
    );
    try {
      // The banner's later lines may still be on their way when startServer returns.
      await waitFor(
        () => server.output.some((l) => l.includes("PUB apps connect to tcp://127.0.0.1:5555")),
        `the banner's SUB line; output:\n${server.output.join("\n")}`,
      );
      // The first message of a PUB that connects may be lost (slow joiner): wait for two.
      const list = await waitFor(
        async () => {
          const res = await fetch(`${server.httpUrl}/api/instances`);
          const rows = await res.json() as InstanceView[];
          const seed = rows.filter((v) => v.service === "legacy");
          return seed.length === 2 && seed.every((v) => v.received >= 2) && seed;
        },
        "both seed apps to report twice",
        20_000,
        100,
      );
      const byColour = new Map(list.map((v) => [v.instance, v]));
      for (const [i, colour] of ["red", "blue"].entries()) {
        const v = byColour.get(colour);
        assert.ok(v, `no line for ${colour}: ${JSON.stringify(list)}`);
        assert.equal(v.id, `legacy/${colour}`);
        assert.equal(v.color, colour);
        assert.equal(v.status, "live");
        assert.ok(v.latest["cpu.percent"] >= 0, JSON.stringify(v.latest));
        // mem arrives in MiB and is stored as bytes: it matches the app's own RSS.
        const rss = rssOf(apps[i].pid);
        const mem = v.latest["mem.rss_bytes"];
        assert.ok(mem > rss / 2 && mem < rss * 2, `mem.rss_bytes ${mem} vs VmRSS ${rss}`);
      }
      const stats = await (await fetch(`${server.httpUrl}/api/stats`)).json();
      assert.equal(stats.rejected.total, 0, JSON.stringify(stats.rejected));
    } finally {
      for (const app of apps) {
        try {
          app.kill("SIGTERM");
        } catch { /* gone */ }
      }
      const errors = await Promise.all(apps.map(async (a) => {
        const out = await a.output();
        return new TextDecoder().decode(out.stderr);
      }));
      assert.equal(await server.stop(), 0);
      assert.equal(errors.join("").trim(), "", "the seed app wrote to stderr");
    }
  },
});
