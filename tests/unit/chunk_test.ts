import assert from "node:assert/strict";
import {
  chunkInfo,
  decodeChunk,
  decodeChunkTimes,
  encodeChunk,
  encodeChunkAs,
} from "../../lib/store/chunk.ts";
import {
  BitReader,
  BitWriter,
  readInts,
  unzigzag,
  writeInts,
  zigzag,
} from "../../lib/store/bits.ts";

const T0 = 1_700_000_000_000;

/** Mulberry32: a small seeded PRNG so failures reproduce. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function ticks(n: number, step = 1000): number[] {
  return Array.from({ length: n }, (_, i) => T0 + i * step);
}

/** Encode, decode and compare bit for bit (Object.is tells -0 from 0); returns the bytes. */
function roundTrip(
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  mode: "auto" | "xor" = "auto",
): Uint8Array {
  const bytes = encodeChunkAs(times, values, mode);
  const out = decodeChunk(bytes);
  assert.equal(out.times.length, times.length);
  assert.equal(out.values.length, values.length);
  for (let i = 0; i < values.length; i++) {
    if (!Object.is(out.values[i], values[i])) {
      assert.fail(`value ${i}: got ${out.values[i]}, want ${values[i]} (mode ${mode})`);
    }
    if (out.times[i] !== Math.round(times[i])) {
      assert.fail(`time ${i}: got ${out.times[i]}, want ${times[i]}`);
    }
  }
  const info = chunkInfo(bytes);
  assert.equal(info.count, times.length);
  if (times.length > 0) {
    assert.equal(info.firstTime, out.times[0]);
    assert.equal(info.lastTime, out.times[times.length - 1]);
  }
  return bytes;
}

const EDGES = [
  0,
  -0,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  2.2250738585072014e-308, // smallest normal
  2.225073858507201e-308, // largest subnormal
  1e308,
  -1e308,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  -Number.MAX_SAFE_INTEGER - 2,
  2 ** 49,
  2 ** 49 - 1,
  0.1,
  0.1 + 0.2,
  1 / 3,
  123.456789,
  1e-7,
  12.345,
  Math.PI,
];

Deno.test("chunk round-trips edge values bit for bit, in both value modes", () => {
  for (const mode of ["auto", "xor"] as const) {
    roundTrip(ticks(EDGES.length), EDGES, mode);
    roundTrip(ticks(EDGES.length), [...EDGES].reverse(), mode);
    for (const v of EDGES) roundTrip(ticks(3), [v, v, v], mode);
  }
});

Deno.test("chunk keeps -0 apart from 0 even among scaled integers", () => {
  const values = [1, 2, -0, 3, 0, -0];
  const out = decodeChunk(encodeChunk(ticks(6), values));
  assert.ok(Object.is(out.values[2], -0));
  assert.ok(Object.is(out.values[4], 0));
  assert.ok(Object.is(out.values[5], -0));
});

Deno.test("chunk stores repeats, steps and sawtooth exactly and compactly", () => {
  const n = 3600;
  const constant = new Array(n).fill(42.5);
  const steps = Array.from({ length: n }, (_, i) => Math.floor(i / 100) * 7.25);
  const saw = Array.from({ length: n }, (_, i) => 50_000_000 + (i % 300) * 4096 * 3);
  assert.ok(roundTrip(ticks(n), constant).length < 40, "a constant costs a few bytes");
  assert.ok(roundTrip(ticks(n), steps).length < n * 0.5);
  assert.ok(roundTrip(ticks(n), saw).length < n * 0.5);
});

Deno.test("chunk picks scaled integers for rounded data and stays exact", () => {
  const rnd = prng(1);
  const n = 600;
  const cpu = Array.from({ length: n }, () => Math.round(rnd() * 10_000) / 100);
  const scaled = roundTrip(ticks(n), cpu);
  const xor = roundTrip(ticks(n), cpu, "xor");
  assert.ok(scaled.length < xor.length / 2, `${scaled.length} vs xor ${xor.length}`);
  for (let d = 0; d <= 6; d++) {
    const p = 10 ** d;
    roundTrip(ticks(n), Array.from({ length: n }, () => Math.round((rnd() - 0.5) * 1e7) / p));
  }
});

Deno.test("chunk falls back to xor for unrounded floats and values beyond 2^49", () => {
  const rnd = prng(2);
  roundTrip(ticks(500), Array.from({ length: 500 }, () => (rnd() - 0.5) * 1e6));
  roundTrip(ticks(4), [2 ** 60, 2 ** 60 + 256, 1, 2]);
  roundTrip(ticks(3), [1.0000001, 2, 3]); // 7 decimals: one more than the scaled mode tries
  assert.throws(() => encodeChunkAs(ticks(2), [0.1 + 0.2, 1], "scaled"), RangeError);
});

Deno.test("chunk keeps irregular, duplicate, out-of-order times and huge gaps exactly", () => {
  const times = [T0, T0, T0 + 1, T0 - 5000, T0 + 86_400_000 * 365, T0 + 3, T0 + 3, 0, -1, 2 ** 48];
  const values = times.map((_, i) => i);
  const out = decodeChunk(roundTrip(times, values));
  assert.deepEqual([...out.times], times);
  assert.deepEqual(chunkInfo(encodeChunk(times, values)), {
    count: times.length,
    firstTime: T0,
    lastTime: 2 ** 48,
    timesFrom: null,
  });
});

Deno.test("a chunk sharing another series' times leaves them out and decodes with them", () => {
  const rnd = prng(11);
  const times = Array.from({ length: 900 }, (_, i) => T0 + i * 1000 + Math.floor(rnd() * 4));
  const cpu = times.map(() => Math.round(rnd() * 1000) / 10);
  const own = encodeChunk(times, cpu);
  const shared = encodeChunk(times, cpu, 7);
  // The times cost ~2 bits each in the chunk that holds them; the sharing one saves them.
  assert.ok(own.length - shared.length > 900 * 2 / 8, `${own.length} -> ${shared.length}`);
  assert.deepEqual(chunkInfo(shared), {
    count: 900,
    firstTime: times[0],
    lastTime: times[899],
    timesFrom: 7,
  });
  const asked: number[] = [];
  const out = decodeChunk(shared, (series) => (asked.push(series), decodeChunkTimes(own)));
  assert.deepEqual(asked, [7]);
  assert.deepEqual([...out.times], times);
  assert.deepEqual([...out.values], cpu);
  // Without the times, or with times that do not fit the header, it is a clear error.
  assert.throws(() => decodeChunk(shared), /shares series 7's times/);
  const other = Float64Array.from(times, (t) => t + 1);
  assert.throws(() => decodeChunk(shared, () => other), /do not match/);
  assert.throws(() => decodeChunk(shared, () => other.subarray(1)), /do not match/);
  // The chunk that holds times never points on (no chains), and its times read alone.
  assert.throws(() => decodeChunkTimes(shared), /shared times chained/);
  assert.deepEqual([...decodeChunkTimes(own)], times);
});

Deno.test("chunk stores 1 s ticks with 0-3 ms of jitter in about 2 bits per time", () => {
  const rnd = prng(5);
  const times = ticks(3600).map((t) => t + Math.floor(rnd() * 4));
  const bytes = roundTrip(times, new Array(3600).fill(7));
  assert.ok(bytes.length < 3600 * 2 / 8 + 40, `${bytes.length} bytes`);
});

Deno.test("a series that only grows, by 20 000 to 80 000 a second, costs the bits of the spread", () => {
  const rnd = prng(6);
  let v = 1e8;
  const values = Array.from({ length: 3600 }, () => v += 20_000 + Math.floor(rnd() * 60_000));
  const bytes = roundTrip(ticks(3600), values);
  // 60 000 apart needs 16 bits; deltas zigzagged around 0 would need 18 (up to 160 000).
  assert.ok(bytes.length < 3600 * 16 / 8 + 40, `${bytes.length} bytes`);
});

/** The median of `xs` as the encoder defines it: the (n >> 1)-th smallest. */
function medianOf(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1];
}

Deno.test("deltas and delta-of-deltas are stored from their median, a value held by half or a wrap at the middle included", () => {
  // The encoder takes a value more than half of a column holds as its median without sorting,
  // looking for one at a few places: a value held by exactly half is not one, and a column whose
  // one odd value sits at the middle still has its majority found. Each chunk shares times
  // (so its values follow the header at once) and holds integers: q = (v - v[0]) / gcd.
  const rnd = prng(21);
  let medianKinds = 0;
  for (let c = 0; c < 400; c++) {
    const n = 3 + Math.floor(rnd() * 60) + (c % 4 === 0 ? 1000 : 0);
    const a = 1 + Math.floor(rnd() * 5);
    const b = a + 1 + Math.floor(rnd() * 300);
    const half = (n - 1) >> 1;
    // Deltas: a and b half and half (shuffled, or in two runs), or all a but one b at the middle.
    const deltas = Array.from(
      { length: n - 1 },
      (_, i) =>
        c % 3 === 0
          ? (i < half ? a : b)
          : c % 3 === 1
          ? (rnd() < 0.5 ? a : b)
          : (i === half ? b : a),
    );
    const values = [0];
    for (const d of deltas) values.push(values[values.length - 1] + d);
    const bytes = encodeChunk(ticks(n), values, 7);
    const r = new BitReader(bytes, 0, bytes.length - 4);
    r.byte(); // version and mode
    for (let k = 0; k < 4; k++) r.varint(); // count, first time, time span, the times' series
    const kind = r.byte() >> 4;
    r.varint(); // base
    const gcd = r.varint();
    const head = r.varint();
    const q = values.map((v) => (v - values[0]) / gcd);
    const ds = q.slice(1).map((x, i) => x - q[i]);
    const dods = ds.map((d, i) => d - (i > 0 ? ds[i - 1] : 0));
    if (kind === 3) assert.equal(head, zigzag(medianOf(ds)), `chunk ${c}: delta median`);
    if (kind === 4) assert.equal(head, zigzag(medianOf(dods)), `chunk ${c}: delta-of-delta median`);
    if (kind >= 3) medianKinds++;
    assert.deepEqual([...decodeChunk(bytes, () => Float64Array.from(ticks(n))).values], values);
  }
  assert.ok(medianKinds > 200, `${medianKinds} chunks stored from a median`);
});

Deno.test("chunks written before deltas were stored from their median still decode", () => {
  const hex = (s: string) => Uint8Array.from(s.match(/../g)!, (b) => parseInt(b, 16));
  const times = Array.from({ length: 12 }, (_, i) => 1_700_000_000_000 + i * 1000 + (i % 3));
  // Written by the encoder of commit c8050dd: value kind 1 (deltas), then 2 (delta-of-deltas).
  const deltas = decodeChunk(
    hex("130c80a0abfef962f4ab01d00f000200499224100a0103008c1d387400a5708637"),
  );
  assert.deepEqual([...deltas.times], times);
  assert.deepEqual([...deltas.values], [5, 7, 6, 9, 12, 11, 11, 14, 13, 15, 18, 17]);
  const dods = decodeChunk(
    hex("130c80a0abfef962f4ab01d00f00020049922420c80103030022499224012d207f00"),
  );
  assert.deepEqual([...dods.values], times.map((_, i) => 100 + i * i * 3));
});

Deno.test("chunk rounds non-integer ms times to the nearest ms", () => {
  const out = decodeChunk(encodeChunk([T0 + 0.4, T0 + 1000.5, T0 + 1999.6, -0.2], [1, 2, 3, 4]));
  assert.deepEqual([...out.times], [T0, T0 + 1001, T0 + 2000, 0]);
  assert.ok(Object.is(out.times[3], 0), "a time rounded to -0 is stored as 0");
});

Deno.test("chunk handles a single point and an empty chunk", () => {
  roundTrip([T0], [-0]);
  roundTrip([T0], [Number.MIN_VALUE]);
  const empty = encodeChunk([], []);
  assert.deepEqual(decodeChunk(empty), { times: new Float64Array(0), values: new Float64Array(0) });
  const info = chunkInfo(empty);
  assert.equal(info.count, 0);
  assert.ok(Number.isNaN(info.firstTime) && Number.isNaN(info.lastTime));
});

Deno.test("chunk round-trips large chunks of 10 000 points", () => {
  const rnd = prng(3);
  const n = 10_000;
  const times = ticks(n).map((t) => t + Math.floor(rnd() * 4));
  roundTrip(times, Array.from({ length: n }, () => Math.round(rnd() * 1e4) / 100));
  roundTrip(times, Array.from({ length: n }, () => rnd() * 1e9));
  roundTrip(times, Array.from({ length: n }, (_, i) => 1e8 + 4096 * (i % 977)));
});

Deno.test("encodeChunk rejects non-finite values and times with a RangeError", () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    assert.throws(() => encodeChunk([T0, T0 + 1], [1, bad]), RangeError);
    assert.throws(() => encodeChunk([T0, bad], [1, 2]), RangeError);
  }
  assert.throws(() => encodeChunk([2 ** 49], [1]), RangeError);
  assert.throws(() => encodeChunk([T0, T0 + 1], [1]), RangeError);
});

/** A random series of one of several shapes, as the property test draws them. */
function randomSeries(rnd: () => number): { times: number[]; values: number[] } {
  const n = Math.floor(rnd() ** 2 * 300);
  const times: number[] = [];
  let t = Math.floor((rnd() - 0.5) * 2 ** 47);
  const timeShape = Math.floor(rnd() * 4);
  for (let i = 0; i < n; i++) {
    if (timeShape === 0) t += 1000;
    else if (timeShape === 1) t += 1000 + Math.floor(rnd() * 4);
    else if (timeShape === 2) t += Math.floor((rnd() - 0.3) * 10_000);
    else t += rnd() < 0.05 ? Math.floor(rnd() * 1e10) : Math.floor(rnd() * 3) - 1;
    times.push(Math.max(-(2 ** 48), Math.min(2 ** 48, t)));
  }
  const shape = Math.floor(rnd() * 6);
  const d = Math.floor(rnd() * 8);
  const scale = 10 ** Math.floor(rnd() * 12);
  const values = Array.from({ length: n }, (_, i) => {
    if (shape === 0) return Math.round((rnd() - 0.5) * scale * 10 ** d) / 10 ** d;
    if (shape === 1) return EDGES[Math.floor(rnd() * EDGES.length)];
    if (shape === 2) return (rnd() - 0.5) * scale;
    if (shape === 3) return 4096 * Math.floor(rnd() * 1e6) + (i % 7 === 0 ? 1 : 0);
    if (shape === 4) return i * 17 + (rnd() < 0.1 ? -0 : 0);
    const bits = new Float64Array(1);
    const u = new Uint32Array(bits.buffer);
    do {
      u[0] = rnd() * 2 ** 32;
      u[1] = rnd() * 2 ** 32;
    } while (!Number.isFinite(bits[0]));
    return bits[0];
  });
  return { times, values };
}

Deno.test("chunk round-trips thousands of seeded random series exactly", () => {
  const rnd = prng(20240601);
  for (let c = 0; c < 3000; c++) {
    const { times, values } = randomSeries(rnd);
    roundTrip(times, values);
    if (c % 3 === 0) roundTrip(times, values, "xor");
  }
});

Deno.test("decodeChunk throws a clear Error on any truncation or flipped bit", () => {
  const rnd = prng(4);
  const cpu = Array.from({ length: 120 }, () => Math.round(rnd() * 1e4) / 100);
  const floats = Array.from({ length: 120 }, () => rnd());
  for (const bytes of [encodeChunk(ticks(120), cpu), encodeChunk(ticks(120), floats)]) {
    for (let len = 0; len < bytes.length; len++) {
      assert.throws(() => decodeChunk(bytes.subarray(0, len)), /corrupt chunk/);
    }
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = bytes.slice();
        bad[i] ^= 1 << bit;
        assert.throws(() => decodeChunk(bad), /corrupt chunk/);
      }
    }
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    assert.throws(() => decodeChunk(longer), /corrupt chunk/);
  }
  assert.throws(() => chunkInfo(new Uint8Array(3)), /corrupt chunk/);
  assert.throws(() => chunkInfo(new Uint8Array([0xf0, 1, 2, 3, 4, 5])), /unknown version/);
});

Deno.test("decodeChunk reads a chunk stored inside a larger buffer", () => {
  const bytes = encodeChunk(ticks(5), [1.5, 2.5, -0, 4, 5]);
  const big = new Uint8Array(bytes.length + 16);
  big.set(bytes, 7);
  const out = decodeChunk(big.subarray(7, 7 + bytes.length));
  assert.ok(Object.is(out.values[2], -0));
  assert.equal(out.values[4], 5);
});

Deno.test("readInts reads every width 0..53 at every starting bit exactly as writeInts wrote it", () => {
  const rnd = prng(314);
  for (let width = 0; width <= 53; width++) {
    for (let lead = 0; lead < 8; lead++) {
      const n = 1 + Math.floor(rnd() * 40);
      const xs = Array.from({ length: n }, () => Math.floor(rnd() * 2 ** width));
      const w = new BitWriter(64);
      w.bits(lead, lead); // leaves the stream's start mid-byte... which writeInts aligns away
      w.bits(1, 1);
      writeInts(w, xs, n);
      w.bits(5, 3); // a trailer the reader must find where the stream ended
      const bytes = w.bytes();
      const r = new BitReader(bytes, 0, bytes.length);
      assert.equal(r.bits(lead), lead & ((1 << lead) - 1));
      assert.equal(r.bits(1), 1);
      const out = new Float64Array(n);
      readInts(r, out, n);
      assert.deepEqual(Array.from(out), xs, `width ${width}, lead ${lead}`);
      assert.equal(r.bits(3), 5, `width ${width}, lead ${lead}: trailer`);
    }
  }
});

Deno.test("bitsInto reads from any bit offset and throws, reading nothing, past the end", () => {
  const rnd = prng(2718);
  for (let width = 1; width <= 24; width++) {
    for (let lead = 0; lead < 8; lead++) {
      const n = 1 + Math.floor(rnd() * 30);
      const xs = Array.from({ length: n }, () => Math.floor(rnd() * 2 ** width));
      const w = new BitWriter(64);
      w.bits(0, lead);
      for (const x of xs) w.bits(x, width);
      w.bits(6, 3);
      const bytes = w.bytes();
      const r = new BitReader(bytes, 0, bytes.length);
      r.bits(lead);
      const out = new Float64Array(n);
      r.bitsInto(out, n, width);
      assert.deepEqual(Array.from(out), xs, `width ${width}, lead ${lead}`);
      assert.equal(r.bits(3), 6);
      const shortEnd = Math.ceil((lead + n * width) / 8) - 1; // one byte short
      if (lead > 0 && shortEnd === 0) continue;
      const short = new BitReader(bytes, 0, shortEnd);
      short.bits(lead);
      const at = short.pos;
      assert.throws(() => short.bitsInto(new Float64Array(n), n, width), /truncated/);
      assert.equal(short.pos, at);
    }
  }
});

Deno.test("unzigzag inverts zigzag on both sides of 2^31 and up to 2^52", () => {
  const edges = [
    0,
    1,
    2,
    3,
    2 ** 30 - 1,
    2 ** 30,
    2 ** 30 + 1,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 32,
    2 ** 52 - 1,
  ];
  for (const e of edges) {
    for (const v of [e, -e, e - 1, -e + 1]) {
      assert.ok(Object.is(unzigzag(zigzag(v)), v + 0), `${v}`);
    }
  }
  for (let z = 0x7ffffff0; z < 0x80000010; z++) {
    assert.equal(zigzag(unzigzag(z)), z, `${z}`);
  }
});

Deno.test("the encoder's reused working columns leave nothing behind from the last chunk", () => {
  // A small chunk encoded after a big, noisy one (which fills the encoder's reused columns and
  // writer with other bits) is the same, byte for byte, as before it, and reads back.
  const rand = prng(11);
  const times = ticks(50);
  const values = times.map((_, i) => Math.round(i * 37 + rand() * 9) / 100);
  const before = encodeChunk(times, values);
  const n = 20_000;
  const noisyTimes = Array.from({ length: n }, (_, i) => T0 + i * 997 + Math.floor(rand() * 50));
  const noisy = Array.from({ length: n }, () => Math.round((rand() - 0.5) * 2 ** 40) / 1000);
  encodeChunk(noisyTimes, noisy);
  encodeChunkAs(noisyTimes, noisy.map((x) => x * Math.PI), "xor");
  const after = encodeChunk(times, values);
  assert.deepEqual(after, before);
  const back = decodeChunk(after);
  assert.deepEqual([...back.values], values);
  assert.deepEqual([...back.times], times);
});

Deno.test("encoding reads its input columns and leaves them as they were", () => {
  const times = Float64Array.from(ticks(100), (t, i) => t + (i % 3) * 0.4);
  const values = Float64Array.from({ length: 100 }, (_, i) => i % 5 === 0 ? -0 : i * 1.25);
  const [t0, v0] = [times.slice(), values.slice()];
  encodeChunk(times, values);
  encodeChunk(times, values, 3);
  encodeChunkAs(times, values, "xor");
  assert.deepEqual(times, t0);
  assert.ok(values.every((v, i) => Object.is(v, v0[i])));
});
