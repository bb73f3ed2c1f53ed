/**
 * One instance's sequence accounting: which samples are next, which are duplicates, how many
 * went missing, and which numbers no real agent could have sent. An agent numbers its samples
 * one by one, one per interval, so in `elapsed` ms its sequence can have moved at most about
 * `elapsed / interval` (twice that, for an interval shorter than it says) plus
 * {@link SEQ_SLACK}; a replayed backlog stays within SEQ_SLACK behind. A number outside that
 * is a reset: the sample is kept and counted, and the baseline stays. Otherwise one forged
 * frame with seq 2^53-1 made every later real sample a duplicate, for good (and `lost`
 * 9007199254740984). {@link SEQ_ADOPT_RUN} such numbers in a row, each one more than the one
 * before, are a real sequence and become the baseline (say, after a forged baseline was
 * persisted before a restart).
 *
 * @module
 */

/** Numbers a real agent's sequence may move beyond what the elapsed time explains. */
export const SEQ_SLACK = 1000;
/** Implausible numbers in a row, one apart, that become the new baseline. */
export const SEQ_ADOPT_RUN = 3;

/** What one sequence number was. `gap` is the number of samples it shows missing. */
export type SeqVerdict =
  | { kind: "next"; gap: number }
  | { kind: "duplicate" }
  | { kind: "restart" }
  | { kind: "reset" };

/** The usual verdict, one object for all: `account` runs per sample, and made one each time. */
const NEXT: SeqVerdict = Object.freeze({ kind: "next", gap: 0 });

/** The sequence state of one instance. */
export class Sequence {
  /** The last number taken as the baseline (persisted), or null before the first. */
  last: number | null;
  /** Collector time the baseline was taken: how far the sequence may have moved since. */
  #at: number;
  #odd: number | null = null;
  #oddRun = 0;

  constructor(last: number | null = null, at = -Infinity) {
    this.last = last;
    this.#at = at;
  }

  /** Start over (the agent restarted). */
  clear(): void {
    this.last = null;
    this.#odd = null;
    this.#oddRun = 0;
  }

  /**
   * Account `seq` arriving at collector time `now` from an agent reporting every `intervalMs`.
   * `mayRestart`: the agent sends no start time, so a number back at 0 or 1 is its restart.
   */
  account(seq: number, now: number, intervalMs: number, mayRestart: boolean): SeqVerdict {
    const last = this.last;
    if (last === null) return this.#take(seq, now, 0);
    // The usual number, one past the last: "next" whatever the time (SEQ_SLACK >= 1), and no
    // restart (it is not <= last). A batch of 100 samples accounts 100 of them per frame.
    if (seq === last + 1) return this.#take(seq, now, 0);
    // The caller clears the sequence with the rest of the instance, then accounts it again.
    if (seq <= last && seq <= 1 && mayRestart) return { kind: "restart" };
    const elapsed = Math.max(0, now - this.#at);
    const ahead = SEQ_SLACK + 2 * Math.ceil(elapsed / Math.max(1, intervalMs));
    if (seq > last + ahead || seq < last - SEQ_SLACK) {
      this.#oddRun = this.#odd !== null && seq === this.#odd + 1 ? this.#oddRun + 1 : 1;
      this.#odd = seq;
      if (this.#oddRun >= SEQ_ADOPT_RUN) this.#take(seq, now, 0);
      return { kind: "reset" };
    }
    if (seq <= last) return { kind: "duplicate" };
    return this.#take(seq, now, seq - last - 1);
  }

  #take(seq: number, now: number, gap: number): SeqVerdict {
    this.last = seq;
    this.#at = now;
    this.#odd = null;
    this.#oddRun = 0;
    return gap === 0 ? NEXT : { kind: "next", gap };
  }
}
