import assert from "node:assert/strict";
import { startCommand } from "../../static/first_run.ts";

Deno.test("first-run hint: the plain command for the default port, --collector for another", () => {
  assert.equal(startCommand(null), "deno run -A backend_app.ts --color red");
  assert.equal(startCommand("tcp://127.0.0.1:5555"), "deno run -A backend_app.ts --color red");
  assert.equal(
    startCommand("tcp://127.0.0.1:15555"),
    "deno run -A backend_app.ts --color red --collector tcp://127.0.0.1:15555",
  );
});
