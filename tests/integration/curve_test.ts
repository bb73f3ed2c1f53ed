/**
 * CURVE on real sockets (ephemeral ports): an allowed agent's frames arrive; an unknown key, a
 * client with the wrong collector key, a plain-text ZMTP client, a PLAIN-mechanism client and
 * raw TCP garbage get nothing in. The attackers are written against zeromq directly (an
 * attacker is not bound to lib/transport/zmq.ts's options) and against Deno.connect.
 */
import assert from "node:assert/strict";
import * as zmq from "zeromq";
import { bindPull, connectPush, type Receiver, type Sender } from "../../lib/transport/zmq.ts";
import { generateKeyPair } from "../../lib/transport/keys.ts";
import type { ZapDecision } from "../../lib/transport/zap.ts";
import { connectCollector, CURVE_REFUSED } from "../../lib/agent/transport.ts";
import type { Transport } from "../../lib/agent/sender.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const text = new TextDecoder();

/** Resolve when `pred` holds, polling every 5 ms; reject after `ms`. */
async function until(pred: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A collector-side PULL with CURVE, recording every frame and every ZAP answer. */
async function collector(allow: Set<string> | null) {
  const server = await generateKeyPair();
  const frames: string[] = [];
  const decisions: ZapDecision[] = [];
  const receiver: Receiver = await bindPull("tcp://127.0.0.1:*", {
    onFrame: (f) => frames.push(text.decode(f)),
    curve: { ...server, allow, onAuth: (d) => decisions.push(d) },
  });
  const port = Number(receiver.endpoint.split(":").pop());
  return { server, frames, decisions, receiver, port };
}

/** Send `frame` through a lib/transport/zmq.ts sender until ZMQ takes it (the PUSH is `immediate`). */
async function sendOnce(sender: Sender, frame: string): Promise<void> {
  const bytes = new TextEncoder().encode(frame);
  const end = performance.now() + 5000;
  while (!(await sender.trySend(bytes))) {
    if (performance.now() > end) throw new Error(`no connection to send ${frame}`);
    await sleep(5);
  }
}

/** An attacker's PUSH (not `immediate`: it queues frames at once and keeps reconnecting). */
function rawPush(endpoint: string, options: Record<string, unknown>) {
  const socket = new zmq.Push({
    linger: 0,
    sendTimeout: 0,
    reconnectInterval: 20,
    ...options,
  });
  socket.connect(endpoint);
  let attempts = 0;
  return {
    get attempts() {
      return attempts;
    },
    async send(frame: string) {
      attempts++;
      try {
        await socket.send(frame);
      } catch {
        // EAGAIN at the high-water mark: the frames queued before are enough
      }
    },
    close: () => socket.close(),
  };
}

/** Open TCP connections that write random bytes (one after a genuine ZMTP CURVE greeting). */
async function garbage(port: number, rounds: number): Promise<number> {
  let written = 0;
  const greeting = new Uint8Array(64);
  greeting.set([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 0]);
  greeting.set(new TextEncoder().encode("CURVE"), 12);
  for (let i = 0; i < rounds; i++) {
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname: "127.0.0.1", port });
    } catch {
      continue;
    }
    try {
      if (i % 2 === 1) written += await conn.write(greeting);
      written += await conn.write(crypto.getRandomValues(new Uint8Array(16 * 1024)));
    } catch {
      // the collector hung up: that is the expected answer
    } finally {
      conn.close();
    }
  }
  return written;
}

Deno.test("curve: an allowed agent's frames arrive and the ZAP handler saw its key", async () => {
  const agent = await generateKeyPair();
  const c = await collector(new Set([agent.publicKey]));
  const sender = connectPush(c.receiver.endpoint, {
    curve: { serverKey: c.server.publicKey, ...agent },
  });
  try {
    for (let i = 0; i < 20; i++) await sendOnce(sender, `good-${i}`);
    await until(() => c.frames.length === 20, "20 frames");
    assert.deepEqual(c.frames, Array.from({ length: 20 }, (_, i) => `good-${i}`));
    assert.ok(c.decisions.length >= 1);
    assert.ok(c.decisions.every((d) => d.allowed && d.key === agent.publicKey));
    assert.equal(c.decisions[0].mechanism, "CURVE");
    assert.equal(c.decisions[0].address, "127.0.0.1");
  } finally {
    sender.close();
    await c.receiver.close();
  }
});

Deno.test("curve: unknown key, wrong server key, plain text, PLAIN and TCP garbage get zero frames in", async () => {
  const agent = await generateKeyPair();
  const stranger = await generateKeyPair();
  const otherServer = await generateKeyPair();
  const c = await collector(new Set([agent.publicKey]));
  const ep = c.receiver.endpoint;
  const attackers = {
    unknownKey: rawPush(ep, {
      curveServerKey: c.server.publicKey,
      curvePublicKey: stranger.publicKey,
      curveSecretKey: stranger.secretKey,
    }),
    // A client with the agent's public key but not its secret: the handshake cannot complete.
    stolenPublicKey: rawPush(ep, {
      curveServerKey: c.server.publicKey,
      curvePublicKey: agent.publicKey,
      curveSecretKey: stranger.secretKey,
    }),
    wrongServerKey: rawPush(ep, {
      curveServerKey: otherServer.publicKey,
      curvePublicKey: agent.publicKey,
      curveSecretKey: agent.secretKey,
    }),
    plainText: rawPush(ep, {}),
    plainMechanism: rawPush(ep, { plainUsername: "admin", plainPassword: "admin" }),
  };
  let good: Sender | null = null;
  try {
    // Attack for a while: until the ZAP handler has refused the unknown key (libzmq does not
    // redial after a refusal) and at least 200 frames per attacker were offered.
    const stop = { now: false };
    const attacking = (async () => {
      while (!stop.now) {
        for (const [name, a] of Object.entries(attackers)) await a.send(`bad-${name}`);
        await sleep(2);
      }
    })();
    const tcp = garbage(c.port, 40);
    await until(
      () =>
        c.decisions.filter((d) => !d.allowed && d.key === stranger.publicKey).length >= 1 &&
        Object.values(attackers).every((a) => a.attempts >= 200),
      "refusals",
      10_000,
    );
    const garbageBytes = await tcp;
    assert.ok(garbageBytes > 0, "the garbage connections were accepted at TCP level");
    assert.deepEqual(c.frames, [], "nothing got in while attacking");

    // Now the allowed agent, with the attackers still sending: its frames, and only they, arrive.
    good = connectPush(ep, { curve: { serverKey: c.server.publicKey, ...agent } });
    await sendOnce(good, "good-1");
    await until(() => c.frames.length >= 1, "the good frame");
    await sendOnce(good, "good-2"); // a barrier: anything queued by another peer is read by now
    await until(() => c.frames.includes("good-2"), "the second good frame");
    stop.now = true;
    await attacking;
    assert.deepEqual(c.frames, ["good-1", "good-2"]);

    // ZAP saw the keys that completed a handshake: the stranger refused, the agent allowed.
    // The stolen public key, wrong server key, plain-text and PLAIN clients never got as far.
    const keys = new Set(c.decisions.map((d) => `${d.allowed}:${d.key}`));
    assert.deepEqual(keys, new Set([`false:${stranger.publicKey}`, `true:${agent.publicKey}`]));
  } finally {
    for (const a of Object.values(attackers)) a.close();
    good?.close();
    await c.receiver.close();
  }
});

Deno.test("curve: without an allowlist any client that knows the collector's key is accepted, plain text is not", async () => {
  const c = await collector(null);
  const anyone = await generateKeyPair();
  const plain = rawPush(c.receiver.endpoint, {});
  const sender = connectPush(c.receiver.endpoint, {
    curve: { serverKey: c.server.publicKey, ...anyone },
  });
  try {
    for (let i = 0; i < 50; i++) await plain.send("bad-plain");
    await sendOnce(sender, "anyone-1");
    await until(() => c.frames.length >= 1, "the frame");
    await sendOnce(sender, "anyone-2");
    await until(() => c.frames.includes("anyone-2"), "the second frame");
    assert.deepEqual(c.frames, ["anyone-1", "anyone-2"]);
    assert.deepEqual(c.decisions, [], "no ZAP handler runs without an allowlist");
  } finally {
    plain.close();
    sender.close();
    await c.receiver.close();
  }
});

Deno.test("curve: two CURVE receivers in one process each answer ZAP for their own keys", async () => {
  const a = await generateKeyPair();
  const b = await generateKeyPair();
  const ca = await collector(new Set([a.publicKey]));
  const cb = await collector(new Set([b.publicKey]));
  const senders = [
    connectPush(ca.receiver.endpoint, { curve: { serverKey: ca.server.publicKey, ...a } }),
    connectPush(cb.receiver.endpoint, { curve: { serverKey: cb.server.publicKey, ...b } }),
    // b's key is not on a's list, even though it is on b's.
    connectPush(ca.receiver.endpoint, { curve: { serverKey: ca.server.publicKey, ...b } }),
  ];
  try {
    await sendOnce(senders[0], "to-a");
    await sendOnce(senders[1], "to-b");
    await until(() => ca.frames.length === 1 && cb.frames.length === 1, "one frame each");
    await until(() => ca.decisions.some((d) => !d.allowed), "a refusing b's key");
    assert.deepEqual([ca.frames, cb.frames], [["to-a"], ["to-b"]]);
    assert.equal(await senders[2].trySend(new Uint8Array([1])), false);
  } finally {
    for (const s of senders) s.close();
    await Promise.all([ca.receiver.close(), cb.receiver.close()]);
  }
});

Deno.test("curve: a refused agent redials, so a key added to the allowlist later is let in", async () => {
  const agent = await generateKeyPair();
  const allow = new Set<string>();
  const c = await collector(allow);
  const sender = connectPush(c.receiver.endpoint, {
    curve: { serverKey: c.server.publicKey, ...agent },
    redialMs: 100,
  });
  try {
    await until(() => c.decisions.some((d) => !d.allowed), "a refusal");
    // Refused, it keeps trying: each try after redialMs is a new handshake, refused again.
    const tries = async () => {
      await sender.trySend(new Uint8Array([0]));
      return c.decisions.length;
    };
    while ((await tries()) < 3) await sleep(20);
    assert.deepEqual(c.frames, []);
    allow.add(agent.publicKey);
    await sendOnce(sender, "late");
    await until(() => c.frames.length === 1, "the frame");
    assert.deepEqual(c.frames, ["late"]);
  } finally {
    sender.close();
    await c.receiver.close();
  }
});

Deno.test("curve: bindPull and connectPush refuse malformed keys before touching the network", async () => {
  const k = await generateKeyPair();
  await assert.rejects(
    bindPull("tcp://127.0.0.1:*", {
      onFrame: () => {},
      curve: { secretKey: "short", publicKey: k.publicKey, allow: null },
    }),
    /secretKey must be a 40-character Z85 CURVE key/,
  );
  assert.throws(
    () =>
      connectPush("tcp://127.0.0.1:1", {
        curve: { serverKey: k.publicKey, publicKey: k.publicKey, secretKey: "x".repeat(39) },
      }),
    /secretKey must be a 40-character Z85 CURVE key/,
  );
});

Deno.test("curve: an agent link the collector refuses says so, not just 'no collector'", async () => {
  const agent = await generateKeyPair();
  const stranger = await generateKeyPair();
  const c = await collector(new Set([agent.publicKey]));
  const frame = new TextEncoder().encode("x");
  const links: Transport[] = [];
  const link = (endpoint: string, keys: typeof agent) => {
    const l = connectCollector(endpoint, { curve: { serverKey: c.server.publicKey, ...keys } });
    links.push(l);
    return l;
  };
  try {
    // Not on the allowlist: frames are refused, and a listener answers.
    const refused = link(c.receiver.endpoint, stranger);
    const end = performance.now() + 15_000;
    while (refused.problem?.() !== CURVE_REFUSED) {
      assert.ok(performance.now() < end, "the refusal said");
      assert.equal(await refused.trySend(frame), false);
      await sleep(50);
    }
    // Allowed: frames go in and nothing is said.
    const allowed = link(c.receiver.endpoint, agent);
    while (!(await allowed.trySend(frame))) await sleep(20);
    assert.equal(allowed.problem?.(), null);
    // Nothing listening: "no collector" stays the whole story.
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = probe.addr.port;
    probe.close();
    const nobody = link(`tcp://127.0.0.1:${port}`, agent);
    for (let i = 0; i < 40; i++) {
      await nobody.trySend(frame);
      await sleep(50);
    }
    assert.equal(nobody.problem?.(), null);
  } finally {
    for (const l of links) l.close();
    await c.receiver.close();
  }
});
