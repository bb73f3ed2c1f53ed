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

/** Parse a connect endpoint; throws a TypeError that says what is accepted. */
export function parseEndpoint(endpoint: string): Endpoint {
  const ipc = /^ipc:\/\/(.+)$/.exec(endpoint);
  if (ipc) return { kind: "ipc", path: ipc[1] };
  const tcp = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[^:/\[\]*]+):(\d{1,5})$/.exec(endpoint);
  const port = tcp ? Number(tcp[2]) : 0;
  if (!tcp || port < 1 || port > 65535) {
    throw new TypeError(
      `endpoint ${JSON.stringify(endpoint)} is not tcp://HOST:PORT or ipc://PATH`,
    );
  }
  return { kind: "tcp", host: tcp[1].replace(/^\[|\]$/g, ""), port };
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
