/**
 * A Python command that counts the `signal`s it gets (SIGINT, SIGHUP, ...), for the tests of
 * how many times a signal reaches a watched command. It prints `ready` once listening; 1.5 s
 * after the first signal it writes `total N` to the file given as its argument, if any (a
 * hung-up terminal fails every print), then prints it.
 *
 * @module
 */

/** The script's text, for `signal` (a Python `signal` module name such as "SIGHUP"). */
export function signalCounter(signal: "SIGINT" | "SIGHUP"): string {
  return `
import signal, sys, time
n = 0
def count(s, f):
    global n
    n += 1
signal.signal(signal.${signal}, count)
print("ready", flush=True)
deadline = None
while deadline is None or time.time() < deadline:
    time.sleep(0.05)
    if n and deadline is None:
        deadline = time.time() + 1.5
if len(sys.argv) > 1:
    open(sys.argv[1], "w").write(f"total {n}")
print(f"total {n}", flush=True)
`;
}
