/**
 * `deno run -A server.ts` from a checkout whose page was never built (a fresh clone: static/dist/
 * is build output, not in the repository; the examples in docs/scaling.md run it so in a
 * container) builds the page and serves it, where it used to serve a blank page behind a 503.
 */
import assert from "node:assert/strict";
import { startServer } from "../support/server_process.ts";

const REPO = new URL("../../", import.meta.url);

/** Copy `from` into `to`, leaving out the entries `keep` refuses. */
async function copyTree(from: URL, to: string, keep: (name: string) => boolean = () => true) {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (!keep(e.name)) continue;
    if (e.isDirectory) await copyTree(new URL(`${e.name}/`, from), `${to}/${e.name}`);
    else if (e.isFile) await Deno.copyFile(new URL(e.name, from), `${to}/${e.name}`);
  }
}

Deno.test("server.ts on a checkout without the built page builds it and serves the dashboard", async () => {
  const root = await Deno.makeTempDir({ prefix: "zeroapm-page-" });
  try {
    for (const f of ["deno.json", "deno.lock", "server.ts"]) {
      await Deno.copyFile(new URL(f, REPO), `${root}/${f}`);
    }
    await copyTree(new URL("lib/", REPO), `${root}/lib`);
    await copyTree(new URL("static/", REPO), `${root}/static`, (name) => name !== "dist");
    await Deno.symlink(new URL("node_modules", REPO).pathname, `${root}/node_modules`);

    const server = await startServer([], { entry: `${root}/server.ts`, timeoutMs: 60_000 });
    try {
      const said = server.output.join("\n");
      assert.match(said, /^dashboard built in \d+\.\d s \(static\/dist\/ was missing\)$/m, said);
      const js = await fetch(`${server.httpUrl}/dist/app.js`);
      assert.equal(js.status, 200);
      assert.match(js.headers.get("content-type") ?? "", /^text\/javascript/);
      // The page's own bundle: its debug hook (static/debug.ts) is in it.
      assert.match(await js.text(), /__zeroapm/);
      const css = await fetch(`${server.httpUrl}/dist/uplot.css`);
      assert.equal(css.status, 200);
      assert.match(await css.text(), /\.uplot/);
    } finally {
      assert.equal(await server.stop(), 0);
    }
    assert.ok((await Deno.stat(`${root}/static/dist/app.js`)).isFile);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
