/**
 * What the benches that measure VictoriaMetrics share (bench/remote_write.ts, bench/peers.ts):
 * `du` of a directory, and counting the samples VictoriaMetrics holds after a flush. Starting
 * and stopping it is tests/support/tsdb.ts `startVictoria`.
 *
 * @module
 */
import type { Tsdb } from "../tests/support/tsdb.ts";

/** Bytes under `path` as `du -sb` counts them. */
export async function du(path: string): Promise<number> {
  const out = await new Deno.Command("du", { args: ["-sb", path] }).output();
  if (!out.success) throw new Error(`du ${path} failed`);
  return Number(new TextDecoder().decode(out.stdout).split("\t")[0]);
}

/**
 * Samples of `selector` VictoriaMetrics holds in the 30 days before `atSec` (flushed first, so
 * what was just written counts).
 */
export async function countSamples(db: Tsdb, selector: string, atSec: number): Promise<number> {
  await (await fetch(`${db.base}/internal/force_flush`)).body?.cancel();
  const q = new URLSearchParams({
    query: `sum(count_over_time(${selector}[30d]))`,
    time: `${atSec}`,
  });
  const body = await (await fetch(`${db.base}/api/v1/query?${q}`)).json();
  return Number(body.data?.result?.[0]?.value?.[1] ?? 0);
}
