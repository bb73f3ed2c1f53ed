/**
 * The first `n` points of a series in time order, for a seal (durable.ts). Ingest places
 * each instance's points in time order, so they nearly always arrive sorted: then a copy
 * does (an index sort of a million points took most of a seal step). Late points (a
 * replayed WAL, an out-of-order sender) take the stable index sort.
 *
 * @module
 */

/** Copies of `times[0..n)` and `values[0..n)`, sorted by time (stable). */
export function inTimeOrder(
  times: readonly number[],
  values: readonly number[],
  n: number,
): [number[], number[]] {
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = times[i - 1] <= times[i];
  if (sorted) return [times.slice(0, n), values.slice(0, n)];
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => times[a] - times[b]);
  return [order.map((i) => times[i]), order.map((i) => values[i])];
}
