/**
 * The only module that imports npm:zeromq. It owns socket options and the two loops that
 * work around zeromq.js 6.8 under Deno 2.9 (see docs/architecture.md, "platform bugs"):
 *
 * - receive by draining while `socket.readable`, looking again after 1 ms, then every ~4 ms
 *   when idle (one repeating timer), every ~20 ms once no frame has come for 250 ms, because
 *   an awaited `receive()` can wait forever (denoland/deno#36317);
 * - send with `sendTimeout: 0` (any positive timeout segfaults Deno) and await every send
 *   from one caller (a send that is not awaited is lost);
 * - a short `linger` everywhere, or a process with queued messages never exits.
 *
 * CURVE (docs/security.md): `bindPull(ep, { curve })` makes the PULL a CURVE server and, with
 * an allowlist, answers ZAP (lib/transport/zap.ts) from a ROUTER in the same, private context;
 * `connectPush(ep, { curve })` makes an agent a CURVE client. Without `curve` nothing changes.
 *
 * @module
 */
import type * as Zmq from "zeromq";
import { LIMITS } from "../protocol.ts";
import { isZ85Key, serveZap, ZAP_ENDPOINT, type ZapDecision, type ZapHandler } from "./zap.ts";
import { errorMessage } from "../errors.ts";

/**
 * npm:zeromq, imported when this module is evaluated, by a specifier Deno cannot read ahead
 * of time. Deno fetches every `import("literal")` of a module graph at start-up, whether it
 * runs or not, and one npm specifier among them brings up its npm resolver: about 1 MiB of
 * RSS in every Deno app that loads the agent, which imports this module only for CURVE
 * (lib/agent/transport.ts; bench/agent_cost.ts). `import type` above is types only.
 */
const ZEROMQ = "zeromq";
const zmq: typeof Zmq = await import(ZEROMQ);

/** True when this libzmq build has CURVE (libsodium/tweetnacl); npm:zeromq ships with it. */
export const curveAvailable: boolean = zmq.capability.curve === true;

/** The collector's side of CURVE. */
export interface CurveServerOptions {
  /** The collector's secret key (Z85); agents are given its public key. */
  secretKey: string;
  /** The collector's public key (Z85): not needed by libzmq, kept for banners and checks. */
  publicKey: string;
  /**
   * Agent public keys allowed to send (read on every handshake: edit the set to change it,
   * existing connections stay). null: any client that knows the collector's public key may
   * send (encrypted, collector authenticated, agents not).
   */
  allow: ReadonlySet<string> | null;
  /** Each ZAP answer (allowed or not), e.g. to log refusals. Must not throw. */
  onAuth?(d: ZapDecision): void;
}

/** An agent's side of CURVE. */
export interface CurveClientOptions {
  /** The collector's public key (Z85). */
  serverKey: string;
  /** This agent's public key (Z85): the collector's allowlist names it. */
  publicKey: string;
  /** This agent's secret key (Z85). */
  secretKey: string;
}

/** The ZAP domain CURVE receivers use; the handler refuses requests for any other. */
export const ZAP_DOMAIN = "zeroapm";

function checkKeys(what: string, keys: Record<string, string>): void {
  if (!curveAvailable) throw new Error("this libzmq build has no CURVE support");
  for (const [name, v] of Object.entries(keys)) {
    if (!isZ85Key(v)) {
      throw new TypeError(`${what}.${name} must be a 40-character Z85 CURVE key`);
    }
  }
}

/** A bound receiving socket that hands every frame to a callback. */
export interface Receiver {
  /** The endpoint actually bound (a `*` port resolved to its number). */
  readonly endpoint: string;
  /** Drain what is already queued, then close. Resolves when the loop has ended. */
  close(): Promise<void>;
}

/** Options for {@link bindPull}, {@link bindSub} and {@link connectSub}. */
export interface ReceiverOptions {
  /**
   * Called once per frame, synchronously; it must not throw (errors are reported). The frame
   * is the Buffer zeromq made for it, passed as is (no view per frame): its bytes are its own
   * and stay valid, but its `slice()` is Buffer's, a view, not a copy.
   */
  onFrame(frame: Uint8Array): void;
  /** Called when `onFrame` throws or the socket fails; collection continues. */
  onError?(error: unknown): void;
  /** Largest frame accepted by the socket; larger ones drop the peer's connection. */
  maxMessageBytes?: number;
  /**
   * Receive queue bound per connection, in frames (default 1000). Frames may be up to
   * 1 MiB, so this bounds what one sender can park in the collector's memory.
   */
  receiveHighWaterMark?: number;
  /** How often an idle receiver looks for frames, ms (default 4). */
  maxIdleMs?: number;
  /**
   * How often it looks once no frame has come for {@link QUIET_AFTER_MS}, ms (default 20).
   * Each look wakes the process; 4 ms while quiet was ~20 ms of CPU a second for a collector
   * that receives nothing. The cost: a frame after a quiet spell waits up to this long.
   */
  quietIdleMs?: number;
  /**
   * Asked before each read while frames are waiting: a promise makes the loop wait for it
   * before reading on (frames stay queued in ZMQ, then senders meet the high-water mark);
   * null reads on. The collector passes its history thread's (lib/collector/history.ts).
   */
  backpressure?(): Promise<void> | null;
  /**
   * Called before the loop lets anything else run (it yields, waits or stops): the collector
   * hands on the frames ingest held (lib/collector/staged.ts). `burstEnd` is true once when a
   * burst ends (the loop read long enough to yield, then found the socket empty after its 1 ms
   * wait), never after a lone frame: the collector hands history over then. Must not throw.
   */
  beforeWait?(burstEnd: boolean): void;
  /** CURVE server keys and agent allowlist ({@link bindPull} only); absent: plain ZMTP. */
  curve?: CurveServerOptions;
}

/**
 * A receiving socket's options. `receiveTimeout: 0`: receive() (called only when readable)
 * resolves at once; else zeromq.js puts every 512th read off to a later turn of the event
 * loop, where timers and requests would run before `beforeWait` (and it asks ZMQ_EVENTS again).
 */
const receiving = (opts: ReceiverOptions) => ({
  linger: 0,
  receiveTimeout: 0,
  maxMessageSize: opts.maxMessageBytes ?? LIMITS.maxMessageBytes,
  receiveHighWaterMark: opts.receiveHighWaterMark ?? 1000,
});
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** On close, the receiver drains until no frame has arrived for this long, ms... */
const DRAIN_QUIET_MS = 50;
/** ...or until this long after close() was called, whichever comes first, ms. */
const DRAIN_MAX_MS = 1000;
/** Longest run of back-to-back receives before the loop lets the event loop run, ms. */
const YIELD_EVERY_MS = 5;
/**
 * After this long with no frame, ms, the idle receiver looks less often (quietIdleMs): a
 * sender that is due again within it (a burst's gap, an agent sending faster than 4 Hz) is
 * still met within maxIdleMs.
 */
export const QUIET_AFTER_MS = 250;

/**
 * Bind a PULL socket (agents PUSH to it) and start its receive loop. With `curve`, the socket
 * is a CURVE server in a context of its own: with an allowlist, a ZAP handler is bound in that
 * context before the socket binds (no handshake is ever answered without it), and
 * `zapEnforceDomain` makes libzmq refuse every client if the handler is gone. The private
 * context keeps `inproc://zeromq.zap.01` from clashing between two receivers in one process
 * and keeps any other ZAP handler in the process from answering for this socket.
 */
export async function bindPull(endpoint: string, opts: ReceiverOptions): Promise<Receiver> {
  const curve = opts.curve;
  let context: Zmq.Context | undefined;
  let zap: ZapHandler | null = null;
  if (curve) {
    checkKeys("curve", { secretKey: curve.secretKey, publicKey: curve.publicKey });
    context = new zmq.Context();
    if (curve.allow) zap = await startZap(context, curve.allow, curve.onAuth, opts.onError);
  }
  const socket = new zmq.Pull({
    ...receiving(opts),
    ...(curve
      ? {
        context,
        curveServer: true,
        curveSecretKey: curve.secretKey,
        ...(curve.allow ? { zapDomain: ZAP_DOMAIN, zapEnforceDomain: true } : {}),
      }
      : {}),
  });
  try {
    await socket.bind(endpoint);
  } catch (e) {
    socket.close();
    await zap?.close();
    throw new Error(`cannot bind ZMQ ${endpoint}: ${errorMessage(e)}`);
  }
  const receiver = runReceiver(socket, socket.lastEndpoint ?? endpoint, opts);
  if (!zap) return receiver;
  return {
    endpoint: receiver.endpoint,
    async close() {
      await receiver.close();
      await zap.close();
    },
  };
}

async function startZap(
  context: Zmq.Context,
  allow: ReadonlySet<string>,
  onDecision: CurveServerOptions["onAuth"],
  onError: ReceiverOptions["onError"],
): Promise<ZapHandler> {
  const router = new zmq.Router({ context, linger: 0 });
  try {
    await router.bind(ZAP_ENDPOINT);
  } catch (e) {
    router.close();
    throw new Error(`cannot start the ZAP handler: ${errorMessage(e)}`);
  }
  return serveZap({
    get readable() {
      return router.readable;
    },
    get closed() {
      return router.closed;
    },
    receive: () => router.receive(),
    send: (frames) => router.send(frames),
    close: () => router.close(),
  }, { allow, domain: ZAP_DOMAIN, onDecision, onError });
}

/**
 * Bind a SUB socket that PUB apps connect to, all topics: the seed prototype's collector,
 * whose apps do `PUB.connect("tcp://localhost:5555")`. Each PUB sends only what matches a
 * subscription it has received, so an app's first message may be lost (ZMQ's "slow joiner").
 */
export async function bindSub(endpoint: string, opts: ReceiverOptions): Promise<Receiver> {
  const socket = new zmq.Subscriber(receiving(opts));
  socket.subscribe();
  try {
    await socket.bind(endpoint);
  } catch (e) {
    socket.close();
    throw new Error(`cannot bind ZMQ SUB ${endpoint}: ${errorMessage(e)}`);
  }
  return runReceiver(socket, socket.lastEndpoint ?? endpoint, opts);
}

/** Connect a SUB socket to a PUB endpoint (the seed prototype's senders), all topics. */
export function connectSub(endpoint: string, opts: ReceiverOptions): Receiver {
  const socket = new zmq.Subscriber(receiving(opts));
  socket.connect(endpoint);
  socket.subscribe();
  return runReceiver(socket, endpoint, opts);
}

function runReceiver(
  socket: Zmq.Pull | Zmq.Subscriber,
  endpoint: string,
  opts: ReceiverOptions,
): Receiver {
  let stopping = false;
  let stoppedAt = Infinity;
  let stop = () => {};
  const stopped = new Promise<void>((r) => stop = r);
  const maxIdle = opts.maxIdleMs ?? 4;
  const quietIdle = Math.max(maxIdle, opts.quietIdleMs ?? 20);
  const report = opts.onError ?? (() => {});
  const beforeWait = opts.beforeWait ?? (() => {});
  /** The loop yielded since the last quiet spell: a burst, not a lone frame (beforeWait). */
  let yielded = false;
  // A short gap (a busy socket read empty for a moment) is waited out with one 1 ms timeout,
  // as before; past it, the loop waits on one repeating timer, made when first needed and
  // cleared once the loop has read back to back for a slice (YIELD_EVERY_MS), not on a new
  // timeout each try: under Deno 2.9 a setTimeout builds a Node-style Timeout each time, and
  // an idle receiver retrying every 1-4 ms that way took ~25 ms of CPU a second (an interval
  // at 4 ms: ~14, and it wakes every ~4.3 ms where the timeouts woke every ~5.3).
  let idleTries = 0;
  let wake: (() => void) | null = null;
  let ticker: ReturnType<typeof setInterval> | null = null;
  let tickerMs = 0;
  const tick = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  /** Wait for the repeating timer, made (or remade at a new period) when needed. */
  const idleWait = (ms: number) =>
    new Promise<void>((r) => {
      wake = r;
      if (ticker !== null && tickerMs === ms) return;
      if (ticker !== null) clearInterval(ticker);
      ticker = setInterval(tick, ms);
      tickerMs = ms;
    });
  const loop = (async () => {
    let slice = performance.now();
    let lastFrame = performance.now();
    while (true) {
      // Senders that never pause (a flood) must not hold the stop: at most DRAIN_MAX_MS.
      if (stopping && performance.now() - stoppedAt >= DRAIN_MAX_MS) break;
      if (socket.readable) {
        idleTries = 0;
        // One clock read per frame serves both the drain's quiet check and the yield.
        const t = performance.now();
        lastFrame = t;
        // A resolved receive() is only a microtask: without this, a busy socket starves the
        // event loop (HTTP, WebSocket writes, timers) until the queue is empty.
        if (t - slice > YIELD_EVERY_MS) {
          // A slice of back-to-back reads: the idle timer is not needed for now.
          if (ticker !== null) {
            clearInterval(ticker);
            ticker = null;
          }
          beforeWait(false);
          await sleep(0);
          yielded = true;
          slice = performance.now();
        }
        // Backpressure: frames wait in ZMQ. Not while stopping: the drain takes what is queued.
        const held = stopping ? null : opts.backpressure?.();
        if (held) {
          beforeWait(false);
          await Promise.race([held, stopped]);
          slice = performance.now();
          continue;
        }
        let frames: Buffer[];
        try {
          frames = await socket.receive();
        } catch (e) {
          if (socket.closed) break;
          report(e);
          continue;
        }
        // One frame per part (a SUB topic is a first part; one part is the common case). A
        // Buffer is a Uint8Array: handed over as it is, not wrapped in a new view per frame.
        for (const f of frames) {
          try {
            opts.onFrame(f);
          } catch (e) {
            report(e);
          }
        }
        continue;
      }
      const burstEnd = idleTries === 1 && yielded;
      if (burstEnd) yielded = false;
      beforeWait(burstEnd);
      // Stopping: drain until the socket has been quiet for a moment, so frames already on
      // the wire when close() was called still arrive (PUSH/PULL has no acknowledgement:
      // a frame reaching a closed socket is lost, and counted only as a sequence gap).
      if (stopping && performance.now() - lastFrame >= DRAIN_QUIET_MS) break;
      const quiet = performance.now() - lastFrame >= QUIET_AFTER_MS;
      await (idleTries++ === 0 ? sleep(1) : idleWait(quiet ? quietIdle : maxIdle));
      slice = performance.now();
    }
    beforeWait(false);
    if (ticker !== null) clearInterval(ticker);
    socket.close();
  })();
  return {
    endpoint,
    async close() {
      stopping = true;
      stoppedAt = performance.now();
      stop();
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

/** How often a CURVE agent that never got a frame through dials again, ms. */
export const CURVE_REDIAL_MS = 10_000;

/** Options for {@link connectPush}. */
export interface SenderOptions {
  /** Frames ZMQ may queue towards the collector before `trySend` answers false. */
  sendHighWaterMark?: number;
  /** How long close() lets queued frames leave, in ms. */
  lingerMs?: number;
  /** CURVE client keys; absent: plain ZMTP. */
  curve?: CurveClientOptions;
  /** CURVE only: redial period while refused, ms (default {@link CURVE_REDIAL_MS}). */
  redialMs?: number;
}

/**
 * Connect a PUSH socket to a collector. `immediate` keeps ZMQ from queueing frames for a
 * collector that is not connected, so the caller's own bounded backlog holds them (in order)
 * instead of a socket buffer that is lost when the connection drops.
 */
export function connectPush(endpoint: string, opts: SenderOptions = {}): Sender {
  const curve = opts.curve;
  if (curve) checkKeys("curve", { ...curve });
  const socket = new zmq.Push({
    linger: opts.lingerMs ?? 200,
    sendTimeout: 0,
    sendHighWaterMark: opts.sendHighWaterMark ?? 100,
    immediate: true,
    reconnectInterval: 100,
    reconnectMaxInterval: 2000,
    ...(curve
      ? {
        curveServerKey: curve.serverKey,
        curvePublicKey: curve.publicKey,
        curveSecretKey: curve.secretKey,
      }
      : {}),
  });
  socket.connect(endpoint);
  // A CURVE client the collector refused (ZAP 400) is never redialled by libzmq 4.3.5: it
  // would stay silent until restarted even once its key is allowed. Until one frame has been
  // taken since the last dial, dial again every CURVE_REDIAL_MS. (Not after a frame was
  // taken: a full queue also answers EAGAIN, and redialling would drop the queued frames.)
  const redialMs = opts.redialMs ?? CURVE_REDIAL_MS;
  let dialled = performance.now();
  let takenSinceDial = false;
  const redial = () => {
    if (!curve || takenSinceDial || performance.now() - dialled < redialMs) return;
    dialled = performance.now();
    try {
      socket.disconnect(endpoint);
    } catch {
      // ENOENT: libzmq already dropped the refused connection
    }
    socket.connect(endpoint);
  };
  return {
    async trySend(frame) {
      if (socket.closed) return false;
      try {
        await socket.send(frame);
        takenSinceDial = true;
        return true;
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === "EAGAIN" || code === "EBUSY") {
          redial();
          return false;
        }
        throw e;
      }
    },
    close() {
      if (!socket.closed) socket.close();
    },
  };
}
