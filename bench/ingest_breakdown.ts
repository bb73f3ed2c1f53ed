/**
 * In-process cost of ingest per frame, by stage (no sockets): `deno run -A bench/ingest_breakdown.ts [batch|single]`.
 * A profiling aid for the collector benchmark; not part of `deno task bench`.
 *
 * @module
 */
import { makeFrames } from "./frames.ts";
import { decode } from "../lib/protocol.ts";
import { createIngest } from "../lib/collector/ingest.ts";
import { Instances } from "../lib/collector/instances.ts";
import { RecentStore } from "../lib/store/recent.ts";
import { CollectorStats } from "../lib/collector/stats.ts";
import { Hub } from "../lib/live/hub.ts";
const form = (Deno.args[0] ?? "batch") as "batch" | "single";
const N = form === "batch" ? 3000 : 200000;
const { frames, samples } = makeFrames(Array.from({ length: 10 }, (_, i) => "i" + i), form, 100, N);
const time = (label: string, f: () => void) => {
  const t = performance.now();
  f();
  const ms = performance.now() - t;
  console.log(
    label.padEnd(30),
    (ms / N * 1000).toFixed(2),
    "us/frame",
    ((samples / ms) * 1000 / 1e3).toFixed(0),
    "k samples/s",
  );
};
time("utf8+JSON.parse", () => {
  const d = new TextDecoder();
  for (const f of frames) JSON.parse(d.decode(f));
});
time("decode()", () => {
  for (const f of frames) decode(f);
});
for (const clients of [0, 1]) {
  const now = Date.now;
  const instances = new Instances();
  const recent = new RecentStore();
  const stats = new CollectorStats({ now, log: () => {} });
  const hub = new Hub({
    now,
    hello: () => ({ type: "hello", now: 0, windowMs: 0, instances: [], series: {} }),
  });
  let bytes = 0;
  if (clients) {
    hub.add({
      readyState: 1,
      bufferedAmount: 0,
      send(d: string) {
        bytes += d.length;
      },
      close() {},
    }, null);
  }
  const ingest = createIngest({ instances, recent, hub, stats, now });
  time(`ingest (hub clients=${clients})`, () => {
    for (const f of frames) ingest(f);
  });
}
