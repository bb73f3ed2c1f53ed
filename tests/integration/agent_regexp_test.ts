/**
 * What the agent runs in every app (its start, the connect and ZMTP handshake, each sample,
 * a container's cgroup files every second) runs no regular expression: the first one an app
 * runs brings the regexp compiler's pages of the runtime into its memory (issue 14,
 * docs/architecture.md "What the agent loads"). A real agent pushes to a real PULL socket;
 * its container reader reads a cgroup v2 fixture tree.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { createAgent } from "../../lib/agent/mod.ts";
import { createProcessReaders } from "../../lib/agent/process.ts";
import { CONTAINER_METRICS, createContainerReader } from "../../lib/proc/container.ts";
import { parseStatus } from "../../lib/proc/parse.ts";
import { showHiddenChars } from "../../lib/metric_key.ts";
import { decode } from "../../lib/protocol.ts";
import { bindPull } from "../../lib/transport/zmq.ts";

const LIB = new URL("../../lib/", import.meta.url).href;
/** The receiving side, which is the collector's and not the agent's. */
const RECEIVER = new URL("../../lib/transport/zmq.ts", import.meta.url).href;
const CONTAINER = fileURLToPath(new URL("../fixtures/proc/container", import.meta.url));

const METHODS: PropertyKey[] = [
  "exec",
  "test",
  Symbol.match,
  Symbol.matchAll,
  Symbol.replace,
  Symbol.search,
  Symbol.split,
];

/**
 * Record every call of a RegExp method made from a function in lib/ (the receiver's
 * excepted) until `restore()`. `String.prototype.split(/x/)` and its kin call these too.
 */
function spyOnRegExps(): { sites: string[]; restore(): void } {
  const proto = RegExp.prototype as unknown as Record<PropertyKey, unknown>;
  const saved = METHODS.map((k) => [k, Object.getOwnPropertyDescriptor(proto, k)!] as const);
  const sites: string[] = [];
  for (const [key, d] of saved) {
    const original = d.value as (this: RegExp, ...args: unknown[]) => unknown;
    Object.defineProperty(proto, key, {
      ...d,
      value: function (this: RegExp, ...args: unknown[]) {
        // [0] "Error", [1] this wrapper, then the caller: the first frame that is not a
        // builtin such as `String.replace (<anonymous>)`.
        const caller = (new Error().stack ?? "").split("\n").slice(2)
          .find((line) => !line.includes("(<anonymous>)")) ?? "";
        if (caller.includes(LIB) && !caller.includes(RECEIVER)) {
          sites.push(`${String(key)} ${String(this)} ${caller.trim()}`);
        }
        return original.apply(this, args);
      },
    });
  }
  return {
    sites,
    restore: () => saved.forEach(([key, d]) => Object.defineProperty(proto, key, d)),
  };
}

Deno.test("the RegExp spy sees regular expressions run from lib/, directly and by String methods", () => {
  const spy = spyOnRegExps();
  try {
    parseStatus("Name:\tapp\nThreads:\t3\n"); // exec
    showHiddenChars("a\u200bb"); // String.prototype.replace
  } finally {
    spy.restore();
  }
  const at = (file: string) => spy.sites.filter((s) => s.includes(`lib/${file}:`)).length;
  assert.ok(at("proc/parse.ts") > 0 && at("metric_key.ts") > 0, spy.sites.join("\n"));
});

Deno.test("an agent in a cgroup v2 container starts, connects and samples with no RegExp", async () => {
  const frames: Uint8Array[] = [];
  const pull = await bindPull("tcp://127.0.0.1:*", {
    onFrame: (f) => void frames.push(f.slice()),
    onError: (e) => console.error(e),
  });
  const logged: string[] = [];
  const spy = spyOnRegExps();
  try {
    const agent = createAgent({
      service: "no-regexp",
      collector: pull.endpoint,
      intervalMs: 60_000, // samples are taken below, by sampleNow()
      readers: createProcessReaders({
        container: createContainerReader({
          root: CONTAINER,
          pid: 4242,
          log: (l) => logged.push(l),
        }),
      }),
    });
    try {
      for (let n = 1; n <= 3; n++) {
        agent.sampleNow();
        const deadline = Date.now() + 10_000;
        while (frames.length < n && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 5));
        }
        assert.equal(frames.length, n, `frame ${n} arrived`);
      }
    } finally {
      await agent.stop();
    }
  } finally {
    spy.restore();
    await pull.close();
  }
  assert.deepEqual(logged, [], "the container reader found the fixture's cgroup");
  const first = decode(frames[0]);
  assert.ok(first.ok);
  const m = first.message.samples[0].metrics;
  assert.equal(m[CONTAINER_METRICS.memUsageBytes], 104857600, "memory.current was read");
  assert.ok(CONTAINER_METRICS.cpuThrottledMs in m, "cpu.stat was read");
  assert.deepEqual(spy.sites, [], "regular expressions run by the agent");
});
