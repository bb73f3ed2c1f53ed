/**
 * Series keys: a metric name with optional labels, written the Prometheus way and kept in
 * one canonical form (labels sorted by name), so one series has exactly one key:
 *
 *     http.requests_total{route="/users/:id",status="2xx"}
 *
 * Names are lower-case dotted words with units in the name; label names are
 * `[a-z_][a-z0-9_]*`; label values are any text without control or invisible format
 * characters ({@link hasHiddenChars}), with `\` and `"` escaped. Shared by the agent
 * (formatting) and the decoder (parsing).
 *
 * @module
 */

/** Limits on one key. */
export const KEY_LIMITS = {
  maxNameLength: 100,
  maxLabels: 8,
  maxLabelNameLength: 64,
  maxLabelValueLength: 128,
} as const;

/** `c` (a UTF-16 code unit) is one of a-z, 0-9, _ : a character of a name's part. */
function wordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95;
}

/**
 * `/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/`, written as a loop: names are checked on every
 * frame the collector reads, and an agent that never compiles a regular expression keeps
 * the regexp compiler's pages of the runtime out of its app's memory (issue 14).
 */
function nameSyntax(s: string): boolean {
  const first = s.charCodeAt(0); // NaN when empty
  if (!(first >= 97 && first <= 122)) return false;
  let afterDot = false;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (afterDot) return false;
      afterDot = true;
    } else if (wordChar(c)) afterDot = false;
    else return false;
  }
  return !afterDot;
}

/** `/^[a-z_][a-z0-9_]*$/` as a loop (see {@link nameSyntax}). */
function labelNameSyntax(s: string): boolean {
  const first = s.charCodeAt(0);
  if (!((first >= 97 && first <= 122) || first === 95)) return false;
  for (let i = 1; i < s.length; i++) if (!wordChar(s.charCodeAt(i))) return false;
  return true;
}

/**
 * Characters that hide or disguise text, never accepted in names or label values: controls
 * (C0, DEL, C1), format characters (Unicode Cf: bidi embeddings, overrides and isolates,
 * zero-width spaces and joiners, the BOM, soft hyphens, tags), line and paragraph
 * separators, lone surrogates, and the blank Hangul fillers. A service named
 * `\u202Eevil\u202C` (a right-to-left override) otherwise reverses the text drawn after it:
 * on the page it read as "live" next to the real status.
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\u115f\u1160\u3164\uffa0]/u;

/** True when `text` holds a character that hides or disguises text (listed above). */
export function hasHiddenChars(text: string): boolean {
  // Printable ASCII holds none of them: most text is decided without the regular expression.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return HIDDEN.test(text);
  }
  return false;
}

/** `text` with each hiding character written as `\u{XXXX}`, for a log line that cannot lie. */
export function showHiddenChars(text: string): string {
  if (!hasHiddenChars(text)) return text;
  return text.replace(
    new RegExp(HIDDEN.source, "gu"),
    (c) => `\\u{${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}}`,
  );
}

/** A parsed series key. */
export interface SeriesKey {
  name: string;
  /** Label pairs sorted by label name. */
  labels: Array<[string, string]>;
}

/** True when `name` is a valid metric name (and not a key of Object.prototype). */
export function validName(name: string): boolean {
  return name.length <= KEY_LIMITS.maxNameLength && nameSyntax(name) && !(name in Object.prototype);
}

/** Format a key canonically. Throws a RangeError for an invalid name or label. */
export function formatKey(name: string, labels: Record<string, string> = {}): string {
  if (!validName(name)) throw new RangeError(`invalid metric name ${JSON.stringify(name)}`);
  const pairs = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (pairs.length === 0) return name;
  if (pairs.length > KEY_LIMITS.maxLabels) {
    throw new RangeError(`${name}: at most ${KEY_LIMITS.maxLabels} labels`);
  }
  const parts = pairs.map(([k, v]) => {
    if (!validLabel(k, v)) throw new RangeError(`${name}: invalid label ${JSON.stringify(k)}`);
    return `${k}="${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
  });
  return `${name}{${parts.join(",")}}`;
}

/** Parse a key; null when it is not a valid key in any form. */
export function parseKey(key: string): SeriesKey | null {
  const brace = key.indexOf("{");
  if (brace < 0) return validName(key) ? { name: key, labels: [] } : null;
  const name = key.slice(0, brace);
  if (!validName(name) || !key.endsWith("}")) return null;
  const labels: Array<[string, string]> = [];
  let at = brace + 1;
  const end = key.length - 1;
  while (at < end) {
    const eq = key.indexOf("=", at);
    if (eq < 0 || key[eq + 1] !== '"') return null;
    const label = key.slice(at, eq);
    let value = "";
    let i = eq + 2;
    for (; i < end && key[i] !== '"'; i++) {
      if (key[i] === "\\") {
        i++;
        if (key[i] !== "\\" && key[i] !== '"') return null;
      }
      value += key[i];
    }
    if (key[i] !== '"' || !validLabel(label, value)) return null;
    labels.push([label, value]);
    at = i + 1;
    if (at < end) {
      if (key[at] !== ",") return null;
      at++;
    }
  }
  if (labels.length === 0 || labels.length > KEY_LIMITS.maxLabels) return null;
  labels.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (let i = 1; i < labels.length; i++) if (labels[i][0] === labels[i - 1][0]) return null;
  return { name, labels };
}

/** The canonical form of a key, or null when it is invalid. */
export function canonicalKey(key: string): string | null {
  const k = parseKey(key);
  return k && formatKey(k.name, Object.fromEntries(k.labels));
}

function validLabel(name: string, value: string): boolean {
  return name.length <= KEY_LIMITS.maxLabelNameLength && labelNameSyntax(name) &&
    value.length <= KEY_LIMITS.maxLabelValueLength && !hasHiddenChars(value);
}

/**
 * Split a comma-separated list of keys (`/ws?metrics=a,b`), keeping the commas inside a
 * key's labels: `x{a="1",b="2"},y` is two keys, not three pieces. Empty items are dropped.
 */
export function splitKeyList(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let braces = false;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"' && braces) quoted = true;
    else if (c === "{") braces = true;
    else if (c === "}") braces = false;
    else if (c === "," && !braces) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.filter((k) => k.length > 0);
}
