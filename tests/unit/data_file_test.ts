/** The history database deleted or replaced under a running collector is noticed. */
import assert from "node:assert/strict";
import { watchDataFile } from "../../lib/collector/data_file.ts";

Deno.test("watchDataFile: null while the file is the one opened; deleted or replaced is said", async () => {
  const dir = await Deno.makeTempDir({ prefix: "zeroapm-datafile-" });
  const path = `${dir}/zeroapm.db`;
  try {
    await Deno.writeTextFile(path, "x");
    using _open = await Deno.open(path); // as SQLite holds it: its inode stays taken
    const check = watchDataFile(path);
    await Deno.writeTextFile(path, "written in place"); // same file: fine
    assert.equal(check(), null);
    await Deno.remove(path);
    assert.match(check() ?? "", /zeroapm\.db was deleted while the collector runs.*restart/);
    await Deno.writeTextFile(`${dir}/copy`, "a restored backup");
    await Deno.rename(`${dir}/copy`, path); // another file under the same name
    assert.match(check() ?? "", /zeroapm\.db was replaced while the collector runs/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
