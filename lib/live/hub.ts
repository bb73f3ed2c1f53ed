/**
 * The live hub: fans frames out to WebSocket clients. Each frame is serialised once. A
 * client's queue is the socket's own send buffer, bounded here: while a client has more
 * than `maxBufferedBytes` unsent, frames for it are dropped (and counted); once it catches
 * up it gets a fresh `hello`, so its charts are whole again. A client stuck for longer than
 * `stuckCloseMs` is closed. So a slow or stuck tab never grows the server's memory.
 *
 * @module
 */
import type { HelloFrame, LiveFrame } from "./messages.ts";

/** The part of a WebSocket the hub uses (a real `WebSocket`, or a fake in tests). */
export interface LiveSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** Options for {@link Hub}. */
export interface HubOptions {
  now: () => number;
  /** Builds the snapshot a client gets on connect and after it recovers from drops. */
  hello(metrics: readonly string[] | null): HelloFrame;
  /** Most unsent bytes per client before frames are dropped for it (default 1 MiB). */
  maxBufferedBytes?: number;
  /** Close a client that stayed over the bound this long, ms (default 30 s). */
  stuckCloseMs?: number;
  /** Most clients at once (default 256); more are refused with 1013. */
  maxClients?: number;
}

interface Client {
  socket: LiveSocket;
  metrics: readonly string[] | null;
  dropped: number;
  overSince: number | null;
}

const OPEN = 1;

/** Live fan-out to WebSocket clients. */
export class Hub {
  #clients = new Set<Client>();
  /** Frames dropped for slow clients, over all time. */
  dropped = 0;
  /** Clients closed because they were stuck. */
  closedStuck = 0;

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

  /**
   * Register an open socket; it receives a hello at once. `metrics` limits the points in
   * hellos to those metrics (null: all). Returns a function to call when it closes.
   */
  add(socket: LiveSocket, metrics: readonly string[] | null): () => void {
    if (this.#clients.size >= (this.opts.maxClients ?? 256)) {
      socket.close(1013, "too many clients");
      return () => {};
    }
    const client: Client = { socket, metrics, dropped: 0, overSince: null };
    this.#clients.add(client);
    socket.send(JSON.stringify(this.opts.hello(metrics)));
    return () => this.#clients.delete(client);
  }

  /** Send a frame to every client that keeps up. */
  publish(frame: LiveFrame): void {
    if (this.#clients.size === 0) return;
    const data = JSON.stringify(frame);
    const max = this.opts.maxBufferedBytes ?? 1024 * 1024;
    for (const c of this.#clients) {
      if (c.socket.readyState !== OPEN) continue;
      if (c.socket.bufferedAmount > max) {
        this.#drop(c);
        continue;
      }
      if (c.overSince !== null) {
        this.#recover(c); // the fresh hello already holds this frame's points
        continue;
      }
      c.socket.send(data);
    }
  }

  /** Close every client (server shutdown). */
  closeAll(code = 1001, reason = "collector stopping"): void {
    for (const c of this.#clients) {
      try {
        c.socket.close(code, reason);
      } catch { /* already closed */ }
    }
    this.#clients.clear();
  }

  #drop(c: Client): void {
    const now = this.opts.now();
    c.dropped++;
    this.dropped++;
    c.overSince ??= now;
    if (now - c.overSince > (this.opts.stuckCloseMs ?? 30_000)) {
      this.#clients.delete(c);
      this.closedStuck++;
      try {
        c.socket.close(1008, "client too slow");
      } catch { /* already closed */ }
    }
  }

  /** A client that dropped frames caught up: tell it, and send a whole snapshot again. */
  #recover(c: Client): void {
    const now = this.opts.now();
    c.socket.send(JSON.stringify({ type: "dropped", now, count: c.dropped }));
    c.socket.send(JSON.stringify(this.opts.hello(c.metrics)));
    c.dropped = 0;
    c.overSince = null;
  }
}
