/** Display colours: only named CSS colours and hex colours reach CSS; anything else gets a palette colour. */
import assert from "node:assert/strict";
import {
  contrast,
  DARK_BACKGROUND,
  displayColor,
  MIN_CONTRAST,
  NAMED_COLORS,
  PALETTE,
  paletteColor,
  readableColor,
  safeColor,
} from "../../lib/colors.ts";

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

/** Hue in degrees of a `#rrggbb` colour (NaN for a grey). */
function hue(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const max = Math.max(r, g, b);
  const d = max - Math.min(r, g, b);
  if (d === 0) return NaN;
  const h = max === r ? ((g - b) / d + 6) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return h * 60;
}

Deno.test("readableColor lifts dark colours to 4:1 on the dark page, keeping their hue", () => {
  assert.equal(MIN_CONTRAST, 4);
  assert.ok(contrast("blue", DARK_BACKGROUND) < 2.2, "pure blue is hard to see as it is");
  const blue = readableColor("blue");
  assert.match(blue, /^#[0-9a-f]{6}$/);
  assert.ok(contrast(blue, DARK_BACKGROUND) >= MIN_CONTRAST, blue);
  assert.ok(Math.abs(hue(blue) - 240) < 1, `${blue} is still blue`);
  for (const [dark, h] of [["navy", 240], ["maroon", 0], ["darkgreen", 120], ["purple", 300]]) {
    const c = readableColor(dark as string);
    assert.ok(contrast(c, DARK_BACKGROUND) >= MIN_CONTRAST, `${dark} -> ${c}`);
    assert.ok(Math.abs(hue(c) - (h as number)) < 1.5, `${dark} -> ${c} keeps its hue`);
  }
  assert.equal(readableColor("#00008080").slice(-2), "80", "alpha kept");
  assert.ok(contrast(readableColor("black"), DARK_BACKGROUND) >= MIN_CONTRAST);
});

Deno.test("readableColor leaves colours that already stand out, and non-colours, as they are", () => {
  for (const c of ["red", "orange", "lime", "#4fc3f7", ...PALETTE]) {
    assert.equal(readableColor(c), c);
  }
  for (const c of ["__proto__", "url(x)", ""]) assert.equal(readableColor(c), c);
});

Deno.test("every named colour and palette colour is drawn at 4:1 or more", () => {
  assert.equal(NAMED_COLORS.size, 148);
  for (const c of [...NAMED_COLORS.keys(), ...PALETTE]) {
    const drawn = readableColor(c);
    assert.ok(contrast(drawn, DARK_BACKGROUND) >= MIN_CONTRAST, `${c} -> ${drawn}`);
    assert.equal(safeColor(drawn), drawn, "a safe colour");
  }
});
