/**
 * Endpoints and byte connections for the ZMTP sender: `tcp://HOST:PORT` or `ipc://PATH`,
 * dialled with `Deno.connect` under Deno (no Node layer loaded: it costs ~3 MB of RSS) and
 * with `node:net` under Node. Connections are unref'd: an agent never keeps its app alive.
 *
 * @module
 */

/** Where to connect. */
export type Endpoint =
  | { kind: "tcp"; host: string; port: number }
  | { kind: "ipc"; path: string };

/** A byte stream: what `Deno.Conn` already is, and what the Node adapter makes. */
export interface ByteConn {
  /** Bytes read into `p`, or null at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Bytes of `p` written (maybe fewer than all). */
  write(p: Uint8Array): Promise<number>;
  close(): void;
}

/** Opens a connection to an endpoint. */
export type Dialer = (endpoint: Endpoint) => Promise<ByteConn>;

/**
 * Parse a connect endpoint; throws a TypeError that says what is accepted. Written without
 * regular expressions: the agent calls it, and an agent that never compiles one keeps the
 * regexp compiler's pages of the runtime out of its app's memory (issue 14).
 */
export function parseEndpoint(endpoint: string): Endpoint {
  const bad = () =>
    new TypeError(`endpoint ${JSON.stringify(endpoint)} is not tcp://HOST:PORT or ipc://PATH`);
  if (endpoint.startsWith("ipc://")) {
    const path = endpoint.slice(6);
    if (path.length === 0 || /* a line break ends a path */ hasLineBreak(path)) throw bad();
    return { kind: "ipc", path };
  }
  if (!endpoint.startsWith("tcp://")) throw bad();
  const rest = endpoint.slice(6);
  // HOST is [IPv6] or a name / IPv4 without ':', '/', '[', ']' or '*'; then :PORT.
  const colon = rest.startsWith("[") ? rest.indexOf("]") + 1 : rest.indexOf(":");
  if (colon <= 0 || rest[colon] !== ":") throw bad();
  const host = rest[0] === "[" ? rest.slice(1, colon - 1) : rest.slice(0, colon);
  const ok = rest[0] === "["
    ? host.length > 0 && every(host, (c) => isHex(c) || c === 58 /* : */ || c === 46 /* . */)
    : every(
      host,
      (c) => c !== 47 /* / */ && c !== 91 /* [ */ && c !== 93 /* ] */ && c !== 42, /* * */
    );
  const digits = rest.slice(colon + 1);
  const port = Number(digits);
  if (
    !ok || digits.length < 1 || digits.length > 5 || !every(digits, (c) => c >= 48 && c <= 57) ||
    port < 1 || port > 65535
  ) throw bad();
  return { kind: "tcp", host, port };
}

function every(s: string, test: (c: number) => boolean): boolean {
  for (let i = 0; i < s.length; i++) if (!test(s.charCodeAt(i))) return false;
  return true;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function hasLineBreak(s: string): boolean {
  return !every(s, (c) => c !== 10 && c !== 13 && c !== 0x2028 && c !== 0x2029);
}

/** The dialer of the runtime we are in. */
export const dialDefault: Dialer = (endpoint) =>
  "Deno" in globalThis ? dialDeno(endpoint) : dialNode(endpoint);

async function dialDeno(endpoint: Endpoint): Promise<ByteConn> {
  if (endpoint.kind === "ipc") {
    const conn = await Deno.connect({ transport: "unix", path: endpoint.path });
    conn.unref();
    return conn;
  }
  const conn = await Deno.connect({ hostname: endpoint.host, port: endpoint.port });
  conn.setNoDelay(true);
  conn.unref();
  return conn;
}

async function dialNode(endpoint: Endpoint): Promise<ByteConn> {
  const net = await import("node:net");
  const socket = endpoint.kind === "ipc"
    ? net.connect({ path: endpoint.path })
    : net.connect({ host: endpoint.host, port: endpoint.port, noDelay: true });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.unref();
  const chunks: Uint8Array[] = [];
  let ended = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  socket.on("data", (d: Uint8Array) => {
    chunks.push(d);
    notify();
  });
  socket.on("end", () => {
    ended = true;
    notify();
  });
  socket.on("close", () => {
    ended = true;
    notify();
  });
  socket.on("error", (e: Error) => {
    failure = e;
    notify();
  });
  return {
    async read(p) {
      while (chunks.length === 0 && !ended && !failure) {
        await new Promise<void>((r) => (wake = r));
      }
      if (chunks.length === 0) {
        if (failure) throw failure;
        return null;
      }
      const head = chunks[0];
      const n = Math.min(p.length, head.length);
      p.set(head.subarray(0, n));
      if (n === head.length) chunks.shift();
      else chunks[0] = head.subarray(n);
      return n;
    },
    write(p) {
      return new Promise((resolve, reject) =>
        socket.write(p, (e?: Error | null) => (e ? reject(e) : resolve(p.length)))
      );
    },
    close() {
      socket.destroy();
    },
  };
}
