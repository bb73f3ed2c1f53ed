/** /ws messages (lib/live/wire.ts): a turn with samples as one binary message, read back safely. */
import assert from "node:assert/strict";
import { decodeMessage, encodeTurn } from "../../lib/live/wire.ts";
import { SamplesColumns } from "../../lib/live/samples.ts";
import type { InstanceFrame, LiveFrame, SamplesFrame } from "../../lib/live/messages.ts";
import { jsonForm } from "../support/live.ts";

function cols(id: string, now: number, rows: Array<[number, Record<string, number>]>) {
  const c = new SamplesColumns(id, now);
  for (const [t, metrics] of rows) {
    c.add(t);
    for (const [k, v] of Object.entries(metrics)) c.set(k, v);
  }
  return c;
}

const instance = (id: string, now: number): string =>
  JSON.stringify({ type: "instance", now, instance: { id } } as InstanceFrame);

function binary(held: Array<string | SamplesColumns>): Uint8Array {
  const out = encodeTurn(held);
  assert.ok(out instanceof Uint8Array, "a turn with samples is binary");
  return out;
}

/** A binary message made by hand: `h` as the header, then `floats`. */
function header(h: unknown, floats: number[] = [0, 0]): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify(h));
  const start = (4 + text.length + 7) & ~7;
  const out = new Uint8Array(start + 8 * floats.length).fill(0x20, 4, start);
  new DataView(out.buffer).setUint32(0, start - 4, true);
  out.set(text, 4);
  new Float64Array(out.buffer, start).set(floats);
  return out;
}

/** A copy in a fresh ArrayBuffer, as the page receives it. */
function received(b: Uint8Array): ArrayBuffer {
  return b.slice().buffer;
}

Deno.test("a turn without samples stays JSON text: one frame bare, more as a batch", () => {
  assert.equal(encodeTurn([instance("a", 1)]), instance("a", 1));
  const two = encodeTurn([instance("a", 1), instance("b", 2)]);
  assert.equal(typeof two, "string");
  assert.deepEqual(decodeMessage(two), [
    JSON.parse(instance("a", 1)),
    JSON.parse(instance("b", 2)),
  ]);
});

Deno.test("a binary turn reads back in order: several instances, NaN gaps, an instance frame between one instance's samples", () => {
  const x1 = cols("svc/x", 12, [[10.25, { m: 1.5 }], [12, { n: -2e-300 }]]);
  const y = cols("svc/y", 11, [[11, { m: 5, "cpu.percent": 0.1 + 0.2 }]]);
  const x2 = cols("svc/x", 13, [[13.125, { m: 3 }]]);
  const msg = binary([x1, instance("svc/y", 11), y, instance("svc/x", 13), x2]);
  const frames = decodeMessage(received(msg)) as LiveFrame[];
  assert.deepEqual(frames.map(jsonForm), [
    {
      type: "samples",
      now: 12,
      id: "svc/x",
      t: [10.25, 12],
      v: { m: [1.5, null], n: [null, -2e-300] },
    },
    { type: "instance", now: 11, instance: { id: "svc/y" } },
    { type: "samples", now: 11, id: "svc/y", t: [11], v: { m: [5], "cpu.percent": [0.1 + 0.2] } },
    { type: "instance", now: 13, instance: { id: "svc/x" } },
    { type: "samples", now: 13, id: "svc/x", t: [13.125], v: { m: [3] } },
  ]);
  const s = frames[0] as SamplesFrame;
  assert.ok(s.t instanceof Float64Array, "columns are Float64Array views");
  assert.ok(Number.isNaN(s.v.m[1]), "a gap is NaN");
  assert.equal(Object.getPrototypeOf(s.v), null);
});

Deno.test("the binary layout: u32 header length, JSON batch header, floats from an offset divisible by 8", () => {
  const msg = binary([cols("é/ü", 2, [[1, { a: 7 }], [2, { a: 8, b: 9 }]])]);
  const size = new DataView(msg.buffer).getUint32(0, true);
  assert.equal((4 + size) % 8, 0);
  const header = JSON.parse(new TextDecoder().decode(msg.subarray(4, 4 + size)));
  assert.deepEqual(header, {
    type: "batch",
    frames: [{ type: "samples", now: 2, id: "é/ü", n: 2, m: ["a", "b"] }],
  });
  assert.deepEqual(
    [...new Float64Array(msg.buffer, 4 + size)],
    [1, 2, 7, 8, NaN, 9],
    "times, then each metric's column in the order of m, gaps NaN",
  );
  assert.equal(msg.length, 4 + size + 6 * 8);
});

Deno.test("a binary message that does not add up is refused whole, never read past its end", () => {
  const good = binary([cols("svc/x", 2, [[1, { a: 7, b: 1 }], [2, { a: 8 }]])]);
  const size = new DataView(good.buffer).getUint32(0, true);
  const frame = { type: "samples", now: 1, id: "x", n: 1, m: ["a"] }; // 2 floats: fits
  assert.equal((decodeMessage(header({ type: "batch", frames: [frame] })) as unknown[]).length, 1);
  const bad: Array<[string, unknown]> = [
    ["empty", new Uint8Array(0)],
    ["shorter than its prefix", new Uint8Array(3)],
    ["truncated floats", good.subarray(0, good.length - 8)],
    ["a float cut in half", good.subarray(0, good.length - 3)],
    ["truncated header", good.subarray(0, 4 + size - 8)],
    [
      "header length past the end",
      (() => {
        const b = good.slice();
        new DataView(b.buffer).setUint32(0, 1 << 30, true);
        return b;
      })(),
    ],
    [
      "floats not aligned",
      (() => {
        const b = good.slice();
        new DataView(b.buffer).setUint32(0, size - 1, true);
        return b;
      })(),
    ],
    ["n larger than the floats", header({ type: "batch", frames: [{ ...frame, n: 2 }] })],
    ["n smaller than the floats", header({ type: "batch", frames: [{ ...frame, n: 0 }] })],
    ["n huge", header({ type: "batch", frames: [{ ...frame, n: 2 ** 60 }] })],
    ["n negative", header({ type: "batch", frames: [{ ...frame, n: -1 }] })],
    ["n fractional", header({ type: "batch", frames: [{ ...frame, n: 0.5 }] })],
    ["no m", header({ type: "batch", frames: [{ ...frame, m: undefined }] })],
    ["a name not text", header({ type: "batch", frames: [{ ...frame, m: [3] }] })],
    ["not a batch", header(frame)],
    ["frames not a list", header({ type: "batch", frames: {} })],
    ["header not JSON", header("x").fill(0x7b, 4, 8)],
    ["header not UTF-8", header("x").fill(0xff, 4, 8)],
    ["not bytes", 42],
    ["bad text", "{"],
    ["a batch of no list", '{"type":"batch","frames":3}'],
  ];
  for (const [what, data] of bad) assert.equal(decodeMessage(data), null, what);
});

Deno.test("a binary message at an unaligned offset is copied, not misread", () => {
  const msg = binary([cols("svc/x", 2, [[1, { a: 7 }]])]);
  const shifted = new Uint8Array(msg.length + 1);
  shifted.set(msg, 1);
  const [s] = decodeMessage(shifted.subarray(1)) as SamplesFrame[];
  assert.deepEqual(jsonForm(s), { type: "samples", now: 2, id: "svc/x", t: [1], v: { a: [7] } });
});

Deno.test("metric names and ids are text from the header: __proto__ is just a key", () => {
  const msg = header({
    type: "batch",
    frames: [{ type: "samples", now: 2, id: '"</script>', n: 1, m: ["__proto__", "constructor"] }],
  }, [1, 7, 8]);
  const [s] = decodeMessage(msg) as SamplesFrame[];
  assert.equal(s.id, '"</script>');
  assert.deepEqual(Object.keys(s.v), ["__proto__", "constructor"]);
  assert.equal(s.v["__proto__"][0], 7);
  assert.equal(s.v["constructor"][0], 8);
});

Deno.test("a turn whose header is bigger than the reused buffer still encodes whole", () => {
  const big = JSON.stringify({
    type: "services",
    now: 1,
    services: [{ service: "ü".repeat(30_000) }],
  });
  const msg = binary([big, cols("svc/é", 2, [[1, { a: 7 }]])]);
  const [services, s] = decodeMessage(received(msg)) as LiveFrame[];
  assert.deepEqual(services, JSON.parse(big));
  assert.deepEqual(jsonForm(s), { type: "samples", now: 2, id: "svc/é", t: [1], v: { a: [7] } });
});

// Columns are Float64Arrays kept across turns (samples.ts): a big batch grows them, a later
// small turn gives most of that back, and what goes on the wire is the same either way.
Deno.test("a samples frame's columns grow for a big batch, shrink after a small turn, and encode the same", () => {
  const c = new SamplesColumns("svc/x", 1);
  const keys = ["a", "b"];
  c.add(0);
  c.set("b", -1); // a sample without `a`, before the batch
  const n = 5000;
  const times = Float64Array.from({ length: n }, (_, r) => 1 + r);
  const values = Float64Array.from({ length: 2 * n }, (_, k) => k);
  c.addColumns(keys, times, values, n);
  const [s] = decodeMessage(received(binary([c]))) as SamplesFrame[];
  assert.equal(s.t.length, n + 1);
  assert.deepEqual([s.t[0], s.t[n]], [0, n]);
  assert.ok(Number.isNaN(s.v.a[0]), "a: NaN where the first sample lacks it");
  assert.deepEqual([s.v.a[1], s.v.a[n]], [0, n - 1]);
  assert.deepEqual([s.v.b[0], s.v.b[1], s.v.b[n]], [-1, n, 2 * n - 1]);
  const big = c.cols[0].a.length;
  assert.ok(big >= n + 1);
  c.reset();
  c.add(7);
  c.set("a", 3);
  assert.equal(c.cols[0].a.length, big, "kept while this turn is not sent");
  assert.deepEqual(jsonForm(decodeMessage(received(binary([c])))![0] as SamplesFrame), {
    type: "samples",
    now: 1,
    id: "svc/x",
    t: [7],
    v: { a: [3] },
  });
  c.reset();
  assert.ok(c.cols.length === 0 && c.length === 0, "emptied");
  c.add(8);
  c.set("a", 4);
  assert.ok(c.cols[0].a.length < 1024, "a small turn after a big one does not keep the big array");
  // Turns of 20, 20 and 30 samples: columns past a few values are copied from a view kept
  // while the count and array stay (LiveColumn.view); each turn must read its own values.
  for (const [rows, base] of [[20, 0], [20, 100], [30, 200]]) {
    c.reset();
    for (let r = 0; r < rows; r++) {
      c.add(base + r);
      c.set("a", -(base + r));
    }
    const [f] = decodeMessage(received(binary([c]))) as SamplesFrame[];
    const want = Array.from({ length: rows }, (_, r) => base + r);
    assert.deepEqual([Array.from(f.t), Array.from(f.v.a)], [want, want.map((x) => -x)]);
  }
});

Deno.test("a column's view is not reused once a reset gave the column a new array of the same count", () => {
  const c = new SamplesColumns("svc/x", 1);
  const turn = (rows: number, base: number) => {
    c.reset();
    for (let r = 0; r < rows; r++) {
      c.add(base + r);
      c.set("a", -(base + r));
    }
    const [f] = decodeMessage(received(binary([c]))) as SamplesFrame[];
    return Array.from(f.v.a);
  };
  turn(5000, 0); // a big array
  assert.deepEqual(turn(20, 0), Array.from({ length: 20 }, (_, r) => -r)); // a view of it
  // This turn's reset gives back the big array (20 of 8 192 used): a new one, same count.
  assert.deepEqual(turn(20, 100), Array.from({ length: 20 }, (_, r) => -(100 + r)));
});
