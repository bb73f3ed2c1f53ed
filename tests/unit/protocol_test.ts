/**
 * Wire protocol v1: valid forms, the legacy seed message, encode/decode round trips, and a
 * table of malformed frames, each with the exact reject reason it must get.
 */
import assert from "node:assert/strict";
import {
  createEncoder,
  decode,
  type DecodeResult,
  encode,
  FrameColumns,
  type Identity,
  LIMITS,
  type Message,
  METRICS,
  type OutgoingSample,
  PROTOCOL_VERSION,
  REJECT_REASONS,
  type RejectReason,
} from "../../lib/protocol.ts";
import { BUCKET_COUNT } from "../../lib/histogram.ts";
import { referenceDecode } from "../support/protocol_reference.ts";

const TS = 1_714_564_800_000;

/** A valid single-form message; override or drop (with `undefined`) fields per test. */
function single(over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    v: 1,
    service: "orders",
    instance: "host-1:42",
    seq: 7,
    ts: TS,
    metrics: { "cpu.percent": 12.5 },
    ...over,
  });
}

/** A valid batch-form message with `n` samples (seq 0..n-1), optionally overriding some. */
function batch(n: number, over: Record<string, unknown> = {}, at: Record<number, unknown> = {}) {
  const samples = Array.from(
    { length: n },
    (_, i) => at[i] ?? { seq: i, ts: TS + i * 1000, metrics: { "cpu.percent": i } },
  );
  return JSON.stringify({
    v: 1,
    service: "orders",
    instance: "host-1:42",
    sent: TS + n * 1000,
    samples,
    ...over,
  });
}

function ok(r: DecodeResult): Message {
  if (!r.ok) assert.fail(`expected ok, got ${r.error.reason}: ${r.error.detail}`);
  return r.message;
}

/** A frame padded with JSON whitespace to exactly `bytes` bytes. */
function padTo(json: string, bytes: number): string {
  return json.slice(0, -1) + " ".repeat(bytes - json.length) + "}";
}

// ---------------------------------------------------------------------------------------
// Valid messages

Deno.test("decode accepts a full single message with every field", () => {
  const m = ok(decode(single({
    pid: 42,
    host: "host-1",
    color: "red",
    interval: 1000,
    start: TS - 60_000,
    sent: TS + 5,
    metrics: {
      "cpu.percent": 250.5,
      "mem.rss_bytes": 104_857_600,
      "mem.heap_used_bytes": 0,
      "loop.lag_ms": -0.5,
    },
  })));
  assert.deepStrictEqual(m.identity, {
    service: "orders",
    instance: "host-1:42",
    pid: 42,
    host: "host-1",
    color: "red",
    intervalMs: 1000,
    start: TS - 60_000,
  });
  assert.equal(m.sent, TS + 5);
  assert.equal(m.legacy, false);
  assert.deepStrictEqual(m.samples, [{
    seq: 7,
    ts: TS,
    metrics: {
      "cpu.percent": 250.5,
      "mem.rss_bytes": 104_857_600,
      "mem.heap_used_bytes": 0,
      "loop.lag_ms": -0.5,
    },
  }]);
});

Deno.test("decode of a minimal single message defaults optional fields to null and sent to ts", () => {
  const m = ok(decode(single({ seq: undefined })));
  assert.deepStrictEqual(m.identity, {
    service: "orders",
    instance: "host-1:42",
    pid: null,
    host: null,
    color: null,
    intervalMs: null,
    start: null,
  });
  assert.equal(m.sent, TS);
  assert.equal(m.samples[0].seq, null);
});

Deno.test("decode treats null optional identity fields as absent", () => {
  const m = ok(decode(single({ pid: null, host: null, color: null, interval: null })));
  assert.deepStrictEqual(
    [m.identity.pid, m.identity.host, m.identity.color, m.identity.intervalMs],
    [null, null, null, null],
  );
});

// Issue 16.6: docs/protocol.md says an optional field that is null means the same as one that
// is absent; a Python agent sending `"seq": None` lost every frame as wrong_type.
for (const field of ["pid", "host", "color", "interval", "start", "seq", "hist", "sent"]) {
  Deno.test(`decode treats a null ${field} as absent (single form)`, () => {
    const withNull = ok(decode(single({ [field]: null })));
    const without = ok(decode(single({ [field]: undefined })));
    assert.deepStrictEqual(withNull, without);
  });
}

for (const field of ["seq", "hist"]) {
  Deno.test(`decode treats a null ${field} as absent in a batch sample`, () => {
    const sample = (extra: Record<string, unknown>) => ({ ts: TS, metrics: { m: 1 }, ...extra });
    const withNull = ok(decode(batch(1, {}, { 0: sample({ [field]: null }) })));
    const without = ok(decode(batch(1, {}, { 0: sample({}) })));
    assert.deepStrictEqual(withNull, without);
    assert.equal(withNull.samples[0].seq, null);
  });
}

Deno.test("decode treats a null samples as absent: the frame is single", () => {
  const m = ok(decode(single({ samples: null })));
  assert.deepStrictEqual(m, ok(decode(single())));
});

Deno.test("decode refuses a null required field as missing_field, not wrong_type", () => {
  for (const field of ["service", "instance", "ts", "metrics"]) {
    const r = decode(single({ [field]: null }));
    assert.equal(r.ok ? "ok" : r.error.reason, "missing_field", field);
  }
  const r = decode(batch(1, { sent: null }));
  assert.equal(r.ok ? "ok" : r.error.reason, "missing_field", "batch sent");
});

Deno.test("decode accepts bytes and strings alike", () => {
  const text = single({ host: "hôte-ü" });
  assert.deepStrictEqual(decode(new TextEncoder().encode(text)), decode(text));
});

Deno.test("decode ignores unknown fields (forward compatible)", () => {
  const m = ok(decode(single({ future: { x: [1, 2] }, note: "hi" })));
  assert.equal(m.samples[0].metrics["cpu.percent"], 12.5);
});

Deno.test("decode accepts a real U+FFFD, in bytes as in a string (it is valid UTF-8)", () => {
  const text = single({ instance: "h\ufffd", host: "\ufffd" });
  const m = ok(decode(new TextEncoder().encode(text)));
  assert.equal(m.identity.instance, "h\ufffd");
  assert.deepStrictEqual(decode(new TextEncoder().encode(text)), decode(text));
});

Deno.test("decode accepts an empty metrics object", () => {
  assert.deepStrictEqual(ok(decode(single({ metrics: {} }))).samples[0].metrics, {});
});

Deno.test("decode accepts valid metric names", () => {
  const names = ["a", "cpu.percent", "disk.sda1.read_bytes", "x_1.y2", "net.0", "a".repeat(100)];
  const metrics = Object.fromEntries(names.map((n, i) => [n, i]));
  assert.deepStrictEqual(Object.keys(ok(decode(single({ metrics }))).samples[0].metrics), names);
});

Deno.test("decode keeps batch samples in send order", () => {
  const samples: { seq: number; ts: number; metrics: Record<string, number> }[] = [
    { seq: 10, ts: TS + 3000, metrics: { "cpu.percent": 3 } },
    { seq: 11, ts: TS + 1000, metrics: { "cpu.percent": 1, "mem.rss_bytes": 5 } },
    { seq: 12, ts: TS + 2000, metrics: { "loop.lag_ms": 2 } },
  ];
  const m = ok(decode(batch(3, { sent: TS + 9000, samples, color: "blue" })));
  assert.equal(m.sent, TS + 9000);
  assert.equal(m.identity.color, "blue");
  assert.deepStrictEqual(
    m.samples,
    samples.map((s) => ({ ...s, metrics: s.metrics })),
  );
});

Deno.test("decode accepts a batch sample without seq as seq null", () => {
  const m = ok(decode(batch(2, {}, { 1: { ts: TS, metrics: {} } })));
  assert.deepStrictEqual(m.samples.map((s) => s.seq), [0, null]);
});

Deno.test("decode accepts the limits exactly", () => {
  const n128 = "n".repeat(LIMITS.maxNameLength);
  assert.equal(ok(decode(single({ service: n128, instance: n128 }))).identity.service, n128);
  const many = Object.fromEntries(
    Array.from({ length: LIMITS.maxMetricsPerSample }, (_, i) => [`m.x${i}`, i]),
  );
  assert.equal(
    Object.keys(ok(decode(single({ metrics: many }))).samples[0].metrics).length,
    LIMITS.maxMetricsPerSample,
  );
  assert.equal(
    ok(decode(batch(LIMITS.maxSamplesPerBatch))).samples.length,
    LIMITS.maxSamplesPerBatch,
  );
  const full = padTo(single(), LIMITS.maxMessageBytes);
  assert.equal(new TextEncoder().encode(full).byteLength, LIMITS.maxMessageBytes);
  assert.equal(decode(full).ok, true);
  assert.equal(decode(new TextEncoder().encode(full)).ok, true);
  assert.equal(ok(decode(single({ ts: 0, seq: 0 }))).samples[0].ts, 0);
  const far = ok(decode(single({ ts: 8.64e15, seq: Number.MAX_SAFE_INTEGER }))).samples[0];
  assert.deepStrictEqual([far.ts, far.seq], [8.64e15, Number.MAX_SAFE_INTEGER]);
  assert.equal(ok(decode(single({ interval: 86_400_000 }))).identity.intervalMs, 86_400_000);
});

// ---------------------------------------------------------------------------------------
// The seed's legacy message

const SEED = '{"color":"red","timestamp":"2024-05-01T12:00:00.123456","cpu":12.5,"mem":34.2}';

Deno.test("decode maps the seed's legacy message to service legacy, instance = colour, MiB -> bytes", () => {
  const m = ok(decode(SEED));
  assert.equal(m.legacy, true);
  assert.deepStrictEqual(m.identity, {
    service: "legacy",
    instance: "red",
    pid: null,
    host: null,
    color: "red",
    intervalMs: null,
  });
  // A naive ISO timestamp (Python's datetime.isoformat()) is the sender's local time;
  // microseconds are truncated to milliseconds.
  const ts = new Date(2024, 4, 1, 12, 0, 0, 123).getTime();
  assert.equal(m.sent, ts);
  assert.deepStrictEqual(m.samples, [{
    seq: null,
    ts,
    metrics: { [METRICS.cpuPercent]: 12.5, [METRICS.rssBytes]: 34.2 * 1048576 },
  }]);
});

Deno.test("decode reads a legacy timestamp with an offset as that instant", () => {
  const m = ok(decode('{"color":"blue","timestamp":"2024-05-01T12:00:00Z","cpu":1,"mem":1}'));
  assert.equal(m.samples[0].ts, Date.UTC(2024, 4, 1, 12));
  assert.equal(m.identity.instance, "blue");
});

Deno.test("decode gives two legacy apps with different colours different instances", () => {
  const a = ok(decode(SEED)).identity;
  const b = ok(decode(SEED.replace('"red"', '"green"'))).identity;
  assert.notEqual(a.instance, b.instance);
});

// ---------------------------------------------------------------------------------------
// encode -> decode

const IDENTITY: Identity = {
  service: "bookings",
  instance: "host-2:77",
  pid: 77,
  host: "host-2",
  color: "#4e79a7",
  intervalMs: 500,
  start: TS - 1000,
};

Deno.test("encode -> decode round-trips the single form", () => {
  const sample = { seq: 3, ts: TS, metrics: { "cpu.percent": 1.5, "mem.rss_bytes": 1024 } };
  const frame = encode(IDENTITY, [sample], TS + 2);
  const json = JSON.parse(new TextDecoder().decode(frame));
  assert.equal(json.v, PROTOCOL_VERSION);
  assert.equal("samples" in json, false);
  assert.equal(json.seq, 3);
  const m = ok(decode(frame));
  assert.deepStrictEqual(m, {
    identity: IDENTITY,
    sent: TS + 2,
    samples: [{ ...sample, metrics: sample.metrics }],
    legacy: false,
    keys: ["cpu.percent", "mem.rss_bytes"],
  });
});

Deno.test("encode -> decode round-trips the batch form, order kept", () => {
  const samples = [5, 6, 7].map((seq) => ({
    seq,
    ts: TS + seq,
    metrics: { "cpu.percent": seq, "loop.lag_ms": seq / 10 },
  }));
  const frame = encode(IDENTITY, samples, TS + 100);
  assert.equal(Array.isArray(JSON.parse(new TextDecoder().decode(frame)).samples), true);
  const m = ok(decode(frame));
  assert.deepStrictEqual(m, {
    identity: IDENTITY,
    sent: TS + 100,
    samples: samples.map((s) => ({ ...s, metrics: s.metrics })),
    legacy: false,
    keys: ["cpu.percent", "loop.lag_ms"],
  });
  // Asked for columns: the same message, with each key's column, in the keys'
  // order, filled while validating.
  const columns = new FrameColumns();
  const c = ok(decode(frame, columns));
  assert.equal(c.columns, columns);
  assert.deepStrictEqual({ ...c, columns: undefined }, { ...m, columns: undefined });
  assert.equal(columns.rows, 3);
  assert.deepStrictEqual([...columns.values.subarray(0, 6)], [5, 6, 7, 0.5, 0.6, 0.7]);
});

Deno.test("encode -> decode round-trips an identity with only the required fields", () => {
  const id: Identity = {
    service: "s",
    instance: "i",
    pid: null,
    host: null,
    color: null,
    intervalMs: null,
    start: null,
  };
  const m = ok(decode(encode(id, [{ seq: 0, ts: 1, metrics: {} }], 2)));
  assert.deepStrictEqual(m.identity, id);
  assert.equal(m.sent, 2);
});

// ---------------------------------------------------------------------------------------
// Names: hostile text is a name, control characters are not; metrics never touch Object

Deno.test("decoded metrics hold only their own names, and no name can be a key of Object.prototype", () => {
  for (const m of [ok(decode(single())), ok(decode(batch(2))), ok(decode(SEED))]) {
    for (const s of m.samples) {
      for (const key of Object.keys(s.metrics)) {
        assert.equal(key in Object.prototype, false, key);
        assert.equal(typeof s.metrics[key], "number");
      }
    }
  }
  for (const key of Object.getOwnPropertyNames(Object.prototype)) {
    const r = decode(
      JSON.stringify({ v: 1, service: "s", instance: "i", ts: 1, metrics: { [key]: 1 } }),
    );
    assert.equal(r.ok, false, `metric named ${key} must be refused`);
  }
});

Deno.test("decode accepts hostile-looking service/instance/host/colour text verbatim", () => {
  for (
    const name of [
      "<img src=x onerror=alert(1)>",
      "__proto__",
      "constructor",
      "toString",
      "\"'`${x}</script>",
      "заказы 🚀",
    ]
  ) {
    const m = ok(decode(single({ service: name, instance: name, host: name, color: name })));
    assert.deepStrictEqual(
      [m.identity.service, m.identity.instance, m.identity.host, m.identity.color],
      [name, name, name, name],
    );
    assert.equal(Object.getPrototypeOf(m.identity), Object.prototype);
    const legacy = ok(
      decode(JSON.stringify({ color: name, timestamp: "2024-05-01", cpu: 1, mem: 1 })),
    );
    assert.equal(legacy.identity.instance, name);
  }
});

Deno.test("decode does not let a __proto__ key change any prototype", () => {
  const r = decode(
    `{"v":1,"service":"s","instance":"i","ts":1,"metrics":{},"__proto__":{"polluted":1}}`,
  );
  ok(r);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

// ---------------------------------------------------------------------------------------
// Malformed frames: each gets its exact reason, and decode never throws

interface Bad {
  name: string;
  frame: string | Uint8Array;
  reason: RejectReason;
  /** What the detail must mention, when it matters. */
  detail?: RegExp;
}

const enc = (s: string) => new TextEncoder().encode(s);
const withBytes = (before: string, bytes: number[], after: string) =>
  new Uint8Array([...enc(before), ...bytes, ...enc(after)]);
const metricsJson = (inner: string) =>
  `{"v":1,"service":"s","instance":"i","seq":1,"ts":1,"metrics":${inner}}`;
const DEEP = 100_000;
const MIB_NAME = "x".repeat(1024 * 1024);
const legacy = (over: Record<string, unknown>) =>
  JSON.stringify({ color: "red", timestamp: "2024-05-01T12:00:00", cpu: 1, mem: 1, ...over });

const BAD: Bad[] = [
  // framing and JSON
  { name: "an empty string frame", frame: "", reason: "invalid_json" },
  { name: "an empty byte frame", frame: new Uint8Array(0), reason: "invalid_json" },
  { name: "invalid JSON", frame: "{not json", reason: "invalid_json" },
  { name: "truncated JSON", frame: single().slice(0, -1), reason: "invalid_json" },
  {
    name: "NaN (not valid JSON)",
    frame: single().replace(`"ts":${TS}`, '"ts":NaN'),
    reason: "invalid_json",
  },
  { name: "trailing garbage after the object", frame: single() + "x", reason: "invalid_json" },
  { name: "two objects in one frame", frame: single() + single(), reason: "invalid_json" },
  { name: "a JSON array", frame: "[1,2]", reason: "not_object" },
  { name: "a JSON number", frame: "42", reason: "not_object" },
  { name: "JSON null", frame: "null", reason: "not_object" },
  { name: "a JSON string", frame: '"hello"', reason: "not_object" },
  { name: "JSON true", frame: "true", reason: "not_object" },
  {
    name: "100 000 nested arrays as the message",
    frame: "[".repeat(DEEP) + "]".repeat(DEEP),
    reason: "not_object",
  },
  { name: "100 000 unclosed nested arrays", frame: "[".repeat(DEEP), reason: "invalid_json" },
  // size
  { name: "a 1 MiB string in a name", frame: single({ service: MIB_NAME }), reason: "too_large" },
  {
    name: "a frame one byte over maxMessageBytes",
    frame: padTo(single(), LIMITS.maxMessageBytes + 1),
    reason: "too_large",
  },
  {
    name: "bytes one over maxMessageBytes",
    frame: enc(padTo(single(), LIMITS.maxMessageBytes + 1)),
    reason: "too_large",
  },
  {
    name: "a string frame under the limit in characters but over it in UTF-8 bytes",
    frame: single({ note: "é".repeat(600_000) }),
    reason: "too_large",
  },
  // UTF-8
  {
    name: "invalid UTF-8 bytes (0xff 0xfe)",
    frame: withBytes('{"v":1,"service":"', [0xff, 0xfe], '"}'),
    reason: "invalid_utf8",
  },
  {
    name: "an overlong UTF-8 encoding",
    frame: withBytes('{"v":1,"service":"', [0xc0, 0xaf], '"}'),
    reason: "invalid_utf8",
  },
  {
    name: "an encoded UTF-16 surrogate",
    frame: withBytes('{"v":1,"service":"', [0xed, 0xa0, 0x80], '"}'),
    reason: "invalid_utf8",
  },
  {
    name: "a truncated multi-byte sequence",
    frame: withBytes('{"v":1,"service":"', [0xe2, 0x82], '"}'),
    reason: "invalid_utf8",
  },
  {
    name: "invalid UTF-8 after a real U+FFFD",
    frame: withBytes('{"v":1,"service":"\ufffd', [0xff], '"}'),
    reason: "invalid_utf8",
  },
  // version
  { name: "{}", frame: "{}", reason: "missing_field", detail: /\bv\b/ },
  {
    name: "missing v without the legacy fields",
    frame: single({ v: undefined }),
    reason: "missing_field",
  },
  {
    name: "legacy-looking message without cpu",
    frame: '{"color":"red","mem":1}',
    reason: "missing_field",
  },
  { name: "unknown version v: 2", frame: single({ v: 2 }), reason: "unknown_version" },
  { name: 'version as a string v: "1"', frame: single({ v: "1" }), reason: "unknown_version" },
  { name: "v: null", frame: single({ v: null }), reason: "unknown_version" },
  {
    name: "the whole message under __proto__",
    frame: `{"__proto__":${single()}}`,
    reason: "missing_field",
  },
  // identity
  {
    name: "missing service",
    frame: single({ service: undefined }),
    reason: "missing_field",
    detail: /service/,
  },
  {
    name: "service null",
    frame: single({ service: null }),
    reason: "missing_field",
    detail: /service/,
  },
  {
    name: "missing instance",
    frame: single({ instance: undefined }),
    reason: "missing_field",
    detail: /instance/,
  },
  {
    name: "service as a number",
    frame: single({ service: 42 }),
    reason: "wrong_type",
    detail: /service/,
  },
  {
    name: "instance as a boolean",
    frame: single({ instance: true }),
    reason: "wrong_type",
    detail: /instance/,
  },
  { name: "host as a number", frame: single({ host: 1 }), reason: "wrong_type", detail: /host/ },
  {
    name: "color as an object",
    frame: single({ color: {} }),
    reason: "wrong_type",
    detail: /color/,
  },
  { name: "pid as a string", frame: single({ pid: "42" }), reason: "wrong_type", detail: /pid/ },
  { name: "negative pid", frame: single({ pid: -1 }), reason: "invalid_number", detail: /pid/ },
  { name: "fractional pid", frame: single({ pid: 1.5 }), reason: "invalid_number", detail: /pid/ },
  {
    name: "interval as a string",
    frame: single({ interval: "1000" }),
    reason: "wrong_type",
    detail: /interval/,
  },
  {
    name: "interval 0",
    frame: single({ interval: 0 }),
    reason: "invalid_number",
    detail: /interval/,
  },
  {
    name: "interval over one day",
    frame: single({ interval: 86_400_001 }),
    reason: "invalid_number",
    detail: /interval/,
  },
  { name: "an empty service name", frame: single({ service: "" }), reason: "invalid_name" },
  {
    name: "a 129-character service name",
    frame: single({ service: "s".repeat(129) }),
    reason: "invalid_name",
  },
  { name: "a newline in service", frame: single({ service: "a\nb" }), reason: "invalid_name" },
  { name: "a NUL in instance", frame: single({ instance: "a\u0000" }), reason: "invalid_name" },
  {
    name: "an ANSI escape in host",
    frame: single({ host: "\u001b[31mred" }),
    reason: "invalid_name",
  },
  { name: "DEL in color", frame: single({ color: "red\u007f" }), reason: "invalid_name" },
  {
    name: "a C1 control (CSI) in service",
    frame: single({ service: "a\u009b31m" }),
    reason: "invalid_name",
  },
  { name: "a tab in instance", frame: single({ instance: "a\tb" }), reason: "invalid_name" },
  // Invisible format characters: they reorder or hide the text drawn around a name.
  {
    name: "a right-to-left override in service",
    frame: single({ service: "\u202Eevil\u202C" }),
    reason: "invalid_name",
    detail: /service "\\\\u\{202E\}evil\\\\u\{202C\}"/,
  },
  {
    name: "a bidi isolate in instance",
    frame: single({ instance: "web\u2066-1\u2069" }),
    reason: "invalid_name",
  },
  {
    name: "a zero-width space in service",
    frame: single({ service: "a\u200Bb" }),
    reason: "invalid_name",
  },
  { name: "a line separator in host", frame: single({ host: "a\u2028b" }), reason: "invalid_name" },
  {
    name: "a paragraph separator in instance",
    frame: single({ instance: "a\u2029" }),
    reason: "invalid_name",
  },
  {
    name: "a byte order mark in color",
    frame: single({ color: "\uFEFFred" }),
    reason: "invalid_name",
  },
  {
    name: "a lone surrogate in service",
    frame: single({ service: "a\uD800" }),
    reason: "invalid_name",
  },
  {
    name: "a Hangul filler as instance",
    frame: single({ instance: "\u3164" }),
    reason: "invalid_name",
  },
  {
    name: "a right-to-left override in a label value",
    frame: single({ metrics: { 'http.requests_total{route="\u202E/x"}': 1 } }),
    reason: "invalid_name",
    detail: /\\\\u\{202E\}/,
  },
  {
    name: "a zero-width joiner in a label value",
    frame: single({ metrics: { 'jobs_total{queue="a\u200Db"}': 1 } }),
    reason: "invalid_name",
  },
  // seq and time
  { name: "seq as a string", frame: single({ seq: "7" }), reason: "wrong_type", detail: /seq/ },
  { name: "negative seq", frame: single({ seq: -1 }), reason: "invalid_number", detail: /seq/ },
  { name: "fractional seq", frame: single({ seq: 1.5 }), reason: "invalid_number", detail: /seq/ },
  {
    name: "seq beyond the safe integer range",
    frame: single().replace('"seq":7', '"seq":9007199254740993'),
    reason: "invalid_number",
    detail: /seq/,
  },
  { name: "missing ts", frame: single({ ts: undefined }), reason: "missing_field", detail: /ts/ },
  {
    name: "ts as an ISO string",
    frame: single({ ts: "2024-05-01T12:00:00Z" }),
    reason: "wrong_type",
    detail: /ts/,
  },
  { name: "negative ts", frame: single({ ts: -1 }), reason: "invalid_number", detail: /ts/ },
  {
    name: "ts past the end of Date",
    frame: single({ ts: 8.64e15 + 1 }),
    reason: "invalid_number",
    detail: /ts/,
  },
  {
    name: "-1e309 as ts (parses to -Infinity)",
    frame: single().replace(`"ts":${TS}`, '"ts":-1e309'),
    reason: "invalid_number",
    detail: /ts/,
  },
  {
    name: "sent as a string",
    frame: single({ sent: "now" }),
    reason: "wrong_type",
    detail: /sent/,
  },
  {
    name: "sent out of range",
    frame: single({ sent: 1e300 }),
    reason: "invalid_number",
    detail: /sent/,
  },
  // metrics
  {
    name: "missing metrics",
    frame: single({ metrics: undefined }),
    reason: "missing_field",
    detail: /metrics/,
  },
  {
    name: "metrics as an array",
    frame: single({ metrics: [1, 2] }),
    reason: "wrong_type",
    detail: /metrics/,
  },
  {
    name: "metrics null (null is absent)",
    frame: single({ metrics: null }),
    reason: "missing_field",
    detail: /metrics/,
  },
  {
    name: "metrics as a string",
    frame: single({ metrics: "cpu=1" }),
    reason: "wrong_type",
    detail: /metrics/,
  },
  {
    name: "a metric value as a string",
    frame: single({ metrics: { "cpu.percent": "12" } }),
    reason: "wrong_type",
    detail: /cpu\.percent/,
  },
  {
    name: "a metric value as a boolean",
    frame: single({ metrics: { "cpu.percent": true } }),
    reason: "wrong_type",
  },
  {
    name: "a metric value null",
    frame: single({ metrics: { "cpu.percent": null } }),
    reason: "wrong_type",
  },
  {
    name: "a metric value as an object",
    frame: single({ metrics: { "cpu.percent": { v: 1 } } }),
    reason: "wrong_type",
  },
  {
    name: "1e309 as a metric value (parses to Infinity)",
    frame: metricsJson('{"cpu.percent":1e309}'),
    reason: "invalid_number",
    detail: /cpu\.percent/,
  },
  {
    name: "100 000 nested arrays inside metrics",
    frame: metricsJson("[".repeat(DEEP) + "]".repeat(DEEP)),
    reason: "wrong_type",
  },
  {
    name: "100 000 nested objects as a metric value",
    frame: metricsJson('{"a":'.repeat(DEEP) + "1" + "}".repeat(DEEP)),
    reason: "wrong_type",
  },
  {
    name: "a __proto__ metric map",
    frame: metricsJson('{"__proto__":{"cpu.percent":1}}'),
    reason: "invalid_name",
  },
  {
    name: "a metric named constructor",
    frame: metricsJson('{"constructor":1}'),
    reason: "invalid_name",
  },
  {
    name: "a metric named __proto__",
    frame: metricsJson('{"__proto__":1}'),
    reason: "invalid_name",
  },
  {
    name: "an upper-case metric name",
    frame: single({ metrics: { "CPU.percent": 1 } }),
    reason: "invalid_name",
  },
  { name: "an empty metric name", frame: single({ metrics: { "": 1 } }), reason: "invalid_name" },
  {
    name: "a metric name with an empty segment",
    frame: single({ metrics: { "cpu..percent": 1 } }),
    reason: "invalid_name",
  },
  {
    name: "a metric name starting with a digit",
    frame: single({ metrics: { "1cpu": 1 } }),
    reason: "invalid_name",
  },
  {
    name: "a metric name with a space",
    frame: single({ metrics: { "cpu percent": 1 } }),
    reason: "invalid_name",
  },
  {
    name: "a metric name with a trailing newline",
    frame: single({ metrics: { "cpu.percent\n": 1 } }),
    reason: "invalid_name",
  },
  {
    name: "a 101-character metric name",
    frame: single({ metrics: { ["a".repeat(101)]: 1 } }),
    reason: "invalid_name",
  },
  {
    name: "257 metrics in one sample",
    frame: single({
      metrics: Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`m.x${i}`, i])),
    }),
    reason: "too_many",
  },
  // batch
  {
    name: "1001 samples in one batch",
    frame: batch(LIMITS.maxSamplesPerBatch + 1),
    reason: "too_many",
  },
  { name: "an empty samples array", frame: batch(0), reason: "missing_field", detail: /samples/ },
  {
    name: "samples as an object",
    frame: batch(1, { samples: { 0: {} } }),
    reason: "wrong_type",
    detail: /samples/,
  },
  {
    name: "samples null (null is absent: a single frame without ts)",
    frame: batch(1, { samples: null }),
    reason: "missing_field",
    detail: /ts/,
  },
  {
    name: "a batch without sent",
    frame: batch(2, { sent: undefined }),
    reason: "missing_field",
    detail: /sent/,
  },
  {
    name: "a batch whose sample 3 is not an object",
    frame: batch(5, {}, { 2: 42 }),
    reason: "wrong_type",
    detail: /samples\[2\]/,
  },
  {
    name: "a batch whose sample 3 has a negative seq",
    frame: batch(5, {}, { 2: { seq: -1, ts: TS, metrics: {} } }),
    reason: "invalid_number",
    detail: /samples\[2\]\.seq/,
  },
  {
    name: "a batch whose sample 3 has seq as a string",
    frame: batch(5, {}, { 2: { seq: "2", ts: TS, metrics: {} } }),
    reason: "wrong_type",
    detail: /samples\[2\]\.seq/,
  },
  {
    name: "a batch whose sample 3 has no ts",
    frame: batch(5, {}, { 2: { seq: 2, metrics: {} } }),
    reason: "missing_field",
    detail: /samples\[2\]\.ts/,
  },
  {
    name: "a batch whose sample 3 has a string metric",
    frame: batch(5, {}, { 2: { seq: 2, ts: TS, metrics: { "cpu.percent": "1" } } }),
    reason: "wrong_type",
    detail: /samples\[2\]\.metrics/,
  },
  {
    name: "a batch whose sample 3 has a bad metric name",
    frame: batch(5, {}, { 2: { seq: 2, ts: TS, metrics: { constructor: 1 } } }),
    reason: "invalid_name",
    detail: /samples\[2\]/,
  },
  {
    name: "a batch whose sample 3 has 257 metrics",
    frame: batch(5, {}, {
      2: {
        seq: 2,
        ts: TS,
        metrics: Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`m${i}`, i])),
      },
    }),
    reason: "too_many",
    detail: /samples\[2\]/,
  },
  // legacy
  {
    name: "a legacy message with a numeric timestamp",
    frame: legacy({ timestamp: 1 }),
    reason: "wrong_type",
    detail: /timestamp/,
  },
  {
    name: "a legacy message with an unparseable timestamp",
    frame: legacy({ timestamp: "yesterday" }),
    reason: "invalid_number",
    detail: /timestamp/,
  },
  {
    name: "a legacy message with cpu as a string",
    frame: legacy({ cpu: "12" }),
    reason: "wrong_type",
    detail: /cpu/,
  },
  {
    name: "a legacy message whose mem overflows to Infinity bytes",
    frame: legacy({ mem: 1e303 }),
    reason: "invalid_number",
    detail: /mem/,
  },
  {
    name: "a legacy colour with a control character",
    frame: legacy({ color: "red\n" }),
    reason: "invalid_name",
  },
  { name: "a legacy empty colour", frame: legacy({ color: "" }), reason: "invalid_name" },
  { name: "a legacy colour null", frame: legacy({ color: null }), reason: "missing_field" },
  {
    name: "a legacy message without timestamp",
    frame: legacy({ timestamp: undefined }),
    reason: "missing_field",
    detail: /timestamp/,
  },
  {
    name: "a legacy message without mem",
    frame: legacy({ mem: undefined }),
    reason: "missing_field",
    detail: /mem/,
  },
  {
    name: "a legacy message with negative mem",
    frame: legacy({ mem: -3 }),
    reason: "invalid_number",
    detail: /mem must not be negative/,
  },
  {
    name: "a legacy message with negative cpu",
    frame: legacy({ cpu: -0.5 }),
    reason: "invalid_number",
    detail: /cpu must not be negative/,
  },
];

for (const c of BAD) {
  Deno.test(`decode rejects ${c.name} as ${c.reason}`, () => {
    const r = decode(c.frame);
    if (r.ok) assert.fail(`accepted: ${JSON.stringify(r.message).slice(0, 200)}`);
    assert.equal(r.error.reason, c.reason, r.error.detail);
    assert.equal(typeof r.error.detail, "string");
    assert.ok(r.error.detail.length > 0 && r.error.detail.length < 300, "detail is short");
    if (c.detail) assert.match(r.error.detail, c.detail);
  });
}

Deno.test("the malformed table covers every reject reason", () => {
  assert.deepStrictEqual(
    [...new Set(BAD.map((c) => c.reason))].sort(),
    [...REJECT_REASONS].sort(),
  );
});

Deno.test("decode never throws on random corruptions of valid frames", () => {
  // Deterministic xorshift so a failure reproduces.
  let s = 0x9e3779b9;
  const rnd = (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
  const seeds = [enc(single()), enc(batch(3)), enc(SEED)];
  for (let i = 0; i < 5000; i++) {
    const base = seeds[i % seeds.length];
    let f: Uint8Array = base.slice();
    switch (rnd(3)) {
      case 0:
        f[rnd(f.length)] = rnd(256);
        break;
      case 1:
        f = f.slice(0, rnd(f.length));
        break;
      default:
        f = new Uint8Array([...f.slice(0, rnd(f.length)), rnd(256), ...f.slice(rnd(f.length))]);
    }
    let r: DecodeResult;
    try {
      r = decode(f);
    } catch (e) {
      assert.fail(`decode threw on ${JSON.stringify(new TextDecoder().decode(f))}: ${e}`);
    }
    if (!r.ok) assert.ok(REJECT_REASONS.includes(r.error.reason));
    else {
      for (const sample of r.message.samples) {
        for (const v of Object.values(sample.metrics)) assert.ok(Number.isFinite(v));
      }
    }
  }
});

// ---------------------------------------------------------------------------------------
// Labels and histograms

Deno.test("decode keeps labelled series keys, canonicalising the label order", () => {
  const m = ok(decode(single({
    metrics: {
      'http.requests_total{status="2xx",route="/users/:id"}': 12,
      'queue.depth{name="a \\"quoted\\" \\\\ name"}': 3,
    },
  })));
  assert.deepStrictEqual(Object.keys(m.samples[0].metrics), [
    'http.requests_total{route="/users/:id",status="2xx"}',
    'queue.depth{name="a \\"quoted\\" \\\\ name"}',
  ]);
});

Deno.test("decode rejects malformed labels as invalid_name", () => {
  for (
    const key of [
      "a{}",
      'a{b="1"',
      'a{B="1"}',
      "a{b=1}",
      'a{b="1",b="2"}',
      'a{b="x\\y"}',
      'a{b="1"}x',
      `a{${Array.from({ length: 9 }, (_, i) => `l${i}="v"`).join(",")}}`,
      `a{b="${"x".repeat(129)}"}`,
      'a{b="\u0001"}',
      'constructor{b="1"}',
    ]
  ) {
    const r = decode(single({ metrics: { [key]: 1 } }));
    assert.equal(r.ok ? "ok" : r.error.reason, "invalid_name", key);
  }
});

Deno.test("decode accepts histograms with one count per bucket and rejects other shapes", () => {
  const counts = Array.from({ length: BUCKET_COUNT }, (_, i) => i);
  const m = ok(decode(single({ hist: { 'http.request_ms{route="/"}': { counts, sum: 99.5 } } })));
  assert.deepStrictEqual(m.samples[0].hist, {
    'http.request_ms{route="/"}': { counts, sum: 99.5 },
  });
  const bad: Array<[unknown, RejectReason]> = [
    [[], "wrong_type"],
    [{ x: { counts: counts.slice(1), sum: 0 } }, "wrong_type"],
    [{ x: { counts: counts.map(() => -1), sum: 0 } }, "invalid_number"],
    [{ x: { counts: counts.map(() => 0.5), sum: 0 } }, "invalid_number"],
    [{ x: { counts, sum: "1" } }, "wrong_type"],
    [{ "X!": { counts, sum: 0 } }, "invalid_name"],
    [
      Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`h${i}`, { counts, sum: 0 }])),
      "too_many",
    ],
  ];
  for (const [hist, reason] of bad) {
    const r = decode(single({ hist }));
    assert.equal(r.ok ? "ok" : r.error.reason, reason, JSON.stringify(hist).slice(0, 60));
  }
});

Deno.test("encode carries histograms and the agent start time", () => {
  const counts = Array.from({ length: BUCKET_COUNT }, () => 1);
  const sample = { seq: 1, ts: TS, metrics: {}, hist: { "job.ms": { counts, sum: 3 } } };
  const m = ok(decode(encode(IDENTITY, [sample], TS)));
  assert.deepStrictEqual(m.samples[0].hist, sample.hist);
  assert.equal(m.identity.start, IDENTITY.start);
});

Deno.test("decode reads the goodbye flag of a single or batch frame; anything but a boolean is refused", () => {
  assert.equal(ok(decode(single({ bye: true }))).bye, true);
  assert.equal(ok(decode(batch(2, { bye: true }))).bye, true);
  for (const absent of [single(), single({ bye: false }), single({ bye: null })]) {
    assert.equal(ok(decode(absent)).bye, undefined);
  }
  const bad = decode(single({ bye: "yes" }));
  assert.equal(bad.ok, false);
  assert.equal(!bad.ok && bad.error.reason, "wrong_type");
});

Deno.test("encode marks the last frame with bye, in both forms", () => {
  const enc = createEncoder(IDENTITY);
  const one = [{ seq: 1, ts: TS, metrics: {} }];
  const two: OutgoingSample[] = [
    { seq: 1, ts: TS, metrics: { "cpu.percent": 1 } },
    { seq: 2, ts: TS, metrics: {} },
  ];
  assert.equal(ok(decode(enc(one, TS, true))).bye, true);
  assert.equal(ok(decode(enc(two, TS, true))).bye, true);
  assert.equal(ok(decode(enc(two, TS))).bye, undefined);
  assert.ok(
    !new TextDecoder().decode(enc(one, TS)).includes("bye"),
    "no field when not saying goodbye",
  );
});

Deno.test("decode keeps names in any script, with accents and emoji", () => {
  for (const service of ["café", "заказы", "注文", "☕ orders", "❤️", "a b"]) {
    const r = decode(single({ service, metrics: { 'jobs_total{queue="écrire ✉️"}': 1 } }));
    assert.ok(r.ok, `${service}: ${!r.ok && r.error.detail}`);
    assert.equal(r.message.identity.service, service);
  }
});

// ---------------------------------------------------------------------------------------
// The one-pass shape check (Message.keys) against the decoder it replaced

/** `decode`'s result without `keys`, which the reference decoder does not set. */
function withoutKeys(r: DecodeResult): DecodeResult {
  if (!r.ok) return r;
  const { keys: _, columns: __, ...message } = r.message;
  return { ok: true, message };
}

/**
 * Message.columns is set on exactly the batches of two or more samples that have keys, and
 * then holds exactly the samples' values, each key's column in the keys' order.
 */
function assertColumnsAgree(m: Message, columns: FrameColumns): void {
  const n = m.samples.length;
  assert.equal(m.columns !== undefined, m.keys !== undefined && n > 1);
  if (!m.columns) return;
  assert.equal(m.columns, columns);
  assert.equal(columns.rows, n);
  const keys = m.keys!;
  const want: number[] = [];
  for (const k of keys) for (const s of m.samples) want.push(s.metrics[k]);
  assert.deepStrictEqual([...columns.values.subarray(0, n * keys.length)], want);
}

/** Frames whose samples differ in their keys at every place the shape check looks. */
const SHAPES: string[] = [
  batch(3),
  batch(3, {}, { 1: { seq: 1, ts: TS, metrics: { "loop.lag_ms": 1 } } }),
  batch(2, {}, {
    0: { seq: 0, ts: TS, metrics: { a: 1, b: 2 } },
    1: { seq: 1, ts: TS, metrics: { b: 2, a: 1 } },
  }),
  batch(2, {}, {
    0: { seq: 0, ts: TS, metrics: { a: 1 } },
    1: { seq: 1, ts: TS, metrics: { a: 1, b: 2 } },
  }),
  batch(2, {}, {
    0: { seq: 0, ts: TS, metrics: { a: 1, b: 2 } },
    1: { seq: 1, ts: TS, metrics: { a: 1 } },
  }),
  batch(2, {}, { 1: { seq: 1, ts: TS, metrics: { "bad name": 1 } } }),
  batch(2, {}, {
    0: { seq: 0, ts: TS, metrics: { a: 1, "b\u0000": 2 } },
    1: { seq: 1, ts: TS, metrics: { a: 1, b: 2 } },
  }),
  batch(2, {}, { 1: { seq: 1, ts: TS, metrics: { "cpu.percent": "1" } } }),
  batch(2, {}, { 1: { seq: 1, ts: TS, metrics: { "cpu.percent": 1e400 } } }),
  `{"v":1,"service":"s","instance":"i","sent":1,"samples":[` +
  `{"seq":0,"ts":1,"metrics":{"a":1}},{"seq":1,"ts":1,"metrics":{"a":1,"__proto__":2}}]}`,
  `{"v":1,"service":"s","instance":"i","sent":1,"samples":[` +
  `{"seq":0,"ts":1,"metrics":{"a":1,"a":2}},{"seq":1,"ts":1,"metrics":{"a":3}}]}`,
  // Labels: canonical and not (a copy), the same series written two ways in one sample.
  batch(2, {}, {
    0: { seq: 0, ts: TS, metrics: { 'h{b="1",a="2"}': 1 } },
    1: { seq: 1, ts: TS, metrics: { 'h{b="1",a="2"}': 2 } },
  }),
  batch(2, {}, {
    0: { seq: 0, ts: TS, metrics: { 'h{a="2",b="1"}': 1, 'h{b="1",a="2"}': 2 } },
    1: { seq: 1, ts: TS, metrics: { 'h{a="2",b="1"}': 3 } },
  }),
  // Too many metrics in a later sample only; histograms in one sample.
  batch(2, {}, {
    1: {
      seq: 1,
      ts: TS,
      metrics: Object.fromEntries(
        Array.from({ length: LIMITS.maxMetricsPerSample + 1 }, (_, i) => [`m${i}`, i]),
      ),
    },
  }),
  batch(2, {}, {
    1: {
      seq: 1,
      ts: TS,
      metrics: { "cpu.percent": 1 },
      hist: { "h.ms": { counts: new Array(BUCKET_COUNT).fill(1), sum: 3 } },
    },
  }),
];

Deno.test("decode accepts and refuses exactly what the v1 decoder before the shape check did", () => {
  let s = 0x2545f491; // deterministic xorshift
  const rnd = (n: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
  const corpus: Array<string | Uint8Array> = [...BAD.map((c) => c.frame), ...SHAPES, SEED];
  const seeds = [...SHAPES, single(), SEED].map(enc);
  for (let i = 0; i < 20_000; i++) {
    const f = seeds[i % seeds.length].slice();
    if (rnd(2) === 0) f[rnd(f.length)] = rnd(256);
    else f[rnd(f.length)] = '{}[],:"a1'.charCodeAt(rnd(9));
    corpus.push(f);
  }
  let refused = 0;
  let withColumns = 0;
  const columns = new FrameColumns();
  for (const frame of corpus) {
    const want = referenceDecode(frame);
    assert.deepStrictEqual(withoutKeys(decode(frame)), want);
    // Asked for columns (one object for the whole corpus, as ingest reuses it): the same
    // answer, and columns that agree with the samples on every batch that has keys.
    const c = decode(frame, columns);
    assert.deepStrictEqual(withoutKeys(c), want);
    if (c.ok) {
      assertColumnsAgree(c.message, columns);
      if (c.message.columns) withColumns++;
    }
    if (!want.ok) refused++;
  }
  assert.ok(refused > 1000 && refused < corpus.length - 1000, "both kinds are covered");
  assert.ok(withColumns > 100, `${withColumns} batches with columns`);
});

Deno.test("decode names the keys every sample shares, and only when they are exactly shared", () => {
  const keysOf = (frame: string) => ok(decode(frame)).keys;
  assert.deepEqual(keysOf(batch(3)), ["cpu.percent"]);
  assert.deepEqual(keysOf(single({ metrics: { b: 1, a: 2 } })), ["b", "a"]);
  assert.deepEqual(keysOf(single({ metrics: {} })), []);
  const shared = [
    SHAPES[1], // a sample with another key
    SHAPES[2], // the same keys in another order
    SHAPES[3], // a key more
    SHAPES[4], // a key less
    SHAPES[11], // a key not in canonical form (the metrics are a copy)
    SHAPES[14], // histograms
    SEED, // legacy
  ];
  for (const frame of shared) assert.equal(keysOf(frame), undefined, frame.slice(0, 200));
});

// Frames of one shape share one keys array (ingest, instances and the live columns tell the
// usual frame by it), and a first sample's keys checked against the last frame's are still
// each frame's own.
Deno.test("decode gives frames of one shape the same keys array, and each frame its own keys", () => {
  const keysOf = (text: string) => {
    const d = decode(text);
    assert.ok(d.ok);
    return d.message.keys;
  };
  const m2 = { "cpu.percent": 1, "mem.rss_bytes": 2 };
  const a = keysOf(single({ metrics: m2 }));
  const b = keysOf(single({ metrics: { "cpu.percent": 3, "mem.rss_bytes": 4 } }));
  assert.deepEqual(a, ["cpu.percent", "mem.rss_bytes"]);
  assert.equal(a, b);
  // Same first key, another second: its own keys, not the last frame's.
  const c = keysOf(single({ metrics: { "cpu.percent": 1, "loop.lag_ms": 2 } }));
  assert.deepEqual(c, ["cpu.percent", "loop.lag_ms"]);
  // A prefix of the last shape, and a longer one: their own keys.
  assert.deepEqual(keysOf(single({ metrics: { "cpu.percent": 1 } })), ["cpu.percent"]);
  assert.deepEqual(keysOf(single({ metrics: { ...m2, "x.y": 1 } })), [
    "cpu.percent",
    "mem.rss_bytes",
    "x.y",
  ]);
  // A bad key at a place the last frame had a good one is still refused.
  const bad = decode(single({ metrics: { "cpu.percent": 1, "mem.rss_bytes": 2, "X Y": 3 } }));
  assert.ok(!bad.ok);
  assert.equal(bad.error.reason, "invalid_name");
  // A batch of that shape after a single one: the same array again.
  const samples = [1, 2, 3].map((seq) => ({ seq, ts: TS, metrics: m2 }));
  const d = decode(JSON.stringify({ v: 1, service: "s", instance: "i", sent: TS, samples }));
  assert.ok(d.ok);
  assert.deepEqual(d.message.keys, ["cpu.percent", "mem.rss_bytes"]);
  assert.equal(keysOf(single({ metrics: m2 })), d.message.keys);
});

// A frame's first sample is checked against the last uniform frame's keys array itself (a
// single-sample frame of a known shape makes no arrays): a frame that differs from it must
// copy before it records, never write into the array earlier frames were handed as keys.
Deno.test("decode never changes the keys array an earlier frame was given", () => {
  const keysOf = (metrics: Record<string, number>) => {
    const d = decode(single({ metrics }));
    assert.ok(d.ok);
    return d.message.keys;
  };
  const usual = { "cpu.percent": 1, "mem.rss_bytes": 2 };
  const others: Record<string, number>[] = [
    { "cpu.percent": 1, "loop.lag_ms": 2 }, // differs at place 1
    { "cpu.percent": 1 }, // a prefix
    { ...usual, "x.y": 3 }, // longer
    { "loop.lag_ms": 1 }, // differs at place 0
  ];
  for (const other of others) {
    const given = keysOf(usual)!;
    assert.equal(keysOf(usual), given); // the same array for the same shape
    keysOf(other);
    assert.deepEqual(given, ["cpu.percent", "mem.rss_bytes"], JSON.stringify(other));
  }
  // Nor does a batch whose first sample has the usual keys and a later one does not.
  const given = keysOf(usual)!;
  const samples = [
    { seq: 1, ts: TS, metrics: usual },
    { seq: 2, ts: TS, metrics: { "cpu.percent": 1, "z.z": 2 } },
  ];
  const d = decode(JSON.stringify({ v: 1, service: "s", instance: "i", sent: TS, samples }));
  assert.ok(d.ok);
  assert.equal(d.message.keys, undefined);
  assert.deepEqual(given, ["cpu.percent", "mem.rss_bytes"]);
});

Deno.test("decode gives an agent's unchanged identity back as the same object, and a changed one anew", () => {
  const a = ok(decode(single())).identity;
  assert.equal(ok(decode(single({ seq: 8 }))).identity, a, "same fields: the same object");
  // Each field that differs makes a new identity with the new value, as a first frame would.
  const changes: Array<[Record<string, unknown>, keyof typeof a, unknown]> = [
    [{ service: "other" }, "service", "other"],
    [{ pid: 4321 }, "pid", 4321],
    [{ host: "h2" }, "host", "h2"],
    [{ color: "blue" }, "color", "blue"],
    [{ interval: 500 }, "intervalMs", 500],
    [{ start: 5 }, "start", 5],
  ];
  for (const [over, field, want] of changes) {
    const b = ok(decode(single(over))).identity;
    assert.notEqual(b, a, JSON.stringify(over));
    assert.equal(b[field], want);
    const back = ok(decode(single())).identity;
    assert.equal(back[field], a[field], `${field} back to the first frame's`);
  }
  // -0 is not the 0 decoded before (JSON.stringify writes -0 as 0: the frame is written here).
  const zero = ok(decode(single({ pid: 0 }))).identity;
  const minus = ok(decode(single({ pid: 0 }).replace('"pid":0', '"pid":-0'))).identity;
  assert.ok(Object.is(zero.pid, 0) && Object.is(minus.pid, -0));
  // A refused identity is refused even right after a valid one for the same instance.
  assert.equal(decode(single({ host: "" })).ok, false);
  assert.equal(decode(single({ pid: "1" })).ok, false);
  assert.equal(decode(single({ service: 3 })).ok, false);
});

Deno.test("decode with columns fills one Message and Sample for the usual single frame", () => {
  const columns = new FrameColumns();
  const counts = new Array(BUCKET_COUNT).fill(0);
  const frames = [
    single({ seq: 1, metrics: { "cpu.percent": 1.5, "mem.rss_bytes": 10 } }),
    single({ seq: 2, ts: TS + 1000, metrics: { "cpu.percent": 2.5, "mem.rss_bytes": 20 } }),
    single({ seq: 3, bye: true }), // a goodbye: a message of its own
    single({ seq: 4, metrics: { "b.x": 1, "a.y": 2 } }), // another shape: reused too
    single({ seq: 5, hist: { "job.ms": { counts, sum: 3 } } }), // histograms: new objects
    single({ seq: 6, pid: 7 }), // another identity: reused
  ];
  const seen: Message[] = [];
  for (const frame of frames) {
    const m = ok(decode(frame, columns));
    // The same answer as a decode without columns...
    assert.deepStrictEqual(
      { ...m, samples: m.samples.map((s) => ({ ...s })) },
      { ...ok(decode(frame)), samples: ok(decode(frame)).samples.map((s) => ({ ...s })) },
    );
    seen.push(m);
  }
  // ...in the reused objects, but for the goodbye and the sample with histograms.
  const reused = columns.single!;
  assert.deepEqual(seen.map((m) => m === reused), [true, true, false, true, false, true]);
  assert.deepEqual(seen.map((m) => m.samples[0] === columns.sample), [
    true,
    true,
    true,
    true,
    false,
    true,
  ]);
  assert.equal(reused.samples.length, 1);
  // Decoded without columns: always new objects.
  assert.notEqual(ok(decode(frames[0])), ok(decode(frames[0])));
});
