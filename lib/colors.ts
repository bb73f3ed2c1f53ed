/**
 * Display colours. A colour is never an identity and never reaches CSS unvalidated: a
 * requested colour is used only when it is a CSS named colour or a hex colour; otherwise
 * the instance gets a stable colour from the palette, derived from its id.
 *
 * @module
 */

/** CSS named colours (CSS Color 4), lower case -> sRGB as 6 hex digits. */
export const NAMED_COLORS: ReadonlyMap<string, string> = new Map(
  (
    "aliceblue:f0f8ff antiquewhite:faebd7 aqua:00ffff aquamarine:7fffd4 azure:f0ffff beige:f5f5dc " +
    "bisque:ffe4c4 black:000000 blanchedalmond:ffebcd blue:0000ff blueviolet:8a2be2 brown:a52a2a " +
    "burlywood:deb887 cadetblue:5f9ea0 chartreuse:7fff00 chocolate:d2691e coral:ff7f50 " +
    "cornflowerblue:6495ed cornsilk:fff8dc crimson:dc143c cyan:00ffff darkblue:00008b " +
    "darkcyan:008b8b darkgoldenrod:b8860b darkgray:a9a9a9 darkgreen:006400 darkgrey:a9a9a9 " +
    "darkkhaki:bdb76b darkmagenta:8b008b darkolivegreen:556b2f darkorange:ff8c00 darkorchid:9932cc " +
    "darkred:8b0000 darksalmon:e9967a darkseagreen:8fbc8f darkslateblue:483d8b " +
    "darkslategray:2f4f4f darkslategrey:2f4f4f darkturquoise:00ced1 darkviolet:9400d3 " +
    "deeppink:ff1493 deepskyblue:00bfff dimgray:696969 dimgrey:696969 dodgerblue:1e90ff " +
    "firebrick:b22222 floralwhite:fffaf0 forestgreen:228b22 fuchsia:ff00ff gainsboro:dcdcdc " +
    "ghostwhite:f8f8ff gold:ffd700 goldenrod:daa520 gray:808080 green:008000 greenyellow:adff2f " +
    "grey:808080 honeydew:f0fff0 hotpink:ff69b4 indianred:cd5c5c indigo:4b0082 ivory:fffff0 " +
    "khaki:f0e68c lavender:e6e6fa lavenderblush:fff0f5 lawngreen:7cfc00 lemonchiffon:fffacd " +
    "lightblue:add8e6 lightcoral:f08080 lightcyan:e0ffff lightgoldenrodyellow:fafad2 " +
    "lightgray:d3d3d3 lightgreen:90ee90 lightgrey:d3d3d3 lightpink:ffb6c1 lightsalmon:ffa07a " +
    "lightseagreen:20b2aa lightskyblue:87cefa lightslategray:778899 lightslategrey:778899 " +
    "lightsteelblue:b0c4de lightyellow:ffffe0 lime:00ff00 limegreen:32cd32 linen:faf0e6 " +
    "magenta:ff00ff maroon:800000 mediumaquamarine:66cdaa mediumblue:0000cd mediumorchid:ba55d3 " +
    "mediumpurple:9370db mediumseagreen:3cb371 mediumslateblue:7b68ee mediumspringgreen:00fa9a " +
    "mediumturquoise:48d1cc mediumvioletred:c71585 midnightblue:191970 mintcream:f5fffa " +
    "mistyrose:ffe4e1 moccasin:ffe4b5 navajowhite:ffdead navy:000080 oldlace:fdf5e6 olive:808000 " +
    "olivedrab:6b8e23 orange:ffa500 orangered:ff4500 orchid:da70d6 palegoldenrod:eee8aa " +
    "palegreen:98fb98 paleturquoise:afeeee palevioletred:db7093 papayawhip:ffefd5 peachpuff:ffdab9 " +
    "peru:cd853f pink:ffc0cb plum:dda0dd powderblue:b0e0e6 purple:800080 rebeccapurple:663399 " +
    "red:ff0000 rosybrown:bc8f8f royalblue:4169e1 saddlebrown:8b4513 salmon:fa8072 " +
    "sandybrown:f4a460 seagreen:2e8b57 seashell:fff5ee sienna:a0522d silver:c0c0c0 skyblue:87ceeb " +
    "slateblue:6a5acd slategray:708090 slategrey:708090 snow:fffafa springgreen:00ff7f " +
    "steelblue:4682b4 tan:d2b48c teal:008080 thistle:d8bfd8 tomato:ff6347 turquoise:40e0d0 " +
    "violet:ee82ee wheat:f5deb3 white:ffffff whitesmoke:f5f5f5 yellow:ffff00 yellowgreen:9acd32"
  ).split(" ").map((e) => e.split(":") as [string, string]),
);

const HEX = /^#(?:[0-9a-f]{3}|[0-9a-f]{4}|[0-9a-f]{6}|[0-9a-f]{8})$/;

/**
 * A palette that reads on a dark background (each at least {@link MIN_CONTRAST}:1 on it) and
 * is distinguishable for most viewers. Tableau 10, its blue a touch lighter (was #4e79a7).
 */
export const PALETTE: readonly string[] = [
  "#507baa",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
];

/** The requested colour, lower-cased, if it is a safe CSS colour; otherwise null. */
export function safeColor(requested: string | null | undefined): string | null {
  if (typeof requested !== "string") return null;
  const c = requested.trim().toLowerCase();
  return NAMED_COLORS.has(c) || HEX.test(c) ? c : null;
}

/** A stable palette colour for an id (FNV-1a hash), so a line keeps its colour across restarts. */
export function paletteColor(id: string): string {
  return PALETTE[paletteIndex(id)];
}

function paletteIndex(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % PALETTE.length;
}

/**
 * The palette colour for a new instance: the first one from its hashed place
 * ({@link paletteColor}) that `counts` (of the instances still drawn, by colour) does not
 * hold, else the least used. With the hash alone two of four instances shared a colour half
 * the time.
 */
export function distinctColor(id: string, counts: ReadonlyMap<string, number>): string {
  const start = paletteIndex(id);
  let best = PALETTE[start];
  for (let i = 0, fewest = Infinity; i < PALETTE.length && fewest > 0; i++) {
    const c = PALETTE[(start + i) % PALETTE.length];
    const n = counts.get(c) ?? 0;
    if (n < fewest) [best, fewest] = [c, n];
  }
  return best;
}

/** The colour to draw an instance with. */
export function displayColor(id: string, requested: string | null): string {
  return safeColor(requested) ?? paletteColor(id);
}

/** The dashboard's card background (static/style.css `--card`), which every line is drawn on. */
export const DARK_BACKGROUND = "#131821";

/**
 * Least contrast of a line against the background. WCAG asks 3:1 of graphics; lines 2 px
 * thin need more (`green`, 3.5:1, looks dim on the card). Pure `blue` is 2.1:1, `navy` 1.1:1.
 */
export const MIN_CONTRAST = 4;

/** `[r, g, b]` (0-255) and the alpha digits of a safe colour (named or hex), or null. */
function rgbOf(color: string): { rgb: [number, number, number]; alpha: string } | null {
  const c = safeColor(color);
  if (c === null) return null;
  let hex = c.startsWith("#") ? c.slice(1) : NAMED_COLORS.get(c)!;
  if (hex.length <= 4) hex = [...hex].map((d) => d + d).join("");
  const rgb = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
  return { rgb, alpha: hex.slice(6) };
}

/** WCAG relative luminance of an sRGB colour. */
function luminance([r, g, b]: readonly number[]): number {
  const lin = (v: number) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** WCAG contrast ratio of two safe colours (1 to 21); NaN when either is not one. */
export function contrast(a: string, b: string): number {
  const x = rgbOf(a);
  const y = rgbOf(b);
  if (!x || !y) return NaN;
  const [hi, lo] = [luminance(x.rgb), luminance(y.rgb)].sort((p, q) => q - p);
  return (hi + 0.05) / (lo + 0.05);
}

function toHsl([r, g, b]: readonly number[]): [number, number, number] {
  const [R, G, B] = [r / 255, g / 255, b / 255];
  const max = Math.max(R, G, B);
  const min = Math.min(R, G, B);
  const l = (max + min) / 2;
  const d = max - min;
  if (d === 0) return [0, 0, l];
  const s = d / (1 - Math.abs(2 * l - 1));
  const h = max === R ? ((G - B) / d + 6) % 6 : max === G ? (B - R) / d + 2 : (R - G) / d + 4;
  return [h * 60, s, l];
}

function fromHsl(h: number, s: number, l: number): [number, number, number] {
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const x = c * (1 - Math.abs(((h / 60) % 2) - 1));
  const m = l - c / 2;
  const [r, g, b] = h < 60
    ? [c, x, 0]
    : h < 120
    ? [x, c, 0]
    : h < 180
    ? [0, c, x]
    : h < 240
    ? [0, x, c]
    : h < 300
    ? [x, 0, c]
    : [c, 0, x];
  return [r, g, b].map((v) => Math.round((v + m) * 255)) as [number, number, number];
}

const hex2 = (v: number) => v.toString(16).padStart(2, "0");

/**
 * The colour to draw a line in on `background`: `color` itself when it stands out at least
 * {@link MIN_CONTRAST}:1, else the same hue and saturation made just light enough (`blue`
 * becomes `#6666ff`). Dark shades of one hue may end up alike. Anything but a safe colour is
 * returned as it is.
 */
export function readableColor(color: string, background = DARK_BACKGROUND): string {
  const parsed = rgbOf(color);
  if (!parsed || !(contrast(color, background) < MIN_CONTRAST)) return color;
  const [h, s, l] = toHsl(parsed.rgb);
  const bg = luminance(rgbOf(background)!.rgb);
  // The first lightness, in steps of 1 %, whose rounded colour reaches the contrast.
  for (let step = Math.ceil(l * 100); step <= 100; step++) {
    const rgb = fromHsl(h, s, step / 100);
    if ((luminance(rgb) + 0.05) / (bg + 0.05) >= MIN_CONTRAST) {
      return `#${rgb.map(hex2).join("")}${parsed.alpha}`;
    }
  }
  return `#ffffff${parsed.alpha}`;
}
