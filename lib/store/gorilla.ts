/**
 * Gorilla XOR compression of float64 values (Pelkonen et al., VLDB 2015), the chunk codec's
 * exact fallback for values that are not scaled integers: each value is XORed with the
 * previous one and only the changed bits are written. Works on 32-bit halves.
 *
 * @module
 */

import type { BitReader, BitWriter } from "./bits.ts";

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LO = LE ? 0 : 1;
const HI = LE ? 1 : 0;

function shiftRight(hi: number, lo: number, t: number, out: Uint32Array): void {
  if (t === 0) [out[0], out[1]] = [hi, lo];
  else if (t < 32) [out[0], out[1]] = [hi >>> t, (lo >>> t) | (hi << (32 - t))];
  else [out[0], out[1]] = [0, hi >>> (t - 32)];
}

/**
 * Write `v`: the first value's 64 bits, then per value "0" (same bits), "10" + the changed bits
 * in the previous window, or "11" + 5 bits of leading zeros + 6 bits of length + the bits.
 */
export function writeXor(w: BitWriter, v: Float64Array): void {
  const u = new Uint32Array(v.buffer, v.byteOffset, v.length * 2);
  const hl = new Uint32Array(2);
  w.align();
  w.bits(u[LO], 32);
  w.bits(u[HI], 32);
  let prevLead = -1;
  let prevTrail = 0;
  for (let i = 1; i < v.length; i++) {
    const xh = (u[2 * i + HI] ^ u[2 * i - 2 + HI]) >>> 0;
    const xl = (u[2 * i + LO] ^ u[2 * i - 2 + LO]) >>> 0;
    if (xh === 0 && xl === 0) {
      w.bits(0, 1);
      continue;
    }
    let lead = xh !== 0 ? Math.clz32(xh) : 32 + Math.clz32(xl);
    const trail = xl !== 0 ? 31 - Math.clz32(xl & -xl) : 63 - Math.clz32(xh & -xh);
    if (lead > 31) lead = 31;
    let len: number;
    if (prevLead >= 0 && lead >= prevLead && trail >= prevTrail) {
      w.bits(1, 2); // bits "1", "0"
      len = 64 - prevLead - prevTrail;
      shiftRight(xh, xl, prevTrail, hl);
    } else {
      len = 64 - lead - trail;
      w.bits(3 | lead << 2 | (len & 63) << 7, 13);
      shiftRight(xh, xl, trail, hl);
      prevLead = lead;
      prevTrail = trail;
    }
    if (len <= 32) w.bits(hl[1], len);
    else {
      w.bits(hl[1], 32);
      w.bits(hl[0], len - 32);
    }
  }
}

/** Read `out.length` values written by {@link writeXor}; throws on a corrupt stream. */
export function readXor(r: BitReader, out: Float64Array): void {
  const u = new Uint32Array(out.buffer, out.byteOffset, out.length * 2);
  r.align();
  let lo = r.bits(32);
  let hi = r.bits(32);
  u[LO] = lo;
  u[HI] = hi;
  let lead = -1;
  let trail = 0;
  for (let i = 1; i < out.length; i++) {
    if (r.bits(1) !== 0) {
      if (r.bits(1) !== 0) {
        lead = r.bits(5);
        const len = r.bits(6) || 64;
        trail = 64 - lead - len;
        if (trail < 0) throw new Error("corrupt chunk: bad xor window");
      } else if (lead < 0) throw new Error("corrupt chunk: xor window reused before set");
      const len = 64 - lead - trail;
      const l = r.bits(Math.min(len, 32));
      const h = len > 32 ? r.bits(len - 32) : 0;
      if (trail === 0) {
        hi ^= h;
        lo ^= l;
      } else if (trail < 32) {
        hi ^= (h << trail) | (l >>> (32 - trail));
        lo ^= l << trail;
      } else hi ^= l << (trail - 32);
      hi >>>= 0;
      lo >>>= 0;
    }
    u[2 * i + LO] = lo;
    u[2 * i + HI] = hi;
  }
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) throw new Error("corrupt chunk: decoded a non-finite value");
  }
}
