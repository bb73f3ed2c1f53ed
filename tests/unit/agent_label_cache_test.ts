import assert from "node:assert/strict";
import { labelCache } from "../../lib/agent/label_cache.ts";
import type { Labels } from "../../lib/agent/registry.ts";

/** A cache whose resolver records each label set it is asked for. */
function counting(maxNodes?: number) {
  const resolved: string[] = [];
  const resolve = (labels: Labels | undefined) => {
    const l = labels ?? {};
    const key = `m{${Object.keys(l).sort().map((k) => `${k}=${l[k]}`).join(",")}}`;
    resolved.push(key);
    return key.includes("bad") ? null : key;
  };
  return { resolved, lookup: labelCache(resolve, maxNodes) };
}

Deno.test("label cache: a label set seen before is not resolved again, even in a new object", () => {
  const { resolved, lookup } = counting();
  assert.equal(lookup({ route: "/a", status: "2xx" }), "m{route=/a,status=2xx}");
  assert.equal(lookup({ route: "/a", status: "2xx" }), "m{route=/a,status=2xx}");
  assert.equal(lookup({ route: "/b", status: "2xx" }), "m{route=/b,status=2xx}");
  assert.equal(lookup(undefined), "m{}");
  assert.equal(lookup(undefined), "m{}");
  assert.deepEqual(resolved, ["m{route=/a,status=2xx}", "m{route=/b,status=2xx}", "m{}"]);
});

Deno.test("label cache: a label object changed after use is found under its new values", () => {
  const { lookup } = counting();
  const labels: Labels = { status: "2xx" };
  assert.equal(lookup(labels), "m{status=2xx}");
  labels.status = "5xx";
  assert.equal(lookup(labels), "m{status=5xx}");
  labels.extra = "x";
  assert.equal(lookup(labels), "m{extra=x,status=5xx}");
  delete labels.extra;
  assert.equal(lookup(labels), "m{status=5xx}");
});

Deno.test("label cache: a set that is a prefix of another keeps its own answer", () => {
  const { lookup } = counting();
  assert.equal(lookup({ a: "1", b: "2" }), "m{a=1,b=2}");
  assert.equal(lookup({ a: "1" }), "m{a=1}");
  assert.equal(lookup({}), "m{}");
  assert.equal(lookup({ a: "1", b: "2" }), "m{a=1,b=2}");
});

Deno.test("label cache: non-string values are found by their text", () => {
  const { resolved, lookup } = counting();
  assert.equal(lookup({ code: 404 as unknown as string }), "m{code=404}");
  assert.equal(lookup({ code: "404" }), "m{code=404}");
  assert.equal(resolved.length, 1);
});

Deno.test("label cache: a null answer is never kept, so every such update is resolved", () => {
  const { resolved, lookup } = counting();
  for (let i = 0; i < 3; i++) assert.equal(lookup({ v: "bad" }), null);
  assert.equal(resolved.length, 3);
});

Deno.test("label cache: unbounded label values restart the cache instead of growing it", () => {
  const { resolved, lookup } = counting(8);
  lookup({ id: "first" });
  for (let i = 0; i < 20; i++) lookup({ id: `user-${i}` });
  const before = resolved.length;
  assert.equal(lookup({ id: "first" }), "m{id=first}");
  assert.equal(resolved.length, before + 1, "the first set was dropped with the rest");
});
