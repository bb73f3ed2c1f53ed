import assert from "node:assert/strict";
import {
  defaultState,
  formatHash,
  MAX_HIDDEN,
  parseHash,
  type UrlState,
} from "../../static/url_state.ts";

Deno.test("parseHash gives the live view, 1 h range, nothing hidden for an empty hash", () => {
  assert.deepEqual(parseHash(""), defaultState());
  assert.deepEqual(parseHash("#"), defaultState());
  assert.deepEqual(defaultState(), { view: "live", range: "1h", abs: null, hidden: [] });
});

Deno.test("parseHash reads view, preset, zoomed range and hidden ids", () => {
  const s = parseHash(
    "#view=history&range=6h&from=1700000000000&to=1700000600000&hide=shop%2Fweb-1&hide=a%2F%253Cb%253E",
  );
  assert.deepEqual(s, {
    view: "history",
    range: "6h",
    abs: { from: 1700000000000, to: 1700000600000 },
    hidden: ["shop/web-1", "a/%3Cb%3E"],
  });
  assert.equal(parseHash("view=history").view, "history", "the # is optional");
});

Deno.test("parseHash ignores what it does not know instead of failing", () => {
  const s = parseHash("#view=admin&range=99y&from=abc&to=1e12&hide=&hide=x&hide=x&extra=1");
  assert.equal(s.view, "live");
  assert.equal(s.range, "1h");
  assert.equal(s.abs, null);
  assert.deepEqual(s.hidden, ["x"], "empty and repeated ids dropped");
  // from must be before to, by at least the smallest zoom span
  assert.equal(parseHash("#from=2000&to=1000").abs, null);
  assert.equal(parseHash("#from=1000&to=1500").abs, null);
  assert.equal(parseHash("#from=1000").abs, null);
  assert.equal(parseHash("#from=1&to=99999999999999999").abs, null, "not a timestamp");
  assert.equal(parseHash("#view=__proto__&range=constructor").range, "1h");
  assert.equal(parseHash("%E0%A4%A").view, "live", "a malformed escape does not throw");
});

Deno.test("parseHash caps the number and length of hidden ids", () => {
  const many = Array.from({ length: MAX_HIDDEN + 50 }, (_, i) => `hide=s%2F${i}`).join("&");
  assert.equal(parseHash(`#${many}`).hidden.length, MAX_HIDDEN);
  assert.deepEqual(parseHash(`#hide=${"x".repeat(601)}&hide=ok`).hidden, ["ok"]);
});

Deno.test("formatHash writes what parseHash reads back", () => {
  const states: UrlState[] = [
    defaultState(),
    { view: "history", range: "1h", abs: null, hidden: [] },
    {
      view: "history",
      range: "30d",
      abs: { from: 1_700_000_000_000, to: 1_700_000_060_000 },
      hidden: [],
    },
    { view: "live", range: "15m", abs: null, hidden: ["a/b", "we%20ird/__proto__", "x&y=z/#1"] },
  ];
  for (const s of states) assert.deepEqual(parseHash(formatHash(s)), s, formatHash(s));
});

Deno.test("formatHash keeps links short and readable", () => {
  assert.equal(formatHash(defaultState()), "#view=live");
  assert.equal(
    formatHash({ view: "history", range: "1h", abs: null, hidden: ["shop/web-1"] }),
    "#view=history&range=1h&hide=shop%2Fweb-1",
  );
  assert.equal(
    formatHash({ view: "history", range: "6h", abs: { from: 1000.4, to: 61_000.6 }, hidden: [] }),
    "#view=history&range=6h&from=1000&to=61001",
  );
});

Deno.test("parseHash and formatHash keep the focused service, any name as plain text", () => {
  for (const service of ["billing", "a&b=c #1", "__proto__", "ümlaut/ñ"]) {
    const s: UrlState = { view: "live", range: "1h", abs: null, service, hidden: ["x/1"] };
    assert.deepEqual(parseHash(formatHash(s)), s, formatHash(s));
  }
  assert.equal(
    formatHash({ view: "live", range: "1h", abs: null, service: "shop", hidden: [] }),
    "#view=live&service=shop",
  );
  assert.equal(parseHash("#service=").service, undefined, "empty: every service");
  assert.equal(parseHash(`#service=${"s".repeat(601)}`).service, undefined, "too long");
  assert.equal(parseHash("#view=live").service, undefined);
});
