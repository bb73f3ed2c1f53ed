/**
 * How to draw a metric the dashboard knows nothing else about, read from its name (units are
 * part of metric names): `*_bytes` in MiB, `*_ms*` in ms, `*.per_s` per second, `*percent*`
 * in %, `*_cores` in cores, anything else as a plain number. Also how a series key is split
 * for the metric picker: base name, and its labels as text. Pure functions, unit-tested.
 *
 * @module
 */
import { parseKey } from "../lib/metric_key.ts";

const MIB = 1024 * 1024;

/** Scale, unit and smallest axis top for one metric. */
export interface MetricUnit {
  /** Wire value -> plotted value. */
  scale: (v: number) => number;
  unit: string;
  floor: number;
}

/** The unit a metric is drawn in, from its name. */
export function unitOf(key: string): MetricUnit {
  const name = parseKey(key)?.name ?? key;
  if (/_bytes(\.|$)/.test(name) && !name.endsWith(".per_s")) {
    return { scale: (v) => v / MIB, unit: "MiB", floor: 1 };
  }
  if (name.endsWith(".per_s")) return { scale: (v) => v, unit: "/s", floor: 1 };
  if (/_ms(\.|$)/.test(name)) return { scale: (v) => v, unit: "ms", floor: 1 };
  if (/percent/.test(name)) return { scale: (v) => v, unit: "%", floor: 5 };
  if (/_cores(\.|$)/.test(name)) return { scale: (v) => v, unit: "cores", floor: 1 };
  return { scale: (v) => v, unit: "", floor: 1 };
}

/** A series key as the picker shows it: its base name and its labels as `k=v, k=v`. */
export function splitKey(key: string): { name: string; labels: string } {
  const k = parseKey(key);
  if (!k) return { name: key, labels: "" };
  return { name: k.name, labels: k.labels.map(([n, v]) => `${n}=${v}`).join(", ") };
}
