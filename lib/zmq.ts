/**
 * The only module that imports npm:zeromq. It owns socket options and the two loops that
 * work around zeromq.js 6.8 under Deno 2.9 (see docs/architecture.md, "platform bugs"):
 *
 * - receive by draining while `socket.readable`, backing off ~1 ms when idle, because an
 *   awaited `receive()` can wait forever (denoland/deno#36317);
 * - send with `sendTimeout: 0` (any positive timeout segfaults Deno) and await every send
 *   from one caller (a send that is not awaited is lost);
 * - a short `linger` everywhere, or a process with queued messages never exits.
 *
 * @module
 */
import * as zmq from "zeromq";
import { LIMITS } from "./protocol.ts";

/** A bound receiving socket that hands every frame to a callback. */
export interface Receiver {
  /** The endpoint actually bound (a `*` port resolved to its number). */
  readonly endpoint: string;
  /** Drain what is already queued, then close. Resolves when the loop has ended. */
  close(): Promise<void>;
}

/** Options for {@link bindPull} and {@link connectSub}. */
export interface ReceiverOptions {
  /** Called once per frame, synchronously; it must not throw (errors are reported). */
  onFrame(frame: Uint8Array): void;
  /** Called when `onFrame` throws or the socket fails; collection continues. */
  onError?(error: unknown): void;
  /** Largest frame accepted by the socket; larger ones drop the peer's connection. */
  maxMessageBytes?: number;
  /** Receive queue bound, in messages. */
  receiveHighWaterMark?: number;
  /** Idle back-off cap in ms (starts at 1 ms, doubles while idle). */
  maxIdleMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Longest run of back-to-back receives before the loop lets the event loop run, ms. */
const YIELD_EVERY_MS = 5;

/** Bind a PULL socket (agents PUSH to it) and start its receive loop. */
export async function bindPull(endpoint: string, opts: ReceiverOptions): Promise<Receiver> {
  const socket = new zmq.Pull({
    linger: 0,
    maxMessageSize: opts.maxMessageBytes ?? LIMITS.maxMessageBytes,
    receiveHighWaterMark: opts.receiveHighWaterMark ?? 10_000,
  });
  try {
    await socket.bind(endpoint);
  } catch (e) {
    socket.close();
    throw new Error(`cannot bind ZMQ ${endpoint}: ${(e as Error).message}`);
  }
  return runReceiver(socket, socket.lastEndpoint ?? endpoint, opts);
}

/** Connect a SUB socket to a PUB endpoint (the seed prototype's senders), all topics. */
export function connectSub(endpoint: string, opts: ReceiverOptions): Receiver {
  const socket = new zmq.Subscriber({
    linger: 0,
    maxMessageSize: opts.maxMessageBytes ?? LIMITS.maxMessageBytes,
    receiveHighWaterMark: opts.receiveHighWaterMark ?? 10_000,
  });
  socket.connect(endpoint);
  socket.subscribe();
  return runReceiver(socket, endpoint, opts);
}

function runReceiver(
  socket: zmq.Pull | zmq.Subscriber,
  endpoint: string,
  opts: ReceiverOptions,
): Receiver {
  let stopping = false;
  const maxIdle = opts.maxIdleMs ?? 4;
  const report = opts.onError ?? (() => {});
  const loop = (async () => {
    let idle = 1;
    let slice = performance.now();
    while (true) {
      if (socket.readable) {
        idle = 1;
        // A resolved receive() is only a microtask: without this, a busy socket starves the
        // event loop (HTTP, WebSocket writes, timers) until the queue is empty.
        if (performance.now() - slice > YIELD_EVERY_MS) {
          await sleep(0);
          slice = performance.now();
        }
        let frames: Buffer[];
        try {
          frames = await socket.receive();
        } catch (e) {
          if (socket.closed) break;
          report(e);
          continue;
        }
        // A multipart message is one frame per part; SUB topics arrive as the first part
        // of a multipart message, and a single-part JSON message is the common case.
        for (const f of frames) {
          try {
            opts.onFrame(new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
          } catch (e) {
            report(e);
          }
        }
        continue;
      }
      if (stopping) break; // nothing left queued: the drain is complete
      await sleep(idle);
      slice = performance.now();
      idle = Math.min(idle * 2, maxIdle);
    }
    socket.close();
  })();
  return {
    endpoint,
    async close() {
      stopping = true;
      await loop;
    },
  };
}

/** A connected PUSH socket that never blocks its caller. */
export interface Sender {
  /**
   * Try to send one frame. Resolves true when ZMQ took it, false when it could not take it
   * now (no peer connected yet, or the high-water mark is reached): keep it and try later.
   * Only one send may be pending at a time; callers await each one.
   */
  trySend(frame: Uint8Array): Promise<boolean>;
  /** Close; queued frames get `lingerMs` to leave. */
  close(): void;
}

/** Options for {@link connectPush}. */
export interface SenderOptions {
  /** Frames ZMQ may queue towards the collector before `trySend` answers false. */
  sendHighWaterMark?: number;
  /** How long close() lets queued frames leave, in ms. */
  lingerMs?: number;
}

/**
 * Connect a PUSH socket to a collector. `immediate` keeps ZMQ from queueing frames for a
 * collector that is not connected, so the caller's own bounded backlog holds them (in order)
 * instead of a socket buffer that is lost when the connection drops.
 */
export function connectPush(endpoint: string, opts: SenderOptions = {}): Sender {
  const socket = new zmq.Push({
    linger: opts.lingerMs ?? 200,
    sendTimeout: 0,
    sendHighWaterMark: opts.sendHighWaterMark ?? 100,
    immediate: true,
    reconnectInterval: 100,
    reconnectMaxInterval: 2000,
  });
  socket.connect(endpoint);
  return {
    async trySend(frame) {
      if (socket.closed) return false;
      try {
        await socket.send(frame);
        return true;
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === "EAGAIN" || code === "EBUSY") return false;
        throw e;
      }
    },
    close() {
      if (!socket.closed) socket.close();
    },
  };
}
