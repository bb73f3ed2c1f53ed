/**
 * Test support: run tests/fixtures/self_rss_probe.ts in a process of its own and return what
 * it measured. RSS is per process, and tests run in parallel in the test process.
 *
 * @module
 */

/** The probe's figures, in bytes. */
export interface SelfRssProbe {
  statm: number;
  memoryUsage: number;
  afterBlock: number;
  touched: number;
  readerRss: number;
  readerHeapTotal: number | null;
  readerHeapUsed: number;
  readersMemoryUsage: number;
}

/** Run the probe once. */
export async function probeSelfRss(): Promise<SelfRssProbe> {
  const probe = new URL("../fixtures/self_rss_probe.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", probe],
    stdin: "null",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`self_rss_probe exited with ${out.code}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}
