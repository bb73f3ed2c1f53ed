/**
 * The chunk and rollup encodings, byte for byte: speed work on the encoder must not change what
 * it stores (a different but valid encoding would still round-trip, so the round-trip tests
 * would not notice). The digests were taken from the encoder as of 2026-12-05 (before the
 * Stop 32 changes); a change of format on purpose changes them, with a new version.
 */
import assert from "node:assert/strict";
import { encodeChunk, encodeChunkAs } from "../../lib/store/chunk.ts";
import { foldIntoRows } from "../../lib/store/rollup.ts";

const T0 = 1_764_000_000_000;

/** Seeded, so the series are the same on every run. */
function prng(seed: number): () => number {
  return () => (seed = (seed * 48271) % 2147483647) / 2147483647;
}

/** Series of every kind the encoder chooses between: [times, values]. */
function series(): Array<[Float64Array, Float64Array]> {
  const rnd = prng(42);
  const out: Array<[Float64Array, Float64Array]> = [];
  const of = (n: number, t: (i: number) => number, v: (i: number) => number) =>
    out.push([
      Float64Array.from({ length: n }, (_, i) => t(i)),
      Float64Array.from({ length: n }, (_, i) => v(i)),
    ]);
  const jitter = (i: number) => T0 + i * 1000 + Math.floor(rnd() * 4);
  const frames = (i: number) => T0 + Math.floor(i / 100) * 67;
  for (const n of [1, 2, 3, 5, 33, 900, 5000]) {
    of(n, jitter, () => 48_000_000 + Math.floor(rnd() * 1000) * 4096); // bytes in pages: gcd
    of(n, frames, () => Math.round(rnd() * 10_000) / 100); // hundredths
    of(n, jitter, (i) => i < n / 2 ? i * 3 : Math.round(rnd() * 1e6) / 1e3); // d rises midway
    of(n, jitter, (i) => (i % 50 === 7 ? -0 : i)); // -0: not scaled
    of(n, frames, () => rnd() * 1e6); // unrounded floats: xor
    of(n, jitter, (i) => (rnd() < 0.02 ? 1e12 : i % 7)); // rare wide values: exceptions
    of(n, () => T0 + Math.floor(rnd() * 1e9), (i) => i * 1024 + 7); // out of order, grow
    of(n, jitter, () => Math.floor((rnd() - 0.5) * 2 ** 40)); // wide signed integers
  }
  return out;
}

async function digest(parts: Uint8Array[]): Promise<string> {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length + 4, 0));
  let at = 0;
  for (const p of parts) {
    new DataView(all.buffer).setUint32(at, p.length);
    all.set(p, at + 4);
    at += p.length + 4;
  }
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(h, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("chunk encodings are byte for byte those of the reference encoder", async () => {
  const parts: Uint8Array[] = [];
  for (const [t, v] of series()) {
    parts.push(encodeChunk(t, v), encodeChunk(t, v, 3), encodeChunkAs(t, v, "xor"));
  }
  assert.equal(await digest(parts), GOLDEN_CHUNKS);
});

Deno.test("rollup rows are byte for byte those of the reference encoder", async () => {
  const parts: Uint8Array[] = [];
  for (const [t, v] of series()) {
    foldIntoRows(t, v, () => undefined, (tier, row, data) => {
      parts.push(new Uint8Array(Float64Array.of(tier, row).buffer), data);
    });
  }
  assert.equal(await digest(parts), GOLDEN_ROLLUPS);
});

const GOLDEN_CHUNKS = "0bc5fdf3df9168835ad23c9d5e3369cd61d237f26281f4c591d9adb4f81a5278";
const GOLDEN_ROLLUPS = "0e8e08103cee2c01a33fe907d1a76895cf134bf0f2edb4dfcbeb49ee88f7ae02";
