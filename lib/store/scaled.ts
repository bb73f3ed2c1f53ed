/**
 * A chunk's values as scaled integers (chunk.ts, value mode "scaled"): when every value is
 * exactly `s / 10^d` for integers s and one d in 0..6, the s are stored as `s0 + q * gcd` and
 * the q as raw offsets, deltas or delta-of-deltas (from their median), whichever packs
 * smallest.
 *
 * @module
 */
import {
  bitLength,
  BitReader,
  BitWriter,
  chooseWidth,
  readInts,
  unzigzag,
  writeInts,
  zigzag,
} from "./bits.ts";
import { Col, column } from "./scratch.ts";

const MAX_SCALED = 2 ** 49; // |s|: keeps q deltas-of-deltas, zigzagged, below 2^53
const MAX_DECIMALS = 6;
const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];

/** Values as scaled integers: value i is `(base + q[i] * gcd) / 10^decimals`. */
export interface Scaled {
  decimals: number;
  base: number;
  gcd: number;
  q: Float64Array;
}

function gcdOf(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** The decimal scale and gcd that store `v` exactly as integers, or null when none does. */
export function scaleOf(v: Float64Array): Scaled | null {
  const n = v.length;
  if (n === 0) return null;
  let d = 0;
  let p = 1;
  let since = 0; // values from here on were checked (and scaled) at the final d
  const s = column(Col.Scaled, n);
  let i = 0;
  // Integers (bytes, counts: most series) at d = 0, where the check below is `r === x`: no
  // division. The first value that is not one goes on through the general loop.
  for (; i < n; i++) {
    const x = v[i];
    const r = Math.round(x);
    if (!(r === x && Math.abs(r) < MAX_SCALED && (x !== 0 || 1 / x > 0))) break;
    s[i] = r;
  }
  for (; i < n; i++) {
    const x = v[i];
    let r = Math.round(x * p);
    // exactAt(x, d), with its s kept.
    while (!(Math.abs(r) < MAX_SCALED && (r + 0) / p === x && (x !== 0 || 1 / x > 0))) {
      if (++d > MAX_DECIMALS) return null;
      p = POW10[d];
      since = i;
      r = Math.round(x * p);
    }
    s[i] = r;
  }
  for (let i = 0; i < since; i++) {
    s[i] = Math.round(v[i] * p);
    if (!exactAt(v[i], d)) return null; // a later d must hold for earlier values
  }
  const base = s[0];
  let g = 0;
  let inv = 1 / g;
  for (let i = 1; i < n && g !== 1; i++) {
    const d = Math.abs(s[i] - base);
    // Most differences are multiples of the gcd so far (bytes in pages, say): a multiply by
    // 1/g tells, where Euclid's first step is a double % (a call into C), and a division
    // waits longer. d and g are integers below 2^50: when g divides d, d * (1/g) is within
    // 0.25 of the quotient and rounds to it; when not, no multiple of g is d.
    if (Math.round(d * inv) * g !== d) inv = 1 / (g = gcdOf(d, g));
  }
  if (g === 0) g = 1;
  if (g === 1) { for (let i = 0; i < n; i++) s[i] = s[i] - base; }
  else {
    inv = 1 / g; // every s - base is a multiple of g: its quotient, rounded as above
    for (let i = 0; i < n; i++) s[i] = Math.round((s[i] - base) * inv);
  }
  return { decimals: d, base, gcd: g, q: s };
}

/** True when the decoder's `s / 10^d` reproduces `x` bit for bit (never for -0: 1 / -0 < 0). */
function exactAt(x: number, d: number): boolean {
  const s = Math.round(x * POW10[d]);
  // The decoder rebuilds s by integer arithmetic, which never yields -0.
  return Math.abs(s) < MAX_SCALED && (s + 0) / POW10[d] === x && (x !== 0 || 1 / x > 0);
}

/** Value kinds: raw offsets; deltas (1) and delta-of-deltas, plain (read only) or from a median. */
const RAW = 0;
const DOD = 2;
const DELTA_MEDIAN = 3;
const DOD_MEDIAN = 4;

/** `xs` as zigzag offsets from their median, and that median; null if one would pass 2^53. */
function fromMedian(
  xs: Float64Array,
  slot: Col,
): { center: number; zz: Float64Array } | null {
  let center = 0;
  if (xs.length > 0) {
    center = majority(xs);
    if (center !== center) {
      const copy = column(Col.Select, xs.length);
      copy.set(xs);
      center = select(copy, xs.length >> 1);
    }
  }
  const zz = column(slot, xs.length);
  for (let i = 0; i < xs.length; i++) {
    zz[i] = zigzag(xs[i] - center);
    if (!(zz[i] <= Number.MAX_SAFE_INTEGER)) return null;
  }
  return { center, zz };
}

/**
 * The value more than half of `xs` hold, else NaN. Such a value is the median (the k-th
 * smallest for k = n >> 1 is within its run in sorted order), and steady series make one of
 * most delta and delta-of-delta columns (a counter's step, a gauge's 0). If there is one, the
 * middle place holds it more often than not: a count of that value (compares only) is then
 * the whole work, where the median's copy and select moved every value (a miss only falls
 * back to them). One plain loop: a first version in blocks with an early exit was deoptimized
 * on most calls (V8 --trace-deopt). The columns hold integers made by subtraction of
 * integers, never -0, so a value equal to the candidate is the candidate bit for bit.
 */
function majority(xs: Float64Array): number {
  const n = xs.length;
  const cand = xs[n >> 1];
  let count = 0;
  for (let i = 0; i < n; i++) count += xs[i] === cand ? 1 : 0;
  return count * 2 > n ? cand : NaN;
}

/**
 * The k-th smallest of `a` (reordered in place): quickselect, which is linear where sorting
 * every chunk's deltas halved the encoder's speed, falling back to a sort on inputs that
 * would make it quadratic.
 */
function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  for (let rounds = 0; lo < hi; rounds++) {
    if (rounds > 64) return a.subarray(lo, hi + 1).sort()[k - lo];
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/** Write scaled values: their scale, base and gcd, and the q in the kind that packs smallest. */
export function writeScaled(w: BitWriter, { decimals, base, gcd, q }: Scaled): void {
  const n = q.length;
  let min = 0;
  for (let i = 0; i < n; i++) if (q[i] < min) min = q[i];
  const raw = column(Col.Raw, n);
  for (let i = 0; i < n; i++) raw[i] = q[i] - min;
  const delta = column(Col.Delta, Math.max(0, n - 1));
  const dod = column(Col.Dod, Math.max(0, n - 1));
  for (let i = 1; i < n; i++) {
    delta[i - 1] = q[i] - q[i - 1];
    dod[i - 1] = delta[i - 1] - (i > 1 ? delta[i - 2] : 0);
  }
  // Each kind: its stream, and a varint before it (the offset of raw values, else the median).
  const kinds: Array<{ kind: number; xs: Float64Array; count: number; head: number }> = [
    { kind: RAW, xs: raw, count: n, head: -min },
  ];
  const medians = [[DELTA_MEDIAN, delta, Col.ZzDelta], [DOD_MEDIAN, dod, Col.ZzDod]] as const;
  for (const [kind, xs, slot] of medians) {
    const m = fromMedian(xs, slot);
    if (m) kinds.push({ kind, xs: m.zz, count: n - 1, head: zigzag(m.center) });
  }
  let [best, bestBits, bestWidth] = [kinds[0], Infinity, 0];
  for (const k of kinds) {
    const chosen = chooseWidth(k.xs, k.count);
    const bits = chosen.bits + 8 * Math.max(1, Math.ceil(bitLength(k.head) / 7));
    if (bits < bestBits) [best, bestBits, bestWidth] = [k, bits, chosen.width];
  }
  w.byte(decimals | best.kind << 4);
  w.varint(zigzag(base));
  w.varint(gcd);
  w.varint(best.head);
  writeInts(w, best.xs, best.count, bestWidth);
}

/** Read what {@link writeScaled} wrote into `out` (its length is the count); throws if corrupt. */
export function readScaled(r: BitReader, out: Float64Array): void {
  const n = out.length;
  const b = r.byte();
  const decimals = b & 15;
  const kind = b >> 4;
  if (decimals > MAX_DECIMALS || kind > DOD_MEDIAN) {
    throw new Error(`corrupt chunk: bad value scale ${b}`);
  }
  const base = unzigzag(r.varint());
  const gcd = r.varint();
  const q = out;
  if (kind === RAW) {
    const min = -r.varint();
    readInts(r, q, n);
    for (let i = 0; i < n; i++) q[i] += min;
  } else {
    const center = kind >= DELTA_MEDIAN ? unzigzag(r.varint()) : 0;
    const ofDeltas = kind === DOD || kind === DOD_MEDIAN;
    q[0] = 0;
    readInts(r, q.subarray(1), n - 1);
    let delta = 0;
    for (let i = 1; i < n; i++) {
      const x = unzigzag(q[i]) + center;
      delta = ofDeltas ? delta + x : x;
      q[i] = q[i - 1] + delta;
    }
  }
  const p = POW10[decimals];
  for (let i = 0; i < n; i++) {
    const s = base + q[i] * gcd;
    if (!(Math.abs(s) < MAX_SCALED)) throw new Error("corrupt chunk: scaled value out of range");
    out[i] = s / p;
  }
}
