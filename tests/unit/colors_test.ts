/** Display colours: only named CSS colours and hex colours reach CSS; anything else gets a palette colour. */
import assert from "node:assert/strict";
import { displayColor, PALETTE, paletteColor, safeColor } from "../../lib/colors.ts";

Deno.test("safeColor accepts CSS named colours, lower-cased and trimmed", () => {
  assert.equal(safeColor("red"), "red");
  assert.equal(safeColor("green"), "green");
  assert.equal(safeColor("RebeccaPurple"), "rebeccapurple");
  assert.equal(safeColor("  Blue "), "blue");
  assert.equal(safeColor("lightgoldenrodyellow"), "lightgoldenrodyellow");
});

Deno.test("safeColor accepts 3, 4, 6 and 8 digit hex colours, lower-cased", () => {
  for (const c of ["#fff", "#ffff", "#a1b2c3", "#a1b2c3d4"]) assert.equal(safeColor(c), c);
  assert.equal(safeColor("#A1B2C3"), "#a1b2c3");
});

Deno.test("safeColor rejects CSS injection, prototype keys and non-colours", () => {
  for (
    const c of [
      "red;background:url(x)",
      "url(x)",
      "url(javascript:alert(1))",
      "expression(alert(1))",
      "__proto__",
      "constructor",
      "toString",
      "hasOwnProperty",
      "",
      "   ",
      "red blue",
      "red\n;x:y",
      "#fff;",
      "#ggg",
      "#12345",
      "#1234567",
      "fff",
      "rgb(1,2,3)",
      "var(--x)",
      "inherit",
      "</style><script>",
    ]
  ) {
    assert.equal(safeColor(c), null, JSON.stringify(c));
  }
  assert.equal(safeColor(null), null);
  assert.equal(safeColor(undefined), null);
});

Deno.test("every palette colour is a safe hex colour and distinct", () => {
  assert.ok(PALETTE.length >= 8);
  for (const c of PALETTE) assert.equal(safeColor(c), c);
  assert.equal(new Set(PALETTE).size, PALETTE.length);
});

Deno.test("paletteColor is stable across calls and releases", () => {
  assert.equal(paletteColor("orders/host-1:42"), paletteColor("orders/host-1:42"));
  // Pinned values: a changed hash would recolour every line after an upgrade.
  assert.equal(paletteColor("orders/host-1:42"), "#ff9da7");
  assert.equal(paletteColor("legacy/red"), "#59a14f");
  assert.equal(paletteColor(""), "#f28e2b");
});

Deno.test("paletteColor always returns a palette colour and spreads ids over the palette", () => {
  const used = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const c = paletteColor(`svc/host:${i}`);
    assert.ok(PALETTE.includes(c), c);
    used.add(c);
  }
  assert.equal(used.size, PALETTE.length);
  for (const id of ["__proto__", "constructor", "<img src=x>", "\u{1F680}".repeat(1000)]) {
    assert.ok(PALETTE.includes(paletteColor(id)), id);
  }
});

Deno.test("displayColor uses a safe requested colour", () => {
  assert.equal(displayColor("legacy/red", "red"), "red");
  assert.equal(displayColor("a/b", "#ABCDEF"), "#abcdef");
});

Deno.test("displayColor falls back to the palette for hostile or missing colours", () => {
  for (
    const bad of [
      null,
      "red;background:url(x)",
      "url(x)",
      "__proto__",
      "constructor",
      "expression(1)",
      "",
    ]
  ) {
    assert.equal(displayColor("orders/host-1:42", bad), paletteColor("orders/host-1:42"));
    assert.equal(displayColor("orders/host-1:42", bad), "#ff9da7");
  }
});
