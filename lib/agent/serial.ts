/**
 * One transport, two senders (the sample send loop and the heap profiler): sends go out one
 * at a time, in call order. The ZMTP PUSH writes a frame in pieces and zeromq.js allows one
 * pending send per socket, so two overlapping sends would corrupt the stream or fail.
 *
 * @module
 */
import type { Transport } from "./sender.ts";

/** Wrap `t` so each `trySend` starts after the previous one settled. */
export function serialSends(t: Transport): Transport {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    trySend(frame) {
      const p = tail.then(() => t.trySend(frame));
      tail = p.catch(() => {});
      return p;
    },
    close: () => t.close(),
  };
}
