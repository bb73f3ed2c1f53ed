/**
 * `deno task demo` as a user runs it: custom addresses by flag and by environment, the three
 * apps arriving at the collector there, and Ctrl-C (SIGINT to the terminal's whole process
 * group, and again to the demo, as `deno task` or `timeout` pass it on) stopping every app
 * cleanly; and so does closing its terminal, so the next run finds them stopped, not silent.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { InstanceView } from "../../lib/live/messages.ts";
import { waitFor } from "../support/live.ts";
import { freePort } from "../support/net.ts";
import { startTestCollector } from "../support/collector.ts";

const DEMO = new URL("../../lib/cmd/demo.ts", import.meta.url).pathname;

Deno.test("demo runs on the given addresses, its apps push there, and Ctrl-C stops all three cleanly", async () => {
  const httpPort = freePort();
  const zmqPort = freePort();
  // Its own session and process group, as a shell gives a foreground job: a Ctrl-C is a
  // SIGINT to the whole group.
  const demo = new Deno.Command(Deno.execPath(), {
    // No OTLP listener: its default port 4318 is one for all (a real OTel collector, another
    // demo), and the demo would not start beside it.
    args: [
      "run",
      "-A",
      DEMO,
      "--http",
      `127.0.0.1:${httpPort}`,
      "--data",
      "none",
      "--otlp",
      "none",
    ],
    env: { ZEROAPM_ZMQ: `tcp://127.0.0.1:${zmqPort}` },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    detached: true,
  }).spawn();
  const output: string[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const text = new TextDecoder();
    for await (const bytes of stream) output.push(text.decode(bytes, { stream: true }));
  };
  const pumps = Promise.all([pump(demo.stdout), pump(demo.stderr)]);
  let exited = false;
  demo.status.then(() => exited = true);
  try {
    const url = `http://127.0.0.1:${httpPort}`;
    const colors = await waitFor(
      async () => {
        assert.ok(!exited, `the demo exited:\n${output.join("")}`);
        try {
          const list: InstanceView[] = await (await fetch(`${url}/api/instances`)).json();
          const live = list.filter((i) => i.status === "live" && i.received > 0);
          return live.length === 3 && live.map((i) => i.requestedColor).sort();
        } catch {
          return false; // not up yet
        }
      },
      "the three apps at the collector's custom address",
      60_000,
      200,
    );
    assert.deepEqual(colors, ["blue", "green", "red"]);
    assert.match(output.join(""), new RegExp(`apps push to tcp://127\\.0\\.0\\.1:${zmqPort}\\b`));

    Deno.kill(-demo.pid, "SIGINT");
    // The same signal by a second route a moment later, as under `timeout` or `deno task`:
    // still one stop, not the second Ctrl-C that kills.
    await waitFor(() => output.join("").includes("demo: SIGINT, stopping apps"), "stopping");
    Deno.kill(demo.pid, "SIGINT");
    const status = await demo.status;
    await pumps;
    const text = output.join("");
    const stopLines = text.split("\n").filter((l) => /^backend_app: \S+: stopped after/.test(l));
    assert.equal(stopLines.length, 3, `three stop lines:\n${text}`);
    assert.match(
      text,
      /demo: collector stopped, red stopped, blue stopped, green stopped/,
      `every child stopped with code 0:\n${text}`,
    );
    assert.equal(status.code, 0, text);
  } finally {
    if (!exited) {
      try {
        Deno.kill(-demo.pid, "SIGKILL");
      } catch { /* gone */ }
    }
    await demo.status;
    await pumps;
  }
});

Deno.test("demo whose terminal closes (a hang-up; writes to it fail) still stops its apps cleanly: they say goodbye", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "zeroapm-demo-hangup-" });
  const httpPort = freePort();
  const flags = `--http 127.0.0.1:${httpPort} --data ${dataDir} --otlp none`;
  // script(1) runs the demo on a pseudo-terminal, as its session leader (exec: no shell left
  // between them), after printing its pid. Killing script closes the terminal: the kernel
  // sends the demo SIGHUP, and from then on every write to the terminal fails (EIO).
  const terminal = new Deno.Command("script", {
    args: [
      "-qfec",
      `echo "demo pid $$"; exec ${Deno.execPath()} run -A ${DEMO} ${flags}`,
      "/dev/null",
    ],
    env: { ZEROAPM_ZMQ: `tcp://127.0.0.1:${freePort()}` },
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let out = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const bytes of terminal.stdout) out += decoder.decode(bytes, { stream: true });
  })();
  let pid = 0;
  /** The demo runs (not exited, nor a zombie no one reaps once script, its parent, is gone). */
  const running = () => {
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
    } catch {
      return false;
    }
  };
  try {
    pid = Number(await waitFor(() => /demo pid (\d+)/.exec(out)?.[1], `the demo's pid: ${out}`));
    await waitFor(
      async () => {
        assert.ok(running(), `the demo exited:\n${out}`);
        try {
          const list = await (await fetch(`http://127.0.0.1:${httpPort}/api/instances`)).json();
          // A few reports each: the collector has written them to its history.
          const live = (list as InstanceView[]).filter((i) => i.status === "live");
          return live.length === 3 && live.every((i) => i.received >= 3);
        } catch {
          return false; // not up yet
        }
      },
      "the three apps reporting",
      60_000,
      200,
    );
    terminal.kill("SIGKILL");
    await terminal.status;
    await waitFor(() => !running(), "the demo stops", 30_000, 100);
    // What the collector kept: each app's goodbye arrived before it stopped.
    const collector = await startTestCollector({ dataDir });
    try {
      const views: InstanceView[] = await (await fetch(`${collector.httpUrl}/api/instances`))
        .json();
      assert.deepEqual(views.map((v) => `${v.requestedColor} ${v.status}`).sort(), [
        "blue stopped",
        "green stopped",
        "red stopped",
      ]);
    } finally {
      await collector.stop();
    }
  } finally {
    try {
      terminal.kill("SIGKILL");
    } catch { /* exited */ }
    await terminal.status;
    await terminal.stdin.close().catch(() => {});
    await reading;
    if (pid > 0 && running()) Deno.kill(pid, "SIGKILL");
    await Deno.remove(dataDir, { recursive: true });
  }
});
