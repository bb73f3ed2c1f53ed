/**
 * Bit and byte plumbing for the chunk codec (lib/store/chunk.ts): a growable LSB-first bit
 * writer, a bounds-checked reader that throws instead of reading past the end, zigzag and
 * LEB128 varints for integers up to 2^53, an FNV-1a checksum, and a patched
 * frame-of-reference integer stream ("PFor": every value in `w` bits, the rare wider ones
 * patched from an exception list) whose width is chosen to minimise the encoded size.
 *
 * @module
 */

const TWO32 = 2 ** 32;

/** Growable byte buffer with a bit cursor; bits fill each byte from its lowest bit up. */
export class BitWriter {
  buf: Uint8Array;
  pos = 0;
  #bit = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }

  #need(bytes: number): void {
    if (this.pos + bytes + 1 <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + bytes + 64));
    next.set(this.buf.subarray(0, this.pos + 1));
    this.buf = next;
  }

  /** Start again, empty, in the same buffer (zeroing what was written: bits are or-ed in). */
  reset(): void {
    this.buf.fill(0, 0, Math.min(this.buf.length, this.pos + 1));
    this.pos = 0;
    this.#bit = 0;
  }

  /** Write the low `n` (0..32) bits of the uint32 `v`. */
  bits(v: number, n: number): void {
    this.#need(5);
    const buf = this.buf;
    while (n > 0) {
      const take = Math.min(n, 8 - this.#bit);
      buf[this.pos] |= (v & ((1 << take) - 1)) << this.#bit;
      v >>>= take;
      n -= take;
      this.#bit += take;
      if (this.#bit === 8) {
        this.#bit = 0;
        this.pos++;
      }
    }
  }

  /**
   * Write the low `width` (1..24) bits of each of `xs[0, n)` (as uint32s): {@link bits} in one
   * loop with its state in locals, for the bulk of every chunk.
   */
  bitsFrom(xs: ArrayLike<number>, n: number, width: number): void {
    this.#need(Math.ceil(n * width / 8) + 1);
    const buf = this.buf;
    const mask = (1 << width) - 1;
    let pos = this.pos;
    let have = this.#bit;
    let acc = buf[pos]; // the bits already in the current byte; those above are 0
    for (let i = 0; i < n; i++) {
      acc |= ((xs[i] >>> 0) & mask) << have;
      have += width;
      while (have >= 8) {
        buf[pos++] = acc & 255;
        acc >>>= 8;
        have -= 8;
      }
    }
    buf[pos] = acc;
    this.pos = pos;
    this.#bit = have;
  }

  /** Write the low `n` (0..53) bits of a non-negative integer below 2^53. */
  bitsWide(v: number, n: number): void {
    if (n <= 32) this.bits(v >>> 0, n);
    else {
      this.bits(v >>> 0, 32);
      this.bits(Math.floor(v / TWO32), n - 32);
    }
  }

  /** Move to the next byte boundary (no-op when already there). */
  align(): void {
    if (this.#bit !== 0) {
      this.#bit = 0;
      this.pos++;
    }
  }

  /** Write one byte (aligns first). */
  byte(b: number): void {
    this.align();
    this.#need(1);
    this.buf[this.pos++] = b;
  }

  /** Write a non-negative integer below 2^53 as an LEB128 varint (aligns first). */
  varint(v: number): void {
    this.align();
    this.#need(8);
    const buf = this.buf;
    while (v >= 0x80) {
      buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    buf[this.pos++] = v;
  }

  /** The bytes written so far (aligned), as a view. */
  bytes(): Uint8Array {
    this.align();
    return this.buf.subarray(0, this.pos);
  }
}

/** Reader over `buf[start, end)`; every read past `end` throws a "truncated" Error. */
export class BitReader {
  pos: number;
  #bit = 0;

  constructor(readonly buf: Uint8Array, start: number, readonly end: number) {
    this.pos = start;
  }

  #eof(): never {
    throw new Error("corrupt chunk: truncated (read past the end of the data)");
  }

  /** Read `n` (0..32) bits as a uint32. */
  bits(n: number): number {
    let v = 0;
    let shift = 0;
    const buf = this.buf;
    while (n > 0) {
      if (this.pos >= this.end) this.#eof();
      const take = Math.min(n, 8 - this.#bit);
      v |= ((buf[this.pos] >>> this.#bit) & ((1 << take) - 1)) << shift;
      shift += take;
      n -= take;
      this.#bit += take;
      if (this.#bit === 8) {
        this.#bit = 0;
        this.pos++;
      }
    }
    return v >>> 0;
  }

  /**
   * Read `n` values of `width` (1..24) bits each into `out[0, n)`: {@link bits} in one loop
   * with its state in locals, for the bulk of every chunk. Throws (reading nothing) when the
   * data ends first.
   */
  bitsInto(out: Float64Array, n: number, width: number): void {
    const startBit = this.pos * 8 + this.#bit;
    const endBit = startBit + n * width;
    if (endBit > this.end * 8) this.#eof();
    const buf = this.buf;
    const mask = (1 << width) - 1;
    let pos = this.pos;
    let acc = 0;
    let have = 0;
    if (this.#bit !== 0 && n > 0) {
      acc = buf[pos++] >>> this.#bit;
      have = 8 - this.#bit;
    }
    for (let i = 0; i < n; i++) {
      while (have < width) {
        acc |= buf[pos++] << have;
        have += 8;
      }
      out[i] = acc & mask;
      acc >>>= width;
      have -= width;
    }
    this.pos = Math.floor(endBit / 8);
    this.#bit = endBit % 8;
  }

  /** Read `n` (0..53) bits as a non-negative integer. */
  bitsWide(n: number): number {
    if (n <= 32) return this.bits(n);
    const lo = this.bits(32);
    return this.bits(n - 32) * TWO32 + lo;
  }

  /** Skip to the next byte boundary. */
  align(): void {
    if (this.#bit !== 0) {
      this.#bit = 0;
      this.pos++;
    }
  }

  /** Read one byte (aligns first). */
  byte(): number {
    this.align();
    if (this.pos >= this.end) this.#eof();
    return this.buf[this.pos++];
  }

  /** Read an LEB128 varint below 2^53 (aligns first). */
  varint(): number {
    this.align();
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) this.#eof();
      const b = this.buf[this.pos++];
      v += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (v > Number.MAX_SAFE_INTEGER) break;
        return v;
      }
      scale *= 0x80;
    }
    throw new Error("corrupt chunk: varint too long");
  }
}

/** Map a signed integer (|v| < 2^52) to a non-negative one: 0,-1,1,-2.. -> 0,1,2,3.. */
export function zigzag(v: number): number {
  return v >= 0 ? 2 * v : -2 * v - 1;
}

/** Inverse of {@link zigzag}. */
export function unzigzag(z: number): number {
  // Integer ops where z fits 31 bits (the usual case: a double's % took a tenth of a query).
  if (z < 0x80000000) return (z >>> 1) ^ -(z & 1);
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** FNV-1a 32-bit hash of `buf[start, end)`: a cheap check against torn or flipped bytes. */
export function fnv1a(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  return h >>> 0;
}

const INV_TWO32 = 2 ** -32;

/**
 * Bits needed to write the non-negative integer `x` (< 2^64); 0 for 0. `x * 2^-32` is exact
 * and clz32 truncates it to x's high word (0 below 2^32, where clz32(x) reads x itself): one
 * select between two clz32s, where a floor and a divide on one side of a branch took twice as
 * long in the encoder's histogram pass.
 */
export function bitLength(x: number): number {
  return 64 - Math.clz32(x * INV_TWO32) - (x < TWO32 ? Math.clz32(x) : 0);
}

function varintBits(extraBits: number): number {
  return 8 * Math.max(1, Math.ceil(extraBits / 7));
}

/**
 * chooseWidth's histograms, reused: the call is synchronous and allocation dominated it. Four
 * of them, taken in turn: most values of a column have the same bit length, and counting
 * them all in one cell chained every increment on the last one's store (a third of the
 * encoder's time); four cells in turn let four increments run at once.
 */
const HIST = new Uint32Array(4 * 64);

/**
 * The packing width for `xs[0, n)` with the smallest estimated size, and that size in bits.
 * An exception (a value wider than the width) costs a gap varint (~1 byte) plus its high bits.
 */
export function chooseWidth(xs: ArrayLike<number>, n: number): { width: number; bits: number } {
  const hist = HIST.fill(0);
  let top = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const b0 = bitLength(xs[i]);
    const b1 = bitLength(xs[i + 1]);
    const b2 = bitLength(xs[i + 2]);
    const b3 = bitLength(xs[i + 3]);
    hist[b0]++;
    hist[64 + b1]++;
    hist[128 + b2]++;
    hist[192 + b3]++;
    top = Math.max(top, b0, b1, b2, b3);
  }
  for (; i < n; i++) {
    const b = bitLength(xs[i]);
    hist[b]++;
    if (b > top) top = b;
  }
  for (let b = 0; b <= top; b++) hist[b] += hist[64 + b] + hist[128 + b] + hist[192 + b];
  return widthOf(hist, 0, n, top);
}

/** The highest bit length counted in `hist[at, at + 64)` (0 when none is above 0). */
export function topOf(hist: Uint32Array, at: number): number {
  let b = 63;
  while (b > 0 && hist[at + b] === 0) b--;
  return b;
}

/**
 * {@link chooseWidth} from a histogram of the values' bit lengths already counted:
 * `hist[at + b]` values of bit length b, none above `top`. Also the exceptions the width
 * leaves (values of more bits), which {@link writeInts} takes instead of counting them.
 */
export function widthOf(
  hist: Uint32Array,
  at: number,
  n: number,
  top: number,
): { width: number; bits: number; exceptions: number } {
  let width = 0;
  let best = Infinity;
  // Widths above the widest value only add n bits each and can never win: stop at `top`.
  for (let w = 0; w <= top; w++) {
    let cost = n * w + 16;
    for (let b = w + 1; b <= top; b++) {
      if (hist[at + b] !== 0) cost += hist[at + b] * (8 + varintBits(b - w));
    }
    if (cost < best) {
      best = cost;
      width = w;
    }
  }
  let exceptions = 0;
  for (let b = width + 1; b <= top; b++) exceptions += hist[at + b];
  return { width, bits: best, exceptions };
}

/**
 * Write `xs[0, n)` (non-negative integers < 2^53) as a PFor stream (nothing when n is 0), at
 * `width` when the caller has it from {@link chooseWidth} already (a seal chose it to compare
 * encodings: choosing again was a fifth of the choosing), and with `known` exceptions (values
 * of `width` bits or more) when it has them too ({@link widthOf}): else they are counted.
 */
export function writeInts(
  w: BitWriter,
  xs: ArrayLike<number>,
  n: number,
  width = n === 0 ? 0 : chooseWidth(xs, n).width,
  known = -1,
): void {
  if (n === 0) return;
  const limit = 2 ** width;
  let exceptions = known;
  if (exceptions < 0) {
    exceptions = 0;
    for (let i = 0; i < n; i++) if (xs[i] >= limit) exceptions++;
  }
  w.byte(width);
  w.varint(exceptions);
  if (width > 0) {
    if (width <= 24) w.bitsFrom(xs, n, width);
    else if (width < 32) {
      const mask = limit - 1;
      for (let i = 0; i < n; i++) w.bits((xs[i] >>> 0) & mask, width);
    } else {
      for (let i = 0; i < n; i++) w.bitsWide(xs[i] % limit, width);
    }
  }
  w.align();
  let last = -1;
  for (let i = 0; i < n && exceptions > 0; i++) {
    if (xs[i] < limit) continue;
    w.varint(i - last - 1);
    w.varint(Math.floor(xs[i] / limit));
    last = i;
    exceptions--;
  }
}

/** Read a stream written by {@link writeInts} of `n` values into `out[0, n)`. */
export function readInts(r: BitReader, out: Float64Array, n: number): void {
  if (n === 0) return;
  const width = r.byte();
  if (width > 53) throw new Error(`corrupt chunk: integer width ${width} > 53`);
  let exceptions = r.varint();
  if (exceptions > n) throw new Error("corrupt chunk: more exceptions than values");
  if (width === 0) out.fill(0, 0, n);
  else if (width <= 24) r.bitsInto(out, n, width);
  else if (width <= 32) { for (let i = 0; i < n; i++) out[i] = r.bits(width); }
  else for (let i = 0; i < n; i++) out[i] = r.bitsWide(width);
  r.align();
  const limit = 2 ** width;
  let at = -1;
  while (exceptions-- > 0) {
    at += r.varint() + 1;
    if (at >= n) throw new Error("corrupt chunk: exception index out of range");
    const v = r.varint() * limit + out[at];
    if (v > Number.MAX_SAFE_INTEGER) throw new Error("corrupt chunk: integer out of range");
    out[at] = v;
  }
}
