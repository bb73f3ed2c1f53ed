/**
 * Closing the terminal a command runs in (a real pseudo-terminal hung up: SIGHUP, then every
 * write to it fails) stops `server.ts` and `backend_app.ts` as cleanly as Ctrl-C: the
 * collector exits 0 with the last point it took in its history, and the demo app says goodbye,
 * so its instance is shown stopped, not silent. The watcher passes the hang-up on to what it
 * watches.
 */
import assert from "node:assert/strict";
import { instanceId } from "../../lib/collector/instances.ts";
import type { InstanceView } from "../../lib/live/messages.ts";
import { encode, METRICS } from "../../lib/protocol.ts";
import { connectPush } from "../../lib/transport/zmq.ts";
import { startTestCollector } from "../support/collector.ts";
import { getJson } from "../support/demo_app.ts";
import { waitFor } from "../support/live.ts";
import { openTerminal } from "../support/terminal.ts";
import { tempDir } from "../support/temp_dir.ts";
import { signalCounter } from "../support/signal_counter.ts";

const root = new URL("../../", import.meta.url);
const SERVER = new URL("server.ts", root).pathname;
const APP = new URL("backend_app.ts", root).pathname;
const WATCH = new URL("lib/cmd/watch.ts", root).pathname;

Deno.test("server.ts whose terminal closes stops cleanly: exit 0, the last point it took is in its history", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "zeroapm-hangup-" });
  const terminal = openTerminal([
    Deno.execPath(),
    "run",
    "-A",
    SERVER,
    ...["--http", "127.0.0.1:0", "--zmq", "tcp://127.0.0.1:*", "--data", dataDir],
    ...["--otlp", "none"],
  ]);
  try {
    const httpUrl = (await terminal.printed(/Running on (http:\/\/\S+) =/, "the banner"))[1];
    const zmq = (await terminal.printed(/collecting on (\S+)/, "the ZMQ endpoint"))[1];
    // One point, taken just before the hang-up: the history writes it within a second, and a
    // collector killed by the hang-up lost it (and ended with signal 1).
    const push = connectPush(zmq, { lingerMs: 0 });
    const identity = {
      service: "api",
      instance: "hung-up",
      pid: 1,
      host: "h",
      color: null,
      intervalMs: 60_000,
      start: Date.now(),
    };
    const ts = Date.now();
    const frame = encode(identity, [{ seq: 0, ts, metrics: { [METRICS.rssBytes]: 4242 } }], ts);
    await waitFor(() => push.trySend(frame), "the collector takes the frame");
    const id = instanceId("api", "hung-up");
    await waitFor(
      async () =>
        (await getJson<InstanceView[]>(`${httpUrl}/api/instances`)).some((v) => v.id === id),
      "the collector has the point",
    );
    push.close();
    await terminal.hangUp();
    assert.equal(await terminal.ended(), "exit 0");

    const again = await startTestCollector({ dataDir });
    try {
      const q = `instance=${encodeURIComponent(id)}&metric=${METRICS.rssBytes}` +
        `&from=${ts - 60_000}&to=${Date.now() + 60_000}&points=10`;
      const body = await getJson<{ series: { points: number[][] }[] }>(
        `${again.httpUrl}/api/series?${q}`,
      );
      assert.deepEqual(body.series[0]?.points.map(([, min, , max]) => [min, max]), [[4242, 4242]]);
    } finally {
      await again.stop();
    }
  } finally {
    await terminal.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("backend_app.ts whose terminal closes says goodbye: stopped, not silent", async () => {
  const collector = await startTestCollector();
  const terminal = openTerminal([
    Deno.execPath(),
    "run",
    "-A",
    APP,
    ...["--color", "blue", "--instance", "hung-up", "--interval", "100"],
    ...["--collector", collector.zmqEndpoint],
  ]);
  const status = async () =>
    (await getJson<InstanceView[]>(`${collector.httpUrl}/api/instances`))
      .find((v) => v.instance === "hung-up")?.status;
  try {
    await waitFor(async () => (await status()) === "live", "the app reporting", 30_000);
    await terminal.hangUp();
    assert.equal(await terminal.ended(), "exit 0");
    // Its goodbye was its last frame: stopped now, long before it could be judged stale
    // (3 intervals) had it gone silent.
    await waitFor(async () => (await status()) === "stopped", "the app stopped", 5_000);
  } finally {
    await terminal.close();
    await collector.stop();
  }
});

// The kernel signals a hung-up terminal's session leader, here the watcher, and no one else
// until that leader exits: the watcher must pass the hang-up on, once.
Deno.test("a watched command whose terminal closes gets the hang-up through the watcher, once", async () => {
  using tmp = tempDir("zeroapm-hup-");
  await Deno.writeTextFile(`${tmp.path}/counter.py`, signalCounter("SIGHUP"));
  const total = `${tmp.path}/total`;
  const term = openTerminal([
    Deno.execPath(),
    "run",
    "-A",
    WATCH,
    "--service",
    "hup",
    "--collector",
    "tcp://127.0.0.1:9",
    "--",
    "python3",
    `${tmp.path}/counter.py`,
    total,
  ]);
  try {
    await term.printed(/ready/, "the command started");
    await term.hangUp();
    const text = await waitFor(
      () => Deno.readTextFile(total).catch(() => null),
      "the command's count",
      20_000,
    );
    assert.equal(text, "total 1", term.output);
  } finally {
    await term.close();
  }
});
