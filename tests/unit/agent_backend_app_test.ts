import assert from "node:assert/strict";
import { main, parseFlags, startWork, UsageError } from "../../backend_app.ts";
import { DEFAULT_COLLECTOR } from "../../lib/agent/mod.ts";

Deno.test("backend_app flags have the seed's defaults", () => {
  assert.deepEqual(parseFlags([]), {
    color: undefined,
    leak: 0,
    service: "backend",
    instance: undefined,
    collector: DEFAULT_COLLECTOR,
    intervalMs: 1000,
  });
});

Deno.test("backend_app parses every flag", () => {
  const args = [
    "--color=green",
    "--leak",
    "100000",
    "--service",
    "bookings",
    "--instance",
    "b-1",
    "--collector",
    "tcp://10.0.0.1:5555",
    "--interval",
    "500",
  ];
  assert.deepEqual(parseFlags(args), {
    color: "green",
    leak: 100000,
    service: "bookings",
    instance: "b-1",
    collector: "tcp://10.0.0.1:5555",
    intervalMs: 500,
  });
  assert.equal(parseFlags(["--help"]), null);
  assert.equal(parseFlags(["-h"]), null);
});

Deno.test("backend_app rejects bad flags with a usage error naming the flag", () => {
  for (
    const [args, pattern] of [
      [["--bogus"], /--bogus/],
      [["extra"], /extra/],
      [["--leak", "-5"], /--leak/],
      [["--leak", "lots"], /--leak/],
      [["--leak", "1e3"], /--leak/],
      [["--interval", "0"], /--interval/],
      [["--color"], /--color/],
    ] as const
  ) {
    assert.throws(
      () => parseFlags([...args]),
      (e) => e instanceof UsageError && pattern.test(e.message),
    );
  }
});

Deno.test("backend_app main exits 2 on bad flags and 0 on --help", async () => {
  const { error, log } = console;
  const printed: string[] = [];
  console.error = console.log = (...a: unknown[]) => void printed.push(a.join(" "));
  try {
    assert.equal(await main(["--leak", "x"]), 2);
    assert.match(printed.join("\n"), /--leak must be an integer[\s\S]*Usage:/);
    assert.equal(await main(["--help"]), 0);
    assert.match(printed.at(-1)!, /--leak N .*about N\*8 bytes/);
  } finally {
    Object.assign(console, { error, log });
  }
});

Deno.test("backend_app work loop leaks N numbers per iteration and stops promptly", async () => {
  let reached: () => void = () => {};
  const first = new Promise<void>((r) => reached = r);
  const work = startWork({
    leak: 1000,
    periodMs: 5000,
    maxBurstMs: 5,
    onIteration: (n) => n === 1 && reached(),
  });
  await first;
  const started = performance.now();
  await work.stop(); // wakes the 5 s sleep
  assert.ok(performance.now() - started < 500, "stop waited out the sleep");
  assert.equal(work.iterations, 1);
  assert.equal(work.leaked, 1000);
});
