import assert from "node:assert/strict";
import {
  type Banner,
  collectingLine,
  connectEndpoint,
  readBannerLine,
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
