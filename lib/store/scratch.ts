/**
 * The chunk encoder's working columns (chunk.ts, scaled.ts), reused from one call to the next
 * (it is synchronous and calls nothing that encodes): a seal encodes dozens of 30 k-point
 * series one after another, and fresh zero-filled arrays for each, ten a series, cost the
 * history thread more in page faults than the encoding itself. Columns over 128 k points are
 * not kept.
 *
 * @module
 */

const scratch: Float64Array[] = [];
const SCRATCH_MAX = 1 << 17;
/** Slots of the working columns: one per use within an encoding. */
export enum Col {
  Times,
  Values,
  Scaled,
  Raw,
  Delta,
  Dod,
  Select,
  TimeDod,
  TimeOff,
}

/** Working column `slot`, `n` long; its contents are left over from the last call. */
export function column(slot: Col, n: number): Float64Array {
  const c = scratch[slot];
  if (c !== undefined && c.length >= n) return c.subarray(0, n);
  if (n > SCRATCH_MAX) return new Float64Array(n);
  const size = Math.min(SCRATCH_MAX, Math.max(1024, n, (c?.length ?? 0) * 2));
  return (scratch[slot] = new Float64Array(size)).subarray(0, n);
}
