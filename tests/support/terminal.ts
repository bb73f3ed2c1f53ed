/**
 * Test support: a command in a terminal window the test can close (tests/fixtures/terminal.py
 * on a real pseudo-terminal). Closing it is a real hang-up: the command, the terminal's session
 * leader, gets SIGHUP, and its writes to the terminal fail (EIO) from then on.
 *
 * @module
 */
import { waitFor } from "./live.ts";

const TERMINAL = new URL("../fixtures/terminal.py", import.meta.url).pathname;

/** A command running in a terminal window. */
export interface Terminal {
  /** What the command printed to the terminal so far (lines end in \r\n). */
  readonly output: string;
  /** Wait until the output matches `re`; returns the match. */
  printed(re: RegExp, what: string, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Close the window: the kernel hangs the terminal up. */
  hangUp(): Promise<void>;
  /** How the command ended, once it has: `exit N` or `signal N`. */
  ended(timeoutMs?: number): Promise<string>;
  /** Close the window if still open, kill the command if still running, wait for both. */
  close(): Promise<void>;
}

/** Run `command` (no shell) as the session leader of a new terminal. */
export function openTerminal(command: string[], env: Record<string, string> = {}): Terminal {
  const child = new Deno.Command("python3", {
    args: [TERMINAL, ...command],
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let output = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const bytes of child.stdout) output += decoder.decode(bytes, { stream: true });
  })();
  const keys = child.stdin.getWriter();
  const printed = (re: RegExp, what: string, timeoutMs = 30_000) =>
    waitFor(() => re.exec(output), `${what}; the terminal shows:\n${output}`, timeoutMs, 50);
  return {
    get output() {
      return output;
    },
    printed,
    async hangUp() {
      await keys.write(new TextEncoder().encode("\n"));
    },
    async ended(timeoutMs = 30_000) {
      return (await printed(/\nterminal: ((?:exit|signal) \d+)\n/, "the command's end", timeoutMs))[
        1
      ];
    },
    async close() {
      await keys.close().catch(() => {}); // end of input closes the window too
      const ended = await Promise.race([
        child.status.then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), 10_000)),
      ]);
      if (!ended) {
        // The command ignored the hang-up: end it, then its terminal (which waits for it).
        const pid = Number(/^terminal: pid (\d+)/.exec(output)?.[1] ?? 0);
        try {
          if (pid > 0) Deno.kill(pid, "SIGKILL");
        } catch { /* gone meanwhile */ }
        await Promise.race([child.status, new Promise((r) => setTimeout(r, 2000))]);
        try {
          child.kill("SIGKILL");
        } catch { /* exited */ }
      }
      await child.status;
      await reading;
    },
  };
}
