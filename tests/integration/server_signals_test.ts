/**
 * `server.ts` and its stop signals, as a real child process: a stop that waits (remote write to
 * a server that accepts and never answers: the collector ships for up to 2 s) ends at once on
 * a second Ctrl-C, with exit code 130; the first signal arriving twice by two routes does not.
 */
import assert from "node:assert/strict";
import { startServer } from "../support/server_process.ts";
import { waitFor } from "../support/live.ts";
import { connectPush } from "../../lib/transport/zmq.ts";
import { encode, METRICS } from "../../lib/protocol.ts";
import { REPEAT_MS } from "../../lib/signals.ts";

/** A TCP server that accepts connections and never answers them. */
function silentServer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) conns.push(conn);
    } catch { /* closed */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    conns,
    async close() {
      listener.close();
      for (const c of conns) c.close();
      await accepting;
    },
  };
}

/** The collector, remote writing to a server that never answers, with a sample queued. */
async function stuckCollector(silent: ReturnType<typeof silentServer>) {
  const server = await startServer([
    "--remote-write",
    `http://127.0.0.1:${silent.port}/api/v1/write`,
  ]);
  const push = connectPush(server.zmqEndpoint, { lingerMs: 0 });
  const identity = {
    service: "api",
    instance: "a",
    pid: 1,
    host: "h",
    color: null,
    intervalMs: 1000,
    start: Date.now(),
  };
  const frame = encode(
    identity,
    [{ seq: 0, ts: Date.now(), metrics: { [METRICS.rssBytes]: 1 } }],
    Date.now(),
  );
  await waitFor(() => push.trySend(frame), "the collector takes the frame");
  await waitFor(
    () => silent.conns.length > 0,
    "a remote-write request waiting on the silent server",
  );
  push.close();
  return server;
}

Deno.test("server.ts: a second Ctrl-C while the stop waits exits at once with 130", async () => {
  const silent = silentServer();
  const server = await stuckCollector(silent);
  try {
    Deno.kill(server.child.pid, "SIGINT");
    await waitFor(() => server.output.some((l) => l.startsWith("SIGINT: stopping")), "stopping");
    // A second Ctrl-C, not the first one by another route: after REPEAT_MS, and well inside the
    // 2 s the stop may spend shipping to the silent remote.
    await new Promise((r) => setTimeout(r, REPEAT_MS + 100));
    Deno.kill(server.child.pid, "SIGINT");
    const { code } = await server.child.status;
    await server.stop("SIGKILL"); // it has exited: this only drains its output
    assert.equal(code, 130, server.output.join("\n"));
    assert.ok(server.output.includes("SIGINT again: exiting now, without finishing the stop"));
    assert.ok(!server.output.includes("stopped"), "it did not wait for the stop");
  } finally {
    await server.stop("SIGKILL").catch(() => {});
    await silent.close();
  }
});

Deno.test("server.ts: the first signal delivered twice at once is one clean stop", async () => {
  const silent = silentServer();
  const server = await stuckCollector(silent);
  try {
    Deno.kill(server.child.pid, "SIGTERM");
    await waitFor(() => server.output.some((l) => l.startsWith("SIGTERM: stopping")), "stopping");
    Deno.kill(server.child.pid, "SIGTERM"); // as `timeout` or `deno task` pass it on
    const { code } = await server.child.status;
    await server.stop("SIGKILL"); // it has exited: this only drains its output
    assert.equal(code, 0, server.output.join("\n"));
    assert.ok(server.output.includes("stopped"));
  } finally {
    await server.stop("SIGKILL").catch(() => {});
    await silent.close();
  }
});

Deno.test("server.ts: a SIGTERM while the collector starts is a clean stop once it has started", async () => {
  // A supervisor may stop the collector the moment it starts: that signal must find the stop
  // listening (it killed the process, status 143, when it came before the banner's end).
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../fixtures/signal_during_start.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const said = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, said);
  assert.match(said, /SIGTERM: stopping[\s\S]*\nstopped\n/);
});
