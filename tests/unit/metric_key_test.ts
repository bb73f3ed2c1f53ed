/** Series keys: canonical formatting and strict parsing of names with labels. */
import assert from "node:assert/strict";
import { canonicalKey, formatKey, parseKey } from "../../lib/metric_key.ts";

Deno.test("formatKey sorts labels and escapes quotes and backslashes", () => {
  assert.equal(
    formatKey("http.requests_total", { status: "2xx", route: "/a" }),
    'http.requests_total{route="/a",status="2xx"}',
  );
  assert.equal(formatKey("q.depth", { name: 'a"b\\c' }), 'q.depth{name="a\\"b\\\\c"}');
  assert.equal(formatKey("cpu.percent"), "cpu.percent");
  assert.throws(() => formatKey("Bad.Name"), RangeError);
  assert.throws(() => formatKey("ok", { "Bad-Label": "x" }), RangeError);
});

Deno.test("parseKey reads back what formatKey writes, for awkward values", () => {
  for (const value of ["", "a,b", 'x="y"', "}{", "\\", "ünïcødé / spaces"]) {
    const key = formatKey("m.x", { z: value, a: "1" });
    assert.deepEqual(parseKey(key), { name: "m.x", labels: [["a", "1"], ["z", value]] });
    assert.equal(canonicalKey(key), key);
  }
});

Deno.test("canonicalKey reorders labels, and refuses keys that are not exactly one series", () => {
  assert.equal(canonicalKey('m{b="2",a="1"}'), 'm{a="1",b="2"}');
  for (
    const bad of ["m{}", 'm{a="1",a="2"}', 'm{a="1"', 'm{a="1"}}', "m{a}", "__proto__", "toString"]
  ) {
    assert.equal(canonicalKey(bad), null, bad);
  }
});
