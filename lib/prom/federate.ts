/**
 * `/federate`: the latest value of every live instance's series, for a Prometheus that
 * scrapes the collector. Named by the one naming rule (lib/prom/names.ts): dots become
 * underscores, `job` is the service, `instance` the instance, the series' own labels follow.
 * A name ending in `_total` is the agent's cumulative counter and is typed `counter`; every
 * other series (derived rates and percentiles included) is a `gauge`. Each sample carries
 * the time it was placed at, so a value that has not changed since is not taken as new.
 *
 * @module
 */
import type { InstanceView } from "../live/messages.ts";
import { familyHeader, type MetricFamily, sampleLines } from "./exposition.ts";
import { promSeries } from "./names.ts";

/** The time of a series' newest point on the collector's clock, or null when unknown. */
export type LastTime = (id: string, seriesKey: string) => number | null;

/** One family per Prometheus name, over the live instances in `views`. */
export function federateFamilies(
  views: Iterable<InstanceView>,
  lastTime: LastTime,
): MetricFamily[] {
  const families = new Map<string, MetricFamily>();
  for (const v of views) addInstance(families, v, lastTime);
  return sortedFamilies(families);
}

/** How {@link federateText} shares the thread. */
export interface SliceOptions {
  /** Work at most this long before letting other tasks run, ms (default 5). */
  sliceMs?: number;
  /** Let other tasks run (default: a macrotask, `setTimeout(0)`). */
  pause?: () => Promise<void>;
  /** Monotonic clock, ms (default `performance.now`). */
  clock?: () => number;
}

/**
 * The `/federate` exposition in parts (to be sent one after another), built in slices of
 * about 5 ms with the event loop let run between them: 10 000 instances x 21 series take
 * ~0.6 s to name and render, and in one piece they held ingest, the live page and every
 * other request for all of it (bench/federate.ts).
 */
export async function federateText(
  views: readonly InstanceView[],
  lastTime: LastTime,
  opts: SliceOptions = {},
): Promise<string[]> {
  const sliceMs = opts.sliceMs ?? 5;
  const pause = opts.pause ?? (() => new Promise<void>((r) => setTimeout(r, 0)));
  const clock = opts.clock ?? (() => performance.now());
  let sliceStart = clock();
  const breathe = async () => {
    if (clock() - sliceStart < sliceMs) return;
    await pause();
    sliceStart = clock();
  };
  const families = new Map<string, MetricFamily>();
  for (const v of views) {
    addInstance(families, v, lastTime);
    await breathe();
  }
  // A family can hold a sample per instance: rendered in parts, with a pause between. The
  // text stays in parts too: joined, 17 MB took one more long stretch of the thread.
  const parts: string[] = [];
  const names = new Set<string>();
  for (const f of sortedFamilies(families)) {
    const lines: string[] = [];
    if (!familyHeader(f, names, lines)) continue;
    const series = new Set<string>();
    for (let i = 0; i < f.samples.length; i += SAMPLES_PER_PART) {
      sampleLines(f, series, i, Math.min(f.samples.length, i + SAMPLES_PER_PART), lines);
      parts.push(lines.join("\n") + "\n");
      lines.length = 0;
      await breathe();
    }
    if (lines.length > 0) parts.push(lines.join("\n") + "\n"); // a family with no samples
  }
  return parts;
}

/** Samples rendered between two looks at the clock (~0.5 ms of work). */
const SAMPLES_PER_PART = 256;

function sortedFamilies(families: Map<string, MetricFamily>): MetricFamily[] {
  return [...families.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Add a live instance's series to their families (named by the shared rule). */
function addInstance(
  families: Map<string, MetricFamily>,
  v: InstanceView,
  lastTime: LastTime,
): void {
  if (v.status !== "live") return;
  for (const key in v.latest) {
    const s = promSeries(v.service, v.instance, key);
    if (!s) continue;
    let f = families.get(s.name);
    if (!f) {
      const ours = key.includes("{") ? key.slice(0, key.indexOf("{")) : key;
      families.set(
        s.name,
        f = {
          name: s.name,
          help: `zeroapm series ${ours}, latest value per live instance`,
          type: s.name.endsWith("_total") ? "counter" : "gauge",
          samples: [],
        },
      );
    }
    const t = lastTime(v.id, key) ?? v.lastSeen;
    f.samples.push({ labels: s.labels, value: v.latest[key], timestampMs: t });
  }
}
