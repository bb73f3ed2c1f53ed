/**
 * Test support: run `server.ts` as a real child process, learn its addresses from the
 * banner it prints, and stop it with a real signal.
 *
 * @module
 */

/** A collector running in a child process. */
export interface ServerProcess {
  httpUrl: string;
  zmqEndpoint: string;
  child: Deno.ChildProcess;
  /** Every line the process printed so far (stdout and stderr). */
  output: string[];
  /** Send a signal and wait for the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
}

const SERVER = new URL("../../server.ts", import.meta.url).pathname;

/** Start `server.ts` with `args` (add `--http 127.0.0.1:0 --zmq tcp://127.0.0.1:*` for free ports). */
export async function startServer(args: string[], timeoutMs = 15_000): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SERVER, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output: string[] = [];
  let httpUrl = "";
  let zmqEndpoint = "";
  let ready: () => void = () => {};
  const started = new Promise<void>((r) => ready = r);
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let buf = "";
    const text = new TextDecoder();
    for await (const bytes of stream) {
      buf += text.decode(bytes, { stream: true });
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        output.push(line);
        httpUrl ||= /Running on (http:\/\/\S+) =/.exec(line)?.[1] ?? "";
        zmqEndpoint ||= /^collecting on (\S+)/.exec(line)?.[1] ?? "";
        if (httpUrl && zmqEndpoint) ready();
      }
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const failed = await Promise.race([
    started.then(() => null),
    child.status.then((s) => `exited with ${s.code} during start-up`),
    new Promise<string>((r) =>
      timer = setTimeout(() => r(`no banner after ${timeoutMs} ms`), timeoutMs)
    ),
  ]);
  clearTimeout(timer);
  if (failed) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await child.status;
    await pumps;
    throw new Error(`server ${failed}:\n${output.join("\n")}`);
  }
  return {
    httpUrl,
    zmqEndpoint,
    child,
    output,
    async stop(signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
      const { code } = await child.status;
      await pumps;
      return code;
    },
  };
}
