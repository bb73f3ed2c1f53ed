import assert from "node:assert/strict";
import { parseWatchArgs } from "../../lib/sidecar/args.ts";
import { exitCodeOf } from "../../lib/cmd/watch.ts";
import { createWatchReaders, WATCH_METRICS } from "../../lib/sidecar/readers.ts";
import { createAgent } from "../../lib/agent/mod.ts";
import { decode } from "../../lib/protocol.ts";
import os from "node:os";
import { UsageError } from "../../lib/cli.ts";

const root = (name: string) => new URL(`../fixtures/proc/${name}`, import.meta.url).pathname;

Deno.test("watch readers sum a process tree from fixtures, skipping zombies and strangers", () => {
  let wall = 0;
  const r = createWatchReaders({
    pid: 100,
    tree: true,
    root: root("tree"),
    container: false,
    clock: () => wall,
  });
  wall = 1000;
  const reading = r.read();
  assert.equal(reading.cpuPercent, 0); // the fixture's tick counters did not move
  assert.equal(reading.rssBytes, (256 + 2560 + 512) * 4096);
  assert.deepEqual(reading.extra, {
    [WATCH_METRICS.threads]: 1 + 4 + 2,
    [WATCH_METRICS.openFds]: 9,
    [WATCH_METRICS.count]: 3,
  });
  assert.ok(Number.isNaN(reading.heapUsedBytes) && Number.isNaN(reading.loopLagMs));
  const single = createWatchReaders({ pid: 101, root: root("tree"), container: false });
  assert.equal(single.read().extra?.[WATCH_METRICS.count], undefined);
  assert.throws(() => createWatchReaders({ pid: 103, root: root("tree") }), /no such process/);
});

Deno.test("watch readers measure a real child's CPU and see it exit", async () => {
  // The child spins for 0.3 s of its own CPU time (not wall time: a loaded machine may give it
  // less), says so, then idles until told to exit.
  const child = new Deno.Command("python3", {
    args: [
      "-c",
      "import sys,time\nt=time.process_time()\nwhile time.process_time()-t<0.3: pass\n" +
      "print('spun',flush=True)\nsys.stdin.read()",
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const r = createWatchReaders({ pid: child.pid, container: false });
  try {
    const out = child.stdout.getReader();
    let said = "";
    while (!said.includes("spun")) {
      const { value, done } = await out.read();
      if (done) throw new Error(`the child ended before spinning: ${said}`);
      said += new TextDecoder().decode(value);
    }
    out.releaseLock();
    const busy = r.read(); // 0.3 s of CPU since the readers started, over however long it took
    assert.ok(busy.cpuPercent > 2, `a busy loop reads as busy, got ${busy.cpuPercent}`);
    assert.ok(busy.rssBytes > 1024 * 1024);
    assert.equal(r.alive(), true);
    await new Promise((ok) => setTimeout(ok, 100));
    const idle = r.read();
    assert.ok(idle.cpuPercent < busy.cpuPercent, `idle ${idle.cpuPercent} vs ${busy.cpuPercent}`);
  } finally {
    await child.stdout.cancel().catch(() => {});
    await child.stdin.close();
    await child.status;
  }
  assert.equal(r.alive(), false);
  assert.throws(() => r.read(), /has exited/);
  assert.equal(r.gone(), true);
});

Deno.test("parseWatchArgs: command after --, --pid, and clear usage errors", () => {
  assert.deepEqual(
    parseWatchArgs(["--service", "a", "--interval", "200", "--", "ls", "-l", "--"]),
    {
      service: "a",
      intervalMs: 200,
      tree: false,
      command: ["ls", "-l", "--"],
    },
  );
  assert.deepEqual(parseWatchArgs(["--service", "a", "--pid", "12", "--tree"]), {
    service: "a",
    intervalMs: 1000,
    tree: true,
    pid: 12,
  });
  // Help wins over what is missing; after -- it is the command's.
  assert.equal(parseWatchArgs(["--help"]), null);
  assert.equal(parseWatchArgs(["-h", "--", "ls"]), null);
  assert.deepEqual(parseWatchArgs(["--service", "a", "--", "ls", "--help"])?.command, [
    "ls",
    "--help",
  ]);
  const errors: Array<[string[], RegExp]> = [
    [["--", "ls"], /--service is required/],
    [["--service", "a"], /nothing to watch/],
    [["--service", "a", "--pid", "x"], /--pid must be/],
    [["--service", "a", "--pid", "3", "--", "ls"], /either --pid or a command/],
    [["--service", "a", "--interval", "0", "--", "ls"], /--interval must be an integer from 10/],
    [["--service", "a", "--interval", "2.5", "--", "ls"], /--interval/],
    [["--service", "a", "--what", "--", "ls"], /Unknown option/],
    [["--service", "a", "--color", "bleu", "--", "ls"], /--color must be a CSS colour .*"bleu"/],
    [["--service", "a", "ls"], /Unexpected argument|positional/],
  ];
  for (const [argv, re] of errors) {
    assert.throws(() => parseWatchArgs(argv), (e) => e instanceof UsageError && re.test(e.message));
  }
});

Deno.test("exitCodeOf: exit code, or 128 + signal number", () => {
  assert.equal(exitCodeOf({ success: false, code: 3, signal: null }), 3);
  assert.equal(exitCodeOf({ success: false, code: 143, signal: "SIGTERM" }), 143);
  assert.equal(exitCodeOf({ success: false, code: 0, signal: "SIGKILL" }), 137);
});

Deno.test("an agent given a pid reports that process: its pid and a host:pid instance", async () => {
  const frames: Uint8Array[] = [];
  const agent = createAgent({
    service: "watched",
    pid: 4242,
    runtime: null,
    transport: {
      trySend: (f) => {
        frames.push(f);
        return Promise.resolve(true);
      },
      close() {},
    },
    readers: {
      read: () => ({ cpuPercent: 1, rssBytes: 2, heapUsedBytes: 3, loopLagMs: 0 }),
      close() {},
    },
  });
  agent.sampleNow();
  await agent.stop();
  const r = decode(frames[0]);
  assert.ok(r.ok);
  assert.equal(r.message.identity.pid, 4242);
  assert.equal(r.message.identity.instance, `${os.hostname()}:4242`);
  assert.throws(() => createAgent({ service: "x", pid: -1 }), RangeError);
});
