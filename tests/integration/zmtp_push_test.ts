/**
 * The agent's TypeScript ZMTP PUSH (lib/transport/zmtp/push.ts) against the collector's real libzmq
 * PULL socket (lib/transport/zmq.ts `bindPull`): frames arrive whole and in order, the sender waits
 * for a collector that is not there yet and comes back after a restart, and peers it cannot
 * use are named, not silently fed.
 */
import assert from "node:assert/strict";
import { generateKeyPair } from "../../lib/transport/keys.ts";
import { bindPull, type Receiver } from "../../lib/transport/zmq.ts";
import { connectZmtpPush, type PushSocket } from "../../lib/transport/zmtp/push.ts";
import { waitFor } from "../support/live.ts";
import { freePort } from "../support/net.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A PULL socket recording every frame as text. */
async function pull(endpoint = "tcp://127.0.0.1:*") {
  const frames: string[] = [];
  const receiver: Receiver = await bindPull(endpoint, {
    onFrame: (f) => frames.push(dec.decode(f)),
  });
  return { frames, receiver };
}

/** Send until the socket takes the frame (it refuses while no collector is connected). */
async function sendOnce(push: PushSocket, frame: string): Promise<void> {
  const bytes = enc.encode(frame);
  await waitFor(() => push.trySend(bytes), `the sender to take ${frame.slice(0, 20)}`);
}

Deno.test("zmtp push delivers short, long and 1 MiB frames to a libzmq PULL, in order", async () => {
  const { frames, receiver } = await pull();
  const push = connectZmtpPush(receiver.endpoint);
  try {
    const sent = ["a", "b".repeat(255), "c".repeat(256), "d".repeat(1024 * 1024 - 64)];
    for (let i = 0; i < 200; i++) sent.push(`m${i}`);
    for (const f of sent) await sendOnce(push, f);
    await waitFor(() => frames.length === sent.length, "every frame");
    assert.deepEqual(frames, sent);
  } finally {
    push.close();
    await receiver.close();
  }
});

Deno.test("zmtp push refuses while no collector listens, then connects when one binds", async () => {
  const endpoint = `tcp://127.0.0.1:${freePort()}`;
  const push = connectZmtpPush(endpoint, { reconnectMinMs: 10, reconnectMaxMs: 50 });
  let receiver: Receiver | undefined;
  try {
    assert.equal(await push.trySend(enc.encode("early")), false, "nothing to send to yet");
    // Why, for the agent's report: the dial's own error.
    const why = await waitFor(() => push.problem(), "a reason for the refusal");
    assert.match(why, /refused/i);
    const p = await pull(endpoint);
    receiver = p.receiver;
    await sendOnce(push, "after bind");
    await waitFor(() => p.frames.length === 1, "the frame after bind");
    assert.deepEqual(p.frames, ["after bind"]);
    assert.equal(push.problem(), null, "no problem once connected");
  } finally {
    push.close();
    await receiver?.close();
  }
});

Deno.test("zmtp push reconnects after the collector restarts on the same endpoint", async () => {
  const first = await pull();
  const endpoint = first.receiver.endpoint;
  const push = connectZmtpPush(endpoint, { reconnectMinMs: 10, reconnectMaxMs: 50 });
  let second: Awaited<ReturnType<typeof pull>> | undefined;
  try {
    await sendOnce(push, "before");
    await waitFor(() => first.frames.length === 1, "the first frame");
    await first.receiver.close();
    // libzmq releases the port from its I/O thread, a moment after close() resolves.
    second = await waitFor(() => pull(endpoint).catch(() => undefined), "the port to be free");
    // Without acknowledgements a frame written as the old connection closes is lost (the
    // collector counts it as a sequence gap): send until the new connection carries one.
    let n = 0;
    await waitFor(async () => {
      await push.trySend(enc.encode(`after ${n++}`));
      return second!.frames.length > 0;
    }, "a frame after the restart");
    assert.deepEqual(first.frames, ["before"]);
    assert.match(second.frames[0], /^after \d+$/);
  } finally {
    push.close();
    await second?.receiver.close();
  }
});

Deno.test("zmtp push over ipc:// reaches a PULL bound on a unix socket", async () => {
  const dir = await Deno.makeTempDir();
  const { frames, receiver } = await pull(`ipc://${dir}/collector.sock`);
  const push = connectZmtpPush(receiver.endpoint);
  try {
    await sendOnce(push, "over ipc");
    await waitFor(() => frames.length === 1, "the ipc frame");
    assert.deepEqual(frames, ["over ipc"]);
  } finally {
    push.close();
    await receiver.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("zmtp push names a CURVE collector's mechanism and sends it nothing", async () => {
  const server = await generateKeyPair();
  const frames: string[] = [];
  const receiver = await bindPull("tcp://127.0.0.1:*", {
    onFrame: (f) => frames.push(dec.decode(f)),
    curve: { ...server, allow: null },
  });
  const errors: string[] = [];
  const push = connectZmtpPush(receiver.endpoint, {
    reconnectMinMs: 10,
    onError: (e) => errors.push(e.message),
  });
  try {
    await waitFor(() => errors.length > 0, "the mechanism error");
    assert.match(errors[0], /requires (the )?CURVE.*; give the agent CURVE keys/);
    assert.equal(await push.trySend(enc.encode("plain")), false);
    assert.deepEqual(frames, []);
  } finally {
    push.close();
    await receiver.close();
  }
});

Deno.test("zmtp push drops a peer that is not ZMTP and one that never answers, and redials", async () => {
  for (const reply of [enc.encode("HTTP/1.1 400 Bad Request\r\n\r\n"), null]) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const accepted: Deno.Conn[] = [];
    const serving = (async () => {
      for await (const c of listener) {
        accepted.push(c);
        if (reply) await c.write(reply).catch(() => {});
      }
    })();
    const errors: string[] = [];
    const push = connectZmtpPush(`tcp://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`, {
      reconnectMinMs: 10,
      reconnectMaxMs: 10,
      handshakeTimeoutMs: 100,
      onError: (e) => errors.push(e.message),
    });
    try {
      await waitFor(() => accepted.length >= 2, "a second dial after the first was dropped");
      assert.equal(await push.trySend(enc.encode("x")), false);
      if (reply) assert.match(errors[0], /not a ZMTP socket/);
      else assert.deepEqual(errors, [], "a silent peer is dropped without a report");
      assert.match(push.problem() ?? "", reply ? /not a ZMTP socket/ : /no ZMTP handshake/);
    } finally {
      push.close();
      listener.close();
      for (const c of accepted) c.close();
      await serving.catch(() => {});
    }
  }
});

Deno.test("zmtp push keeps no Deno process alive, connected or not", async () => {
  const { receiver } = await pull();
  try {
    const script = `
      import { connectZmtpPush } from "${new URL(
      "../../lib/transport/zmtp/push.ts",
      import.meta.url,
    )}";
      const live = connectZmtpPush("${receiver.endpoint}");
      connectZmtpPush("tcp://127.0.0.1:${freePort()}");
      while (!(await live.trySend(new TextEncoder().encode("hi")))) {
        await new Promise((r) => setTimeout(r, 5));
      }
      console.log("sent");
    `;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "-"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(enc.encode(script));
    await w.close();
    const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const out = await child.output();
    clearTimeout(killer);
    assert.equal(dec.decode(out.stdout).trim(), "sent", dec.decode(out.stderr));
    assert.equal(out.signal, null, "exited by itself, not killed");
    assert.equal(out.code, 0);
  } finally {
    await receiver.close();
  }
});
