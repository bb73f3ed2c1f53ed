/** Series keys: canonical formatting and strict parsing of names with labels. */
import assert from "node:assert/strict";
import {
  canonicalKey,
  formatKey,
  hasHiddenChars,
  parseKey,
  showHiddenChars,
  splitKeyList,
  validName,
} from "../../lib/metric_key.ts";

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

Deno.test("label values with bidi controls or invisible characters are refused both ways", () => {
  for (const v of ["\u202E/x", "a\u200Bb", "\u2066a\u2069", "a\u2028", "\uFEFF", "a\u00ADb"]) {
    assert.throws(() => formatKey("jobs_total", { queue: v }), RangeError, JSON.stringify(v));
    assert.equal(parseKey(`jobs_total{queue="${v}"}`), null, JSON.stringify(v));
  }
  assert.equal(formatKey("jobs_total", { queue: "écrire ✉️" }), 'jobs_total{queue="écrire ✉️"}');
});

Deno.test("hidden characters are found and written out visibly for logs", () => {
  assert.equal(hasHiddenChars("\u202Eevil\u202C"), true);
  assert.equal(hasHiddenChars("a\uD800"), true, "a lone surrogate");
  assert.equal(hasHiddenChars("\u3164"), true, "a blank Hangul filler");
  assert.equal(hasHiddenChars("naïve ☕"), false);
  assert.equal(showHiddenChars("\u202Eevil\u202C\n"), "\\u{202E}evil\\u{202C}\\u{000A}");
});

Deno.test("names and label names are checked exactly as their regular expressions say", () => {
  const NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;
  const LABEL = /^[a-z_][a-z0-9_]*$/;
  const alphabet = ["a", "z", "0", "9", "_", ".", "A", "-", "é", "{"];
  let strings = [""];
  const all: string[] = [""];
  for (let len = 1; len <= 4; len++) {
    strings = strings.flatMap((s) => alphabet.map((c) => s + c));
    all.push(...strings);
  }
  for (const s of all) {
    assert.equal(validName(s), NAME.test(s), `name ${JSON.stringify(s)}`);
    const labelOk = (() => {
      try {
        formatKey("m", { [s]: "v" });
        return true;
      } catch {
        return false;
      }
    })();
    assert.equal(labelOk, LABEL.test(s), `label ${JSON.stringify(s)}`);
  }
});

Deno.test("every UTF-16 code unit is hidden or not exactly as the character classes say", () => {
  const HIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\u115f\u1160\u3164\uffa0]/u;
  for (let c = 0; c <= 0xffff; c++) {
    const s = String.fromCharCode(c);
    assert.equal(hasHiddenChars(`ab${s}`), HIDDEN.test(s), c.toString(16));
  }
  assert.equal(hasHiddenChars("plain ascii ~"), false);
  assert.equal(hasHiddenChars("del\x7f"), true);
});

Deno.test("a list of keys splits at the commas between keys, not inside their labels", () => {
  assert.deepEqual(
    splitKeyList('cpu.percent,http.p95{method="POST",route="/a,b"},x{q="\\"}"},,y'),
    ["cpu.percent", 'http.p95{method="POST",route="/a,b"}', 'x{q="\\"}"}', "y"],
  );
  assert.deepEqual(splitKeyList(""), []);
});
