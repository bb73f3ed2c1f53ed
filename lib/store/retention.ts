/**
 * Retention and the disk cap, in small steps. Each step deletes at most a few hundred rows
 * per tier, so it never stalls ingest however much is due (after a long stop, say).
 * Only what is wholly past its retention goes: a seal round's raw chunks once the round's
 * newest point is, a rollup row once its whole span is. Both tables are keyed time first
 * (rounds.ts, the rollups schema), so each delete is a range at the front of its table.
 * Over the disk cap the oldest go first, past retention or not: raw chunks by round, then
 * 1-minute, then 1-hour rows.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { type Retention, retentionOf } from "./query.ts";
import { TIERS } from "./rollup.ts";
import type { Round, Rounds } from "./rounds.ts";
import { usedBytes } from "./sqlite.ts";

/** Rows deleted per tier per step. */
const STEP_ROWS = 500;
/** Measure the database size at most this often, ms. */
const SIZE_EVERY_MS = 10_000;

/** Deletes what is due, a step at a time. */
export class Retainer {
  #db: DatabaseSync;
  #rounds: Rounds;
  #retention: Retention;
  #maxBytes: number | null;
  #bytes = 0;
  #measuredAt = -Infinity;
  #dropChunks: StatementSync;
  #expireRollups: StatementSync;
  #oldestRollups: StatementSync;
  /** Rows deleted so far, for `/api/stats`. */
  deleted = { expired: 0, overCap: 0 };

  constructor(db: DatabaseSync, rounds: Rounds, retention: Retention, maxBytes: number | null) {
    this.#db = db;
    this.#rounds = rounds;
    this.#retention = retention;
    this.#maxBytes = maxBytes;
    this.#dropChunks = db.prepare(
      `DELETE FROM chunks WHERE id IN (SELECT id FROM chunks
        WHERE id >= ?1 * 4294967296 AND id < (?1 + 1) * 4294967296 LIMIT ?2)`,
    );
    this.#expireRollups = db.prepare(
      `DELETE FROM rollups WHERE (tier, start, series) IN
        (SELECT tier, start, series FROM rollups WHERE tier = ? AND start <= ? LIMIT ${STEP_ROWS})`,
    );
    this.#oldestRollups = db.prepare(
      `DELETE FROM rollups WHERE (tier, start, series) IN
        (SELECT tier, start, series FROM rollups WHERE tier = ? ORDER BY start LIMIT ${STEP_ROWS})`,
    );
  }

  /** Bytes in use, as last measured. */
  bytes(): number {
    return this.#bytes;
  }

  /** One bounded step at time `now`. Returns the rows deleted. */
  step(now: number): number {
    let n = 0;
    const rawCutoff = now - retentionOf(0, this.#retention);
    n += this.#dropRounds(() => this.#rounds.expired(rawCutoff));
    for (const t of TIERS) {
      // A row holds [start, start + rowMs): it goes once all of that is past retention.
      const cutoff = now - retentionOf(t.tier, this.#retention) - t.rowMs;
      n += Number(this.#expireRollups.run(t.tier, cutoff).changes);
    }
    this.deleted.expired += n;
    if (now - this.#measuredAt >= SIZE_EVERY_MS || n > 0) {
      this.#bytes = usedBytes(this.#db);
      this.#measuredAt = now;
    }
    if (this.#maxBytes !== null && this.#bytes > this.#maxBytes) {
      let over = this.#dropRounds(() => this.#rounds.oldest());
      for (const t of TIERS) {
        if (over > 0) break;
        over += Number(this.#oldestRollups.run(t.tier).changes);
      }
      this.deleted.overCap += over;
      n += over;
      // Each step of the pragma frees one page: all() runs every step, exec() only the first.
      this.#db.prepare("PRAGMA incremental_vacuum(2000)").all();
      this.#bytes = usedBytes(this.#db);
      this.#measuredAt = now;
    }
    return n;
  }

  /**
   * Delete up to a step's worth of chunks from the rounds `pick` names (oldest first), and
   * each round once none of its chunks are left.
   */
  #dropRounds(pick: () => Round | undefined): number {
    let n = 0;
    for (let r = pick(); r && n < STEP_ROWS; r = pick()) {
      const budget = STEP_ROWS - n;
      const deleted = Number(this.#dropChunks.run(r.id, budget).changes);
      n += deleted;
      if (deleted < budget) this.#rounds.remove(r.id);
    }
    return n;
  }
}
