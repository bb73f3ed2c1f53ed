/**
 * The sidecar (`deno task watch`) as a real subprocess, reporting another real process to a
 * real collector: its pid, its growing memory, its exit status, forwarded signals, --pid.
 */
import assert from "node:assert/strict";
import { startTestCollector } from "../support/collector.ts";
import type { Collector } from "../../lib/collector/collector.ts";
import { freePort } from "../support/net.ts";
import type { InstanceView, LiveFrame } from "../../lib/live/messages.ts";
import { descendants, readAllStats } from "../../lib/proc/read.ts";
import { LiveClient, pointsByInstance, waitFor } from "../support/live.ts";
import { signalCounter } from "../support/signal_counter.ts";

const MAIN = new URL("../../lib/cmd/watch.ts", import.meta.url).pathname;
const MiB = 1024 * 1024;

/** A sidecar subprocess whose output lines the test can wait on. */
function watch(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdin: "piped", // the watched command inherits it: the test says when it acts
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let buf = "";
    const decoder = new TextDecoder(); // (TextDecoderStream clashes with the DOM lib's types)
    for await (const bytes of stream) {
      buf += decoder.decode(bytes, { stream: true });
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const stdin = child.stdin.getWriter();
  return {
    child,
    lines,
    /** Write a line to the watched command's standard input. */
    tell: (line: string) => stdin.write(new TextEncoder().encode(`${line}\n`)),
    /** Wait for a printed line matching `re`; returns its match. */
    line: (re: RegExp, what: string, timeoutMs?: number) =>
      waitFor(
        () => lines.map((l) => re.exec(l)).find((m) => m),
        `${what}; output:\n${lines.join("\n")}`,
        timeoutMs,
      ),
    /** The exit code, once output is drained. */
    async code() {
      await stdin.close().catch(() => {}); // the child may have closed it by exiting
      const { code } = await child.status;
      await pumps;
      return code;
    },
  };
}

/** The process runs (not exited, nor a zombie no one has reaped yet). */
function running(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

async function instances(httpUrl: string): Promise<InstanceView[]> {
  return await (await fetch(`${httpUrl}/api/instances`)).json();
}

Deno.test("watch reports a python child's growing memory under its own pid and exits with its code", async () => {
  const collector = await startTestCollector();
  const live = await LiveClient.connect(collector.httpUrl);
  // Python grows by 5 MiB for each line the test writes, and exits on "exit": its growth
  // is paced by the test, which waits for each step to be reported, not by a timer.
  const py = [
    "import os, sys",
    "print('pid', os.getpid(), flush=True)",
    "chunks = []",
    "for line in sys.stdin:",
    "    if line.strip() == 'exit': raise SystemExit(3)",
    "    chunks.append(b'x' * (5 * 1024 * 1024))",
    "    print('grown', len(chunks), flush=True)",
  ].join("\n");
  const w = watch([
    "--service",
    "pyalloc",
    "--collector",
    collector.zmqEndpoint,
    "--interval",
    "200",
    "--",
    "python3",
    "-c",
    py,
  ]);
  try {
    const pyPid = Number((await w.line(/^pid (\d+)$/, "python's pid"))[1]);
    assert.notEqual(pyPid, w.child.pid, "python is the sidecar's child, not the sidecar");
    const view = await waitFor(
      async () => (await instances(collector.httpUrl)).find((v) => v.service === "pyalloc"),
      "the pyalloc instance",
    );
    assert.equal(view.pid, pyPid, "the instance reports python's pid");
    await w.line(
      new RegExp(
        `^watch: pyalloc/${view.instance} \\(pid ${pyPid}\\) reporting to ` +
          `${collector.zmqEndpoint} every 200 ms$`,
      ),
      "the sidecar's one line: what it reports, and where",
    );
    assert.ok(
      view.instance.endsWith(`:${pyPid}`),
      `default instance is host:childpid: ${view.instance}`,
    );
    const points = (frames: LiveFrame[]) =>
      (pointsByInstance(frames, "mem.rss_bytes").get(view.id) ?? []).map(([, v]) => v);
    // Each step: grow, then wait until a reading after the growth has arrived.
    for (let step = 1; step <= 6; step++) {
      const seen = points(live.frames).length;
      await w.tell("grow");
      await w.line(new RegExp(`^grown ${step}$`), `python's step ${step}`);
      await live.until(
        (frames) => points(frames).length >= seen + 2,
        `readings after step ${step}`,
      );
    }
    const rss = await live.until((frames) => {
      const values = points(frames);
      return values.length >= 5 && values.at(-1)! - values[0] > 25 * MiB && values;
    }, "5+ memory points growing by 25+ MiB");
    await w.tell("exit");
    assert.equal(await w.code(), 3, "the sidecar exits with python's exit code");
    // Its goodbye was sent before it exited, and may still be on its way to ingest.
    await waitFor(
      async () =>
        (await instances(collector.httpUrl)).find((v) => v.id === view.id)?.status === "stopped",
      "the sidecar's goodbye when its child exited (status stopped)",
    );
    assert.ok(
      rss[0] < 48 * MiB,
      `python's memory, not the sidecar's (Deno's is larger): ${rss[0]}`,
    );
    for (let i = 1; i < rss.length; i++) {
      assert.ok(rss[i] >= rss[i - 1] - MiB, `memory only grows: ${rss.join(", ")}`);
    }
    const latest = (await instances(collector.httpUrl)).find((v) => v.id === view.id)!;
    assert.ok(latest.latest["cpu.percent"] >= 0);
    for (const own of ["mem.heap_used_bytes", "loop.lag_ms", "loop.lag_ms.p99"]) {
      assert.ok(!(own in latest.latest), `no ${own}: it would be the sidecar's`);
    }
  } finally {
    try {
      w.child.kill("SIGKILL");
    } catch { /* exited */ }
    await w.code();
    await live.close();
    await collector.stop();
  }
});

Deno.test("watch forwards SIGTERM to its child and exits with the child's code", async () => {
  const collector = await startTestCollector();
  const py = "import signal,sys,time; signal.signal(signal.SIGTERM, lambda *a: sys.exit(7)); " +
    "print('ready', flush=True); time.sleep(30)";
  const w = watch([
    "--service",
    "sigterm",
    "--collector",
    collector.zmqEndpoint,
    "--interval",
    "100",
    "--",
    "python3",
    "-c",
    py,
  ]);
  try {
    await w.line(/^ready$/, "python's SIGTERM handler");
    await waitFor(
      async () => (await instances(collector.httpUrl)).some((v) => v.service === "sigterm"),
      "the sigterm instance",
    );
    w.child.kill("SIGTERM");
    assert.equal(await w.code(), 7);
    // Its child exited, so the sidecar said goodbye: stopped, not silent (the goodbye may
    // still be on its way when the sidecar has exited).
    await waitFor(
      async () =>
        (await instances(collector.httpUrl)).find((v) => v.service === "sigterm")?.status ===
          "stopped",
      "the sigterm instance stopped",
    );
    const alerts = await (await fetch(`${collector.httpUrl}/api/alerts`)).json();
    assert.deepEqual(alerts.active, []);
  } finally {
    try {
      w.child.kill("SIGKILL");
    } catch { /* exited */ }
    await w.code();
    await collector.stop();
  }
});

Deno.test("watch --pid reports a running process and exits when it exits", async () => {
  const collector = await startTestCollector();
  const sleep = new Deno.Command("sleep", { args: ["30"], stdin: "null" }).spawn();
  const w = watch([
    "--service",
    "sleeper",
    "--collector",
    collector.zmqEndpoint,
    "--interval",
    "100",
    "--pid",
    String(sleep.pid),
  ]);
  try {
    const view = await waitFor(
      async () =>
        (await instances(collector.httpUrl)).find((v) =>
          v.service === "sleeper" && v.latest["mem.rss_bytes"] > 0
        ),
      "the sleeper instance with a memory reading",
    );
    assert.equal(view.pid, sleep.pid);
    assert.ok(view.latest["cpu.percent"] < 50, "sleep is idle");
    sleep.kill("SIGTERM");
    await sleep.status;
    assert.equal(await w.code(), 0, "the watch ends when the watched process does");
  } finally {
    try {
      sleep.kill("SIGKILL");
    } catch { /* exited */ }
    await sleep.status;
    try {
      w.child.kill("SIGKILL");
    } catch { /* exited */ }
    await w.code();
    await collector.stop();
  }
});

Deno.test({
  name: "watch --tree sums a shell and its children, with threads and open files",
  async fn() {
    const collector = await startTestCollector();
    const w = watch([
      "--service",
      "tree",
      "--collector",
      collector.zmqEndpoint,
      "--interval",
      "100",
      "--tree",
      "--",
      "sh",
      "-c",
      "sleep 30 & sleep 30 & wait",
    ]);
    let sleeps: number[] = [];
    try {
      const view = await waitFor(
        async () =>
          (await instances(collector.httpUrl)).find((v) =>
            v.service === "tree" && v.latest["process.count"] === 3
          ),
        "the shell and its two sleeps",
      );
      assert.ok(view.latest["process.threads"] >= 3);
      assert.ok(view.latest["process.open_fds"] >= 3);
      sleeps = descendants(view.pid!, readAllStats());
      assert.equal(sleeps.length, 2);
      w.child.kill("SIGTERM"); // to sh, which dies of it: 128 + 15; and to the sleeps
      assert.equal((await w.child.status).code, 143);
      assert.deepEqual(sleeps.filter(running), [], "the sleeps stopped with the shell");
    } finally {
      try {
        w.child.kill("SIGKILL");
      } catch { /* exited */ }
      for (const pid of sleeps) {
        try {
          if (running(pid)) Deno.kill(pid, "SIGKILL"); // would hold the shell's output pipes
        } catch { /* gone */ }
      }
      await w.code();
      await collector.stop();
    }
  },
});

Deno.test("watch --tree passes SIGTERM to the whole tree, and exits once the last process has stopped", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zeroapm-tree-stop-" });
  // A start script's shape: a shell that starts a server and waits. The server takes 500 ms to
  // stop cleanly, then says so in a file; the shell dies of SIGTERM at once.
  const server = "import signal,sys,time\n" +
    "def stop(*a):\n time.sleep(0.5); open(sys.argv[1], 'w').write('clean'); sys.exit(0)\n" +
    "signal.signal(signal.SIGTERM, stop)\nprint('serving', flush=True)\ntime.sleep(60)\n";
  await Deno.writeTextFile(`${dir}/server.py`, server);
  // A collector that answers, so the watcher's own stop is quick: it cannot hide a short wait.
  const collector = await startTestCollector();
  const w = watch([
    "--service",
    "tree-stop",
    "--collector",
    collector.zmqEndpoint,
    "--tree",
    "--",
    "sh",
    "-c",
    `python3 ${dir}/server.py ${dir}/stopped & wait`,
  ]);
  let tree: number[] = [];
  try {
    await w.line(/^serving$/, "the server started");
    tree = descendants(w.child.pid, readAllStats()); // sh, python3
    assert.equal(tree.length, 2);
    w.child.kill("SIGTERM");
    assert.equal((await w.child.status).code, 143, "the shell's status: it died of SIGTERM");
    assert.deepEqual(tree.filter(running), [], "no process of the tree outlives the watcher");
    assert.equal(await Deno.readTextFile(`${dir}/stopped`), "clean");
  } finally {
    for (const pid of tree) {
      try {
        if (running(pid)) Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
    try {
      w.child.kill("SIGKILL");
    } catch { /* exited */ }
    await w.code();
    await collector.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("watch --help prints its usage on stdout and exits 0; after -- it is the command's", async () => {
  const help = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "--help"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(help.stdout);
  assert.equal(help.code, 0, new TextDecoder().decode(help.stderr));
  assert.match(out, /^usage: deno task watch --service NAME/);
  assert.equal(new TextDecoder().decode(help.stderr), "");
  // Past `--` the flag belongs to the watched command (no collector needed: it exits at once).
  const passed = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "--service", "e", "--", "printf", "%s\\n", "--help"],
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.equal(passed.code, 0);
  assert.equal(new TextDecoder().decode(passed.stdout), "--help\n");
});

Deno.test("watch says so when its command exits before its first reading, and keeps its status", async () => {
  const gone = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "--service", "e", "--collector", "tcp://127.0.0.1:9", "--", "true"],
    stdout: "null",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(gone.stderr);
  assert.equal(gone.code, 0, err);
  assert.match(
    err,
    /watch: "true" \(pid \d+\) exited with status 0 before its first reading; nothing was reported/,
  );
});

Deno.test("watch without its collector says so naming the endpoint, and says when it connects", async () => {
  const endpoint = `tcp://127.0.0.1:${freePort()}`;
  const w = watch(["--service", "early-watch", "--collector", endpoint, "--", "sleep", "60"]);
  let collector: Collector | null = null;
  try {
    const at = endpoint.replace(/\./g, "\\.");
    await w.line(new RegExp(`no collector at ${at} for 1\\d s`), "the outage notice", 20_000);
    collector = await startTestCollector({ zmq: endpoint });
    await w.line(new RegExp(`connected to ${at} after 1\\d s`), "the reconnection notice", 15_000);
    w.child.kill("SIGTERM");
    assert.equal(await w.code(), 143);
  } finally {
    try {
      w.child.kill("SIGKILL");
    } catch { /* exited */ }
    await collector?.stop();
  }
});

Deno.test("one Ctrl-C in a terminal reaches the watched command once, also through deno task", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zeroapm-ctrlc-" });
  try {
    await Deno.writeTextFile(`${dir}/counter.py`, signalCounter("SIGINT"));
    const watchArgs = `--service ctrlc --collector tcp://127.0.0.1:9 -- python3 ${dir}/counter.py`;
    for (
      const command of [
        // exec: script(1) runs it through $SHELL -c, and a shell left waiting (dash, CI's
        // /bin/sh) is in the foreground group too and dies of the Ctrl-C itself: status 130.
        `exec ${Deno.execPath()} run -A ${MAIN} ${watchArgs}`,
        `exec ${Deno.execPath()} task watch ${watchArgs}`, // deno task passes the signal on too
      ]
    ) {
      // script(1) runs it on a pseudo-terminal; a 0x03 byte typed into it is Ctrl-C, sent
      // by the terminal to its whole foreground group: the watcher and its command alike.
      const child = new Deno.Command("script", {
        args: ["-qfec", command, "/dev/null"],
        cwd: new URL("../../", import.meta.url),
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      let out = "";
      const reading = (async () => {
        const decoder = new TextDecoder();
        for await (const bytes of child.stdout) out += decoder.decode(bytes, { stream: true });
      })();
      const keys = child.stdin.getWriter();
      try {
        await waitFor(() => out.includes("ready"), `the command started: ${out}`, 20_000);
        await keys.write(new Uint8Array([3]));
        await waitFor(() => /total \d+/.test(out), `the command's count: ${out}`);
        assert.match(out, /total 1\b/, `${command}\n${out}`);
        assert.equal((await child.status).code, 0, `${command}\n${out}`);
      } finally {
        await keys.close().catch(() => {});
        try {
          child.kill("SIGKILL");
        } catch { /* exited */ }
        await reading;
        await child.stderr.cancel();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
