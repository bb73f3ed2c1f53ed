/**
 * One transport, two senders (the sample send loop and the heap profiler): sends go out one
 * at a time, in call order. The ZMTP PUSH writes a frame in pieces and zeromq.js allows one
 * pending send per socket, so two overlapping sends would corrupt the stream or fail.
 *
 * @module
 */
import type { Transport } from "./sender.ts";

/**
 * Wrap `t` so each `trySend` starts after the previous one settled. With nothing pending
 * (nearly always: a profile is sent at most once per ten minutes) the call goes straight
 * through and returns the transport's own promise, so the sample path keeps its timing.
 */
export function serialSends(t: Transport): Transport {
  let pending: Promise<unknown> | null = null;
  return {
    trySend(frame) {
      const p = pending ? pending.then(() => t.trySend(frame)) : t.trySend(frame);
      // One promise per send: settles with p either way, and then clears itself if last.
      const settled: Promise<unknown> = p.then(done, done);
      function done() {
        if (pending === settled) pending = null;
      }
      pending = settled;
      return p;
    },
    close: () => t.close(),
    problem: () => t.problem?.() ?? null,
  };
}
