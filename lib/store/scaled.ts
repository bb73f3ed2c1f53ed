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
  readInts,
  topOf,
  unzigzag,
  widthOf,
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
  const s = column(Col.Scaled, n);
  // Whole numbers (bytes, counts: most series) at d = 0, with their gcd on the way. The first
  // value that is not one goes on through the general loop, and the gcd is taken after it.
  let i = wholePrefix(v, s, GCD);
  let g = GCD[0];
  let d = 0;
  if (i < n) {
    let p = 1;
    let since = 0; // values from here on were checked (and scaled) at the final d
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
    g = gcdFrom(s, n);
  }
  const base = s[0];
  if (g === 0) g = 1;
  if (g === 1) { for (let i = 0; i < n; i++) s[i] = s[i] - base; }
  else {
    const inv = 1 / g; // every s - base is a multiple of g: its quotient, rounded as in gcdFrom
    for (let i = 0; i < n; i++) s[i] = Math.round((s[i] - base) * inv);
  }
  return { decimals: d, base, gcd: g, q: s };
}

/** wholePrefix's gcd (0: every difference was 0). */
const GCD = new Float64Array(1);

/**
 * `s[i] = v[i]` from the start while `v[i]` is a whole number below 2^49 (not -0); returns
 * where that stopped, and (`gcd[0]`) the gcd of every `|s[i] - s[0]|` before it, as
 * {@link gcdFrom} takes it. One pass where the check and the gcd were two.
 */
function wholePrefix(v: Float64Array, s: Float64Array, gcd: Float64Array): number {
  const n = v.length;
  const base = v[0];
  let g = 0;
  let inv = 1 / g;
  let i = 0;
  for (; i < n; i++) {
    const x = v[i];
    const r = Math.round(x);
    if (!(r === x && Math.abs(r) < MAX_SCALED && (x !== 0 || 1 / x > 0))) break;
    s[i] = r;
    const d = Math.abs(r - base);
    if (g !== 1 && Math.round(d * inv) * g !== d) inv = 1 / (g = gcdOf(d, g));
  }
  gcd[0] = g;
  return i;
}

/**
 * The gcd of every `|s[i] - s[0]|` for i < n (0 when all are 0). Most differences are
 * multiples of the gcd so far (bytes in pages, say): a multiply by 1/g tells, where Euclid's
 * first step is a double % (a call into C), and a division waits longer. d and g are integers
 * below 2^50: when g divides d, d * (1/g) is within 0.25 of the quotient and rounds to it; when
 * not, no multiple of g is d.
 */
function gcdFrom(s: Float64Array, n: number): number {
  const base = s[0];
  let g = 0;
  let inv = 1 / g;
  for (let i = 1; i < n && g !== 1; i++) {
    const d = Math.abs(s[i] - base);
    if (Math.round(d * inv) * g !== d) inv = 1 / (g = gcdOf(d, g));
  }
  return g;
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

/**
 * The median of `xs` (non-empty): the k-th smallest for k = n >> 1. A value more than half of
 * a column holds is its median (the k-th smallest is within its run in sorted order), and
 * steady series make one of most delta and delta-of-delta columns (a counter's step, a gauge's
 * 0): it is looked for at the middle place (`middleCount` of `xs` equal the value there, the
 * caller counted them), then a quarter and three quarters in (a periodic series, a counter that
 * wraps every 1 000 points, can put its one odd value at the middle), and only then found by a
 * copy and {@link select}. The columns hold integers made by subtraction of integers, never
 * -0, so a value equal to a candidate is it bit for bit.
 */
function medianOf(xs: Float64Array, middleCount: number): number {
  const n = xs.length;
  const middle = xs[n >> 1];
  if (middleCount * 2 > n) return middle;
  for (const at of [n >> 2, (3 * n) >> 2]) {
    const c = xs[at];
    if (c !== middle && countOf(xs, c) * 2 > n) return c;
  }
  const copy = column(Col.Select, n);
  copy.set(xs);
  return select(copy, n >> 1);
}

/** How many of `xs` equal `c`. */
function countOf(xs: Float64Array, c: number): number {
  let count = 0;
  for (let i = 0; i < xs.length; i++) count = (count + +(xs[i] === c)) | 0;
  return count;
}

/**
 * The k-th smallest of `a` (reordered in place): quickselect, which is linear where sorting
 * every chunk's deltas halved the encoder's speed, falling back to a sort on inputs that
 * would make it quadratic. The partition is a function of its own with one flat loop: written
 * as nested loops inside this one, V8 ran it as on-stack-replaced code thrown away at the inner
 * loop's exit, call after call (27 deopts and recompiles in one bench run's seal rounds).
 */
function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  for (let rounds = 0; lo < hi; rounds++) {
    if (rounds > 64) return a.subarray(lo, hi + 1).sort()[k - lo];
    partition(a, lo, hi, a[(lo + hi) >> 1]);
    const i = ENDS[0];
    const j = ENDS[1];
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/** Where {@link partition} stopped: i, then j. */
const ENDS = new Int32Array(2);

/**
 * Hoare's partition of `a[lo..hi]` around `pivot`, as one loop: afterwards `a[lo..j]` are at
 * most the pivot, `a[i..hi]` at least, and any place between them holds the pivot's value.
 */
function partition(a: Float64Array, lo: number, hi: number, pivot: number): void {
  let i = lo;
  let j = hi;
  while (i <= j) {
    if (a[i] < pivot) i++;
    else if (a[j] > pivot) j--;
    else {
      const t = a[i];
      a[i++] = a[j];
      a[j--] = t;
    }
  }
  ENDS[0] = i;
  ENDS[1] = j;
}

/** The three kinds' bit-length histograms (64 cells each), reused: the call is synchronous. */
const HISTS = new Uint32Array(3 * 64);
/** How many deltas and delta-of-deltas equal their middle value (deltasOf). */
const COUNTS = new Float64Array(2);
/** A zigzag offset this wide or wider is past 2^53 (MAX_SAFE_INTEGER): its kind is not used. */
const UNSAFE_BITS = 54;

// The passes are functions of their own, each a loop and a return: V8 optimizes such a function
// whole after a few calls, where a long loop inside a larger one ran as on-stack-replaced code
// that was thrown away at the loop's exit, call after call (--trace-deopt: "insufficient type
// feedback" after the loop).

/**
 * The first pass: `delta` and `dod` of `q`, and how many of each equal `candD` and `candO`
 * (their middle values) into `counts[0]` and `counts[1]`; returns the least of `q` and 0. One
 * count per column: with six (three places each) this pass took four times as long.
 */
function deltasOf(
  q: Float64Array,
  delta: Float64Array,
  dod: Float64Array,
  candD: number,
  candO: number,
  counts: Float64Array,
): number {
  const n = q.length;
  let countD = 0;
  let countO = 0;
  let min = 0;
  let last = q[0];
  if (last < min) min = last;
  let prev = 0; // the delta before
  for (let i = 1; i < n; i++) {
    const x = q[i];
    if (x < min) min = x;
    const d = x - last;
    const o = d - prev;
    delta[i - 1] = d;
    dod[i - 1] = o;
    // Int32 adds of 0 or 1: `+= cond ? 1 : 0` measured twice as slow.
    countD = (countD + +(d === candD)) | 0;
    countO = (countO + +(o === candO)) | 0;
    prev = d;
    last = x;
  }
  counts[0] = countD;
  counts[1] = countO;
  return min;
}

/**
 * The second pass: each kind's column (`raw` the offsets of `q` from `min`; `delta` and `dod`
 * zigzagged from their centers, in place) and its bit lengths counted in `hist` (raw at 0,
 * deltas at 64, delta-of-deltas at 128). Bit lengths are taken as `32 - clz32(x)`, right below
 * 2^32 (nearly every value: the rest are exceptions): each column's greatest value tells, and
 * when one reaches 2^32 the columns are counted again with {@link bitLength}.
 */
function kindsOf(
  q: Float64Array,
  min: number,
  raw: Float64Array,
  delta: Float64Array,
  centerD: number,
  dod: Float64Array,
  centerO: number,
  hist: Uint32Array,
): void {
  const len = q.length - 1;
  let topR = q[len] - min;
  let topD = 0;
  let topO = 0;
  raw[len] = topR;
  hist[32 - Math.clz32(topR)]++;
  for (let i = 0; i < len; i++) {
    const r = q[i] - min;
    const zd = zigzag(delta[i] - centerD);
    const zo = zigzag(dod[i] - centerO);
    raw[i] = r;
    delta[i] = zd;
    dod[i] = zo;
    topR = Math.max(topR, r);
    topD = Math.max(topD, zd);
    topO = Math.max(topO, zo);
    hist[32 - Math.clz32(r)]++;
    hist[96 - Math.clz32(zd)]++;
    hist[160 - Math.clz32(zo)]++;
  }
  if (Math.max(topR, topD, topO) >= TWO32) recount(raw, len + 1, delta, dod, len, hist);
}

const TWO32 = 2 ** 32;

/** {@link kindsOf}'s histograms again, with {@link bitLength}: a value reached 2^32. */
function recount(
  raw: Float64Array,
  n: number,
  delta: Float64Array,
  dod: Float64Array,
  len: number,
  hist: Uint32Array,
): void {
  hist.fill(0);
  for (let i = 0; i < n; i++) hist[bitLength(raw[i])]++;
  for (let i = 0; i < len; i++) hist[64 + bitLength(delta[i])]++;
  for (let i = 0; i < len; i++) hist[128 + bitLength(dod[i])]++;
}

/**
 * Write scaled values: their scale, base and gcd, and the q in the kind that packs smallest:
 * raw offsets from their minimum, or deltas or delta-of-deltas as zigzag offsets from their
 * median (each kind's size from {@link widthOf}, the first of the smallest wins).
 *
 * Two passes over the q and one to write: the first makes the deltas and delta-of-deltas,
 * the minimum and the majority counts; the second the three kinds' columns (zigzagged in
 * place) and their bit-length histograms. It was a pass per step (minimum, offsets, deltas,
 * two majority counts, two zigzags, three width choices, an exception count: twelve), and the
 * encoder took over half the history thread (stop 34).
 */
export function writeScaled(w: BitWriter, { decimals, base, gcd, q }: Scaled): void {
  const n = q.length;
  const len = n - 1; // deltas and delta-of-deltas
  const delta = column(Col.Delta, Math.max(0, len));
  const dod = column(Col.Dod, Math.max(0, len));
  const counts = COUNTS;
  let candD = 0;
  let candO = 0;
  if (len > 0) {
    // The middle values of delta and dod, from q.
    const k = len >> 1;
    candD = q[k + 1] - q[k];
    candO = candD - (k > 0 ? q[k] - q[k - 1] : 0);
  }
  const min = deltasOf(q, delta, dod, candD, candO, counts);
  let centerD = 0;
  let centerO = 0;
  if (len > 0) {
    centerD = medianOf(delta, counts[0]);
    centerO = medianOf(dod, counts[1]);
  }
  const raw = column(Col.Raw, n);
  const hist = HISTS.fill(0);
  kindsOf(q, min, raw, delta, centerD, dod, centerO, hist);
  // Each kind: its stream, and a varint before it (the offset of raw values, else the median).
  let best = RAW;
  let bestXs = raw;
  let bestCount = n;
  let bestHead = -min;
  let chosen = widthOf(hist, 0, n, topOf(hist, 0));
  let bestBits = chosen.bits + headBits(bestHead);
  for (const kind of [DELTA_MEDIAN, DOD_MEDIAN]) {
    const at = kind === DELTA_MEDIAN ? 64 : 128;
    const top = topOf(hist, at);
    if (top >= UNSAFE_BITS) continue;
    const head = zigzag(kind === DELTA_MEDIAN ? centerD : centerO);
    const c = widthOf(hist, at, len, top);
    const bits = c.bits + headBits(head);
    if (bits < bestBits) {
      [best, bestXs, bestCount, bestHead, bestBits, chosen] = [
        kind,
        kind === DELTA_MEDIAN ? delta : dod,
        len,
        head,
        bits,
        c,
      ];
    }
  }
  w.byte(decimals | best << 4);
  w.varint(zigzag(base));
  w.varint(gcd);
  w.varint(bestHead);
  writeInts(w, bestXs, bestCount, chosen.width, chosen.exceptions);
}

/** Bits of a kind's head varint. */
function headBits(head: number): number {
  return 8 * Math.max(1, Math.ceil(bitLength(head) / 7));
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
