/**
 * The leak detector's cost per estimate, over a full 30-minute window of 1-second RSS
 * readings (the window the collector keeps per instance): `deno bench bench/leak_bench.ts`.
 * The alert engine refreshes estimates every few seconds within a 20 ms budget, so an
 * estimate must stay at a few ms at most; a time like this belongs here, not in a test.
 *
 * @module
 */
import { LeakDetector, MB } from "../lib/alerts/leak.ts";

const HOUR_S = 3600;
const detector = new LeakDetector({ windowMs: 30 * 60_000 });
for (let s = 0; s < 4 * HOUR_S; s++) {
  detector.add(s * 1000, 120 * MB + s * 1000 + (s % 7) * 3 * MB); // growth under GC sawtooth
}

Deno.bench("leak estimate over a full 30-minute window", () => {
  detector.estimate(4 * HOUR_S * 1000);
});
