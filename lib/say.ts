/**
 * A command line's own output when its terminal may be gone. Closing the terminal window a
 * command runs in hangs it up (SIGHUP), a clean stop like Ctrl-C; but from then on every write
 * to that terminal fails (EIO), and a throw from the "stopping..." line cut the stop short: no
 * goodbye from the apps, the collector's last second of history lost.
 *
 * @module
 */

/** Print `line` on stdout (or stderr), or nothing when it cannot be written. */
export function say(line: string, stream: "out" | "err" = "out"): void {
  try {
    (stream === "out" ? console.log : console.error)(line);
  } catch { /* no terminal to tell: carry on */ }
}
