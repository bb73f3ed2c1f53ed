/**
 * The agent's public API documents itself with examples, and they type-check against the
 * code as it is (`deno check --doc`): an example that drifts from the API fails here.
 */
import assert from "node:assert/strict";

Deno.test("the agent's @example blocks type-check against its API", async () => {
  const root = new URL("../../", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--doc", "lib/agent/"],
    cwd: root,
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
});
