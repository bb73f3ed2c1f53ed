/**
 * The live hub: fans frames out to WebSocket clients. Each frame is serialised once. Memory
 * is bounded whatever the number of clients or instances:
 * - at most `maxClients` sockets; {@link Hub.reserve} refuses an upgrade before it happens;
 * - each client may have `maxBufferedBytes` unsent (plus the hello it was sent last); beyond
 *   that its frames are dropped and counted; once it catches up it gets a `dropped` frame and
 *   a `hello` again (at most one such hello per `rehelloEveryMs`); stuck longer than
 *   `stuckCloseMs`, it is closed;
 * - all clients together may have `maxTotalBytes` unsent: a hello waits for room (a client
 *   that waits longer than `stuckCloseMs` is closed), and a frame that would go past it is
 *   dropped for that client (and counted);
 * - a hello is built once for every client that asks for the same metrics within
 *   `helloReuseMs`: they get that hello and the frames published since it was built (at most
 *   1 MiB of them), so 500 pages connecting at once build one snapshot, not 500.
 *
 * Ingest's frames go out once per turn of the event loop, together ({@link Hub.publishSoon});
 * an instance's samples of that turn go as one samples frame ({@link Hub.samplesSoon}). A turn
 * with samples frames goes as one binary message (wire.ts), others as JSON text; bounds count
 * a binary message's bytes as a text's characters.
 *
 * @module
 */
import type { HelloFrame, LiveFrame } from "./messages.ts";
import { SamplesColumns } from "./samples.ts";
import { encodeTurn } from "./wire.ts";

/** The part of a WebSocket the hub uses (a real `WebSocket`, or a fake in tests). */
export interface LiveSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

/** Options for {@link Hub}. */
export interface HubOptions {
  now: () => number;
  /** Builds the snapshot a client gets on connect and after it recovers from drops. */
  hello(metrics: readonly string[] | null): HelloFrame;
  /** Most unsent bytes per client before frames are dropped for it (default 1 MiB). */
  maxBufferedBytes?: number;
  /** Most unsent bytes over all clients, hellos included (default 64 MiB). */
  maxTotalBytes?: number;
  /** Close a client that stayed over the bound, or waited for a hello, this long, ms (30 s). */
  stuckCloseMs?: number;
  /** Most clients at once (default 256); more are refused. */
  maxClients?: number;
  /** A hello built this recently (ms) is sent again, with the frames since (default 1000). */
  helloReuseMs?: number;
  /** Shortest time between two hellos to a client that keeps falling behind, ms (10 s). */
  rehelloEveryMs?: number;
  /**
   * Run `fn` at the next turn of the event loop (default `setTimeout(fn, 0)`); never at once:
   * the samples frame {@link Hub.samplesSoon} returns is filled after it is scheduled.
   */
  nextTurn?: (fn: () => void) => void;
}

interface Client {
  socket: LiveSocket;
  metrics: readonly string[] | null;
  key: string;
  dropped: number;
  overSince: number | null;
  /** Waiting for a hello (just connected, or recovered) since this time, else null. */
  helloSince: number | null;
  /** When it was last sent a hello, and that hello's size (it may stay unsent a while). */
  helloAt: number;
  helloBytes: number;
}

/** One message as sent: JSON text, or a binary turn (wire.ts). */
type Message = string | Uint8Array;

/** A serialised hello and the frames published since it was built. */
interface CachedHello {
  data: string;
  builtAt: number;
  since: Message[];
  sinceBytes: number;
}

const OPEN = 1;
/** Frames kept after a cached hello; beyond this it is built again instead. */
const MAX_REPLAY_BYTES = 1024 * 1024;
/** Metrics sets whose hello is cached (any client may ask for its own). */
const MAX_CACHED = 4;

/** Live fan-out to WebSocket clients. */
export class Hub {
  #clients = new Set<Client>();
  #pending = 0;
  #cache = new Map<string, CachedHello>();
  /**
   * Frames held until the next turn, in order: JSON text (publishSoon), or a samples frame
   * still open to more samples (samplesSoon), encoded when the turn's frames go out.
   */
  #soon: Array<string | SamplesColumns> = [];
  /** Instance id -> its samples frame in #soon that later samples of this turn join. */
  #open = new Map<string, SamplesColumns>();
  /**
   * The last turn's samples frames, sent and emptied, by instance: its next turn's frame, so
   * an instance reporting every turn reuses its columns (samples.ts). Only the last turn's.
   */
  #spare = new Map<string, SamplesColumns>();
  /** Unsent bytes over all clients, as of the last pass over them. */
  #total = 0;
  /** Size of the last hello built, to tell whether the next one fits. */
  #lastHelloBytes = 0;
  /** Frames dropped for slow clients, over all time. */
  dropped = 0;
  /** Clients closed because they were stuck (or waited too long for a hello). */
  closedStuck = 0;
  /** Upgrades refused because `maxClients` were connected or connecting. */
  refused = 0;
  /** Hellos built (the rest were reused). */
  hellosBuilt = 0;

  constructor(private readonly opts: HubOptions) {}

  /** Number of connected clients. */
  get size(): number {
    return this.#clients.size;
  }

  /** Bytes queued to all clients and not yet sent: the sum of their send buffers. */
  get bufferedBytes(): number {
    let n = 0;
    for (const c of this.#clients) n += c.socket.bufferedAmount;
    return n;
  }

  get #maxClients(): number {
    return this.opts.maxClients ?? 256;
  }

  /**
   * Hold a place for a client about to upgrade; false (and counted) when `maxClients` are
   * connected or connecting. Give it back with {@link Hub.release} if the socket never opens,
   * or pass `reserved` to {@link Hub.add} when it does.
   */
  reserve(): boolean {
    if (this.#clients.size + this.#pending >= this.#maxClients) {
      this.refused++;
      return false;
    }
    this.#pending++;
    return true;
  }

  /** Give back a place held by {@link Hub.reserve} for a socket that never opened. */
  release(): void {
    if (this.#pending > 0) this.#pending--;
  }

  /**
   * Register an open socket; it receives a hello as soon as there is room for it. `metrics`
   * limits the points in hellos to those metrics (null: all). Returns a function to call
   * when it closes.
   */
  add(socket: LiveSocket, metrics: readonly string[] | null, reserved = false): () => void {
    if (reserved) this.release();
    else if (this.#clients.size + this.#pending >= this.#maxClients) {
      this.refused++;
      socket.close(1013, "too many clients");
      return () => {};
    }
    const now = this.opts.now();
    const client: Client = {
      socket,
      metrics,
      key: metrics === null ? "*" : metrics.join(","),
      dropped: 0,
      overSince: null,
      helloSince: now,
      helloAt: -Infinity,
      helloBytes: 0,
    };
    this.#clients.add(client);
    this.#hello(client, now);
    return () => this.#clients.delete(client);
  }

  /** Send a frame to every client that keeps up (after those {@link Hub.publishSoon} holds). */
  publish(frame: LiveFrame): void {
    this.#sendSoon();
    if (this.#clients.size === 0) return this.#alone();
    this.#send(JSON.stringify(frame));
  }

  /**
   * {@link Hub.publish} at the next turn of the event loop, with every other frame published
   * so until then, as one `batch` message (messages.ts). The receive loop takes frames for up
   * to 5 ms before it yields, and each WebSocket message costs a send per client: 35 000
   * single-sample frames a second were 35 000 sends. Order is kept: publish() sends these first.
   */
  publishSoon(frame: LiveFrame): void {
    if (this.#clients.size === 0) return this.#alone();
    // Samples of this instance after its new view go in a frame after it, as they came.
    if (frame.type === "instance") this.#open.delete(frame.instance.id);
    this.#hold(JSON.stringify(frame));
  }

  /**
   * The samples frame of instance `id` for this turn, to add samples to: the one this turn
   * already holds for it, or a new one held after the frames published so far (so an
   * `instance` frame published before it goes first). It is serialised when the turn's
   * frames go out: one frame per instance per turn, whatever the number of messages it sent
   * (1 000 single-sample messages of 10 instances in one turn make 10 frames, not 1 000).
   * Null when no client is connected: then nothing is built. `now` becomes the frame's.
   */
  samplesSoon(id: string, now: number): SamplesColumns | null {
    if (this.#clients.size === 0) {
      this.#alone();
      return null;
    }
    let open = this.#open.get(id);
    if (open === undefined) {
      open = this.#spare.get(id);
      if (open === undefined) open = new SamplesColumns(id, now);
      else {
        this.#spare.delete(id);
        open.now = now;
      }
      this.#open.set(id, open);
      this.#hold(open);
    } else open.now = now;
    return open;
  }

  /**
   * No client: nothing cached is of use. Checked first: a Map's clear() makes a new table
   * even when empty (~300 bytes a frame of garbage with no page open, stop 34).
   */
  #alone(): void {
    if (this.#cache.size > 0) this.#cache.clear();
    if (this.#spare.size > 0) this.#spare.clear();
  }

  #hold(frame: string | SamplesColumns): void {
    this.#soon.push(frame);
    if (this.#soon.length === 1) {
      (this.opts.nextTurn ?? ((fn) => setTimeout(fn, 0)))(() => this.#sendSoon());
    }
  }

  #sendSoon(): void {
    const held = this.#soon;
    if (held.length === 0) return;
    this.#soon = [];
    this.#open.clear();
    this.#spare.clear(); // frames of instances that did not report this turn
    if (this.#clients.size === 0) return;
    this.#send(encodeTurn(held));
    // Copied into the message: emptied, each is its instance's next frame.
    for (let i = 0; i < held.length; i++) {
      const f = held[i];
      if (typeof f === "string") continue;
      f.reset();
      this.#spare.set(f.id, f);
    }
  }

  /** Fan one serialised frame (or batch, or binary turn) out to the clients, within bounds. */
  #send(data: Message): void {
    const size = sizeOf(data);
    for (const [key, c] of this.#cache) {
      if (c.sinceBytes + size > MAX_REPLAY_BYTES) this.#cache.delete(key);
      else {
        c.since.push(data);
        c.sinceBytes += size;
      }
    }
    const now = this.opts.now();
    const max = this.opts.maxBufferedBytes ?? 1024 * 1024;
    const maxTotal = this.opts.maxTotalBytes ?? 64 * 1024 * 1024;
    // Unsent bytes over all clients, kept up to date with every send of this pass: no send
    // takes it past maxTotal, however big the frame or many the clients.
    let total = 0;
    for (const c of this.#clients) total += c.socket.bufferedAmount;
    for (const c of this.#clients) {
      if (c.socket.readyState !== OPEN) continue;
      const buffered = c.socket.bufferedAmount;
      if (c.helloSince !== null) {
        // Its hello holds this frame (or the frames since the hello it gets were built).
        const sent = this.#hello(c, now, total);
        if (sent < 0) this.#closeIfStuck(c, c.helloSince, now);
        else total += sent;
        continue;
      }
      if (buffered <= max) c.helloBytes = 0; // the last hello went out
      if (buffered > max + c.helloBytes || total + size > maxTotal) {
        this.#drop(c, now);
        continue;
      }
      if (c.overSince !== null) {
        total += this.#recover(c, now, total);
        continue;
      }
      c.socket.send(data);
      total += size;
    }
    this.#total = total;
  }

  /** Close every client (server shutdown). */
  closeAll(code = 1001, reason = "collector stopping"): void {
    for (const c of this.#clients) {
      try {
        c.socket.close(code, reason);
      } catch { /* already closed */ }
    }
    this.#clients.clear();
    this.#cache.clear();
    this.#soon = [];
    this.#open.clear();
    this.#spare.clear();
  }

  #drop(c: Client, now: number): void {
    c.dropped++;
    this.dropped++;
    c.overSince ??= now;
    this.#closeIfStuck(c, c.overSince, now);
  }

  #closeIfStuck(c: Client, since: number, now: number): void {
    if (now - since <= (this.opts.stuckCloseMs ?? 30_000)) return;
    this.#clients.delete(c);
    this.closedStuck++;
    try {
      c.socket.close(1008, "client too slow");
    } catch { /* already closed */ }
  }

  /**
   * A client that dropped frames caught up: tell it, and send a whole snapshot again, at
   * most once per `rehelloEveryMs` (until then its frames are still dropped and counted).
   * Returns the bytes sent.
   */
  #recover(c: Client, now: number, total: number): number {
    if (now - c.helloAt < (this.opts.rehelloEveryMs ?? 10_000)) {
      this.#drop(c, now);
      return 0;
    }
    c.socket.send(JSON.stringify({ type: "dropped", now, count: c.dropped }));
    c.dropped = 0;
    c.overSince = null;
    c.helloSince = now;
    return Math.max(0, this.#hello(c, now, total));
  }

  /**
   * Send the client its hello if all clients' unsent bytes (`total`) leave room: returns the
   * bytes sent, or -1 when it waits.
   */
  #hello(c: Client, now: number, total = this.#total): number {
    const maxTotal = this.opts.maxTotalBytes ?? 64 * 1024 * 1024;
    // No room for a hello the size of the last one: wait without building one (a burst of
    // frames would otherwise build a hello per frame for every waiting client).
    if (total > 0 && total + this.#lastHelloBytes > maxTotal) return -1;
    const cached = this.#helloFor(c, now);
    const bytes = cached.data.length + cached.sinceBytes;
    if (total > 0 && total + bytes > maxTotal) return -1;
    c.socket.send(cached.data);
    for (const f of cached.since) c.socket.send(f);
    this.#total += bytes;
    c.helloSince = null;
    c.helloAt = now;
    c.helloBytes = bytes;
    return bytes;
  }

  #helloFor(c: Client, now: number): CachedHello {
    const hit = this.#cache.get(c.key);
    if (hit && now - hit.builtAt < (this.opts.helloReuseMs ?? 1000)) return hit;
    this.#cache.delete(c.key);
    if (this.#cache.size >= MAX_CACHED) this.#cache.delete(this.#cache.keys().next().value!);
    this.hellosBuilt++;
    const data = JSON.stringify(this.opts.hello(c.metrics));
    this.#lastHelloBytes = data.length;
    const built = {
      data,
      builtAt: now,
      since: [],
      sinceBytes: 0,
    };
    this.#cache.set(c.key, built);
    return built;
  }
}

/** A message's size for the bounds: a text's length, a binary message's bytes. */
function sizeOf(data: Message): number {
  return typeof data === "string" ? data.length : data.byteLength;
}
