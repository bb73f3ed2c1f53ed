/**
 * The house's shape, checked: layers point one way (the store, the live view and the shared
 * model import nothing above them), and no file grows past what one reader can hold.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);

/** Every .ts file under `dir` (repo-relative), recursively. */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(new URL(dir, ROOT))) {
    const path = `${dir}${e.name}`;
    if (e.isDirectory) out.push(...tsFiles(`${path}/`));
    else if (e.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** The repo-relative files a module imports (static and dynamic, relative specifiers only). */
function importsOf(file: string): string[] {
  const text = Deno.readTextFileSync(new URL(file, ROOT));
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1]);
  return specs.map((s) => new URL(s, new URL(file, ROOT)).pathname.slice(ROOT.pathname.length));
}

const RULES: Array<[string, string[]]> = [
  ["lib/model/", ["lib/"]], // a leaf: nothing of zeroapm's at all
  ["lib/store/", ["lib/collector/", "lib/live/", "lib/http/", "lib/alerts/"]],
  ["lib/live/", ["lib/alerts/", "lib/collector/", "lib/http/"]],
  ["lib/alerts/", ["lib/live/", "lib/collector/", "lib/http/"]],
  // HTTP reads through narrow interfaces (lib/http/deps.ts), not the collector's classes.
  ["lib/http/", ["lib/collector/", "lib/alerts/", "lib/live/hub.ts", "lib/remote/"]],
];

Deno.test("layers point one way: model, store, live, alerts and HTTP import nothing above them", () => {
  const broken: string[] = [];
  for (const [layer, banned] of RULES) {
    for (const file of tsFiles(layer)) {
      for (const target of importsOf(file)) {
        if (target.startsWith(layer)) continue;
        if (banned.some((b) => target.startsWith(b))) broken.push(`${file} -> ${target}`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

Deno.test("config resolves flags without loading the HTTP layer", () => {
  assert.deepEqual(importsOf("lib/config.ts").filter((t) => t.startsWith("lib/http/")), []);
});

Deno.test("no file in lib/ is over 450 lines, and the page's entry is at most 300", () => {
  const lines = (f: string) => Deno.readTextFileSync(new URL(f, ROOT)).split("\n").length - 1;
  const long = tsFiles("lib/").filter((f) => lines(f) > 450).map((f) => `${f}: ${lines(f)}`);
  assert.deepEqual(long, []);
  assert.ok(lines("static/app.ts") <= 300, `static/app.ts: ${lines("static/app.ts")} lines`);
});
