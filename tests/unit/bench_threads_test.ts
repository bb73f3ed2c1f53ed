import assert from "node:assert/strict";
import { cpuByKind, threadKind, threadTimes } from "../../bench/threads.ts";
import { platform } from "../../lib/platform.ts";

Deno.test("threadKind tells the collector's threads apart by name", () => {
  assert.equal(threadKind("deno"), "main");
  assert.equal(threadKind("worker-1"), "history");
  assert.equal(threadKind("V8 DefaultWorke"), "v8");
  assert.equal(threadKind("ZMQbg/IO/0"), "zmq");
  assert.equal(threadKind("ZMQbg/Reaper"), "zmq");
  assert.equal(threadKind("tokio-runtime-w"), "other");
});

Deno.test("cpuByKind sums each kind's CPU between readings, new threads from zero", () => {
  const before = new Map([
    ["1", { kind: "main" as const, ms: 500 }],
    ["2", { kind: "v8" as const, ms: 40 }],
    ["3", { kind: "history" as const, ms: 10 }], // ends before the second reading
  ]);
  const after = new Map([
    ["1", { kind: "main" as const, ms: 620 }],
    ["2", { kind: "v8" as const, ms: 70 }],
    ["4", { kind: "history" as const, ms: 30 }], // started in between
  ]);
  assert.deepEqual(cpuByKind(before, after), { main: 120, history: 30, v8: 30, zmq: 0, other: 0 });
});

Deno.test("threadTimes accounts this process's CPU to its threads", () => {
  const before = threadTimes();
  assert(before.size > 0, "no threads read from /proc/self/task");
  const cpu = () => {
    const u = platform.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const start = cpu();
  let x = 0;
  while (cpu() - start < 150) x += Math.sqrt(x + 1); // 150 ms of CPU
  const by = cpuByKind(before, threadTimes());
  const sum = Object.values(by).reduce((a, b) => a + b, 0);
  assert(x > 0);
  // `deno test` runs tests on one of Deno's own threads, not on the one named "deno".
  assert(sum >= 100, `threads ${JSON.stringify(by)}: ${sum} ms of at least 150`);
});
