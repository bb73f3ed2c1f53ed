/**
 * A rollup run's sums without tidySum's steps (rollup.ts `bucketPointsPair`): a run of one
 * bucket's points adds its values to two tiers' sums, each step rounded by tidySum; when the
 * values are whole numbers or whole millionths, what the steps give is known from one pass of
 * adds. Each step waited on the last one's multiply, round and divide (about 30 cycles a point
 * and tier, a tenth of the history thread).
 *
 * @module
 */

/** What a pass found: least and greatest value, a sum, and how many values it does not fit. */
const PASS = new Float64Array(4);

/**
 * Fold `values[from, end)` (a run of one bucket) into `out`: its least and greatest value
 * (`x < min` in order: the first of equal values; NaN never), and the two sums that tidySum's
 * steps from `sumA` and from `sumB` give, or NaN for both when they are not known without the
 * steps (the caller takes them). One pass, chosen by the run's first value: whole numbers
 * ({@link wholeSum}), else whole millionths ({@link exactSum}).
 */
export function foldRun(
  values: ArrayLike<number>,
  from: number,
  end: number,
  sumA: number,
  sumB: number,
  out: Float64Array,
): Float64Array {
  const len = end - from;
  let a = NaN, b = NaN;
  let run = Number.isInteger(values[from]) ? foldWhole(values, from, end, PASS) : null;
  if (run !== null && run[3] === 0) {
    const bound = Math.max(Math.abs(run[0]), Math.abs(run[1]));
    a = wholeSum(sumA, run[2], bound, len);
    b = wholeSum(sumB, run[2], bound, len);
  } else {
    run = foldMillionths(values, from, end, PASS);
    if (run[3] === 0) {
      const bound = Math.max(Math.abs(run[0]), Math.abs(run[1]));
      a = exactSum(sumA, run[2], bound, len);
      b = exactSum(sumB, run[2], bound, len);
    }
  }
  const known = a === a && b === b;
  out[0] = run[0], out[1] = run[1], out[2] = known ? a : NaN, out[3] = known ? b : NaN;
  return out;
}

/**
 * One pass over `values[from, end)` (a run of one bucket) into `out`: the least and the
 * greatest value (`x < min` in order: the first of equal values; NaN never), the values summed
 * in order, and how many are not whole numbers (NaN included), for {@link wholeSum}.
 */
function foldWhole(values: ArrayLike<number>, from: number, end: number, out: Float64Array) {
  let lo = Infinity;
  let hi = -Infinity;
  let sum = -0; // adding -0 keeps every value's sign of zero
  let fractional = 0;
  for (let k = from; k < end; k++) {
    const x = values[k];
    if (x < lo) lo = x;
    if (x > hi) hi = x;
    sum += x;
    fractional += Math.round(x) === x ? 0 : 1;
  }
  out[0] = lo, out[1] = hi, out[2] = sum, out[3] = fractional;
  return out;
}

/**
 * {@link foldWhole} with the values as whole millionths summed (`Math.round(x * 10^6)`), and
 * how many are not the double nearest such a millionth (NaN included), for {@link exactSum}.
 * Neither sum waits on tidySum's rounding of the last: they are adds.
 */
function foldMillionths(values: ArrayLike<number>, from: number, end: number, out: Float64Array) {
  let lo = Infinity;
  let hi = -Infinity;
  let units = 0;
  let inexact = 0;
  for (let k = from; k < end; k++) {
    const x = values[k];
    if (x < lo) lo = x;
    if (x > hi) hi = x;
    const u = Math.round(x * 1e6);
    units += u;
    inexact += u / 1e6 === x ? 0 : 1;
  }
  out[0] = lo, out[1] = hi, out[2] = units, out[3] = inexact;
  return out;
}

/**
 * What `len` tidySum steps from `sum` give when `sum` and every value added are whole numbers
 * (values summed in order: `total`) below `bound` in magnitude, and no sum on the way passes
 * 2^53; else NaN. Each step's add is then exact, and tidySum gives a whole number below 10^9
 * back as it is (y * 10^6 is exact below 2^53, so its round and divide are) and passes larger
 * ones: the steps add exactly, as `sum + total` does, -0 kept where the steps keep it.
 */
function wholeSum(sum: number, total: number, bound: number, len: number): number {
  if (!Number.isInteger(sum) || !(Math.abs(sum) + len * bound <= 2 ** 53)) return NaN;
  return sum + total;
}

/** Most millionths a sum or value may hold for {@link exactSum}: values and sums below 10^8. */
const EXACT_UNITS = 1e14;

/**
 * What `len` tidySum steps from `sum` give, when it is known without taking them: `sum` and
 * every value added are whole millionths (each the double nearest `u / 10^6` for an integer
 * u; `units` their u summed), and every value is below `bound` in magnitude. Else NaN (the
 * caller takes the steps).
 *
 * Why it is the same, bit for bit: while the sum so far is the double nearest `S / 10^6` and
 * the value the double nearest `u / 10^6`, with |S|, |u| and |S + u| at most 10^14, the step's
 * add and its multiply by 10^6 are each within a relative 2^-53 of exact, so the product is
 * within (10^14 + 10^14 + 2 x 10^14) x 2^-53 < 0.05 of the integer S + u: the round gives S +
 * u (exact below 2^53) and the divide the double nearest `(S + u) / 10^6`, under 10^8, so
 * tidySum rounds (it passes sums from 10^9 on unrounded). By induction, the last sum is the
 * double nearest (S_0 + units) / 10^6, which is what this divides. When S + u is 0, sum and
 * value are each other's negation: their add is +0 exactly, as is 0 / 10^6. A sum of -0 (a
 * bucket's first value) is left to the steps: adding -0 or 0 to it gives -0 or +0.
 */
function exactSum(sum: number, units: number, bound: number, len: number): number {
  const s = Math.round(sum * 1e6);
  if (s / 1e6 !== sum || sum === 0 && 1 / sum < 0) return NaN;
  if (!(Math.abs(s) + len * (bound * 1e6 + 1) <= EXACT_UNITS)) return NaN;
  return (s + units) / 1e6;
}
