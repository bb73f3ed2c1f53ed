/**
 * The few bytes of ZMTP 3.0 (rfc.zeromq.org/spec/23) a PUSH socket needs with the NULL
 * mechanism: the 64-byte greeting, the READY command, message frames, and a parser for
 * what the peer sends back (its greeting and commands). Pure functions over bytes, so the
 * handshake is tested without a socket; lib/transport/zmtp/push.ts drives them over a connection.
 *
 * @module
 */

/** Greeting length: signature (10), version (2), mechanism (20), as-server (1), filler (31). */
export const GREETING_BYTES = 64;
/** Largest frame accepted from the peer: a PULL sends only a few small commands. */
export const MAX_PEER_FRAME_BYTES = 64 * 1024;

const FLAG_MORE = 0x01;
const FLAG_LONG = 0x02;
const FLAG_COMMAND = 0x04;

/** Our greeting: ZMTP 3.0, mechanism NULL, as client. */
export function greeting(): Uint8Array {
  const g = new Uint8Array(GREETING_BYTES);
  g[0] = 0xff;
  g[9] = 0x7f;
  g[10] = 3;
  g[11] = 0;
  g.set(ascii("NULL"), 12);
  return g;
}

/** A READY command announcing `socketType` (metadata `Socket-Type`), as one command frame. */
export function readyCommand(socketType: string): Uint8Array {
  const name = ascii("READY");
  const key = ascii("Socket-Type");
  const value = ascii(socketType);
  const body = new Uint8Array(1 + name.length + 1 + key.length + 4 + value.length);
  let at = 0;
  body[at++] = name.length;
  body.set(name, at);
  at += name.length;
  body[at++] = key.length;
  body.set(key, at);
  at += key.length;
  new DataView(body.buffer).setUint32(at, value.length);
  body.set(value, at + 4);
  return frame(body, FLAG_COMMAND);
}

/** One single-part message frame holding `payload` (header and payload in one buffer). */
export function messageFrame(payload: Uint8Array): Uint8Array {
  return frame(payload, 0);
}

function frame(body: Uint8Array, flags: number): Uint8Array {
  const long = body.length > 255;
  const head = long ? 9 : 2;
  const out = new Uint8Array(head + body.length);
  out[0] = flags | (long ? FLAG_LONG : 0);
  if (long) {
    // 8-byte big-endian length, without a DataView and a BigInt per frame (a frame a
    // second in the agent): bytes 1..2 stay 0 below 2^48.
    let n = body.length;
    for (let i = 8; i >= 1; i--) {
      out[i] = n % 256;
      n = Math.floor(n / 256);
    }
  } else out[1] = body.length;
  out.set(body, head);
  return out;
}

/** Why a peer's bytes were refused: the connection must be dropped. */
export class ZmtpError extends Error {
  override name = "ZmtpError";
}

/** What the peer sent, in order. */
export type PeerEvent =
  | { kind: "greeting"; major: number; minor: number; mechanism: string }
  | { kind: "command"; name: string; body: Uint8Array }
  | { kind: "message" };

/**
 * An incremental parser of the peer's byte stream: `push(bytes)` returns the events now
 * complete, and throws {@link ZmtpError} for bytes no ZMTP 3 peer sends.
 */
export interface PeerParser {
  push(bytes: Uint8Array): PeerEvent[];
  /** True once the peer's whole greeting has been read. */
  readonly greeted: boolean;
}

/** A parser for one connection's inbound bytes. */
export function createPeerParser(): PeerParser {
  let buf = new Uint8Array(0);
  let greeted = false;

  const take = (n: number): Uint8Array => {
    const out = buf.subarray(0, n);
    buf = buf.subarray(n);
    return out;
  };

  const next = (): PeerEvent | null => {
    if (!greeted) {
      // Refuse a non-ZMTP peer as soon as its first byte says so, not after 64 bytes.
      if (buf.length > 0 && buf[0] !== 0xff) throw new ZmtpError("peer is not a ZMTP socket");
      if (buf.length < GREETING_BYTES) return null;
      const g = take(GREETING_BYTES);
      if (g[9] !== 0x7f) throw new ZmtpError("peer is not a ZMTP socket");
      if (g[10] < 3) throw new ZmtpError(`peer speaks ZMTP ${g[10]}.x; 3.0 or later is needed`);
      greeted = true;
      return {
        kind: "greeting",
        major: g[10],
        minor: g[11],
        mechanism: mechanismName(g.subarray(12, 32)),
      };
    }
    if (buf.length < 2) return null;
    const flags = buf[0];
    const long = (flags & FLAG_LONG) !== 0;
    const head = long ? 9 : 2;
    if (buf.length < head) return null;
    const size = long
      ? Number(new DataView(buf.buffer, buf.byteOffset + 1, 8).getBigUint64(0))
      : buf[1];
    if (size > MAX_PEER_FRAME_BYTES) {
      throw new ZmtpError(`peer frame of ${size} bytes exceeds ${MAX_PEER_FRAME_BYTES}`);
    }
    if (buf.length < head + size) return null;
    take(head);
    const body = take(size);
    if ((flags & FLAG_COMMAND) === 0) return { kind: "message" };
    if ((flags & FLAG_MORE) !== 0) throw new ZmtpError("peer sent a multi-part command");
    const nameLength = body[0] ?? 0;
    if (nameLength === 0 || 1 + nameLength > body.length) {
      throw new ZmtpError("peer sent a command without a name");
    }
    const name = asciiText(body.subarray(1, 1 + nameLength));
    return { kind: "command", name, body: body.slice(1 + nameLength) };
  };

  return {
    get greeted() {
      return greeted;
    },
    push(bytes) {
      const joined = new Uint8Array(buf.length + bytes.length);
      joined.set(buf);
      joined.set(bytes, buf.length);
      buf = joined;
      const events: PeerEvent[] = [];
      for (let e = next(); e; e = next()) events.push(e);
      return events;
    },
  };
}

/** The `Socket-Type` of a READY command's body (metadata after the name), or null. */
export function readySocketType(body: Uint8Array): string | null {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let at = 0;
  while (at < body.length) {
    const keyLength = body[at++];
    if (at + keyLength + 4 > body.length) return null;
    const key = asciiText(body.subarray(at, at + keyLength));
    at += keyLength;
    const valueLength = view.getUint32(at);
    at += 4;
    if (at + valueLength > body.length) return null;
    if (key.toLowerCase() === "socket-type") {
      return asciiText(body.subarray(at, at + valueLength));
    }
    at += valueLength;
  }
  return null;
}

/**
 * The text of ZMTP's ASCII fields (command and property names, socket types, error
 * reasons: letters, digits and visible characters by the spec); any other byte reads as
 * U+FFFD, as a UTF-8 decoder shows bytes it cannot read. Not a `TextDecoder`: every agent
 * reads these on each connect, and the decoder is pages of the runtime that a plain app
 * never touches, ~0.2 MiB of RSS (docs/benchmarks-changes.md, stop 32).
 */
export function asciiText(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : "\uFFFD";
  return s;
}

function ascii(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/**
 * The greeting's mechanism name: ASCII, NUL-padded to 20 bytes. A loop, not a regular
 * expression: every agent reads a greeting on each connect, and the regexp compiler is pages
 * of the runtime a plain app never touches (issue 14).
 */
export function mechanismName(field: Uint8Array): string {
  let end = field.length;
  while (end > 0 && field[end - 1] === 0) end--;
  return String.fromCharCode(...field.subarray(0, end));
}
