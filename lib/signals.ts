/**
 * Stop signals for the command-line entry points (`server.ts`, `backend_app.ts`, the demo):
 * the first one (Ctrl-C, SIGTERM, or SIGHUP: the terminal closed) starts a clean stop, a later
 * one means "stop now"; and the watcher's relay of signals to its command ({@link relaySignals}).
 * The same signal again within {@link REPEAT_MS} is the first one arriving by a second route,
 * not a second Ctrl-C: `timeout` signals its child and then its whole group, and `deno task`
 * passes a signal on that the group's has already brought.
 *
 * @module
 */

/** How soon after the first the same signal is taken for the first one again, ms. */
export const REPEAT_MS = 1000;

/** What {@link listenForSignals} gives. */
export interface StopSignals {
  /** The first signal. */
  first: Promise<Deno.Signal>;
  /** Stop listening. */
  dispose(): void;
}

/**
 * Listen for `names`: the first resolves `first`; later ones call `again`, except the first
 * signal repeated within {@link REPEAT_MS}.
 */
export function listenForSignals(
  names: readonly Deno.Signal[],
  again: (signal: Deno.Signal) => void,
): StopSignals {
  let resolve: (s: Deno.Signal) => void = () => {};
  let seen: { signal: Deno.Signal; at: number } | null = null;
  const first = new Promise<Deno.Signal>((r) => resolve = r);
  const handlers = names.map((s) => () => {
    const at = performance.now();
    if (!seen) {
      seen = { signal: s, at };
      return resolve(s);
    }
    if (s !== seen.signal || at - seen.at >= REPEAT_MS) again(s);
  });
  names.forEach((s, i) => Deno.addSignalListener(s, handlers[i]));
  return {
    first,
    dispose: () => names.forEach((s, i) => Deno.removeSignalListener(s, handlers[i])),
  };
}

/**
 * Whether this process is in its terminal's foreground process group (Linux, /proc/self/stat:
 * a terminal, and its foreground group is ours). A key there (Ctrl-C) or a hang-up signals
 * every process of the group: a child we started gets the signal from the terminal too.
 */
export function inTerminalForeground(
  readStat: () => string = () => Deno.readTextFileSync("/proc/self/stat"),
): boolean {
  try {
    const stat = readStat();
    // After "(comm) ": state ppid pgrp session tty_nr tpgid ...
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const [pgrp, tty, tpgid] = [Number(f[2]), Number(f[4]), Number(f[5])];
    return tty !== 0 && tpgid === pgrp;
  } catch {
    return false; // no /proc: pass everything on
  }
}

/** Signals the terminal sends to its whole foreground group: a key, or the line hung up. */
const FROM_TERMINAL: ReadonlySet<Deno.Signal> = new Set(["SIGINT", "SIGHUP"]);

/**
 * Pass `names` on to a child in this process group (`relay`), so that each reaches it once:
 * not the same signal again within {@link REPEAT_MS} (a second route: `deno task`, `timeout`),
 * and not SIGINT or SIGHUP while this process is in its terminal's foreground group (the
 * terminal sent them to the child as well: one Ctrl-C reached a watched command three times).
 */
export function relaySignals(
  names: readonly Deno.Signal[],
  relay: (signal: Deno.Signal) => void,
  foreground: () => boolean = inTerminalForeground,
): { dispose(): void } {
  const last = new Map<Deno.Signal, number>();
  const handlers = names.map((s) => () => {
    const at = performance.now();
    const previous = last.get(s);
    last.set(s, at);
    if (previous !== undefined && at - previous < REPEAT_MS) return;
    if (FROM_TERMINAL.has(s) && foreground()) return;
    relay(s);
  });
  names.forEach((s, i) => Deno.addSignalListener(s, handlers[i]));
  return { dispose: () => names.forEach((s, i) => Deno.removeSignalListener(s, handlers[i])) };
}
