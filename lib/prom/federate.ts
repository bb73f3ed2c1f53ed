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
import type { MetricFamily } from "./exposition.ts";
import { promSeries } from "./names.ts";

/** The time of a series' newest point on the collector's clock, or null when unknown. */
export type LastTime = (id: string, seriesKey: string) => number | null;

/** One family per Prometheus name, over the live instances in `views`. */
export function federateFamilies(
  views: Iterable<InstanceView>,
  lastTime: LastTime,
): MetricFamily[] {
  const families = new Map<string, MetricFamily>();
  for (const v of views) {
    if (v.status !== "live") continue;
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
  return [...families.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
