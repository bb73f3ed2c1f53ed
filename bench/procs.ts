/**
 * Child processes of the benchmark: senders and the WebSocket reader run as separate
 * `deno run` processes, so the process under test (this one) is measured alone. They talk
 * JSON lines over stdout and take commands as lines on stdin.
 *
 * @module
 */

/** Lines of a byte stream, without their newline. */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buf = "";
  const text = new TextDecoder();
  for await (const bytes of stream) {
    buf += text.decode(bytes, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, nl);
      buf = buf.slice(nl + 1);
    }
  }
  if (buf.length > 0) yield buf;
}

/** A running child that speaks JSON lines. */
export class Child {
  #proc: Deno.ChildProcess;
  #lines: AsyncGenerator<string>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;

  constructor(script: string, arg: unknown) {
    const cmd = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(script, import.meta.url).pathname, JSON.stringify(arg)],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    });
    this.#proc = cmd.spawn();
    this.#lines = readLines(this.#proc.stdout);
    this.#writer = this.#proc.stdin.getWriter();
  }

  /** The child's process id (for /proc/<pid>/stat and /proc/<pid>/status). */
  get pid(): number {
    return this.#proc.pid;
  }

  /** The next JSON line the child prints (throws if it exits first). */
  async next<T>(): Promise<T> {
    const r = await this.#lines.next();
    if (r.done) throw new Error("benchmark child exited early");
    return JSON.parse(r.value) as T;
  }

  /** Send one command line. */
  async say(line: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(line + "\n"));
  }

  /** Close stdin (the child's cue to finish), read its last JSON line, wait for it to exit. */
  async result<T>(): Promise<T> {
    try {
      await this.#writer.close();
    } catch { /* already gone */ }
    const r = await this.next<T>();
    await this.finish();
    return r;
  }

  /** Close stdin (the child's cue to finish) and wait for it to exit. */
  async finish(): Promise<void> {
    try {
      await this.#writer.close();
    } catch { /* already gone */ }
    for await (const _ of this.#lines) { /* drain */ }
    await this.#proc.status;
  }

  /** Send it a signal (apps that take their commands as signals, bench/agent_app.ts). */
  signal(signal: Deno.Signal): void {
    this.#proc.kill(signal);
  }

  /** Kill it (on error paths). */
  kill(): void {
    try {
      this.#proc.kill("SIGKILL");
    } catch { /* already gone */ }
  }
}
