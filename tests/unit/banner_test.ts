import assert from "node:assert/strict";
import {
  type Banner,
  collectingLine,
  connectEndpoint,
  readBannerLine,
  rulesLine,
  runningLine,
} from "../../lib/banner.ts";

Deno.test("banner lines the collector writes read back as its addresses", () => {
  const banner: Banner = {};
  readBannerLine(runningLine("http://127.0.0.1:18000"), banner);
  readBannerLine("(Press CTRL+C to quit)", banner);
  readBannerLine(collectingLine("tcp://127.0.0.1:15555", "tcp://127.0.0.1:5556"), banner);
  assert.deepEqual(banner, {
    httpUrl: "http://127.0.0.1:18000",
    zmqEndpoint: "tcp://127.0.0.1:15555",
  });
  assert.equal(
    runningLine("http://127.0.0.1:8000"),
    "======== Running on http://127.0.0.1:8000 ========",
  );
});

Deno.test("apps connect to loopback for a collector bound to every interface", () => {
  assert.equal(connectEndpoint("tcp://0.0.0.0:5555"), "tcp://127.0.0.1:5555");
  assert.equal(connectEndpoint("tcp://*:5555"), "tcp://127.0.0.1:5555");
  assert.equal(connectEndpoint("tcp://[::]:5555"), "tcp://[::1]:5555");
  assert.equal(connectEndpoint("tcp://10.0.0.7:5555"), "tcp://10.0.0.7:5555");
});

Deno.test("the rules line counts a file's rules and webhooks, and says when none will alert", () => {
  assert.equal(rulesLine(null), "built-in alert rules (--rules FILE)");
  assert.equal(rulesLine("rules.yaml", 3, 1), "alert rules from rules.yaml: 3 rules, 1 webhook");
  assert.equal(rulesLine("r.yaml", 1, 2), "alert rules from r.yaml: 1 rule, 2 webhooks");
  assert.equal(
    rulesLine("r.yaml", 0, 0),
    "alert rules from r.yaml: none, so nothing alerts (0 webhooks)",
  );
});
