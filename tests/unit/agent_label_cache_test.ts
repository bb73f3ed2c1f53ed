import assert from "node:assert/strict";
import { labelKeyCache } from "../../lib/agent/label_keys.ts";
import type { Labels } from "../../lib/agent/registry.ts";

/** A cache whose builder records each label set it is asked for. */
function counting(maxNodes?: number) {
  const built: string[] = [];
  const build = (labels: Labels) => {
    const key = `m{${Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(",")}}`;
    built.push(key);
    return key.includes("bad") ? null : key;
  };
  return { built, keyOf: labelKeyCache("m", build, maxNodes) };
}

Deno.test("label keys: a label set seen before is not built again, even in a new object", () => {
  const { built, keyOf } = counting();
  assert.equal(keyOf({ route: "/a", status: "2xx" }), "m{route=/a,status=2xx}");
  assert.equal(keyOf({ route: "/a", status: "2xx" }), "m{route=/a,status=2xx}");
  assert.equal(keyOf({ route: "/b", status: "2xx" }), "m{route=/b,status=2xx}");
  assert.deepEqual(built, ["m{route=/a,status=2xx}", "m{route=/b,status=2xx}"]);
  assert.equal(keyOf(undefined), "m", "no labels: the metric name");
});

Deno.test("label keys: a label object changed after use gets the key of its new values", () => {
  const { keyOf } = counting();
  const labels: Labels = { status: "2xx" };
  assert.equal(keyOf(labels), "m{status=2xx}");
  labels.status = "5xx";
  assert.equal(keyOf(labels), "m{status=5xx}");
  labels.extra = "x";
  assert.equal(keyOf(labels), "m{extra=x,status=5xx}");
  delete labels.extra;
  assert.equal(keyOf(labels), "m{status=5xx}");
});

Deno.test("label keys: a set that is a prefix of another keeps its own key", () => {
  const { keyOf } = counting();
  assert.equal(keyOf({ a: "1", b: "2" }), "m{a=1,b=2}");
  assert.equal(keyOf({ a: "1" }), "m{a=1}");
  assert.equal(keyOf({}), "m{}");
  assert.equal(keyOf({ a: "1", b: "2" }), "m{a=1,b=2}");
});

Deno.test("label keys: non-string values are keyed by their text", () => {
  const { keyOf } = counting();
  assert.equal(keyOf({ code: 404 as unknown as string }), "m{code=404}");
  assert.equal(keyOf({ code: "404" }), "m{code=404}");
});

Deno.test("label keys: an invalid set is never cached, so every update is seen", () => {
  const { built, keyOf } = counting();
  for (let i = 0; i < 3; i++) assert.equal(keyOf({ v: "bad" }), null);
  assert.equal(built.length, 3);
});

Deno.test("label keys: unbounded label values restart the cache instead of growing it", () => {
  const { built, keyOf } = counting(8);
  keyOf({ id: "first" });
  for (let i = 0; i < 20; i++) keyOf({ id: `user-${i}` });
  const before = built.length;
  assert.equal(keyOf({ id: "first" }), "m{id=first}");
  assert.equal(built.length, before + 1, "the first set was dropped with the rest");
});
