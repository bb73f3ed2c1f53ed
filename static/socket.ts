/// <reference lib="dom" />
/**
 * The live connection to the collector's `/ws`: decodes messages (JSON text, or a binary turn
 * with samples columns: lib/live/wire.ts) into frames, reconnects by itself with
 * capped exponential back-off plus jitter, and reports its state so the page can show it
 * (connecting → live → reconnecting → live ...). The state is "live" only once the
 * collector's `hello` has arrived, i.e. the charts are whole.
 *
 * @module
 */
import type { LiveFrame } from "../lib/live/messages.ts";
import { createBackoff } from "../lib/backoff.ts";
import { decodeMessage } from "../lib/live/wire.ts";

/** Connection state as shown in the header. */
export type ConnectionState = "connecting" | "live" | "reconnecting";

/** Options for {@link connectLive}. */
export interface LiveOptions {
  url: string;
  onFrame(frame: LiveFrame): void;
  onState(state: ConnectionState, detail: { attempt: number; retryInMs: number | null }): void;
  /** First retry delay, ms (default 500). */
  minDelayMs?: number;
  /** Longest retry delay, ms (default 10 s). */
  maxDelayMs?: number;
}

/** A running connection; `close()` stops reconnecting. */
export interface LiveConnection {
  close(): void;
  /** Drop the current socket and reconnect now (e.g. when the tab wakes up). */
  reconnectNow(): void;
}

/**
 * Every frame type the page accepts; anything else is dropped. A record over the union, so a
 * frame type added to `LiveFrame` without being listed here fails `deno check`.
 */
const KNOWN: { [K in LiveFrame["type"]]: true } = {
  hello: true,
  samples: true,
  instance: true,
  services: true,
  alerts: true,
  dropped: true,
  ingest: true,
};
const KINDS: ReadonlySet<string> = new Set(Object.keys(KNOWN));

/** The `/ws` URL on the page's own origin. */
export function liveUrl(loc: Location, metrics: readonly string[]): string {
  const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
  const q = metrics.length ? `?metrics=${encodeURIComponent(metrics.join(","))}` : "";
  return `${scheme}//${loc.host}/ws${q}`;
}

/** Connect and keep connected. */
export function connectLive(opts: LiveOptions): LiveConnection {
  const backoff = createBackoff({
    minMs: opts.minDelayMs ?? 500,
    maxMs: opts.maxDelayMs ?? 10_000,
    jitter: 0.5,
  });
  let socket: WebSocket | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let closed = false;
  let everLive = false;

  const schedule = () => {
    if (closed) return;
    const delay = backoff.next();
    opts.onState("reconnecting", { attempt: backoff.attempt, retryInMs: delay });
    timer = setTimeout(open, delay);
  };

  const open = () => {
    timer = null;
    if (closed) return;
    if (!everLive && backoff.attempt === 0) {
      opts.onState("connecting", { attempt: 0, retryInMs: null });
    }
    let ws: WebSocket;
    try {
      ws = new WebSocket(opts.url);
    } catch {
      schedule();
      return;
    }
    socket = ws;
    // Binary turns are read as views into the message's ArrayBuffer (no Blob round trip).
    ws.binaryType = "arraybuffer";
    ws.onmessage = (ev) => {
      // Frames ingest published together come as one `batch` message (lib/live/hub.ts); a
      // message that does not decode is skipped whole: one bad message never stops the page.
      decodeMessage(ev.data)?.forEach(deliver);
    };
    const deliver = (frame: unknown) => {
      if (!frame || typeof frame !== "object") return;
      const type = (frame as { type?: unknown }).type;
      if (typeof type !== "string" || !KINDS.has(type)) return;
      if (type === "hello") {
        backoff.reset();
        everLive = true;
        opts.onState("live", { attempt: 0, retryInMs: null });
      }
      try {
        opts.onFrame(frame as LiveFrame);
      } catch (e) {
        console.error("zeroapm: frame handler failed", e);
      }
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      schedule();
    };
    ws.onerror = () => {
      // onclose follows and schedules the retry
    };
  };

  open();
  return {
    close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      socket?.close();
      socket = null;
    },
    reconnectNow() {
      if (closed) return;
      if (timer !== null) {
        clearTimeout(timer);
        timer = null;
        open();
      }
    },
  };
}
