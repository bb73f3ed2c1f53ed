/** Live hub: fan-out with a bounded per-client queue, recovery, stuck clients, limits. */
import assert from "node:assert/strict";
import { Hub, type HubOptions, type LiveSocket } from "../../lib/live/hub.ts";
import type {
  HelloFrame,
  InstanceFrame,
  LiveFrame,
  SamplesFrame,
} from "../../lib/live/messages.ts";
import { decodeMessage } from "../../lib/live/wire.ts";
import { jsonForm } from "../support/live.ts";

class FakeSocket implements LiveSocket {
  readyState = 1;
  bufferedAmount = 0;
  sent: Array<string | Uint8Array> = [];
  closed: { code?: number; reason?: string } | null = null;
  send(data: string | Uint8Array): void {
    this.sent.push(data);
  }
  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
    this.readyState = 3;
  }
  closeCode(): number | undefined {
    return this.closed?.code;
  }
  /** One frame per message; a binary turn (wire.ts) in JSON form, as a batch if it holds more. */
  frames(): LiveFrame[] {
    return this.sent.map((s) => {
      if (typeof s === "string") return JSON.parse(s);
      const frames = (decodeMessage(s) as LiveFrame[]).map(jsonForm);
      return frames.length === 1 ? frames[0] : { type: "batch", frames };
    });
  }
  types(): string[] {
    return this.frames().map((f) => f.type);
  }
}

function setup(opts: Partial<HubOptions> = {}) {
  let t = 1000;
  const helloCalls: Array<readonly string[] | null> = [];
  const hub = new Hub({
    now: () => t,
    hello: (metrics): HelloFrame => {
      helloCalls.push(metrics);
      return { type: "hello", now: t, windowMs: 60_000, instances: [], series: {} };
    },
    ...opts,
  });
  return { hub, helloCalls, advance: (ms: number) => (t += ms) };
}

function samples(n: number): LiveFrame {
  return { type: "samples", now: n, id: "svc/a", t: [n], v: { "cpu.percent": [n] } };
}

Deno.test("hub sends every client a hello on add, built for its metrics", () => {
  const { hub, helloCalls } = setup();
  const a = new FakeSocket();
  const b = new FakeSocket();
  hub.add(a, ["cpu.percent"]);
  hub.add(b, null);
  assert.deepEqual(a.types(), ["hello"]);
  assert.deepEqual(b.types(), ["hello"]);
  assert.deepEqual(helloCalls, [["cpu.percent"], null]);
  assert.equal(hub.size, 2);
});

Deno.test("hub publish serialises once and reaches every open client", () => {
  const { hub } = setup();
  const socks = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
  for (const s of socks) hub.add(s, null);
  const frame = samples(1);
  const realStringify = JSON.stringify;
  let calls = 0;
  JSON.stringify = ((...args: Parameters<typeof realStringify>) => {
    calls++;
    return realStringify(...args);
  }) as typeof JSON.stringify;
  try {
    hub.publish(frame);
  } finally {
    JSON.stringify = realStringify;
  }
  assert.equal(calls, 1);
  for (const s of socks) {
    assert.equal(s.sent.length, 2);
    assert.deepEqual(JSON.parse(s.sent[1] as string), frame);
    assert.equal(s.sent[1], socks[0].sent[1], "the very same string");
  }
});

Deno.test("hub skips clients that are not open", () => {
  const { hub } = setup();
  const open = new FakeSocket();
  const closing = new FakeSocket();
  hub.add(open, null);
  hub.add(closing, null);
  closing.readyState = 2;
  hub.publish(samples(1));
  assert.equal(open.sent.length, 2);
  assert.equal(closing.sent.length, 1);
  assert.equal(hub.dropped, 0);
});

Deno.test("the remove function returned by add stops delivery to that client", () => {
  const { hub } = setup();
  const s = new FakeSocket();
  const remove = hub.add(s, null);
  remove();
  assert.equal(hub.size, 0);
  hub.publish(samples(1));
  assert.equal(s.sent.length, 1);
});

Deno.test("a client over maxBufferedBytes gets nothing more while others keep receiving", () => {
  const { hub } = setup({ maxBufferedBytes: 1000 });
  const slow = new FakeSocket();
  const fast = new FakeSocket();
  hub.add(slow, null);
  hub.add(fast, null);
  slow.bufferedAmount = 1000; // at the bound: still sent
  hub.publish(samples(1));
  assert.equal(slow.sent.length, 2);
  slow.bufferedAmount = 1001;
  for (let i = 2; i <= 5; i++) hub.publish(samples(i));
  assert.equal(slow.sent.length, 2);
  assert.equal(fast.sent.length, 6);
  assert.equal(hub.dropped, 4);
  assert.equal(slow.closed, null);
});

Deno.test("a client that drains gets a dropped frame and a fresh hello instead of the frame the hello holds", () => {
  const { hub, helloCalls } = setup({ maxBufferedBytes: 100, helloReuseMs: 0, rehelloEveryMs: 0 });
  const s = new FakeSocket();
  hub.add(s, ["mem.rss_bytes"]);
  s.bufferedAmount = 500;
  hub.publish(samples(1));
  hub.publish(samples(2));
  hub.publish(samples(3));
  s.bufferedAmount = 0;
  hub.publish(samples(4));
  const frames = s.frames();
  // The hello is built after ingest stored frame 4's points, so frame 4 itself is not sent
  // (it would draw those points twice).
  assert.deepEqual(frames.map((f) => f.type), ["hello", "dropped", "hello"]);
  assert.equal((frames[1] as { count: number }).count, 3);
  assert.deepEqual(helloCalls, [["mem.rss_bytes"], ["mem.rss_bytes"]]);
  // Recovered: the next frame is plain again, and a later episode counts from zero.
  hub.publish(samples(5));
  assert.deepEqual(s.types().slice(3), ["samples"]);
  s.bufferedAmount = 500;
  hub.publish(samples(6));
  s.bufferedAmount = 0;
  hub.publish(samples(7));
  const last = s.frames().slice(4);
  assert.deepEqual(last.map((f) => f.type), ["dropped", "hello"]);
  assert.equal((last[0] as { count: number }).count, 1);
  assert.equal(hub.dropped, 4);
});

Deno.test("a client stuck longer than stuckCloseMs is closed with 1008 and removed", () => {
  const { hub, advance } = setup({ maxBufferedBytes: 100, stuckCloseMs: 5000 });
  const stuck = new FakeSocket();
  const ok = new FakeSocket();
  hub.add(stuck, null);
  hub.add(ok, null);
  stuck.bufferedAmount = 1_000_000;
  hub.publish(samples(1));
  advance(5000);
  hub.publish(samples(2));
  assert.equal(stuck.closed, null, "not yet: exactly at the bound");
  advance(1);
  hub.publish(samples(3));
  assert.equal(stuck.closeCode(), 1008);
  assert.equal(hub.size, 1);
  assert.equal(hub.closedStuck, 1);
  stuck.readyState = 1; // even if it claimed to be open, it is no longer a client
  stuck.bufferedAmount = 0;
  hub.publish(samples(4));
  assert.equal(stuck.sent.length, 1);
  assert.equal(ok.sent.length, 5);
});

Deno.test("a client that recovers in time is not closed later for an old episode", () => {
  const { hub, advance } = setup({ maxBufferedBytes: 100, stuckCloseMs: 5000, rehelloEveryMs: 0 });
  const s = new FakeSocket();
  hub.add(s, null);
  s.bufferedAmount = 500;
  hub.publish(samples(1));
  advance(4000);
  s.bufferedAmount = 0;
  hub.publish(samples(2)); // recovers
  advance(4000);
  s.bufferedAmount = 500;
  hub.publish(samples(3)); // a new episode starts now
  advance(2000);
  hub.publish(samples(4));
  assert.equal(s.closed, null);
  assert.equal(hub.size, 1);
});

Deno.test("hub refuses clients beyond maxClients with 1013 and sends them nothing", () => {
  const { hub } = setup({ maxClients: 2 });
  const a = new FakeSocket();
  const b = new FakeSocket();
  const c = new FakeSocket();
  hub.add(a, null);
  hub.add(b, null);
  const remove = hub.add(c, null);
  assert.equal(c.closeCode(), 1013);
  assert.equal(c.sent.length, 0);
  assert.equal(hub.size, 2);
  remove(); // harmless
  assert.equal(hub.size, 2);
  hub.publish(samples(1));
  assert.equal(c.sent.length, 0);
});

Deno.test("hub closeAll closes every client with 1001 and forgets them", () => {
  const { hub } = setup();
  const a = new FakeSocket();
  const b = new FakeSocket();
  b.close = () => {
    throw new Error("already closed");
  };
  hub.add(a, null);
  hub.add(b, null);
  hub.closeAll();
  assert.equal(a.closeCode(), 1001);
  assert.equal(hub.size, 0);
  hub.publish(samples(1));
  assert.equal(a.sent.length, 1);
});

Deno.test("hub publish with no clients does nothing", () => {
  const { hub } = setup();
  hub.publish(samples(1));
  assert.equal(hub.dropped, 0);
});

/** A hello of about `bytes` bytes, as 10 000 instances once made. */
function bigHello(t: number, bytes: number): HelloFrame {
  return {
    type: "hello",
    now: t,
    windowMs: 60_000,
    instances: [],
    series: { "svc/big": { "cpu.percent": [[t, 0]] } },
    omitted: bytes,
    pad: "x".repeat(bytes),
  } as HelloFrame;
}

Deno.test("hub reserve holds the client cap before the upgrade, and release gives a place back", () => {
  const { hub } = setup({ maxClients: 2 });
  assert.ok(hub.reserve());
  assert.ok(hub.reserve());
  assert.equal(hub.reserve(), false, "two connecting: the third is refused before it upgrades");
  assert.equal(hub.refused, 1);
  hub.release(); // one never opened
  const a = new FakeSocket();
  hub.add(a, null, true);
  assert.ok(hub.reserve());
  const late = new FakeSocket();
  hub.add(late, null); // an add without a reservation counts the places held
  assert.equal(late.closeCode(), 1013);
  assert.equal(hub.size, 1);
});

Deno.test("500 clients connecting at once build one hello, and get the frames since it was built", () => {
  let built = 0;
  const { hub, advance } = setup({
    maxClients: 600,
    hello: () => {
      built++;
      return { type: "hello", now: 0, windowMs: 1, instances: [], series: {} };
    },
  });
  const first = new FakeSocket();
  hub.add(first, ["cpu.percent"]);
  hub.publish(samples(1));
  const late = new FakeSocket();
  advance(500);
  hub.add(late, ["cpu.percent"]);
  for (let i = 0; i < 498; i++) hub.add(new FakeSocket(), ["cpu.percent"]);
  assert.equal(built, 1);
  assert.equal(hub.hellosBuilt, 1);
  // The late client's snapshot lacks frame 1's points: it gets frame 1 right after it.
  assert.deepEqual(late.types(), ["hello", "samples"]);
  hub.publish(samples(2));
  assert.deepEqual(late.types(), ["hello", "samples", "samples"]);
  advance(1000);
  hub.add(new FakeSocket(), ["cpu.percent"]);
  assert.equal(built, 2, "older than helloReuseMs: built again");
});

Deno.test("all clients' unsent bytes stay under maxTotalBytes: a hello waits for room, then goes", () => {
  let t = 1000;
  const hub = new Hub({
    now: () => t,
    hello: () => bigHello(t, 5_000),
    maxTotalBytes: 12_000,
    helloReuseMs: 0,
    stuckCloseMs: 5000,
  });
  const sockets = Array.from({ length: 4 }, () => new FakeSocket());
  for (const s of sockets) {
    hub.add(s, null);
    s.bufferedAmount = s.sent.reduce((n, d) => n + d.length, 0); // none of it read yet
  }
  hub.publish(samples(1));
  const helloed = sockets.filter((s) => s.types()[0] === "hello").length;
  assert.equal(helloed, 2, "two 5 KB hellos fit in 12 KB; the others wait");
  assert.ok(hub.bufferedBytes <= 12_000, `${hub.bufferedBytes} unsent`);
  for (const s of sockets) s.bufferedAmount = 0; // the first two read theirs
  hub.publish(samples(2));
  hub.publish(samples(3));
  assert.ok(sockets.every((s) => s.types()[0] === "hello"), "room made: every client has one");
  // A client that waits for room longer than stuckCloseMs is closed.
  const waiting = new FakeSocket();
  for (const s of sockets) s.bufferedAmount = 20_000;
  hub.publish(samples(4));
  hub.add(waiting, null);
  assert.equal(waiting.sent.length, 0);
  t += 5001;
  hub.publish(samples(5));
  assert.equal(waiting.closeCode(), 1008);
});

Deno.test("a client is not taken for slow while its big hello drains, and a slow one gets a hello at most once per rehelloEveryMs", () => {
  let t = 1000;
  let built = 0;
  const hub = new Hub({
    now: () => t,
    hello: () => {
      built++;
      return bigHello(t, 5_000);
    },
    maxBufferedBytes: 1000,
    helloReuseMs: 0,
    rehelloEveryMs: 10_000,
  });
  const s = new FakeSocket();
  hub.add(s, null);
  s.bufferedAmount = 4_000; // the hello, partly sent
  hub.publish(samples(1));
  assert.deepEqual(s.types(), ["hello", "samples"], "not dropped: that is its own hello");
  assert.equal(hub.dropped, 0);
  s.bufferedAmount = 0; // the hello went out
  hub.publish(samples(2));
  // It falls behind for real, then catches up at once: no second hello within 10 s.
  s.bufferedAmount = 1001;
  hub.publish(samples(3));
  assert.equal(hub.dropped, 1);
  s.bufferedAmount = 0;
  t += 1000;
  hub.publish(samples(4));
  assert.equal(built, 1);
  assert.deepEqual(s.types(), ["hello", "samples", "samples"]);
  t += 9000;
  hub.publish(samples(5));
  assert.deepEqual(s.types(), ["hello", "samples", "samples", "dropped", "hello"]);
  assert.equal(built, 2);
});

Deno.test("frames published soon go out together at the next turn, as one batch, before any later frame", () => {
  const turns: Array<() => void> = [];
  const { hub } = setup({ nextTurn: (fn) => turns.push(fn) });
  const a = new FakeSocket();
  hub.add(a, null);
  hub.publishSoon(samples(1));
  hub.publishSoon(samples(2));
  hub.publishSoon(samples(3));
  assert.deepEqual(a.types(), ["hello"], "nothing sent within the turn");
  assert.equal(turns.length, 1, "one send scheduled for the turn");
  turns[0]();
  const batch = a.frames()[1] as unknown as { type: string; frames: LiveFrame[] };
  assert.equal(batch.type, "batch");
  assert.deepEqual(batch.frames, [samples(1), samples(2), samples(3)]);
  // A frame alone goes bare; a direct publish sends what was held first, in order.
  hub.publishSoon(samples(4));
  turns[1]();
  hub.publishSoon(samples(5));
  hub.publish({ type: "dropped", now: 6, count: 0 });
  assert.deepEqual(a.frames().slice(2), [samples(4), samples(5), {
    type: "dropped",
    now: 6,
    count: 0,
  }]);
  turns[2](); // nothing left for this turn
  assert.equal(a.sent.length, 5);
});

Deno.test("samplesSoon gives one samples frame per instance per turn, placed where its first samples came", () => {
  const turns: Array<() => void> = [];
  const { hub } = setup({ nextTurn: (fn) => turns.push(fn) });
  const a = new FakeSocket();
  hub.add(a, null);
  const view = (id: string) => ({ id }) as InstanceFrame["instance"];
  const x1 = hub.samplesSoon("svc/x", 10)!;
  x1.add(10);
  x1.set("m", 1);
  hub.publishSoon({ type: "instance", now: 11, instance: view("svc/y") });
  const y = hub.samplesSoon("svc/y", 11)!;
  y.add(11);
  y.set("m", 5);
  const x2 = hub.samplesSoon("svc/x", 12)!;
  assert.equal(x2, x1, "the same frame for the same instance in the turn");
  x2.add(12);
  x2.set("n", 2);
  // A new view of x: x's later samples go after it.
  hub.publishSoon({ type: "instance", now: 13, instance: view("svc/x") });
  const x3 = hub.samplesSoon("svc/x", 13)!;
  assert.notEqual(x3, x1);
  x3.add(13);
  x3.set("m", 3);
  assert.equal(turns.length, 1, "one send for the turn");
  turns[0]();
  assert.ok(a.sent[1] instanceof Uint8Array, "a turn with samples goes binary (wire.ts)");
  const batch = a.frames()[1] as unknown as { type: string; frames: LiveFrame[] };
  assert.equal(batch.type, "batch");
  assert.deepEqual(batch.frames, [
    { type: "samples", now: 12, id: "svc/x", t: [10, 12], v: { m: [1, null], n: [null, 2] } },
    { type: "instance", now: 11, instance: view("svc/y") },
    { type: "samples", now: 11, id: "svc/y", t: [11], v: { m: [5] } },
    { type: "instance", now: 13, instance: view("svc/x") },
    { type: "samples", now: 13, id: "svc/x", t: [13], v: { m: [3] } },
  ]);
  // The next turn starts a new frame for x; a direct publish sends it first.
  hub.samplesSoon("svc/x", 14)!.add(14);
  hub.publish({ type: "dropped", now: 15, count: 0 });
  assert.deepEqual(a.types().slice(2), ["samples", "dropped"]);
  assert.deepEqual((a.frames()[2] as SamplesFrame).t, [14]);
});

Deno.test("samplesSoon builds nothing with no client, and a late client's replay holds the turn's frame", () => {
  const turns: Array<() => void> = [];
  const { hub, advance } = setup({ nextTurn: (fn) => turns.push(fn) });
  assert.equal(hub.samplesSoon("svc/x", 1), null);
  assert.equal(turns.length, 0, "nothing held");
  const first = new FakeSocket();
  hub.add(first, null);
  const s = hub.samplesSoon("svc/x", 2)!;
  s.add(2);
  s.set("m", 1);
  s.add(3);
  s.set("m", 2);
  turns[0]();
  advance(100);
  // Within helloReuseMs a new client gets the cached hello and the frames sent since.
  const late = new FakeSocket();
  hub.add(late, null);
  assert.equal(hub.hellosBuilt, 1);
  assert.deepEqual(late.frames()[1], {
    type: "samples",
    now: 2,
    id: "svc/x",
    t: [2, 3],
    v: { m: [1, 2] },
  });
});

Deno.test("a binary turn counts its bytes against the bounds and in a shared hello's replay", () => {
  const turns: Array<() => void> = [];
  const { hub, advance } = setup({ nextTurn: (fn) => turns.push(fn), maxTotalBytes: 1000 });
  const a = new FakeSocket();
  hub.add(a, null);
  // 10 samples of 2 metrics: 240 bytes of floats and a header; it fits.
  const small = hub.samplesSoon("svc/x", 1)!;
  for (let i = 0; i < 10; i++) {
    small.add(i);
    small.set("m", i);
    small.set("n", i);
  }
  turns[0]();
  assert.equal(a.sent.length, 2);
  assert.ok(a.sent[1] instanceof Uint8Array && a.sent[1].byteLength > 240);
  // A late client gets the turn's message again after the cached hello.
  advance(10);
  const late = new FakeSocket();
  hub.add(late, null);
  assert.equal(late.sent[1], a.sent[1], "the same bytes, not encoded again");
  // 100 samples: over 1000 bytes in all, so dropped for both and counted.
  const big = hub.samplesSoon("svc/x", 2)!;
  for (let i = 0; i < 100; i++) {
    big.add(i);
    big.set("m", i);
  }
  turns[1]();
  assert.equal(hub.dropped, 2);
  assert.deepEqual([a.sent.length, late.sent.length], [2, 2]);
});

// An instance's samples frame is kept from one turn to its next (its columns reused, samples.ts):
// what a turn sends must hold that turn's samples and metrics only, never the last turn's.
Deno.test("samplesSoon reuses an instance's frame in its next turn, emptied: each turn sends only its own", () => {
  const turns: Array<() => void> = [];
  const { hub } = setup({ nextTurn: (fn) => turns.push(fn) });
  const a = new FakeSocket();
  hub.add(a, null);
  const keys = ["m", "n"]; // one array, as the decoder gives frames of one shape
  const x1 = hub.samplesSoon("svc/x", 10)!;
  // 20 samples (past a column's first size: it grows), as ingest adds them.
  for (let i = 0; i < 20; i++) {
    const cols = x1.columns(keys);
    x1.add(i);
    cols[0].push(i);
    cols[1].push(100 + i);
  }
  const y1 = hub.samplesSoon("svc/y", 11)!;
  y1.add(11);
  turns[0]();
  // The next turn: x again, a sample of the same keys, then one of a metric it did not have;
  // y does not report.
  const x2 = hub.samplesSoon("svc/x", 20)!;
  assert.equal(x2, x1, "x's frame of the last turn, emptied");
  const cols = x2.columns(keys);
  x2.add(30);
  cols[0].push(7);
  cols[1].push(8);
  x2.add(31);
  x2.set("o", 1);
  turns[1]();
  // y skipped a turn: its frame was not kept. x's is, again, and `o` is not in it this time.
  const y3 = hub.samplesSoon("svc/y", 40)!;
  assert.notEqual(y3, y1, "only the last turn's frames are kept");
  y3.add(40);
  y3.set("m", 4);
  const x3 = hub.samplesSoon("svc/x", 41)!;
  assert.equal(x3, x1);
  const again = x3.columns(keys);
  x3.add(41);
  again[0].push(1);
  again[1].push(2);
  turns[2]();
  const range = (n: number, from: number) => Array.from({ length: n }, (_, i) => from + i);
  assert.deepEqual(a.frames().slice(1), [
    {
      type: "batch",
      frames: [
        {
          type: "samples",
          now: 10,
          id: "svc/x",
          t: range(20, 0),
          v: { m: range(20, 0), n: range(20, 100) },
        },
        { type: "samples", now: 11, id: "svc/y", t: [11], v: {} },
      ],
    },
    {
      type: "samples",
      now: 20,
      id: "svc/x",
      t: [30, 31],
      v: { m: [7, null], n: [8, null], o: [null, 1] },
    },
    {
      type: "batch",
      frames: [
        { type: "samples", now: 40, id: "svc/y", t: [40], v: { m: [4] } },
        { type: "samples", now: 41, id: "svc/x", t: [41], v: { m: [1], n: [2] } },
      ],
    },
  ]);
});
