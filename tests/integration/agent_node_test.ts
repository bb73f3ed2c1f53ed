/**
 * The agent is plain `node:*` code: this proves it runs under Node 20 with the same
 * npm:zeromq. The agent is bundled (zeromq left external), written into a temp dir inside
 * the repo so Node resolves `zeromq` from the repo's node_modules/, and run by /usr/bin/node
 * against a PULL socket bound here.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import os from "node:os";
import { RUNTIME_METRICS } from "../../lib/agent/runtime.ts";
import { decode, type Message, METRICS } from "../../lib/protocol.ts";
import { generateKeyPair } from "../../lib/transport/keys.ts";
import { bindPull } from "../../lib/transport/zmq.ts";
import { bundleAgentForNode } from "../support/node_bundle.ts";

const NODE = "/usr/bin/node";
const haveNode = existsSync(NODE);
const inCI = Boolean(Deno.env.get("CI"));

/** Run a Node script in `dir`; fail (and kill it) if it runs longer than `ms`. */
async function runNode(dir: string, script: string, args: string[], ms = 10_000) {
  await Deno.writeTextFile(`${dir}/main.mjs`, script);
  const child = new Deno.Command(NODE, {
    args: [`${dir}/main.mjs`, ...args],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  const started = performance.now();
  const out = await child.output();
  clearTimeout(timer);
  return {
    pid: child.pid,
    code: out.code,
    signal: out.signal,
    ms: performance.now() - started,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

const REPORTER = `
import process from "node:process";
import { createAgent } from "./agent.mjs";
// openFds: every runtime metric, the fd count by node:fs too, is checked under Node.
const agent = createAgent({
  service: "node-app", collector: process.argv[2], intervalMs: 50, color: "green", openFds: true,
});
// The agent's timers never keep a process alive: this app's own work does.
const work = setInterval(async () => {
  if (agent.stats().sent < 5) return;
  clearInterval(work);
  await agent.stop();
  console.log(JSON.stringify({ version: process.version, stats: agent.stats() }));
}, 20);
`;

/** An app whose agent speaks CURVE: the only path that loads zeromq (from the app's node_modules). */
const CURVE_REPORTER = `
import { createAgent } from "./agent.mjs";
const [collector, serverKey, publicKey, secretKey] = process.argv.slice(2);
const agent = createAgent({
  service: "node-curve", collector, intervalMs: 50, curve: { serverKey, publicKey, secretKey },
});
const work = setInterval(async () => {
  if (agent.stats().sent < 3) return;
  clearInterval(work);
  await agent.stop();
  console.log(JSON.stringify(agent.stats()));
}, 20);
`;

const IDLE = `
import { createAgent } from "./agent.mjs";
createAgent({ service: "idle", collector: "tcp://127.0.0.1:9", intervalMs: 50 });
`;

Deno.test({
  name: "agent reports from a Node 20 process to a ZMQ PULL socket",
  ignore: !haveNode && !inCI,
  async fn() {
    const messages: Message[] = [];
    let want = Infinity;
    let enough: () => void = () => {};
    const arrived = new Promise<void>((r) => enough = r);
    const count = () => messages.reduce((n, m) => n + m.samples.length, 0);
    const receiver = await bindPull("tcp://127.0.0.1:*", {
      onFrame(frame) {
        const d = decode(frame);
        if (!d.ok) throw new Error(`invalid frame from the Node agent: ${d.error.detail}`);
        messages.push(d.message);
        if (count() >= want) enough();
      },
    });
    const dir = await bundleAgentForNode("agent-node-");
    try {
      const run = await runNode(dir, REPORTER, [receiver.endpoint]);
      assert.equal(run.code, 0, `node failed (signal ${run.signal}): ${run.stderr}`);
      const report = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
      assert.match(report.version, /^v\d+\./);
      assert.ok(report.stats.sent >= 5, run.stdout);
      want = report.stats.sent;
      if (count() >= want) enough();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        arrived,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`${count()} of ${want} samples arrived`)),
            5000,
          );
        }),
      ]).finally(() => clearTimeout(timer));

      const host = os.hostname();
      for (const m of messages) {
        assert.equal(m.identity.service, "node-app");
        assert.equal(m.identity.pid, run.pid);
        assert.equal(m.identity.instance, `${host}:${run.pid}`);
        assert.equal(m.identity.color, "green");
        assert.equal(m.identity.intervalMs, 50);
        assert.ok(m.identity.start! > Date.now() - 60_000 && m.identity.start! <= Date.now());
      }
      const samples = messages.flatMap((m) => m.samples);
      assert.deepEqual(samples.map((s) => s.seq), samples.map((_, i) => i));
      // agent.stop() says goodbye: the last frame has `bye`, its last sample no metrics.
      assert.deepEqual(
        messages.map((m) => m.bye === true),
        messages.map((_, i) => i === messages.length - 1),
      );
      assert.deepEqual(samples.at(-1)!.metrics, {});
      for (const s of samples.slice(0, -1)) {
        // The standard metrics and runtime health (lag percentiles need a probe tick first).
        const names = Object.keys(s.metrics);
        for (const m of Object.values(METRICS)) assert.ok(names.includes(m), `${m} missing`);
        for (const m of Object.values(RUNTIME_METRICS)) {
          if (!m.startsWith("loop.")) assert.ok(names.includes(m), `${m} missing under Node`);
        }
        const known = new Set<string>([
          ...Object.values(METRICS),
          ...Object.values(RUNTIME_METRICS),
        ]);
        assert.ok(names.every((n) => known.has(n)), names.join());
        assert.ok(s.metrics[METRICS.rssBytes] > 1_000_000);
      }
    } finally {
      await receiver.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "agent does not keep a Node app alive when its collector is absent",
  ignore: !haveNode && !inCI,
  async fn() {
    const dir = await bundleAgentForNode("agent-node-");
    try {
      const run = await runNode(dir, IDLE, [], 5000);
      assert.equal(run.signal, null, "node had to be killed: the agent kept it alive");
      assert.equal(run.code, 0, run.stderr);
      assert.ok(run.ms < 3000, `node took ${run.ms} ms to exit`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "agent in a Node 20 process reaches a CURVE collector, loading zeromq on demand",
  ignore: !haveNode && !inCI,
  async fn() {
    const [server, client] = await Promise.all([generateKeyPair(), generateKeyPair()]);
    const services: string[] = [];
    const allowed: boolean[] = [];
    const three = Promise.withResolvers<void>();
    const receiver = await bindPull("tcp://127.0.0.1:*", {
      onFrame(frame) {
        const d = decode(frame);
        if (d.ok) services.push(d.message.identity.service);
        if (services.length >= 3) three.resolve();
      },
      curve: {
        ...server,
        allow: new Set([client.publicKey]),
        onAuth: (a) => allowed.push(a.allowed),
      },
    });
    const dir = await bundleAgentForNode("agent-node-curve-");
    try {
      const args = [receiver.endpoint, server.publicKey, client.publicKey, client.secretKey];
      const run = await runNode(dir, CURVE_REPORTER, args);
      assert.equal(run.code, 0, `node failed (signal ${run.signal}): ${run.stderr}`);
      const stats = JSON.parse(run.stdout.trim().split("\n").at(-1)!);
      assert.ok(stats.sent >= 3, run.stdout);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        three.promise,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${services.length} frames arrived`)), 5000);
        }),
      ]).finally(() => clearTimeout(timer));
      assert.ok(services.every((s) => s === "node-curve"), services.join());
      assert.ok(allowed.length > 0 && allowed.every(Boolean), `ZAP answers: ${allowed}`);
    } finally {
      await receiver.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
