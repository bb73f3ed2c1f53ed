/**
 * Which series of a seal round store one time column between them (chunk.ts, "shared
 * times"). An agent frame carries all of an instance's metrics at one time, so its series
 * sealed in the same round usually have identical times: the first one sealed stores them,
 * the others name it. Only an instance's own series are compared, and only exact equality
 * counts, so a metric sent in some frames only keeps times of its own.
 *
 * @module
 */
import { chunkInfo, decodeChunk, decodeChunkTimes } from "./chunk.ts";

/** Distinct time columns remembered per instance and round (a few in practice: one usually). */
const MAX_COLUMNS = 4;

/** One seal round's time columns, by instance. */
export class SharedTimes {
  #byInstance = new Map<string, Array<{ series: number; times: Float64Array }>>();

  /**
   * The series sealed earlier in this round, of the same instance, whose chunk stores exactly
   * `times`; null if none (then `series` stores them, and later ones may name it). Keeps a
   * copy: `times` may be a view of points the round drops before its next step.
   */
  owner(instance: string, series: number, times: Float64Array): number | null {
    let columns = this.#byInstance.get(instance);
    if (!columns) this.#byInstance.set(instance, columns = []);
    for (const c of columns) if (same(c.times, times)) return c.series;
    if (columns.length < MAX_COLUMNS) columns.push({ series, times: times.slice() });
    return null;
  }
}

/**
 * Series `series`' chunk of one round, read with `get` (a chunk by series id, in that round),
 * its shared times resolved; null when it has no points in [from, to), or is absent, or its
 * times' chunk is (only while retention deletes the round: it goes in key order, owner first).
 */
export function readChunk(
  get: (series: number) => Uint8Array | undefined,
  series: number,
  from: number,
  to: number,
): { times: Float64Array; values: Float64Array } | null {
  const bytes = get(series);
  if (!bytes) return null;
  const info = chunkInfo(bytes);
  if (info.lastTime < from || info.firstTime >= to) return null;
  if (info.timesFrom === null) return decodeChunk(bytes);
  const owner = get(info.timesFrom);
  return owner ? decodeChunk(bytes, () => decodeChunkTimes(owner)) : null;
}

function same(a: Float64Array, b: Float64Array): boolean {
  const n = a.length;
  if (n !== b.length || n === 0 || a[0] !== b[0] || a[n - 1] !== b[n - 1]) return false;
  for (let i = 1; i < n - 1; i++) if (a[i] !== b[i]) return false;
  return true;
}
