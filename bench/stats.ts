/**
 * Summary statistics for repeated measurements.
 *
 * @module
 */

/** The q-quantile (0..1) of `xs` by linear interpolation; NaN when empty. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/**
 * The lower middle of the finite values of `xs` (an observed value, not a mean of two), NaN
 * when there are none: for the agent benches' paired RSS and CPU figures.
 */
export function lowerMedian(xs: readonly number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[(s.length - 1) >> 1] : NaN;
}

/** Take `--name value` out of `args` (changed in place); `dflt` when absent. */
export function takeOption(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(name);
  return i < 0 ? dflt : args.splice(i, 2)[1];
}

/** Median, min, max and interquartile range of repetitions. */
export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  q1: number;
  q3: number;
}

/** Summarise repetitions. */
export function summarize(xs: readonly number[]): Summary {
  return {
    n: xs.length,
    median: quantile(xs, 0.5),
    min: xs.length ? Math.min(...xs) : NaN,
    max: xs.length ? Math.max(...xs) : NaN,
    q1: quantile(xs, 0.25),
    q3: quantile(xs, 0.75),
  };
}
