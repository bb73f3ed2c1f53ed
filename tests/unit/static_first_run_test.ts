import assert from "node:assert/strict";
import { endedText, otlpSetting, startCommand } from "../../static/first_run.ts";

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

Deno.test("an empty live table says the instances report elsewhere when only the cluster knows them", () => {
  assert.equal(
    endedText([{}, {}]),
    "No instance has reported in the last 15 minutes: the earlier ones are in History.",
  );
  assert.equal(
    endedText([{ elsewhere: true }, { elsewhere: true }, {}]),
    "2 instances report to other collectors: their history, read from the cluster, is in History.",
  );
  assert.match(endedText([{ elsewhere: true }]), /^1 instance reports to other collectors/);
});
