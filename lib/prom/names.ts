/**
 * The Prometheus naming rule, in one place: what `/federate`, remote write and remote read
 * all call a zeroapm series. Dots become underscores (`cpu.percent` -> `cpu_percent`), the
 * service is `job`, the instance is `instance`, and the series' own labels follow. A label
 * of the metric's own named `job` or `instance` is kept as `exported_job` /
 * `exported_instance`, as Prometheus does when it federates.
 *
 * @module
 */
import { parseKey } from "../metric_key.ts";

/** A Prometheus series: metric name and labels (without `__name__`), labels sorted. */
/**
 * The label that carries an instance's dashboard colour on its `cpu_percent` series in remote
 * write, so a collector that reads the cluster back (`--remote-read`) draws another
 * collector's instance in the colour it had there, not one from a hash of its id.
 */
export const COLOR_LABEL = "zeroapm_color";

export interface PromSeries {
  name: string;
  labels: Array<[string, string]>;
}

/** `cpu.percent` -> `cpu_percent`. Our names are `[a-z][a-z0-9_.]*`, so this is enough. */
export function promName(metric: string): string {
  return metric.replaceAll(".", "_");
}

/**
 * The Prometheus series for one of our series keys on one instance, or null when the key
 * is not a valid key (nothing from the store should be, but the rule never throws).
 */
export function promSeries(
  service: string,
  instance: string,
  seriesKey: string,
): PromSeries | null {
  const key = parseKey(seriesKey);
  if (!key) return null;
  const labels: Array<[string, string]> = [["instance", instance], ["job", service]];
  for (const [k, v] of key.labels) {
    labels.push([k === "job" || k === "instance" ? `exported_${k}` : k, v]);
  }
  labels.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { name: promName(key.name), labels };
}

/**
 * Back from a Prometheus name to ours, given the names we know (`cpu_percent` is
 * ambiguous on its own: `cpu.percent` or `cpu_percent`). Null when none matches.
 */
export function ourName(prom: string, known: Iterable<string>): string | null {
  for (const name of known) if (promName(name) === prom) return name;
  return null;
}

/** Escape a label value for the text exposition format (`\`, `"` and newline). */
export function escapeLabelValue(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** `name{a="1",b="2"}` in the text exposition format. */
export function formatPromSeries(s: PromSeries): string {
  if (s.labels.length === 0) return s.name;
  return `${s.name}{${s.labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`;
}
