/**
 * The durable remote-write queue: it reads the history's WAL (one row a second, see
 * lib/store/durable.ts) from a cursor persisted in SQLite, so after a restart or a SIGKILL a
 * remote resumes where it stopped, and a remote that is away only delays samples. The store
 * keeps WAL rows a cursor has not passed (even once sealed), until they are older than the
 * raw retention: then they are skipped and counted as expired.
 *
 * A cursor is (`wal`, `skip`): rows through id `wal` are shipped, and `skip` points of the
 * next row. A block that ends inside a row is committed as such, so a big row (a second of
 * hundreds of hosts) ships in several blocks.
 *
 * @module
 */
import { decodeWal } from "../store/wal.ts";
import type { WalAccess } from "../store/wal_cursors.ts";
import type { Block, RemoteSource } from "./source.ts";

/** Options for {@link WalSource}. */
export interface WalSourceOptions {
  /** The queue's name, the key of its cursor (the remote's URL). */
  name: string;
  wal: WalAccess;
  now: () => number;
  /** Rows whose first point is older than this, ms, are skipped (the raw retention). */
  maxAgeMs: number;
}

/** One remote's queue over the WAL. */
export class WalSource implements RemoteSource {
  readonly kind = "wal";
  expired = 0;
  #o: WalSourceOptions;
  #wal: number;
  #skip: number;
  #next: { wal: number; skip: number } | null = null;
  /** Points per WAL row lately, to read about as many rows as a block needs. */
  #perRow = 100;

  constructor(opts: WalSourceOptions) {
    this.#o = opts;
    ({ wal: this.#wal, skip: this.#skip } = opts.wal.cursor(opts.name));
  }

  peek(max: number): Block | null {
    const block: Block = { series: [], times: [], values: [] };
    let wal = this.#wal;
    let skip = this.#skip;
    const oldest = this.#o.now() - this.#o.maxAgeMs;
    const rows = Math.min(256, Math.max(2, Math.ceil(max / this.#perRow) + 1));
    for (const row of this.#o.wal.rowsAfter(this.#wal, rows)) {
      let i = 0;
      const before = block.times.length;
      let stale = false;
      decodeWal(row.data, (sid, t, v) => {
        if (i === 0 && t < oldest && wal === this.#wal && block.times.length === 0) stale = true;
        if (i++ < skip || stale || block.times.length >= max) return;
        block.series.push(sid);
        block.times.push(t);
        block.values.push(v);
      });
      if (stale) {
        // Past retention (the remote was away for days): go on with the next row.
        this.expired += i - skip;
        this.#wal = wal = row.id;
        this.#skip = skip = 0;
        this.#o.wal.setCursor(this.#o.name, wal, 0);
        continue;
      }
      this.#perRow = Math.max(1, (this.#perRow * 3 + i) / 4);
      const taken = block.times.length - before;
      if (skip + taken < i) {
        skip += taken; // the block ends inside this row
        break;
      }
      wal = row.id;
      skip = 0;
      if (block.times.length >= max) break;
    }
    this.#next = { wal, skip };
    return block.times.length > 0 ? block : null;
  }

  commit(): void {
    if (!this.#next) return;
    ({ wal: this.#wal, skip: this.#skip } = this.#next);
    this.#next = null;
    this.#o.wal.setCursor(this.#o.name, this.#wal, this.#skip);
  }

  seriesOf(id: number): { instance: string; metric: string } | null {
    return this.#o.wal.seriesOf(id);
  }

  backlog(): { samples: number; oldest: number | null } {
    const { bytes, rows } = this.#o.wal.backlog(this.#wal);
    let oldest: number | null = null;
    let points = 0;
    const first = this.#o.wal.rowsAfter(this.#wal, 1)[0];
    if (first) {
      decodeWal(first.data, (_s, t) => {
        points++;
        if (oldest === null || t < oldest) oldest = t;
      });
    }
    // An estimate: every row at the first one's bytes a point after its 8-byte header. Rows
    // differ (see encodeWal: version 3 stores whole or few-decimal values in 4 bytes, times as
    // int32 deltas, about 5 bytes a point for agent frames; version 2 about 10).
    const perPoint = first && points > 0 ? Math.max(1, (first.data.byteLength - 8) / points) : 10;
    const samples = Math.max(0, Math.round((bytes - 8 * rows) / perPoint) - this.#skip);
    return { samples, oldest };
  }
}
