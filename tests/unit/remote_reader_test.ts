/** Remote read: the query it sends, and how its answer fills what local history lacks. */
import assert from "node:assert/strict";
import { readThrough, RemoteReader } from "../../lib/remote/reader.ts";
import type { SeriesAnswer } from "../../lib/store/durable.ts";

Deno.test("read-through answers from local when it covers the range, and fills the rest from the remote", async () => {
  const asked: string[] = [];
  const f = ((url: string | URL | Request) => {
    const u = new URL(String(url));
    asked.push(u.searchParams.get("query") ?? "");
    const t = Number(u.searchParams.get("start"));
    // One value per step from start: the evaluation at start is bucket 0.
    const body = {
      status: "success",
      data: { result: [{ metric: {}, values: [[t, "5"], [t + 1, "6"]] }] },
    };
    return Promise.resolve(Response.json(body));
  }) as typeof fetch;
  const reader = new RemoteReader({
    url: "http://vm.test/",
    now: Date.now,
    log: () => {},
    fetch: f,
  });
  const answers: Record<string, SeriesAnswer> = {
    full: { tier: 0, bucketMs: 1000, points: [[0, 1, 1, 1], [1000, 2, 2, 2]] },
    late: { tier: 0, bucketMs: 1000, points: [[1000, 9, 9, 9]] },
  };
  const local = { query: (instance: string) => answers[instance.split("/")[0]] };
  const rt = readThrough(local, reader);
  assert.deepEqual(
    (await rt.query("full/a", "cpu.percent", 0, 3000, 3)).points,
    answers.full.points,
  );
  assert.equal(asked.length, 0, "no remote request when local covers the range");
  const late = await rt.query("late/a", "cpu.percent", 0, 3000, 3);
  assert.deepEqual(
    late.points,
    [[0, 5, 5, 5], [1000, 9, 9, 9]],
    "local wins where both have a bucket",
  );
  assert.deepEqual(asked.sort(), [
    'avg_over_time(cpu_percent{instance="a",job="late"}[1000ms])',
    'max_over_time(cpu_percent{instance="a",job="late"}[1000ms])',
    'min_over_time(cpu_percent{instance="a",job="late"}[1000ms])',
  ]);
});

Deno.test("remote read's lastError says the last failure until a request succeeds, and the log says it is over", async () => {
  let down = true;
  const f = (() =>
    down ? Promise.reject(new TypeError("fetch failed")) : Promise.resolve(
      Response.json({ status: "success", data: { result: [] } }),
    )) as typeof fetch;
  const lines: string[] = [];
  const reader = new RemoteReader({
    url: "http://vm.test/",
    now: Date.now,
    log: (l) => lines.push(l),
    fetch: f,
  });
  await reader.refresh(); // a failed listing keeps the last list, and says why
  assert.match(reader.stats().lastError ?? "", /fetch failed/);
  down = false;
  await reader.refresh();
  assert.deepEqual(
    { ...reader.stats(), url: undefined },
    { url: undefined, requests: 2, errors: 1, lastError: null, instances: 0 },
  );
  await reader.refresh();
  assert.equal(lines.length, 2, lines.join("\n"));
  assert.match(lines[0], /fetch failed \(answering from local history only\)$/);
  assert.match(lines[1], /^remote read http:\/\/vm\.test answers again \(failed for \d+ s\)$/);
});
