/**
 * The leak detector's cost per estimate, over a full 30-minute window of 1-second RSS
 * readings (the window the collector keeps per instance). The alert engine refreshes
 * estimates every few seconds within a 20 ms budget, so an estimate must stay at a few ms at
 * most; a time like this belongs here, not in a test. `deno task bench` runs
 * {@link measureLeakEstimate} and writes its section; `deno run bench/leak_bench.ts` prints it.
 *
 * @module
 */
import { LeakDetector, MB } from "../lib/alerts/leak.ts";
import { quantile, summarize } from "./stats.ts";

const HOUR_S = 3600;

/** A detector holding 4 hours of growth under a GC sawtooth (its window keeps 30 minutes). */
function fullDetector(): LeakDetector {
  const detector = new LeakDetector({ windowMs: 30 * 60_000 });
  for (let s = 0; s < 4 * HOUR_S; s++) {
    detector.add(s * 1000, 120 * MB + s * 1000 + (s % 7) * 3 * MB);
  }
  return detector;
}

/** Time `runs` estimates, ms each: the summary (median, p99, min, max) and the section text. */
export function measureLeakEstimate(runs = 200) {
  const detector = fullDetector();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    detector.estimate(4 * HOUR_S * 1000);
    times.push(performance.now() - t0);
  }
  const s = summarize(times);
  const p99 = quantile(times, 0.99);
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  const section = [
    "## Leak detector",
    "",
    `One estimate over a full 30-minute window of 1-second RSS readings (the most the collector`,
    `keeps per instance), ${runs} runs in this process (bench/leak_bench.ts): median ${
      ms(s.median)
    },`,
    `p99 ${ms(p99)}, min ${ms(s.min)}, max ${ms(s.max)}. The alert engine refreshes`,
    "estimates every few seconds within a 20 ms budget.",
  ].join("\n");
  return { median: s.median, p99, section };
}

if (import.meta.main) console.log(measureLeakEstimate().section);
