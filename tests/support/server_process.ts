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
  /** The OTLP/HTTP listener's base URL, when the args turned it on (`--otlp HOST:PORT`). */
  otlpUrl: string | null;
  child: Deno.ChildProcess;
  /** Every line the process printed so far (stdout and stderr). */
  output: string[];
  /** Send a signal and wait for the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
}

const SERVER = new URL("../../server.ts", import.meta.url).pathname;

/**
 * What a test's collector runs with unless its `args` name the flag: spare ports, no history
 * directory, and no OTLP listener (its default port 4318 is one for all).
 */
const TEST_DEFAULTS: Record<string, string> = {
  "--http": "127.0.0.1:0",
  "--zmq": "tcp://127.0.0.1:*",
  "--data": "none",
  "--otlp": "none",
};

/** Options for {@link startServer}. */
export interface StartOptions {
  /** How long to wait for the banner, ms (default 15 s). */
  timeoutMs?: number;
  /** The server.ts to run (default: this checkout's). */
  entry?: string;
}

/** Start `server.ts` with `args` on top of {@link TEST_DEFAULTS}. */
export async function startServer(
  args: string[],
  { timeoutMs = 15_000, entry = SERVER }: StartOptions = {},
): Promise<ServerProcess> {
  const defaults = Object.entries(TEST_DEFAULTS).filter(([flag]) => !args.includes(flag)).flat();
  const at = args.indexOf("--otlp");
  const wantsOtlp = at >= 0 && args[at + 1] !== "none";
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", entry, ...defaults, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output: string[] = [];
  let httpUrl = "";
  let zmqEndpoint = "";
  let otlpUrl: string | null = null;
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
        otlpUrl ??= /^OTLP\/HTTP metrics on (\S+)\/v1\/metrics/.exec(line)?.[1] ?? null;
        if (httpUrl && zmqEndpoint && (otlpUrl !== null || !wantsOtlp)) ready();
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
    otlpUrl,
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
