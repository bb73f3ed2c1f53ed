import assert from "node:assert/strict";
import { ensurePage, PAGE_FILES } from "../../lib/http/page_build.ts";

/** A static/ directory in a temp root with the given built files present. */
async function staticDir(present: readonly string[]): Promise<URL> {
  const root = await Deno.makeTempDir({ prefix: "zeroapm-static-" });
  await Deno.mkdir(`${root}/static/dist`, { recursive: true });
  for (const f of present) await Deno.writeTextFile(`${root}/static/${f}`, "x");
  return new URL(`file://${root}/static/`);
}

Deno.test("ensurePage leaves a built page alone and does not build", async () => {
  const dir = await staticDir(PAGE_FILES);
  let builds = 0;
  assert.equal(await ensurePage(dir, () => Promise.resolve(void builds++)), null);
  assert.equal(builds, 0);
  await Deno.remove(new URL("../", dir), { recursive: true });
});

Deno.test("ensurePage builds in the checkout's root when a page file is missing, and says how long", async () => {
  const dir = await staticDir(["dist/app.js"]); // the css is missing
  const roots: string[] = [];
  let t = 0;
  const result = await ensurePage(dir, (root) => {
    roots.push(root.href);
    t += 1_250;
    return Promise.resolve();
  }, () => t);
  assert.deepEqual(result, {
    built: true,
    line: "dashboard built in 1.3 s (static/dist/ was missing)",
  });
  assert.deepEqual(roots, [new URL("../", dir).href]);
  await Deno.remove(new URL("../", dir), { recursive: true });
});

Deno.test("ensurePage says what is missing, why the build failed and what to run, without throwing", async () => {
  const dir = await staticDir([]);
  const result = await ensurePage(dir, () => Promise.reject(new Error("Requires run access")));
  assert.deepEqual(result, {
    built: false,
    line: "warning: the dashboard is not built (static/dist/app.js is missing) and building it " +
      "failed: Requires run access. Run `deno task build`; until then the page does not load",
  });
  await Deno.remove(new URL("../", dir), { recursive: true });
});
