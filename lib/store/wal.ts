/**
 * WAL rows: the plain encoding of every point flushed in one second (durable.ts writes one
 * row per flush), and what remote write's durable queue needs to read them
 * (lib/remote/wal_source.ts).
 *
 * @module
 */

/** Points of one series to write: those from `flushed` on. */
export interface WalSeries {
  id: number;
  times: number[];
  values: number[];
  flushed: number;
}

/** The WAL as remote write reads it (see DurableStore.wal). */
export interface WalAccess {
  /** Up to `limit` WAL rows with ids above `id`, in order. */
  rowsAfter(id: number, limit: number): Array<{ id: number; data: Uint8Array }>;
  /** Rows and bytes after `id` (16 bytes a point, see encodeWal). */
  backlog(id: number): { rows: number; bytes: number };
  /** The instance id and metric key of a series id. */
  seriesOf(id: number): { instance: string; metric: string } | null;
  /** A queue's persisted cursor: rows through `wal` shipped, and `skip` points of the next. */
  cursor(name: string): { wal: number; skip: number };
  /** Persist a queue's cursor; rows through `wal` may go once sealed. */
  setCursor(name: string, wal: number, skip: number): void;
}

const WAL_VERSION = 1;

/**
 * A WAL row: a version byte, then per series `u32 id, u32 count` and `count` pairs of
 * float64 (time, value): 16 bytes a point, written with one allocation.
 */
export function encodeWal(pending: WalSeries[], points: number): Uint8Array {
  const out = new Uint8Array(1 + pending.length * 8 + points * 16);
  const view = new DataView(out.buffer);
  out[0] = WAL_VERSION;
  let at = 1;
  for (const open of pending) {
    view.setUint32(at, open.id);
    view.setUint32(at + 4, open.times.length - open.flushed);
    at += 8;
    for (let i = open.flushed; i < open.times.length; i++) {
      view.setFloat64(at, open.times[i]);
      view.setFloat64(at + 8, open.values[i]);
      at += 16;
    }
  }
  return out;
}

/** Read a WAL row, calling `point(seriesId, t, v)` in order; throws on a corrupt row. */
export function decodeWal(
  data: Uint8Array,
  point: (sid: number, t: number, v: number) => void,
): void {
  if (data[0] !== WAL_VERSION) throw new Error(`WAL row of unknown version ${data[0]}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let at = 1;
  while (at < data.byteLength) {
    if (at + 8 > data.byteLength) throw new Error("corrupt WAL row: truncated header");
    const sid = view.getUint32(at);
    const n = view.getUint32(at + 4);
    at += 8;
    if (at + n * 16 > data.byteLength) throw new Error("corrupt WAL row: truncated points");
    for (let i = 0; i < n; i++, at += 16) point(sid, view.getFloat64(at), view.getFloat64(at + 8));
  }
}
