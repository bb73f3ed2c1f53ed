/**
 * Test support: a WebSocket client that records every frame and lets a test wait for a
 * condition to hold, re-checked on each frame (an event), with a deadline for failure.
 *
 * @module
 */
import type { LiveFrame } from "../../lib/live/messages.ts";
import type { LiveSocket } from "../../lib/live/hub.ts";
import { samplesPoints } from "../../lib/live/samples.ts";
import { decodeMessage } from "../../lib/live/wire.ts";

/** What a truthy check returns. */
export type Truthy<T> = Exclude<T, false | null | undefined | 0 | "">;

/** Wait until `check()` is truthy, re-checking every `everyMs`; throws `what` at the deadline. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const v = await check();
    if (v) return v as Truthy<T>;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A live client on a collector's `/ws`. */
export class LiveClient {
  readonly frames: LiveFrame[] = [];
  #ws: WebSocket;
  #waiters = new Set<() => void>();
  closed: Promise<void>;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.binaryType = "arraybuffer"; // turns with samples are binary (lib/live/wire.ts)
    ws.onmessage = (e) => {
      const frames = decodeMessage(e.data); // a batch one frame at a time (hub.ts publishSoon)
      if (frames === null) throw new Error("a /ws message that does not decode");
      this.frames.push(...frames as LiveFrame[]);
      for (const w of this.#waiters) w();
    };
    this.closed = new Promise((r) => ws.addEventListener("close", () => r()));
  }

  /** Connect and wait for the socket to open. */
  static async connect(httpUrl: string, query = ""): Promise<LiveClient> {
    const ws = new WebSocket(`${httpUrl.replace(/^http/, "ws")}/ws${query}`);
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("websocket failed to open"));
    });
    return new LiveClient(ws);
  }

  /** Resolve when `check(frames)` holds, checked on every frame; reject after `timeoutMs`. */
  until<T>(
    check: (frames: LiveFrame[]) => T,
    what: string,
    timeoutMs = 10_000,
  ): Promise<Truthy<T>> {
    return new Promise((resolve, reject) => {
      const tryIt = () => {
        const v = check(this.frames);
        if (!v) return false;
        cleanup();
        resolve(v as Truthy<T>);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      const waiter = () => void tryIt();
      if (!tryIt()) this.#waiters.add(waiter);
    });
  }

  /** Close and wait for the close to complete. */
  async close(): Promise<void> {
    this.#ws.close();
    await this.closed;
  }
}

/**
 * A decoded frame in its JSON form, for comparing with literals: a samples frame's Float64Array
 * columns (wire.ts) become arrays, NaN gaps null; other frames are returned as they are.
 */
export function jsonForm(frame: LiveFrame): LiveFrame {
  if (frame.type !== "samples") return frame;
  const col = (c: ArrayLike<number | null>) =>
    Array.from(c, (x) => x === null || Number.isNaN(x) ? null : x);
  const v: Record<string, Array<number | null>> = {};
  for (const k in frame.v) v[k] = col(frame.v[k]);
  return { ...frame, t: Array.from(frame.t), v };
}

/** Points per instance id seen in `samples` frames, for one metric. */
export function pointsByInstance(
  frames: LiveFrame[],
  metric: string,
): Map<string, Array<[number, number]>> {
  const out = new Map<string, Array<[number, number]>>();
  for (const f of frames) {
    if (f.type !== "samples") continue;
    const pts = samplesPoints(f)[metric];
    if (!pts) continue;
    const list = out.get(f.id) ?? [];
    list.push(...pts);
    out.set(f.id, list);
  }
  return out;
}

/** A live socket that keeps what the hub sends it, for tests that drive a Hub directly. */
export class FakeSocket implements LiveSocket {
  readyState = 1;
  bufferedAmount = 0;
  sent: Array<string | Uint8Array> = [];
  send(data: string | Uint8Array): void {
    this.sent.push(data);
  }
  close(): void {
    this.readyState = 3;
  }
}
