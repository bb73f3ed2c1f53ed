/**
 * A known sender's single frames read by template (lib/protocol_template.ts): whatever the
 * bytes, the answer is the full decoder's (the same message, values and refusals), and the
 * usual frames do take the template's path.
 */
import assert from "node:assert/strict";
import {
  decode,
  type DecodeResult,
  encode,
  FrameColumns,
  type Identity,
} from "../../lib/protocol.ts";
import {
  LEARN_WHEN_FULL,
  MAX_TEMPLATE_BYTES,
  MAX_TEMPLATE_MEMORY,
  MAX_TEMPLATES,
} from "../../lib/protocol_template.ts";
import { BUCKET_COUNT } from "../../lib/histogram.ts";
import { prng } from "../support/fuzz.ts";

const TS = 1_714_564_800_000;
const bytes = (s: string) => new TextEncoder().encode(s);

/** The message as plain data (the reused Sample copied), or the refusal. */
function plain(r: DecodeResult): unknown {
  if (!r.ok) return r.error;
  const m = r.message;
  return { ...m, columns: undefined, samples: m.samples.map((s) => ({ ...s })) };
}

/**
 * Decode `frame` with `cols` (templates and all) and assert it is the full decoder's answer
 * (a decode with no columns): the message, and the values in the columns'
 * first row for the reused single message. Returns whether the template read it.
 */
function sameAsFull(frame: Uint8Array, cols: FrameColumns): boolean {
  const hits = cols.templates.hits;
  const got = decode(frame, cols);
  const want = decode(frame); // no columns: no templates
  assert.deepStrictEqual(plain(got), plain(want), new TextDecoder().decode(frame));
  if (got.ok && got.message === cols.single) {
    const keys = got.message.keys!;
    const row = [...cols.values.subarray(0, keys.length)];
    assert.deepStrictEqual(row, keys.map((k) => got.message.samples[0].metrics[k]));
  }
  return cols.templates.hits > hits;
}

/** A frame of the test's sender with these numbers (as text) at the template's places. */
function numbers(n: { sent?: string; seq?: string; ts?: string; a?: string; b?: string }) {
  return bytes(
    `{"v":1,"service":"orders","instance":"host-1:42","pid":7,"sent":${n.sent ?? TS},` +
      `"seq":${n.seq ?? 5},"ts":${n.ts ?? TS},"metrics":{"cpu.percent":${n.a ?? 1.5},` +
      `"mem.rss_bytes":${n.b ?? 1000}}}`,
  );
}

Deno.test("a sender's later single frames are read by template, as the full decoder reads them", () => {
  const cols = new FrameColumns();
  const id: Identity = {
    service: "orders",
    instance: "host-1:42",
    pid: 42,
    host: "h",
    color: "blue",
    intervalMs: 1000,
    start: TS - 5000,
  };
  const rnd = prng(0x9e3779b9);
  let read = 0;
  for (let seq = 1; seq <= 500; seq++) {
    const v = rnd();
    const metrics = {
      "cpu.percent": Math.round(v * 10_000) / 100, // the agent's two decimals
      "mem.rss_bytes": Math.floor(v * 2 ** 40),
      "loop.lag_ms": v * 1e-3 - 5e-4, // 16-17 digits, negative, exponents: JSON.stringify's forms
      "gc.count": seq % 3 === 0 ? -0 : seq,
    };
    const frame = encode(id, [{ seq, ts: TS + seq * 1000, metrics }], TS + seq * 1000 + 3);
    if (sameAsFull(frame, cols)) read++;
  }
  assert.equal(read, 499, "every frame after the first is read by template");
  assert.equal(cols.templates.size, 1);
});

Deno.test("a template reads every JSON number form the full decoder does, and refuses the rest", () => {
  const forms = [
    "0",
    "-0",
    "-0.0",
    "7",
    "1.5",
    "0.1",
    "123456789012345",
    "1234567890123456789",
    "0.30000000000000004",
    "9007199254740993",
    "12345678", // the digits' int holds 8: one more goes on in another
    "123456789",
    "1234567.891",
    "12345678.9",
    "99999999.9999999",
    "-0.00000001",
    "8.2747037474033005", // 17 digits: a mantissa over 2^53 divided is not the parse
    "627008692900835.32",
    "1e5",
    "1E-7",
    "2.5e+3",
    "-1.7976931348623157e308",
    "5e-324",
    "1e400",
    "-1e400",
    "01",
    "-01",
    "00",
    "-",
    "1.",
    ".5",
    "5e",
    "5e+",
    "+1",
    "0x10",
    "1_000",
    "NaN",
    "Infinity",
    "1.0",
    "1.5e0",
    "8640000000000000",
    "8640000000000001",
    "-1",
    '"1"',
    "null",
    "true",
    "[1]",
    "1 ",
  ];
  const cols = new FrameColumns();
  assert.equal(sameAsFull(numbers({}), cols), false); // learns
  let read = 0;
  for (const f of forms) {
    for (const place of ["sent", "seq", "ts", "a", "b"] as const) {
      if (sameAsFull(numbers({ [place]: f }), cols)) read++;
    }
  }
  assert.ok(read > 60, `${read} of the forms were read by template`);
});

Deno.test("frames that differ from the template outside its numbers get the full decoder's answer", () => {
  const cols = new FrameColumns();
  const base = new TextDecoder().decode(numbers({}));
  sameAsFull(numbers({}), cols);
  const variants = [
    base.replace('"host-1:42"', '"host-1:43"'), // another instance: a template of its own
    base.replace('"pid":7', '"pid":8'), // the same instance restarted
    base.replace('"seq":5', '"seq":5,"bye":true'), // a goodbye
    base.replace('"seq":5', '"seq":null'),
    base.replace('"seq":5', '"seq":5,"seq":null'), // a repeated key: the last counts
    base.replace('"seq":5', '"seq":null,"seq":5'),
    base.replace('"seq":5', '"s\\u0065q":6,"seq":5'),
    base.replace('"seq":5', '"seq":5,"s\\u0065q":6'),
    base.replace('"seq":5', '"x":{"seq":9,"ts":1},"seq":5'), // nested: not a place
    base.replace('"seq":5', '"x":"\\"seq\\":9","seq":5'), // in a string: not a place
    base.replace('"cpu.percent":1.5', '"cpu.percent":1.5,"cpu.percent":2.5'),
    base.replace('"cpu.percent":1.5', '"cpu.percent":"1.5"'),
    base.replace('"cpu.percent":1.5', '"cpu.percent":1.5,"x.y":2'), // a new metric
    base.replace('"cpu.percent":1.5,', ""), // one less
    base.replace('"metrics":{', '"metrics":{"bad name":1,'),
    base.replace(
      '"metrics":',
      '"hist":{"h.ms":{"counts":[' + "0,".repeat(BUCKET_COUNT - 1) +
        '0],"sum":0}},"metrics":',
    ),
    base.replace('"ts":', '"ts": '), // whitespace: a template of its own
    base.replace(/:/g, ": ").replace(/,/g, ", "), // Python's json.dumps
    base.replace("}}", "}} "),
    base.replace("}}", "}}x"),
    base.replace("}}", "}"),
    base + "{}",
    base.replace('"v":1', '"v":2'),
    base.replace('"metrics":{', '"metrics":{"__proto__":1,'),
    base.replace('{"v":1,', '{"v":1,"samples":[{"seq":1,"ts":1,"metrics":{}}],'),
  ];
  for (const v of variants) {
    // Twice: the second may be read by a template the first made.
    sameAsFull(bytes(v), cols);
    sameAsFull(bytes(v), cols);
    for (const n of ["2.25", "-3", "1e3"]) sameAsFull(bytes(v.replace("1000", n)), cols);
  }
  // Python's separators are read by template once learnt.
  const spaced = base.replace(/:/g, ": ").replace(/,/g, ", ");
  assert.equal(sameAsFull(bytes(spaced.replace("1000", "2000")), cols), true);
});

Deno.test("corrupted bytes of known senders' frames get the full decoder's answer", () => {
  const cols = new FrameColumns();
  const seeds = [
    numbers({}),
    numbers({ a: "-0.5", b: "123456789012345678" }),
    bytes(new TextDecoder().decode(numbers({})).replace(/:/g, ": ")),
  ];
  for (const f of seeds) sameAsFull(f, cols);
  const next = prng(0x2545f491);
  const rnd = (n: number) => Math.floor(next() * n);
  let read = 0;
  let refused = 0;
  for (let i = 0; i < 20_000; i++) {
    const f = seeds[i % seeds.length].slice();
    const edits = 1 + rnd(2);
    for (let e = 0; e < edits; e++) {
      f[rnd(f.length)] = rnd(3) === 0 ? rnd(256) : '0123456789-.eE+{}":, '.charCodeAt(rnd(21));
    }
    if (sameAsFull(f, cols)) read++;
    if (!decode(f).ok) refused++;
  }
  assert.ok(read > 1000, `${read} corrupted frames were read by template`);
  assert.ok(refused > 1000, `${refused} corrupted frames were refused`);
});

Deno.test("templates are bounded: when full, one miss in LEARN_WHEN_FULL replaces the oldest", () => {
  const cols = new FrameColumns();
  const frameOf = (i: number, seq: number) =>
    bytes(`{"v":1,"service":"s","instance":"i${i}","seq":${seq},"ts":${TS},"metrics":{"a":${i}}}`);
  for (let i = 0; i < MAX_TEMPLATES; i++) sameAsFull(frameOf(i, 1), cols);
  assert.equal(cols.templates.size, MAX_TEMPLATES);
  assert.equal(sameAsFull(frameOf(MAX_TEMPLATES - 1, 2), cols), true);
  // More senders than slots: every frame still decodes; few templates are made (a template
  // costs several full decodes), each in place of the oldest.
  const extra = LEARN_WHEN_FULL * 10;
  for (let i = MAX_TEMPLATES; i < MAX_TEMPLATES + extra; i++) sameAsFull(frameOf(i, 1), cols);
  assert.equal(cols.templates.size, MAX_TEMPLATES);
  let read = 0;
  for (let i = MAX_TEMPLATES; i < MAX_TEMPLATES + extra; i++) {
    if (sameAsFull(frameOf(i, 2), cols)) read++;
  }
  assert.ok(read >= 9 && read <= 11, `${read} of ${extra} new senders got a template`);
  let oldest = 0;
  for (let i = 0; i < 10; i++) if (sameAsFull(frameOf(i, 2), cols)) oldest++;
  assert.equal(oldest, 0, "the oldest templates went first");
});

Deno.test("templates are bounded in memory too: senders of many metrics get fewer of them", () => {
  const cols = new FrameColumns();
  const metrics = Array.from({ length: 160 }, (_, j) => `"m${j}":${j}`).join(",");
  const frameOf = (i: number, seq: number) =>
    bytes(
      `{"v":1,"service":"s","instance":"i${i}","seq":${seq},"ts":${TS},"metrics":{${metrics}}}`,
    );
  assert.ok(frameOf(9999, 1).length <= MAX_TEMPLATE_BYTES);
  const senders = 1500;
  for (let i = 0; i < senders; i++) sameAsFull(frameOf(i, 1), cols);
  const { size, memory } = cols.templates;
  assert.ok(memory <= MAX_TEMPLATE_MEMORY, `${memory} bytes`);
  assert.ok(memory > MAX_TEMPLATE_MEMORY * 0.9, `${memory} bytes: filled`);
  assert.ok(size < senders / 2 && size > 100, `${size} templates`);
  let read = 0;
  for (let i = senders - 100; i < senders; i++) if (sameAsFull(frameOf(i, 2), cols)) read++;
  assert.ok(read > 0, "the newest senders have templates");
  assert.equal(sameAsFull(frameOf(0, 2), cols), false, "the oldest went first");
});
