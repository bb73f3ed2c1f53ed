import assert from "node:assert/strict";
import process from "node:process";
import { createAgent, MIN_BACKLOG_LIMIT } from "../../lib/agent/agent.ts";
import type { ProcessReaders } from "../../lib/agent/process.ts";
import type { Transport } from "../../lib/agent/sender.ts";
import { decode, type Message, METRICS } from "../../lib/protocol.ts";

/** A transport that refuses until `accept` is set, records what it took, and lets tests await it. */
function fakeTransport() {
  const state = {
    accept: false,
    throwNext: 0,
    attempts: 0,
    pending: 0,
    maxPending: 0,
    closed: false,
    frames: [] as Uint8Array[],
  };
  const waiters = new Set<{ pred: () => boolean; done: () => void }>();
  const check = () => {
    for (const w of waiters) if (w.pred()) w.done();
  };
  const transport: Transport = {
    async trySend(frame) {
      state.attempts++;
      state.pending++;
      state.maxPending = Math.max(state.maxPending, state.pending);
      await new Promise((r) => setTimeout(r, 0));
      state.pending--;
      try {
        if (state.throwNext > 0) {
          state.throwNext--;
          throw new Error("transport exploded");
        }
        if (state.accept) state.frames.push(frame);
        return state.accept;
      } finally {
        queueMicrotask(check);
      }
    },
    close() {
      state.closed = true;
    },
  };
  /** Resolve when `pred` holds after a send attempt; fail the test after `ms`. */
  const until = (pred: () => boolean, ms = 5000) =>
    new Promise<void>((resolve, reject) => {
      if (pred()) return resolve();
      const w = {
        pred,
        done: () => {
          clearTimeout(timer);
          waiters.delete(w);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`condition not met within ${ms} ms`));
      }, ms);
      waiters.add(w);
    });
  const messages = (): Message[] =>
    state.frames.map((f) => {
      const d = decode(f);
      if (!d.ok) throw new Error(`agent sent an invalid frame: ${d.error.detail}`);
      return d.message;
    });
  const seqs = () => messages().flatMap((m) => m.samples.map((s) => s.seq));
  const delivered = () => seqs().length;
  return { state, transport, until, messages, seqs, delivered };
}

/** Readers with made-up, changing values; counts reads and close. */
function fakeReaders() {
  const r = { reads: 0, closed: false, fail: false };
  const readers: ProcessReaders = {
    read() {
      if (r.fail) throw new Error("cannot read /proc");
      r.reads++;
      return {
        cpuPercent: 150 + r.reads,
        rssBytes: 1_000_000 * r.reads,
        heapUsedBytes: 500_000 * r.reads,
        loopLagMs: 3,
      };
    },
    close() {
      r.closed = true;
    },
  };
  return { r, readers };
}

function makeAgent(extra: Partial<Parameters<typeof createAgent>[0]> = {}) {
  const t = fakeTransport();
  const f = fakeReaders();
  const errors: unknown[] = [];
  let clock = 1_700_000_000_000;
  const agent = createAgent({
    service: "bookings",
    instance: "test-1",
    color: "blue",
    intervalMs: 3_600_000, // the tests drive sampling with sampleNow()
    transport: t.transport,
    readers: f.readers,
    runtime: null, // runtime health has its own tests (agent_registry_test.ts)
    now: () => clock++,
    onError: (e) => errors.push(e),
    ...extra,
  });
  return { agent, t, f, errors };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

Deno.test("agent delivers samples in order with consecutive seq and no gap after the transport comes back", async () => {
  const { agent, t } = makeAgent();
  for (let i = 0; i < 5; i++) agent.sampleNow();
  await t.until(() => t.state.attempts >= 2); // refused at least twice: it is retrying
  assert.equal(t.delivered(), 0);
  assert.deepEqual(agent.stats(), { seq: 5, sent: 0, dropped: 0, backlog: 5 });
  t.state.accept = true;
  agent.sampleNow();
  agent.sampleNow();
  await t.until(() => t.delivered() === 7);
  assert.deepEqual(t.seqs(), range(0, 7));
  assert.deepEqual(agent.stats(), { seq: 7, sent: 7, dropped: 0, backlog: 0 });
  await agent.stop();
});

Deno.test("agent sends this process's thread count, and its open fds only with openFds", async () => {
  if (Deno.build.os !== "linux") return;
  const sent = async (openFds?: boolean) => {
    const { agent, t } = makeAgent({ runtime: undefined, openFds });
    t.state.accept = true;
    agent.sampleNow();
    await t.until(() => t.delivered() === 1);
    await agent.stop();
    return t.messages()[0].samples[0].metrics;
  };
  const plain = await sent();
  assert.ok(plain["process.threads"] >= 1, "threads by default");
  assert.equal("process.open_fds" in plain, false, "no fd count unless asked");
  const asked = await sent(true);
  assert.ok(asked["process.open_fds"] >= 3, "stdin, stdout, stderr at least");
  assert.ok(asked["process.threads"] >= 1);
});

Deno.test("agent uses the single form for one waiting sample and the batch form for several", async () => {
  const { agent, t } = makeAgent();
  t.state.accept = true;
  agent.sampleNow();
  await t.until(() => t.delivered() === 1);
  const single = JSON.parse(new TextDecoder().decode(t.state.frames[0]));
  assert.equal(single.seq, 0);
  assert.equal("samples" in single, false);

  t.state.accept = false;
  for (let i = 0; i < 3; i++) agent.sampleNow();
  await t.until(() => t.state.attempts >= 3);
  t.state.accept = true;
  await t.until(() => t.delivered() === 4);
  const batch = JSON.parse(new TextDecoder().decode(t.state.frames[1]));
  assert.deepEqual(batch.samples.map((s: { seq: number }) => s.seq), [1, 2, 3]);
  assert.equal(t.state.frames.length, 2);
  await agent.stop();
});

Deno.test("agent sends at most 100 samples per frame, in order", async () => {
  const { agent, t } = makeAgent();
  for (let i = 0; i < 250; i++) agent.sampleNow();
  await t.until(() => t.state.attempts >= 1);
  t.state.accept = true;
  await t.until(() => t.delivered() === 250);
  assert.deepEqual(t.messages().map((m) => m.samples.length), [100, 100, 50]);
  assert.deepEqual(t.seqs(), range(0, 250));
  await agent.stop();
});

Deno.test("agent never has more than one send pending on its transport", async () => {
  const { agent, t } = makeAgent();
  t.state.accept = true;
  for (let i = 0; i < 20; i++) {
    agent.sampleNow();
    await Promise.resolve();
  }
  await t.until(() => t.delivered() === 20);
  assert.equal(t.state.maxPending, 1);
  await agent.stop();
});

Deno.test("agent samples carry the standard metric names, the identity and the injected clock", async () => {
  const { agent, t } = makeAgent();
  t.state.accept = true;
  agent.sampleNow();
  await t.until(() => t.delivered() === 1);
  const [m] = t.messages();
  assert.deepEqual({ ...m.identity }, {
    service: "bookings",
    instance: "test-1",
    pid: process.pid,
    host: agent.identity.host,
    color: "blue",
    intervalMs: 3_600_000,
    start: 1_700_000_000_000, // the injected clock, read once at createAgent
  });
  assert.deepEqual({ ...m.samples[0].metrics }, {
    [METRICS.cpuPercent]: 151,
    [METRICS.rssBytes]: 1_000_000,
    [METRICS.heapUsedBytes]: 500_000,
    [METRICS.loopLagMs]: 3,
  });
  assert.equal(m.samples[0].ts, 1_700_000_000_001);
  assert.ok(m.sent > m.samples[0].ts, "sent is stamped at send time, after the sample");
  await agent.stop();
});

Deno.test("agent backs off while the transport refuses instead of spinning", async () => {
  const { agent, t } = makeAgent();
  const started = performance.now();
  agent.sampleNow();
  await t.until(() => t.state.attempts >= 4);
  const took = performance.now() - started;
  // Retries after 50, 100 and 200 ms: the fourth attempt cannot come before ~350 ms.
  assert.ok(took >= 300, `4 attempts in ${took} ms: not backing off`);
  await agent.stop();
});

Deno.test("agent stop() returns within a bound even when the transport always refuses", async () => {
  const { agent, t, f } = makeAgent();
  for (let i = 0; i < 10; i++) agent.sampleNow();
  await t.until(() => t.state.attempts >= 1);
  const started = performance.now();
  await agent.stop();
  const took = performance.now() - started;
  assert.ok(took < 1000, `stop took ${took} ms`);
  assert.equal(t.state.closed, true);
  assert.equal(f.r.closed, true);
  assert.equal(agent.stats().backlog, 11, "10 samples and the goodbye, unsent");
});

Deno.test("agent stop() flushes what is waiting when the transport accepts", async () => {
  const { agent, t } = makeAgent();
  for (let i = 0; i < 3; i++) agent.sampleNow();
  await t.until(() => t.state.attempts >= 1);
  t.state.accept = true;
  await agent.stop();
  assert.deepEqual(t.seqs(), [0, 1, 2, 3], "the samples, then the goodbye");
  assert.equal(t.state.closed, true);
  const after = t.state.attempts;
  agent.sampleNow();
  assert.equal(agent.stats().seq, 4, "sampleNow after stop is a no-op");
  assert.equal(t.state.attempts, after);
});

Deno.test("agent stop() says goodbye in its last frame, after every waiting sample", async () => {
  const { agent, t } = makeAgent();
  t.state.accept = true;
  agent.sampleNow();
  await t.until(() => t.delivered() === 1);
  assert.equal(t.messages()[0].bye, undefined, "no goodbye while running");
  t.state.accept = false;
  for (let i = 0; i < 3; i++) agent.sampleNow();
  await t.until(() => t.state.attempts >= 3);
  t.state.accept = true;
  await agent.stop();
  const frames = t.messages();
  assert.deepEqual(frames.map((m) => m.bye ?? false), [false, true]);
  const last = frames.at(-1)!;
  assert.deepEqual(last.samples.map((s) => s.seq), [1, 2, 3, 4], "waiting samples, then bye");
  assert.deepEqual(last.samples.at(-1)!.metrics, {}, "the goodbye sample has no metrics");
  assert.deepEqual(agent.stats(), { seq: 5, sent: 5, dropped: 0, backlog: 0 });
  await agent.stop(); // twice: one goodbye
  assert.equal(t.messages().length, 2);
});

Deno.test("agent drops the oldest samples when the backlog is full, counts them and reports once", async () => {
  const { agent, t, errors } = makeAgent({ backlogLimit: MIN_BACKLOG_LIMIT });
  for (let i = 0; i < MIN_BACKLOG_LIMIT + 5; i++) agent.sampleNow();
  assert.deepEqual(agent.stats(), {
    seq: MIN_BACKLOG_LIMIT + 5,
    sent: 0,
    dropped: 5,
    backlog: MIN_BACKLOG_LIMIT,
  });
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /backlog full/);
  t.state.accept = true;
  await t.until(() => t.delivered() === MIN_BACKLOG_LIMIT);
  assert.deepEqual(t.seqs(), range(5, MIN_BACKLOG_LIMIT + 5));
  await agent.stop();
});

Deno.test("agent reports transport and reader errors to onError and keeps going", async () => {
  const { agent, t, f, errors } = makeAgent();
  t.state.accept = true;
  t.state.throwNext = 2;
  agent.sampleNow();
  f.r.fail = true;
  agent.sampleNow(); // skipped: no sample, no sequence number used
  f.r.fail = false;
  agent.sampleNow();
  await t.until(() => t.delivered() === 2);
  assert.deepEqual(t.seqs(), [0, 1]);
  const messages = errors.map(String);
  assert.equal(messages.filter((m) => m.includes("transport exploded")).length, 2);
  assert.equal(messages.filter((m) => m.includes("cannot read /proc")).length, 1);
  await agent.stop();
});

Deno.test("agent leaves out metrics that are not finite numbers", async () => {
  const { agent, t } = makeAgent({
    readers: {
      read: () => ({ cpuPercent: NaN, rssBytes: 42, heapUsedBytes: Infinity, loopLagMs: 0 }),
      close() {},
    },
  });
  t.state.accept = true;
  agent.sampleNow();
  await t.until(() => t.delivered() === 1);
  assert.deepEqual({ ...t.messages()[0].samples[0].metrics }, {
    [METRICS.rssBytes]: 42,
    [METRICS.loopLagMs]: 0,
  });
  await agent.stop();
});

Deno.test("agent samples on its own every interval", async () => {
  const { agent, t } = makeAgent({ intervalMs: 20 });
  t.state.accept = true;
  await t.until(() => t.delivered() >= 3);
  assert.deepEqual(t.seqs().slice(0, 3), [0, 1, 2]);
  await agent.stop();
});

Deno.test("agent rejects invalid options at creation", () => {
  const base = {
    service: "svc",
    transport: fakeTransport().transport,
    readers: fakeReaders().readers,
  };
  assert.throws(() => createAgent({ ...base, backlogLimit: MIN_BACKLOG_LIMIT - 1 }), RangeError);
  assert.throws(() => createAgent({ ...base, service: "" }), TypeError);
  assert.throws(() => createAgent({ ...base, instance: "a\nb" }), TypeError);
  assert.throws(() => createAgent({ ...base, service: "\u202Eevil\u202C" }), TypeError);
  assert.throws(() => createAgent({ ...base, intervalMs: 0 }), RangeError);
});

Deno.test("agent sends the readers' extra metrics, leaving out invalid keys and values", async () => {
  const { agent, t, errors } = makeAgent({
    readers: {
      read: () => ({
        cpuPercent: 1,
        rssBytes: 2,
        heapUsedBytes: 3,
        loopLagMs: 4,
        extra: {
          "container.mem.limit_bytes": 512,
          [METRICS.cpuPercent]: 99, // the reading's own value wins
          "Bad Key": 1, // would make the collector reject the whole frame
          "container.cpu.limit_cores": NaN,
        },
      }),
      close() {},
    },
  });
  t.state.accept = true;
  agent.sampleNow();
  await t.until(() => t.delivered() === 1);
  assert.deepEqual({ ...t.messages()[0].samples[0].metrics }, {
    [METRICS.cpuPercent]: 1,
    [METRICS.rssBytes]: 2,
    [METRICS.heapUsedBytes]: 3,
    [METRICS.loopLagMs]: 4,
    "container.mem.limit_bytes": 512,
  });
  assert.match(String(errors[0]), /"Bad Key" is invalid/);
  await agent.stop();
});
