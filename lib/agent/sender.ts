/**
 * The agent's send loop: exactly one per agent, awaiting every send (zeromq.js loses a
 * send that is not awaited and allows one pending send per socket). It drains the backlog
 * in order, several samples per frame when several wait, and backs off while the
 * transport refuses, so a missing collector costs neither CPU nor order. An outage that
 * lasts is told once (`onOutage`), and so is its end, so a wrong endpoint or a collector not
 * started yet is not silent.
 *
 * @module
 */
import { unrefTimer } from "../platform.ts";
import type { Backlog } from "./backlog.ts";
import { createBackoff } from "../backoff.ts";

/** Where frames go: `connectCollector()` from transport.ts, or a fake in tests. */
export interface Transport {
  /** Resolves true when the frame was taken, false when it must be retried later. */
  trySend(frame: Uint8Array): Promise<boolean>;
  /** Release the socket. */
  close(): void;
  /** Why there is no collector now (e.g. "Connection refused (os error 111)"), if known. */
  problem?(): string | null;
}

/** Default for {@link SendLoopOptions.outageReportMs}: 10 s of refused sends. */
export const OUTAGE_REPORT_MS = 10_000;

/** Options for {@link startSendLoop}. */
export interface SendLoopOptions<T> {
  backlog: Backlog<T>;
  transport: Transport;
  /** Encode oldest-first items as one frame. */
  encode(items: T[]): Uint8Array;
  /** Transport and encoding errors; must not throw. */
  onError(error: unknown): void;
  /** Most items per frame (default 100). */
  batchSize?: number;
  /** First retry delay after a refused send, ms (default 50); doubles per refusal. */
  minBackoffMs?: number;
  /** Retry delay cap, ms (default 1000). */
  maxBackoffMs?: number;
  /** Monotonic clock in ms for back-off and flush deadlines (default `performance.now`). */
  clock?: () => number;
  /**
   * Called once when sends have been refused for `outageReportMs` (`down`), and once when a
   * send then succeeds (`up`), with how long the outage has lasted, ms. Not while stopping.
   */
  onOutage?(state: "down" | "up", forMs: number): void;
  /** How long refused sends last before `onOutage("down")`, ms (default 10 000). */
  outageReportMs?: number;
}

/** A running send loop. */
export interface SendLoop {
  /** Items the transport accepted so far. */
  readonly sent: number;
  /** Items taken from the backlog for the send now pending (0 or a batch). */
  readonly inFlight: number;
  /** Tell an idle loop the backlog has something (a back-off is not cut short). */
  wake(): void;
  /**
   * Stop: keep sending for at most `graceMs` while items are left, then end the loop.
   * Resolves within about `graceMs`, even if a send never settles. Never rejects.
   */
  stop(graceMs: number): Promise<void>;
}

/** Start the send loop for one backlog and one transport. */
export function startSendLoop<T>(opts: SendLoopOptions<T>): SendLoop {
  const { backlog, transport } = opts;
  const batchSize = opts.batchSize ?? 100;
  const backoff = createBackoff({
    minMs: opts.minBackoffMs ?? 50,
    maxMs: opts.maxBackoffMs ?? 1000,
  });
  const clock = opts.clock ?? (() => performance.now());
  let sent = 0;
  let inFlight = 0;
  let stopping = false;
  let deadline = Infinity;
  let idle = false;
  let resume: (() => void) | null = null;
  const outageReportMs = opts.outageReportMs ?? OUTAGE_REPORT_MS;
  /** When sends started being refused (null: the last send went through), and if told. */
  let downSince: number | null = null;
  let toldDown = false;
  const outage = (state: "down" | "up") => {
    try {
      opts.onOutage?.(state, clock() - (downSince ?? clock()));
    } catch {
      // a report must not stop the loop
    }
  };

  /** Sleep until woken (idle) or for `ms` (back-off), whichever applies; stop ends both. */
  const pause = (ms: number | null) =>
    new Promise<void>((resolve) => {
      const timer = ms === null ? null : setTimeout(() => done(), ms);
      // While running, a back-off must not keep the app alive; while stopping, the caller
      // awaits stop() and the flush must get its time.
      if (!stopping && timer) unrefTimer(timer);
      const done = () => {
        if (timer) clearTimeout(timer);
        resume = null;
        idle = false;
        resolve();
      };
      idle = ms === null;
      resume = done;
    });

  const run = async () => {
    while (true) {
      if (stopping && (backlog.size === 0 || clock() >= deadline)) return;
      if (backlog.size === 0) {
        await pause(null);
        continue;
      }
      const batch = backlog.take(batchSize);
      inFlight = batch.length;
      let ok = false;
      try {
        ok = await transport.trySend(opts.encode(batch));
      } catch (e) {
        opts.onError(e);
      }
      inFlight = 0;
      if (ok) {
        sent += batch.length;
        backoff.reset();
        if (toldDown) outage("up");
        downSince = null;
        toldDown = false;
        continue;
      }
      backlog.restore(batch);
      downSince ??= clock();
      if (!toldDown && !stopping && clock() - downSince >= outageReportMs) {
        toldDown = true;
        outage("down");
      }
      const delay = backoff.next();
      const wait = stopping ? Math.min(delay, deadline - clock()) : delay;
      if (wait > 0) await pause(wait);
    }
  };
  const done = run().catch((e) => opts.onError(e));

  let stopped: Promise<void> | null = null;
  return {
    get sent() {
      return sent;
    },
    get inFlight() {
      return inFlight;
    },
    wake() {
      if (idle) resume?.();
    },
    stop(graceMs) {
      if (stopped) return stopped;
      stopping = true;
      deadline = clock() + graceMs;
      resume?.();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const limit = new Promise<void>((r) => {
        timer = setTimeout(r, graceMs + 50);
      });
      stopped = Promise.race([done, limit]).finally(() => clearTimeout(timer));
      return stopped;
    },
  };
}
