/**
 * A ZMTP 3.0 PUSH socket written in TypeScript, for the agent: it connects to the
 * collector's PULL socket (libzmq), handshakes with the NULL mechanism, and writes one
 * frame per send. It replaces npm:zeromq in the app, where the native binding costs
 * ~11 MB of RSS and a poller thread under Deno (docs/architecture.md, "Agent transport").
 *
 * It behaves as lib/transport/zmq.ts's `connectPush` does with `immediate`: while no collector is
 * connected `trySend` answers false at once, so the agent's own bounded backlog keeps the
 * samples in order; it redials with a back-off (100 ms doubling to 2 s). A send resolves
 * true once the kernel has the whole frame, which then leaves even if `close()` follows.
 * Nothing here keeps the process alive: the connection and the timers are unref'd.
 *
 * @module
 */
import { unrefTimer } from "../../platform.ts";
import { type ByteConn, dialDefault, type Dialer, parseEndpoint } from "./dial.ts";
import { createBackoff } from "../../backoff.ts";
import {
  asciiText,
  createPeerParser,
  greeting,
  messageFrame,
  readyCommand,
  readySocketType,
  ZmtpError,
} from "./wire.ts";

/** The sending half the agent's send loop needs (same shape as lib/transport/zmq.ts's `Sender`). */
export interface PushSocket {
  /** Resolves true when the frame was written, false when there is no collector now. */
  trySend(frame: Uint8Array): Promise<boolean>;
  /** Close the connection and stop redialling. */
  close(): void;
  /** Why the last connection attempt failed or ended, until one is ready; else null. */
  problem(): string | null;
}

/** Options for {@link connectZmtpPush}. */
export interface ZmtpPushOptions {
  /** How to open connections (default: Deno.connect or node:net). */
  dial?: Dialer;
  /** First redial delay, ms (default 100); doubles up to `reconnectMaxMs`. */
  reconnectMinMs?: number;
  /** Redial delay cap, ms (default 2000). */
  reconnectMaxMs?: number;
  /** A peer that accepts but never completes the handshake is dropped after this, ms. */
  handshakeTimeoutMs?: number;
  /**
   * A peer that is not a usable PULL socket (wrong mechanism, not ZMTP): one call per
   * connection. Refused or dropped connections are normal while a collector restarts and
   * are not reported.
   */
  onError?: (error: Error) => void;
}

/** Connect a PUSH socket to `endpoint` (`tcp://HOST:PORT` or `ipc://PATH`). */
export function connectZmtpPush(endpoint: string, opts: ZmtpPushOptions = {}): PushSocket {
  const target = parseEndpoint(endpoint);
  const dial = opts.dial ?? dialDefault;
  const redial = createBackoff({
    minMs: opts.reconnectMinMs ?? 100,
    maxMs: opts.reconnectMaxMs ?? 2000,
  });
  const handshakeMs = opts.handshakeTimeoutMs ?? 5000;
  let closed = false;
  let conn: ByteConn | null = null;
  let ready = false;
  let problem: string | null = null;
  let wakeSleep: (() => void) | null = null;

  const drop = (c: ByteConn) => {
    if (conn === c) {
      conn = null;
      ready = false;
    }
    try {
      c.close();
    } catch {
      // already closed
    }
  };

  /** One connection's life: handshake, then read (and discard) until it ends. */
  const session = async (c: ByteConn) => {
    const parser = createPeerParser();
    const timer = setTimeout(() => drop(c), handshakeMs);
    unrefTimer(timer);
    try {
      await writeAll(c, concat(greeting(), readyCommand("PUSH")));
      const buf = new Uint8Array(4096);
      let seen = 0;
      while (true) {
        // A reset ends the connection as end-of-stream does.
        const n = await c.read(buf).catch(() => null);
        if (n === null) {
          // libzmq answers a greeting whose mechanism it does not serve by closing the
          // connection after its own signature: a CURVE collector does that to a NULL agent.
          if (!parser.greeted && seen > 0 && conn === c) {
            throw new ZmtpError(
              "collector closed the connection at the ZMTP greeting: it most likely " +
                "requires CURVE; give the agent CURVE keys",
            );
          }
          return;
        }
        seen += n;
        for (const e of parser.push(buf.subarray(0, n))) {
          if (e.kind === "greeting" && e.mechanism !== "NULL") {
            throw new ZmtpError(
              `collector requires the ${e.mechanism} mechanism; give the agent CURVE keys`,
            );
          }
          if (e.kind === "command" && e.name === "READY" && !ready) {
            const type = readySocketType(e.body);
            if (type !== "PULL") throw new ZmtpError(`collector socket is ${type}, not PULL`);
            clearTimeout(timer);
            ready = true;
            problem = null;
          }
          if (e.kind === "command" && e.name === "ERROR") {
            throw new ZmtpError(`collector refused the connection: ${errorReason(e.body)}`);
          }
        }
      }
    } finally {
      clearTimeout(timer);
    }
  };

  const run = async () => {
    while (!closed) {
      try {
        const c = await dial(target);
        if (closed) {
          c.close();
          return;
        }
        conn = c;
        try {
          await session(c);
          if (!closed) {
            problem = ready
              ? "the collector closed the connection"
              : "no ZMTP handshake (is this a zeroapm collector's endpoint?)";
          }
        } finally {
          if (ready) redial.reset();
          drop(c);
        }
      } catch (e) {
        problem = e instanceof Error ? e.message : String(e);
        if (e instanceof ZmtpError && !closed) opts.onError?.(e);
      }
      if (closed) return;
      const delay = redial.next();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        unrefTimer(t);
        wakeSleep = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wakeSleep = null;
    }
  };
  run();

  return {
    async trySend(payload) {
      const c = conn;
      if (closed || !ready || !c) return false;
      try {
        // Nearly always written whole at once: no second async step then.
        const bytes = messageFrame(payload);
        const n = await c.write(bytes);
        if (n < bytes.length) await writeAll(c, bytes.subarray(n));
        return true;
      } catch {
        drop(c); // a frame cut in half spoils the stream: start a new connection
        return false;
      }
    },
    close() {
      closed = true;
      if (conn) drop(conn);
      wakeSleep?.();
    },
    problem: () => problem,
  };
}

async function writeAll(c: ByteConn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await c.write(bytes.subarray(at));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** ERROR command body: a one-octet length and the reason. */
function errorReason(body: Uint8Array): string {
  return asciiText(body.subarray(1, 1 + (body[0] ?? 0))) || "no reason given";
}
