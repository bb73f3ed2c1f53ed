import assert from "node:assert/strict";
import { inTerminalForeground } from "../../lib/signals.ts";

// /proc/self/stat: pid (comm) state ppid pgrp session tty_nr tpgid flags ...
const stat = (pgrp: number, tty: number, tpgid: number, comm = "deno") =>
  `4711 (${comm}) S 4000 ${pgrp} 3900 ${tty} ${tpgid} 4194560 0 0`;

Deno.test("in the terminal's foreground when the terminal's foreground group is ours", () => {
  assert.equal(inTerminalForeground(() => stat(4700, 34816, 4700)), true);
  // A background job: the terminal's foreground group is another.
  assert.equal(inTerminalForeground(() => stat(4700, 34816, 3900)), false);
  // No terminal at all (a service, a pipe from CI).
  assert.equal(inTerminalForeground(() => stat(4700, 0, -1)), false);
  // A command name with spaces and parentheses does not shift the fields.
  assert.equal(inTerminalForeground(() => stat(4700, 34816, 4700, "a (b) c")), true);
  // No /proc (not Linux): not known to be foreground, so signals are passed on.
  assert.equal(
    inTerminalForeground(() => {
      throw new Error("no /proc");
    }),
    false,
  );
});
