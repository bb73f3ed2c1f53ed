/**
 * Test support for hostile peers on real sockets: raw TCP garbage, a hand-made ZMTP 3.0
 * peer that claims a frame of gigabytes, a WebSocket client that never reads, and a
 * process's resident memory read from /proc.
 *
 * @module
 */
import { prng } from "./fuzz.ts";
import { greeting, readyCommand } from "../../lib/transport/zmtp/wire.ts";

/** Resident set size of a process in bytes (VmRSS in /proc/<pid>/status). */
export function rssOf(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** Host and port of a `tcp://host:port` endpoint. */
export function tcpAddress(endpoint: string): { hostname: string; port: number } {
  const m = /^tcp:\/\/(.+):(\d+)$/.exec(endpoint);
  if (!m) throw new Error(`not a tcp endpoint: ${endpoint}`);
  return { hostname: m[1], port: Number(m[2]) };
}

async function writeQuietly(conn: Deno.Conn, bytes: Uint8Array): Promise<boolean> {
  try {
    let off = 0;
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    return true;
  } catch {
    return false; // the peer hung up on us: that is the point
  }
}

/**
 * Open `connections` TCP connections (up to `parallel` at a time) and write random bytes
 * on each (`bytesEach`), then close. Returns the bytes written.
 */
export async function tcpGarbage(
  endpoint: string,
  opts: { connections: number; bytesEach: number; parallel?: number; seed?: number },
): Promise<{ bytes: number; refusedWrites: number }> {
  const addr = tcpAddress(endpoint);
  const r = prng(opts.seed ?? 1);
  let bytes = 0;
  let refusedWrites = 0;
  let next = 0;
  const worker = async () => {
    while (next < opts.connections) {
      const i = next++;
      const conn = await Deno.connect(addr);
      const buf = new Uint8Array(opts.bytesEach);
      for (let k = 0; k < buf.length; k++) buf[k] = Math.floor(r() * 256);
      // Half the connections start with a valid ZMTP signature, so the parser gets further.
      if (i % 2 === 0) buf.set(greeting().subarray(0, Math.min(10, buf.length)));
      if (await writeQuietly(conn, buf)) bytes += buf.length;
      else refusedWrites++;
      try {
        conn.close();
      } catch { /* closed by the peer */ }
    }
  };
  await Promise.all(Array.from({ length: opts.parallel ?? 16 }, worker));
  return { bytes, refusedWrites };
}

/** A long message frame header (flags 0x02) that claims `size` bytes follow. */
export function zmtpLongFrameHeader(size: bigint): Uint8Array {
  const h = new Uint8Array(9);
  h[0] = 0x02;
  new DataView(h.buffer).setBigUint64(1, size);
  return h;
}

/**
 * Connect as a ZMTP PUSH peer, complete the handshake, then send a frame header claiming
 * `claimBytes` and `followBytes` bytes of it. Resolves with whether the collector closed the
 * connection (a read returning null or failing) within `waitMs`.
 */
export async function zmtpHugeFrame(
  endpoint: string,
  claimBytes: bigint,
  followBytes: number,
  waitMs = 2000,
): Promise<{ closedByPeer: boolean; wrote: number }> {
  const conn = await Deno.connect(tcpAddress(endpoint));
  let wrote = 0;
  const ok = async (b: Uint8Array) => {
    const done = await writeQuietly(conn, b);
    if (done) wrote += b.length;
    return done;
  };
  const readSome = async (n: number) => {
    const buf = new Uint8Array(n);
    return await conn.read(buf);
  };
  let closedByPeer = false;
  try {
    await ok(greeting());
    await readSome(64); // the collector's greeting (may arrive in pieces: we only need progress)
    await ok(readyCommand("PUSH"));
    await ok(zmtpLongFrameHeader(claimBytes));
    const chunk = new Uint8Array(64 * 1024).fill(0x41);
    for (let sent = 0; sent < followBytes; sent += chunk.length) {
      if (!(await ok(chunk))) {
        closedByPeer = true;
        break;
      }
    }
    if (!closedByPeer) {
      // Drain whatever the collector sent (its READY) until it hangs up, or give up.
      const deadline = Date.now() + waitMs;
      let pending = readSome(4096).catch(() => null);
      while (Date.now() < deadline) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), 200));
        const got = await Promise.race([pending, timeout]);
        clearTimeout(timer);
        if (got === "timeout") continue;
        if (got === null) {
          closedByPeer = true;
          break;
        }
        pending = readSome(4096).catch(() => null);
      }
    }
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
  return { closedByPeer, wrote };
}

/**
 * Open a WebSocket to `httpUrl + path` by hand over TCP, read the 101 answer, and then never
 * read again: a client whose receive window fills and stays full. Returns the connection.
 */
export async function stuckWebSocket(httpUrl: string, path = "/ws?metrics=*"): Promise<Deno.Conn> {
  const url = new URL(httpUrl);
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  const req = `GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\n` +
    `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
    `Sec-WebSocket-Version: 13\r\n\r\n`;
  await conn.write(new TextEncoder().encode(req));
  const buf = new Uint8Array(512); // the answer's head; the hello may follow: left unread
  const n = await conn.read(buf);
  const head = new TextDecoder().decode(buf.subarray(0, n ?? 0));
  if (!head.startsWith("HTTP/1.1 101")) throw new Error(`no upgrade: ${head.slice(0, 80)}`);
  return conn;
}
