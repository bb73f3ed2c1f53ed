import assert from "node:assert/strict";
import { instanceLabel, instanceName, middleEllipsis } from "../../static/instance_label.ts";

Deno.test("an instance is named with its service, decoded from its id when needed", () => {
  assert.equal(instanceLabel("web%2Fapp/host%3A42"), "web/app · host:42");
  assert.equal(instanceLabel("x", "svc", "inst"), "svc · inst");
  assert.equal(instanceLabel("bad%E0/y"), "bad%E0 · y");
  assert.equal(instanceName("backend", "backend"), "backend");
});

Deno.test("a pod name that starts with its service is not prefixed with the service again", () => {
  assert.equal(instanceName("api", "api-7d9f8c4b-x2k4p"), "api-7d9f8c4b-x2k4p");
  assert.equal(instanceLabel("api/api-7d9f8c4b-x2k4p"), "api-7d9f8c4b-x2k4p");
  assert.equal(instanceName("api", "api_2"), "api_2");
  assert.equal(instanceName("api", "api.eu-1"), "api.eu-1");
  // Only a whole service name followed by a separator: "apiary" is not an "api" pod.
  assert.equal(instanceName("api", "apiary-1"), "api · apiary-1");
  assert.equal(instanceName("", "-x"), " · -x");
});

Deno.test("a long name is cut in the middle, keeping the end that tells pods apart", () => {
  const a = middleEllipsis("api-gateway-7d9f8c0b-fmmen", 20);
  const b = middleEllipsis("api-gateway-7d9f8c0b-s31ik", 20);
  assert.equal(Array.from(a).length, 20);
  assert.ok(a.endsWith("fmmen") && b.endsWith("s31ik"), `${a} / ${b}`);
  assert.ok(a.startsWith("api-gat"), a);
  assert.notEqual(a, b);
  assert.equal(middleEllipsis("short", 20), "short");
  assert.equal(Array.from(middleEllipsis("😀".repeat(30), 10)).length, 10, "whole code points");
});
