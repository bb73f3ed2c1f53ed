/**
 * The clock offset of one agent (collector clock minus agent clock), from the frames'
 * `sent` times: Instances places each sample at `ts + offset`.
 *
 * @module
 */

/** Half the window over which the clock offset is the minimum of `arrival - sent`, ms. */
const OFFSET_HALF_WINDOW_MS = 30_000;
/** A new minimum this far below the estimate is a jump, taken when the next frame agrees, ms. */
const OFFSET_JUMP_MS = 1_000;

/**
 * Clock offset of an agent: the minimum of `arrival - sent` over the last 30-60 s. Transit
 * delay only ever adds to that difference, so the minimum is the best estimate of the
 * clocks' difference, and it does not jitter with load (which would reorder samples). Two
 * half-windows make it follow a clock step within a minute.
 *
 * A restored instance starts from the offset persisted with its view (`seed`, last valid at
 * `seenAt`): the first frames after a collector restart wait while it starts, and an
 * estimate taken from them alone was too high by that wait. When it then fell, the next
 * samples were held at the last placed time (points never go back), several on one instant.
 *
 * A minimum far below the estimate (more than OFFSET_JUMP_MS) is taken only when the next frame
 * agrees with it: an agent clock stepped forward does, one frame with a wild `sent` (a glitch, a
 * hostile sender: 8.64e15) does not. Taken at once, that one frame held every later sample of
 * the instance on its instant for a minute, a gap in every chart.
 */
export class OffsetEstimate {
  #current: number;
  #previous = Infinity;
  #since: number;
  /** A jump seen in one frame, waiting for the next to agree. */
  #jump: number | null = null;

  constructor(seed = Infinity, seenAt = -Infinity) {
    this.#current = seed;
    this.#since = seenAt;
  }

  /** Add one observation at collector time `now`; returns the estimate. */
  observe(delay: number, now: number): number {
    if (now - this.#since >= OFFSET_HALF_WINDOW_MS) {
      // A minimum older than the whole window (a long silence) is not kept either.
      this.#previous = now - this.#since < 2 * OFFSET_HALF_WINDOW_MS ? this.#current : Infinity;
      this.#current = Infinity;
      this.#since = now;
    }
    const estimate = Math.min(this.#current, this.#previous);
    if (Number.isFinite(estimate) && delay < estimate - OFFSET_JUMP_MS) {
      const agrees = this.#jump !== null && Math.abs(delay - this.#jump) <= OFFSET_JUMP_MS;
      if (!agrees) {
        this.#jump = delay;
        return estimate; // that frame's points are clamped to their arrival
      }
    }
    this.#jump = null;
    if (delay < this.#current) this.#current = delay;
    return Math.min(this.#current, this.#previous);
  }
}
