/**
 * The demo's leak keeps its name once V8 optimises the work loop. V8's sampling heap
 * profiler records real frames only, and the demo's leak alert said "grows in run
 * (backend_app.ts:85)" after about 7 minutes of `deno task demo`: V8 had optimised the work
 * loop, `run`, and inlined `cacheReadings` into it. The fixture runs the same loop fast
 * enough to reach that point in a few seconds, in a real Deno process.
 */
import assert from "node:assert/strict";

const FIXTURE = new URL("../fixtures/heap/demo_work.ts", import.meta.url);

Deno.test("the demo's leak is reported in cacheReadings after V8 optimised its work loop", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", FIXTURE.pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const bytes = JSON.parse(new TextDecoder().decode(out.stdout)) as Record<string, number>;
  const total = Object.values(bytes).reduce((a, b) => a + b, 0);
  assert.ok(total > 8 * 1024 * 1024, `only ${total} bytes sampled: ${JSON.stringify(bytes)}`);
  const share = (bytes.cacheReadings ?? 0) / total;
  assert.ok(
    share > 0.95,
    `cacheReadings holds ${(100 * share).toFixed(1)} %: ${JSON.stringify(bytes)}`,
  );
});
