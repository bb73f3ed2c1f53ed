/**
 * The watcher's stop for `--tree`: a signal it passes on goes to the watched command and every
 * descendant, as a terminal's Ctrl-C reaches its whole foreground group and as systemd stops a
 * service's whole cgroup. Passed to the command alone, it ended a shell (`sh -c 'server &
 * wait'`, a start script) and left the processes the shell started running, orphaned.
 *
 * @module
 */
import { descendants, type ProcOptions, readAllStats, readProcess } from "../proc/read.ts";

/** A process as it was signalled: pid and start time (a reused pid is another process). */
export interface TreeProcess {
  pid: number;
  starttime: number;
}

/** Options for {@link signalTree} and {@link stillRunning}. */
export interface TreeOptions extends ProcOptions {
  /** Send a signal to a descendant (default `Deno.kill`). */
  kill?: (pid: number, signal: Deno.Signal) => void;
}

/**
 * Send `signal` to `root` (through `signalRoot`: the watcher's own child, which it kills
 * without a pid race) and to every descendant of it. The tree is read once, before any process
 * is signalled: a parent that exits at once hands its children to init, out of a later walk's
 * reach. Returns the descendants signalled (a process gone meanwhile is left out).
 */
export function signalTree(
  root: number,
  signal: Deno.Signal,
  signalRoot: (signal: Deno.Signal) => void,
  opts: TreeOptions = {},
): TreeProcess[] {
  const kill = opts.kill ?? Deno.kill;
  const stats = readAllStats(opts);
  const tree = descendants(root, stats).map((pid) => ({
    pid,
    starttime: stats.get(pid)!.starttime,
  }));
  try {
    signalRoot(signal);
  } catch { /* already exited */ }
  return tree.filter((p) => {
    try {
      kill(p.pid, signal);
      return true;
    } catch {
      return false; // exited since the walk
    }
  });
}

/** The processes of `list` still running: same start time, not a zombie. */
export function stillRunning(list: TreeProcess[], opts: ProcOptions = {}): TreeProcess[] {
  return list.filter((p) => {
    const now = readProcess(p.pid, opts);
    return now.ok && now.value.starttime === p.starttime &&
      !["Z", "X", "x"].includes(now.value.state);
  });
}

/** What {@link createTreeSignals} gives. */
export interface TreeSignals {
  /**
   * Send `signal` to the tree: the command, its descendants now, and the processes signalled
   * before that still run (orphans once their parent exited, out of the walk's reach).
   */
  signal(signal: Deno.Signal): void;
  /**
   * Once the command has exited: wait until every process signalled has exited too, at most
   * `timeoutMs`; resolves with those still running then.
   */
  settled(timeoutMs: number, everyMs?: number): Promise<TreeProcess[]>;
}

/** Signals for the tree of `root`, the watcher's child (`signalRoot` signals it). */
export function createTreeSignals(
  root: number,
  signalRoot: (signal: Deno.Signal) => void,
  opts: TreeOptions = {},
): TreeSignals {
  const kill = opts.kill ?? Deno.kill;
  let signalled: TreeProcess[] = [];
  const same = (a: TreeProcess, b: TreeProcess) => a.pid === b.pid && a.starttime === b.starttime;
  return {
    signal(signal) {
      const earlier = stillRunning(signalled, opts);
      const now = signalTree(root, signal, signalRoot, opts);
      for (const p of earlier) {
        if (now.some((q) => same(p, q))) continue;
        try {
          kill(p.pid, signal);
          now.push(p);
        } catch { /* exited */ }
      }
      signalled = now;
    },
    async settled(timeoutMs, everyMs = 50) {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        signalled = stillRunning(signalled, opts);
        if (signalled.length === 0 || Date.now() >= deadline) return signalled;
        await new Promise((r) => setTimeout(r, everyMs));
      }
    },
  };
}
