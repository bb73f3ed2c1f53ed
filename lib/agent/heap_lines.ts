/**
 * Source lines for allocation sites in TypeScript. V8 reports a function's position in the
 * JavaScript it runs; Deno runs TypeScript transpiled, and keeps the source map to itself
 * (the inspector sees no `sourceMappingURL`, checked under Deno 2.9.6), so a `.ts` site's
 * line can be a few lines off (type-only lines are gone, a doc comment is joined to the
 * line that follows it). The transpiler never moves code down, so the definition of the
 * named function is the first one at or after V8's line: found by name in the source file.
 * When there is no such definition (an anonymous function, a file that cannot be read),
 * V8's position is kept. Plain JavaScript (Node, or `.js` under Deno) is left as it is.
 *
 * @module
 */
import { platform } from "../platform.ts";
import type { HeapSite } from "../protocol_profile.ts";

/** Largest source file read, bytes. */
const MAX_SOURCE_BYTES = 4 * 1024 * 1024;
const TYPESCRIPT = /\.(ts|tsx|mts|cts)$/;

/** Read a file's text, or null (no permission, gone, too large). */
export function readSource(url: string): string | null {
  try {
    const path = platform.fromFileUrl(url);
    if (platform.stat(path).size > MAX_SOURCE_BYTES) return null;
    return platform.readText(path);
  } catch {
    return null;
  }
}

/** Sites of TypeScript files with `line`/`col` moved to the named function's definition. */
export function sourceLines(
  sites: HeapSite[],
  read: (url: string) => string | null = readSource,
): HeapSite[] {
  const files = new Map<string, string[] | null>();
  return sites.map((s) => {
    if (!s.url.startsWith("file:") || !TYPESCRIPT.test(s.url) || !/^[\w$]+$/.test(s.fn)) {
      return s;
    }
    let lines = files.get(s.url);
    if (lines === undefined) {
      const text = read(s.url);
      files.set(s.url, lines = text === null ? null : text.split("\n"));
    }
    if (!lines) return s;
    const at = findDefinition(lines, s.fn, Math.max(1, s.line));
    return at ? { ...s, line: at.line, col: at.col } : s;
  });
}

/** The first definition of `name` at or after 1-based `from`: line and column, 1-based. */
export function findDefinition(
  lines: string[],
  name: string,
  from: number,
): { line: number; col: number } | null {
  const n = name.replace(/\$/g, "\\$");
  const def = new RegExp(
    // function name( / function* name< ; name = (...) => / name = function ; name(...) { (methods)
    `(\\bfunction\\s*\\*?\\s*(${n})\\s*[<(])|(\\b(${n})\\s*[:=]\\s*(async\\s*)?(function\\b|\\(|[\\w$]+\\s*=>))` +
      `|(^\\s*(?:(?:public|private|protected|static|async|override|readonly)\\s+)*\\*?\\s*(?:get\\s+|set\\s+)?(#?${n})\\s*[<(][^;]*\\{\\s*$)`,
  );
  for (let i = from - 1; i < lines.length; i++) {
    const m = def.exec(lines[i]);
    if (!m) continue;
    const found = m[2] ?? m[4] ?? m[8];
    const col = lines[i].indexOf(found, m.index) + 1;
    return { line: i + 1, col };
  }
  return null;
}
