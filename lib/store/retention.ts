/**
 * Retention and the disk cap, in small steps. Each step deletes at most a few hundred rows
 * per tier, so it never stalls ingest however much is due (after a long stop, say).
 * Oldest data goes first: raw chunks past their retention, then rollups past theirs; over
 * the disk cap, the oldest raw chunks, then the oldest 1-minute, then 1-hour buckets.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { type Retention, retentionOf } from "./query.ts";
import { usedBytes } from "./sqlite.ts";

/** Rows deleted per tier per step. */
const STEP_ROWS = 500;
/** Measure the database size at most this often, ms. */
const SIZE_EVERY_MS = 10_000;

/** Deletes what is due, a step at a time. */
export class Retainer {
  #db: DatabaseSync;
  #retention: Retention;
  #maxBytes: number | null;
  #bytes = 0;
  #measuredAt = -Infinity;
  #expireRaw: StatementSync;
  #expireRollups: StatementSync;
  #oldestRaw: StatementSync;
  #oldestRollups: StatementSync;
  /** Rows deleted so far, for `/api/stats`. */
  deleted = { expired: 0, overCap: 0 };

  constructor(db: DatabaseSync, retention: Retention, maxBytes: number | null) {
    this.#db = db;
    this.#retention = retention;
    this.#maxBytes = maxBytes;
    this.#expireRaw = db.prepare(
      `DELETE FROM chunks WHERE id IN (SELECT id FROM chunks WHERE end < ? LIMIT ${STEP_ROWS})`,
    );
    this.#expireRollups = db.prepare(
      `DELETE FROM rollups WHERE (series, tier, start) IN
        (SELECT series, tier, start FROM rollups WHERE tier = ? AND start < ? LIMIT ${STEP_ROWS})`,
    );
    this.#oldestRaw = db.prepare(
      `DELETE FROM chunks WHERE id IN (SELECT id FROM chunks ORDER BY end LIMIT ${STEP_ROWS})`,
    );
    this.#oldestRollups = db.prepare(
      `DELETE FROM rollups WHERE (series, tier, start) IN
        (SELECT series, tier, start FROM rollups WHERE tier = ? ORDER BY start LIMIT ${STEP_ROWS})`,
    );
  }

  /** Bytes in use, as last measured. */
  bytes(): number {
    return this.#bytes;
  }

  /** One bounded step at time `now`. Returns the rows deleted. */
  step(now: number): number {
    let n = 0;
    n += Number(this.#expireRaw.run(now - retentionOf(0, this.#retention)).changes);
    for (const tier of [1, 2]) {
      n += Number(this.#expireRollups.run(tier, now - retentionOf(tier, this.#retention)).changes);
    }
    this.deleted.expired += n;
    if (now - this.#measuredAt >= SIZE_EVERY_MS || n > 0) {
      this.#bytes = usedBytes(this.#db);
      this.#measuredAt = now;
    }
    if (this.#maxBytes !== null && this.#bytes > this.#maxBytes) {
      let over = Number(this.#oldestRaw.run().changes);
      for (const tier of [1, 2]) {
        if (over > 0) break;
        over += Number(this.#oldestRollups.run(tier).changes);
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
}
