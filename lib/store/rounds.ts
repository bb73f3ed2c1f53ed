/**
 * Seal rounds and where their chunks live. A seal round writes at most one chunk per series;
 * the chunk's key is `round * 2^32 + series`, so every round appends to the end of the
 * `chunks` table (its B-tree pages fill up completely, and it needs no index) and is one key
 * range that retention can drop. The `rounds` table keeps each round's time span (earliest
 * and latest point in any of its chunks), mirrored in memory: a query looks up its series'
 * chunk only in the rounds that overlap its range.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";

/** One seal round: its number and the time span of its points, ms. */
export interface Round {
  id: number;
  first: number;
  last: number;
}

/** Key of series `series`'s chunk in round `round`, as SQL over parameters `?round`, `?series`. */
export const CHUNK_KEY = "(? * 4294967296 + ?)";

/** Most rounds (the round number is the high half of a 63-bit key). */
const MAX_ROUND = 2 ** 31 - 1;
/** Most series (the series id is the low half of the key). */
export const MAX_SERIES = 2 ** 32 - 1;

/** The rounds of one database, oldest first. */
export class Rounds {
  #list: Round[] = [];
  /** The highest round number handed out or stored. */
  #highest: number;
  #put: StatementSync;
  #drop: StatementSync;

  constructor(db: DatabaseSync) {
    this.#put = db.prepare("INSERT OR REPLACE INTO rounds(id, first, last) VALUES (?, ?, ?)");
    this.#drop = db.prepare("DELETE FROM rounds WHERE id = ?");
    for (const r of db.prepare("SELECT id, first, last FROM rounds ORDER BY id").iterate()) {
      this.#list.push({ ...(r as unknown as Round) });
    }
    this.#highest = this.#list.at(-1)?.id ?? 0;
  }

  /** A number for a new round, above every one stored or handed out before. */
  next(): number {
    if (this.#highest >= MAX_ROUND) throw new Error("seal rounds are beyond the key space");
    return ++this.#highest;
  }

  /**
   * Widen round `id`'s span to include [first, last] (creating it), in the caller's
   * transaction. Call {@link commit} once that transaction has committed.
   */
  widen(id: number, first: number, last: number): Round {
    const r = this.#list.at(-1)?.id === id ? this.#list.at(-1)! : { id, first, last };
    const next = { id, first: Math.min(r.first, first), last: Math.max(r.last, last) };
    this.#put.run(next.id, next.first, next.last);
    return next;
  }

  /** Make a span written by {@link widen} visible in memory. */
  commit(r: Round): void {
    if (this.#list.at(-1)?.id === r.id) this.#list[this.#list.length - 1] = r;
    else this.#list.push(r);
  }

  /** Rounds with a point in [from, to), oldest first. */
  overlapping(from: number, to: number): Round[] {
    return this.#list.filter((r) => r.last >= from && r.first < to);
  }

  /** The oldest round, or undefined when there is none. */
  oldest(): Round | undefined {
    return this.#list[0];
  }

  /** The oldest round whose every point is before `cutoff`, or undefined. */
  expired(cutoff: number): Round | undefined {
    return this.#list.find((r) => r.last < cutoff);
  }

  /** Forget round `id` (its chunks are gone), in the caller's transaction. */
  remove(id: number): void {
    this.#drop.run(id);
    this.#list = this.#list.filter((r) => r.id !== id);
  }

  /** Rounds held. */
  get size(): number {
    return this.#list.length;
  }
}
