import assert from "node:assert/strict";
import process from "node:process";
import { openSelfRss, pageSizeFrom, residentPages } from "../../lib/proc/self_rss.ts";
import { probeSelfRss } from "../support/self_rss.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("residentPages reads the second field of a statm line", () => {
  const line = bytes("1130338 11078 7680 26497 0 140187 0\n");
  assert.equal(residentPages(line, line.length), 11078);
  // Only the bytes read count: a longer buffer holds old bytes after them.
  const buf = new Uint8Array(64).fill(0x39);
  buf.set(bytes("5 42 1"));
  assert.equal(residentPages(buf, 6), 42);
  for (const bad of ["", "1130338", "1130338 ", "1130338 x7 1", "\n"]) {
    const b = bytes(bad);
    assert.ok(Number.isNaN(residentPages(b, b.length)), JSON.stringify(bad));
  }
});

Deno.test("pageSizeFrom rounds the ratio of RSS to pages to a power of two", () => {
  assert.equal(pageSizeFrom(4096 * 1000, 1000), 4096);
  // RSS read a moment apart from statm: a few pages more or less.
  assert.equal(pageSizeFrom(4096 * 1003, 1000), 4096);
  assert.equal(pageSizeFrom(65536 * 500 - 3 * 65536, 500), 65536);
  assert.ok(Number.isNaN(pageSizeFrom(0, 10)));
  assert.ok(Number.isNaN(pageSizeFrom(4096, 0)));
  assert.ok(Number.isNaN(pageSizeFrom(NaN, 10)));
});

Deno.test("openSelfRss reads a process's RSS and follows it as memory is touched", async () => {
  const p = await probeSelfRss(); // in a process of its own: parallel tests move this one's RSS
  const near = Math.abs(p.statm - p.memoryUsage) < p.memoryUsage * 0.1;
  assert.ok(near, `statm ${p.statm} vs memoryUsage ${p.memoryUsage}`);
  const grew = p.afterBlock - p.statm;
  assert.ok(grew > 48 * 2 ** 20, `RSS grew by ${grew / 2 ** 20} MiB`);
  assert.equal(p.touched, 1);
});

Deno.test("openSelfRss reads its file again from the start on every read", () => {
  const path = Deno.makeTempFileSync();
  try {
    // A statm-like file whose page count makes this process's RSS come out at 4 KiB pages.
    const pages = Math.round(process.memoryUsage().rss / 4096);
    Deno.writeTextFileSync(path, `999999 ${pages} 1 1 0 1 0\n`);
    const rss = openSelfRss(path);
    try {
      assert.equal(rss.read(), pages * 4096);
      Deno.writeTextFileSync(path, `999999 77 1 1 0 1 0\n`);
      assert.equal(rss.read(), 77 * 4096);
      Deno.writeTextFileSync(path, "garbage\n");
      assert.throws(() => rss.read(), /no resident page count/);
    } finally {
      rss.close();
    }
  } finally {
    Deno.removeSync(path);
  }
});

Deno.test("openSelfRss refuses a file whose page size does not come out", () => {
  const path = Deno.makeTempFileSync();
  try {
    Deno.writeTextFileSync(path, "1 1 1\n"); // one page: a page as large as the whole RSS
    assert.throws(() => openSelfRss(path), /page size/);
    assert.throws(() => openSelfRss(path + ".missing"));
  } finally {
    Deno.removeSync(path);
  }
});
