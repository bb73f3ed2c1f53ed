import assert from "node:assert/strict";
import { createTreeSignals } from "../../lib/sidecar/tree_signal.ts";

/** A fake /proc under a temp dir: `set(pid, ppid, starttime, state)`; `drop(pid)`: exited. */
async function fakeProc() {
  const root = await Deno.makeTempDir({ prefix: "zeroapm-tree-" });
  return {
    root,
    async set(pid: number, ppid: number, starttime: number, state = "S") {
      await Deno.mkdir(`${root}/proc/${pid}`, { recursive: true });
      await Deno.writeTextFile(
        `${root}/proc/${pid}/stat`,
        `${pid} (p) ${state} ${ppid} ${pid} ${pid} 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 ${starttime} ` +
          `1000 10 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0`,
      );
    },
    drop: (pid: number) => Deno.remove(`${root}/proc/${pid}`, { recursive: true }),
    close: () => Deno.remove(root, { recursive: true }),
  };
}

Deno.test("a tree signal reaches the command and every descendant, and later ones reach the orphans", async () => {
  const proc = await fakeProc();
  try {
    await proc.set(100, 1, 10); // the command (a shell)
    await proc.set(101, 100, 11); // a server it started
    await proc.set(102, 101, 12); // the server's worker
    await proc.set(200, 1, 13); // a stranger
    const sent: string[] = [];
    const tree = createTreeSignals(100, (s) => sent.push(`100 ${s}`), {
      root: proc.root,
      kill: (pid, s) => sent.push(`${pid} ${s}`),
    });
    tree.signal("SIGTERM");
    assert.deepEqual(sent, ["100 SIGTERM", "101 SIGTERM", "102 SIGTERM"]);

    // The shell died of it; its server, still stopping, now belongs to init: out of the
    // walk's reach, yet a second SIGTERM (a second stop) must reach it.
    sent.length = 0;
    await proc.drop(100);
    await proc.set(101, 1, 11);
    await proc.set(102, 101, 12, "Z"); // the worker exited, not reaped yet
    assert.deepEqual((await tree.settled(0)).map((p) => p.pid), [101]);
    tree.signal("SIGTERM");
    assert.deepEqual(sent, ["100 SIGTERM", "101 SIGTERM"]);

    // The server exits and its pid is taken by another process: the tree has settled.
    await proc.set(101, 1, 99);
    assert.deepEqual(await tree.settled(1000, 10), []);
  } finally {
    await proc.close();
  }
});
