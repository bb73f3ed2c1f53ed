import assert from "node:assert/strict";
import {
  main,
  parseFlags,
  startApi,
  startLoad,
  startWork,
  USAGE,
  UsageError,
} from "../../backend_app.ts";
import { createRegistry, DEFAULT_COLLECTOR, type MetricsRegistry } from "../../lib/agent/mod.ts";

const FIXTURE_RATE = new URL("../fixtures/heap/demo_leak_rate.ts", import.meta.url);

Deno.test("backend_app flags have the seed's defaults", () => {
  assert.deepEqual(parseFlags([]), {
    color: undefined,
    leak: 0,
    service: "backend",
    instance: undefined,
    collector: DEFAULT_COLLECTOR,
    intervalMs: 1000,
    http: 0,
    load: 0,
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
    "--http",
    "8101",
    "--load",
    "20",
  ];
  assert.deepEqual(parseFlags(args), {
    color: "green",
    leak: 100000,
    service: "bookings",
    instance: "b-1",
    collector: "tcp://10.0.0.1:5555",
    intervalMs: 500,
    http: 8101,
    load: 20,
  });
  assert.equal(parseFlags(["--help"]), null);
  assert.equal(parseFlags(["-h"]), null);
});

Deno.test("backend_app rejects bad flags with a usage error naming the flag", () => {
  for (
    const [args, pattern] of [
      [["--bogus"], /--bogus/],
      [["extra"], /extra/],
      // A dash starts an option: the message must say how to give a negative value.
      [["--leak", "-5"], /^Option '--leak' argument is ambiguous\. .* use '--leak=-XYZ'\.$/],
      [["--leak=-5"], /--leak must be an integer from 0/],
      [["--leak", "lots"], /--leak/],
      [["--leak", "1e3"], /--leak/],
      [["--interval", "0"], /--interval/],
      [["--color"], /--color/],
      [["--color", "bleu"], /--color must be a CSS colour name or #hex .*"bleu"/],
      [["--color", "#12"], /--color/],
      [["--color", "red;}"], /--color/],
      [["--http", "65536"], /--http/],
      [["--http", "x"], /--http/],
      [["--load", "10"], /--load needs --http/],
      [["--http", "8101", "--load", "-1"], /--load/],
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
    // The error and where the options are, not the whole usage above it.
    assert.deepEqual(printed, [
      'backend_app: --leak must be an integer from 0 to 10000000, got "x"\nRun "deno run -A backend_app.ts --help" for the options.',
    ]);
    assert.equal(await main(["--help"]), 0);
    assert.match(printed.at(-1)!, /--leak N +leak N numbers per iteration/);
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

const requests = (m: MetricsRegistry, method: string, route: string, status: string) =>
  m.snapshot()
    .metrics[`http.requests_total{method="${method}",route="${route}",status="${status}"}`];

Deno.test("backend_app API counts /users/42 under the route template /users/:id", async () => {
  const metrics = createRegistry();
  const api = startApi({ port: 0, metrics, random: () => 0.5 });
  try {
    const res = await fetch(`${api.url}/users/42`);
    assert.deepEqual(await res.json(), { id: 42, name: "user 42" });
    const booked = await fetch(`${api.url}/bookings`, { method: "POST", body: "{}" });
    assert.equal(booked.status, 201);
    await booked.body?.cancel();
    for (const [path, method, status] of [["/users/x", "GET", 404], ["/users/1", "PUT", 405]]) {
      const r = await fetch(api.url + path, { method: method as string });
      await r.body?.cancel();
      assert.equal(r.status, status);
    }
    assert.equal(requests(metrics, "GET", "/users/:id", "2xx"), 1);
    assert.equal(requests(metrics, "POST", "/bookings", "2xx"), 1);
    assert.equal(requests(metrics, "GET", "other", "4xx"), 1, "unknown paths: other, 404");
    assert.equal(requests(metrics, "PUT", "/users/:id", "4xx"), 1);
    assert.ok(!JSON.stringify(metrics.snapshot()).includes("/users/42"));
  } finally {
    await api.close();
  }
});

Deno.test("backend_app API fails about 2 % of requests with 500, after a slow or fast wait", async () => {
  const metrics = createRegistry();
  const api = startApi({ port: 0, metrics, random: () => 0.01 }); // slow (8 ms), then a 500
  try {
    const res = await fetch(`${api.url}/users/1`);
    await res.body?.cancel();
    assert.equal(res.status, 500);
    assert.equal(requests(metrics, "GET", "/users/:id", "5xx"), 1);
    const h = metrics.snapshot().hist['http.request_duration_ms{method="GET",route="/users/:id"}'];
    assert.ok(h.sum >= 7, `the slow path waited ${h.sum} ms`);
  } finally {
    await api.close();
  }
});

Deno.test("backend_app load loop calls its own API at about the requested rate", async () => {
  const metrics = createRegistry();
  const api = startApi({ port: 0, metrics, random: () => 0.5 }); // fast, never a 500
  const load = startLoad(api.url, 100, () => 0); // every request: GET /users/0
  try {
    await new Promise((r) => setTimeout(r, 550));
  } finally {
    await load.stop();
    await api.close();
  }
  assert.equal(load.failed, 0);
  assert.ok(load.answered >= 30 && load.answered <= 60, `${load.answered} answered in ~0.5 s`);
  assert.equal(requests(metrics, "GET", "/users/:id", "2xx"), load.answered);
});

Deno.test("backend_app --help states the leak rates the page shows, in MiB/min", async () => {
  // The page and the alert say MiB; the help said "~4.8 MB/min" and "~48 MB/min" (8 bytes a
  // number), where the page showed ~4.7 and ~52 MiB/min: arrays grown by push keep spare room.
  const help = USAGE.replace(/\s+/g, " ");
  const m = help.match(
    /--leak 10000 grows the heap ~([\d.]+) MiB\/min and --leak 100000 ~([\d.]+) MiB\/min/,
  );
  assert.ok(m, help);
  for (const [n, stated] of [[10_000, Number(m[1])], [100_000, Number(m[2])]]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--v8-flags=--expose-gc", FIXTURE_RATE.pathname, String(n), "60"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const { bytesPerNumber } = JSON.parse(new TextDecoder().decode(out.stdout));
    const perMin = (bytesPerNumber * n * 60) / (1024 * 1024);
    assert.ok(
      Math.abs(perMin - stated) / perMin < 0.05,
      `--leak ${n}: help says ~${stated} MiB/min, the heap grows ${perMin.toFixed(2)} MiB/min`,
    );
  }
});
