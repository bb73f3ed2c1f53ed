import assert from "node:assert/strict";
import { parseEndpoint } from "../../lib/transport/zmtp/dial.ts";
import {
  asciiText,
  createPeerParser,
  greeting,
  MAX_PEER_FRAME_BYTES,
  mechanismName,
  messageFrame,
  readyCommand,
  readySocketType,
  ZmtpError,
} from "../../lib/transport/zmtp/wire.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A long command frame header claiming `size` bytes. */
function longCommandHeader(size: number): Uint8Array {
  const h = new Uint8Array(9);
  h[0] = 0x06;
  new DataView(h.buffer).setBigUint64(1, BigInt(size));
  return h;
}

Deno.test("zmtp greeting is 64 bytes: signature, version 3.0, NULL mechanism, as client", () => {
  const g = greeting();
  assert.equal(g.length, 64);
  assert.equal(g[0], 0xff);
  assert.equal(g[9], 0x7f);
  assert.deepEqual([g[10], g[11]], [3, 0]);
  assert.equal(text(g.subarray(12, 16)), "NULL");
  assert.ok(g.subarray(16, 32).every((b) => b === 0), "mechanism is zero-padded");
  assert.equal(g[32], 0, "as-server is 0");
});

Deno.test("zmtp READY is a short command frame carrying the socket type", () => {
  const r = readyCommand("PUSH");
  assert.equal(r[0], 0x04);
  assert.equal(r[1], r.length - 2);
  assert.equal(r[2], 5);
  assert.equal(text(r.subarray(3, 8)), "READY");
  assert.equal(readySocketType(r.subarray(8)), "PUSH");
});

Deno.test("zmtp message frames use the short header up to 255 bytes and the long one beyond", () => {
  const short = messageFrame(new Uint8Array(255).fill(7));
  assert.deepEqual([short[0], short[1], short.length], [0x00, 255, 257]);
  const long = messageFrame(new Uint8Array(256).fill(7));
  assert.equal(long[0], 0x02);
  assert.equal(new DataView(long.buffer).getBigUint64(1), 256n);
  assert.equal(long.length, 9 + 256);
  assert.equal(long[9], 7);
});

Deno.test("zmtp parser reads a greeting and commands split at every byte boundary", () => {
  const peer = new Uint8Array([
    ...greeting(),
    ...readyCommand("PULL"),
    ...messageFrame(new Uint8Array(300)),
  ]);
  for (let cut = 1; cut < peer.length; cut += 7) {
    const parser = createPeerParser();
    const events = [...parser.push(peer.subarray(0, cut)), ...parser.push(peer.subarray(cut))];
    assert.deepEqual(events.map((e) => e.kind), ["greeting", "command", "message"], `cut ${cut}`);
    const ready = events[1];
    assert.ok(ready.kind === "command" && ready.name === "READY");
    assert.equal(readySocketType(ready.body), "PULL");
  }
});

Deno.test("zmtp parser names the peer's mechanism", () => {
  const g = greeting();
  g.fill(0, 12, 32);
  g.set(new TextEncoder().encode("CURVE"), 12);
  const [e] = createPeerParser().push(g);
  assert.ok(e.kind === "greeting");
  assert.equal(e.mechanism, "CURVE");
});

Deno.test("zmtp mechanism names: NUL padding trimmed at the end only, as /\\0+$/ did", () => {
  const enc = new TextEncoder();
  for (const [text, want] of [["NULL", "NULL"], ["CURVE", "CURVE"], ["", ""], ["A\0B", "A\0B"]]) {
    const field = new Uint8Array(20);
    field.set(enc.encode(text));
    assert.equal(mechanismName(field), want, JSON.stringify(text));
  }
  const full = enc.encode("ABCDEFGHIJKLMNOPQRST");
  assert.equal(mechanismName(full), "ABCDEFGHIJKLMNOPQRST", "20 bytes, no padding");
});

Deno.test("zmtp parser refuses what no ZMTP 3 peer sends", () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ["HTTP on the first byte", new TextEncoder().encode("HTTP/1.1 400"), /not a ZMTP socket/],
    [
      "a bad signature end",
      (() => {
        const g = greeting();
        g[9] = 0;
        return g;
      })(),
      /not a ZMTP socket/,
    ],
    [
      "ZMTP 2",
      (() => {
        const g = greeting();
        g[10] = 1;
        return g;
      })(),
      /ZMTP 1\.x/,
    ],
    [
      "a frame over the peer limit",
      new Uint8Array([
        ...greeting(),
        ...longCommandHeader(MAX_PEER_FRAME_BYTES + 1),
      ]),
      /exceeds/,
    ],
    ["a command without a name", new Uint8Array([...greeting(), 0x04, 1, 0]), /without a name/],
    ["a multi-part command", new Uint8Array([...greeting(), 0x05, 2, 1, 65]), /multi-part/],
  ];
  for (const [what, bytes, reason] of cases) {
    assert.throws(() => createPeerParser().push(bytes), (e) => {
      assert.ok(e instanceof ZmtpError, what);
      assert.match((e as Error).message, reason, what);
      return true;
    });
  }
});

Deno.test("zmtp endpoints: tcp host and port, bracketed IPv6, ipc paths; others refused", () => {
  assert.deepEqual(parseEndpoint("tcp://127.0.0.1:5555"), {
    kind: "tcp",
    host: "127.0.0.1",
    port: 5555,
  });
  assert.deepEqual(parseEndpoint("tcp://[::1]:9"), { kind: "tcp", host: "::1", port: 9 });
  assert.deepEqual(parseEndpoint("tcp://collector.lan:80"), {
    kind: "tcp",
    host: "collector.lan",
    port: 80,
  });
  assert.deepEqual(parseEndpoint("ipc:///tmp/z.sock"), { kind: "ipc", path: "/tmp/z.sock" });
  for (
    const bad of [
      "tcp://*:5555",
      "tcp://host",
      "tcp://host:0",
      "tcp://host:65536",
      "udp://host:1",
      "localhost:5555",
      "",
      "tcp://:5555",
      "tcp://[::1]",
      "tcp://[]:1",
      "tcp://[zz]:1",
      "tcp://h/x:1",
      "tcp://h:12a",
      "tcp://h:123456",
      "tcp://h:+80",
      "tcp://a:b:1",
      "ipc://",
      "ipc://a\nb",
    ]
  ) {
    assert.throws(() => parseEndpoint(bad), /is not tcp:\/\/HOST:PORT or ipc:\/\/PATH/, bad);
  }
});

Deno.test("zmtp ASCII fields: letters and visible characters as they are, other bytes as U+FFFD", () => {
  assert.equal(asciiText(new TextEncoder().encode("Socket-Type PULL ~!")), "Socket-Type PULL ~!");
  assert.equal(
    asciiText(new Uint8Array([0x50, 0x00, 0xc3, 0xa9, 0x7f])),
    "P\uFFFD\uFFFD\uFFFD\uFFFD",
  );
  assert.equal(asciiText(new Uint8Array(0)), "");
});

Deno.test("zmtp parser and READY reading make no TextDecoder (RSS of a plain app, issue 14)", () => {
  const peer = new Uint8Array([...greeting(), ...readyCommand("PULL")]);
  const real = globalThis.TextDecoder;
  let made = 0;
  globalThis.TextDecoder = class extends real {
    constructor(...args: ConstructorParameters<typeof TextDecoder>) {
      made++;
      super(...args);
    }
  };
  try {
    const events = createPeerParser().push(peer);
    const ready = events[1];
    assert.ok(ready.kind === "command" && ready.name === "READY");
    assert.equal(readySocketType(ready.body), "PULL");
  } finally {
    globalThis.TextDecoder = real;
  }
  assert.equal(made, 0);
});
