import assert from "node:assert/strict";
import { otlpSetting, startCommand } from "../../static/first_run.ts";

Deno.test("first-run hint: the plain command for the default port, --collector for another", () => {
  assert.equal(startCommand(null), "deno run -A backend_app.ts --color red");
  assert.equal(startCommand("tcp://127.0.0.1:5555"), "deno run -A backend_app.ts --color red");
  assert.equal(
    startCommand("tcp://127.0.0.1:15555"),
    "deno run -A backend_app.ts --color red --collector tcp://127.0.0.1:15555",
  );
});

Deno.test("the OTLP hint is the SDKs' endpoint setting, and absent without a listener", () => {
  assert.equal(otlpSetting(null), null);
  assert.equal(
    otlpSetting("http://127.0.0.1:4318"),
    "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318",
  );
});
