/**
 * A ZAP handler (ZeroMQ RFC 27) for CURVE: libzmq asks it, over `inproc://zeromq.zap.01` in
 * the server socket's context, whether a client that completed the CURVE handshake may talk;
 * it answers 200 for a public key in the allowlist and 400 for anything else. zeromq.js has
 * no ZAP class, so this is a ROUTER served by a loop with lib/transport/zmq.ts's rules for Deno: drain
 * while `readable`, back off ~1 ms when idle, no receive timeout, await every send. lib/transport/zmq.ts
 * owns the socket (it is the only importer of zeromq) and hands it to {@link serveZap}.
 *
 * @module
 */
import { createBackoff } from "../backoff.ts";

const Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
const Z85_VALUE = new Map([...Z85].map((c, i) => [c, i]));

/** True when `s` is a CURVE key: 40 Z85 characters that decode to 32 bytes. */
export function isZ85Key(s: unknown): s is string {
  return typeof s === "string" && s.length === 40 && z85Decode(s) !== null;
}

/** Z85-encode bytes (length a multiple of 4), as libzmq's `zmq_z85_encode`. */
export function z85Encode(data: Uint8Array): string {
  if (data.length % 4 !== 0) throw new RangeError("z85: length must be a multiple of 4");
  let out = "";
  for (let i = 0; i < data.length; i += 4) {
    let v = ((data[i] << 24) | (data[i + 1] << 16) | (data[i + 2] << 8) | data[i + 3]) >>> 0;
    let chunk = "";
    for (let j = 0; j < 5; j++) {
      chunk = Z85[v % 85] + chunk;
      v = Math.floor(v / 85);
    }
    out += chunk;
  }
  return out;
}

/** Z85-decode text (length a multiple of 5); null when it is not Z85. */
export function z85Decode(text: string): Uint8Array | null {
  if (text.length % 5 !== 0) return null;
  const out = new Uint8Array((text.length / 5) * 4);
  for (let i = 0, o = 0; i < text.length; i += 5) {
    let v = 0;
    for (let j = 0; j < 5; j++) {
      const d = Z85_VALUE.get(text[i + j]);
      if (d === undefined) return null;
      v = v * 85 + d;
    }
    if (v > 0xffffffff) return null;
    out[o++] = (v >>> 24) & 255;
    out[o++] = (v >>> 16) & 255;
    out[o++] = (v >>> 8) & 255;
    out[o++] = v & 255;
  }
  return out;
}

/** The inproc endpoint libzmq sends ZAP requests to. */
export const ZAP_ENDPOINT = "inproc://zeromq.zap.01";

/** What {@link serveZap} needs of a ROUTER socket. */
export interface ZapSocket {
  readonly readable: boolean;
  readonly closed: boolean;
  receive(): Promise<Uint8Array[]>;
  send(frames: (Uint8Array | string)[]): Promise<void>;
  close(): void;
}

/** One answered request, for logs and counters. */
export interface ZapDecision {
  allowed: boolean;
  /** Client public key (Z85), or null when the request was not CURVE. */
  key: string | null;
  /** Client IP address as libzmq saw it. */
  address: string;
  mechanism: string;
  domain: string;
}

/** Options for {@link serveZap}. */
export interface ZapOptions {
  /** Allowed client public keys (Z85). Read on every request: edit the set to change it. */
  allow: ReadonlySet<string>;
  /** Only requests for this ZAP domain are allowed (the server socket's `zapDomain`). */
  domain: string;
  /** Called after each answer; must not throw. */
  onDecision?(d: ZapDecision): void;
  /** Called on a socket error; the handler keeps serving. */
  onError?(e: unknown): void;
}

/** A running handler. */
export interface ZapHandler {
  readonly allowed: number;
  readonly denied: number;
  /** Stop answering and close the socket; resolves when the loop has ended. */
  close(): Promise<void>;
}

/**
 * Made on first use, not at load: the agent loads this module (for its key checks, through
 * keys.ts) and a `TextDecoder` is ~0.2 MiB of RSS in a plain app (docs/benchmarks-changes.md,
 * stop 32).
 */
let decoder: TextDecoder | undefined;
const utf8 = (b: Uint8Array): string => (decoder ??= new TextDecoder()).decode(b);

/**
 * Answer one request. `frames` is what the ROUTER received: [routing id, empty delimiter,
 * "1.0", request id, domain, address, identity, mechanism, credentials...]. Returns the reply
 * frames (routing id, delimiter, "1.0", request id, status code, status text, user id,
 * metadata) and the decision; a request too malformed to answer gets null (libzmq never
 * sends one, and a reply it cannot match would be dropped anyway).
 */
export function answer(
  frames: Uint8Array[],
  opts: Pick<ZapOptions, "allow" | "domain">,
): { reply: (Uint8Array | string)[]; decision: ZapDecision } | null {
  if (frames.length < 8 || frames[1].length !== 0) return null;
  const [route, , version, requestId, domainF, addressF, , mechanismF] = frames;
  const domain = utf8(domainF);
  const mechanism = utf8(mechanismF);
  const address = utf8(addressF);
  const credential = frames[8];
  const key = mechanism === "CURVE" && credential?.length === 32 && frames.length === 9
    ? z85Encode(credential)
    : null;
  const ok = utf8(version) === "1.0" && domain === opts.domain && key !== null;
  const allowed = ok && opts.allow.has(key);
  const reply = [
    route,
    "",
    "1.0",
    requestId,
    allowed ? "200" : "400",
    allowed ? "OK" : key === null ? "CURVE required" : "key not allowed",
    allowed ? key : "",
    "",
  ];
  return { reply, decision: { allowed, key, address, mechanism, domain } };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Serve ZAP requests on a ROUTER already bound to {@link ZAP_ENDPOINT} until `close()`.
 * A handshake waits for the answer, so the idle back-off stays at 1-2 ms.
 */
export function serveZap(socket: ZapSocket, opts: ZapOptions): ZapHandler {
  let stopping = false;
  let allowed = 0;
  let denied = 0;
  const report = opts.onError ?? (() => {});
  const loop = (async () => {
    const idle = createBackoff({ minMs: 1, maxMs: 2 });
    while (!stopping && !socket.closed) {
      if (!socket.readable) {
        await sleep(idle.next());
        continue;
      }
      idle.reset();
      try {
        const done = answer(await socket.receive(), opts);
        if (!done) continue;
        await socket.send(done.reply);
        if (done.decision.allowed) allowed++;
        else denied++;
        try {
          opts.onDecision?.(done.decision);
        } catch (e) {
          report(e);
        }
      } catch (e) {
        if (socket.closed) break;
        report(e);
      }
    }
    if (!socket.closed) socket.close();
  })();
  return {
    get allowed() {
      return allowed;
    },
    get denied() {
      return denied;
    },
    async close() {
      stopping = true;
      await loop;
    },
  };
}
