/**
 * The Prometheus text exposition format 0.0.4, and a small registry of providers that
 * `/metrics` renders. A provider is a function returning metric families, read on every
 * scrape, so a part of the collector adds its own metrics (remote write adds one family set
 * per remote, say) by registering a provider: nothing here changes.
 *
 * @module
 */
import { escapeLabelValue } from "./names.ts";

/** The Content-Type of the text format. */
export const PROM_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Metric types this collector exposes. */
export type PromType = "counter" | "gauge" | "untyped";

/** One sample of a family: its labels (beyond the name), value and optional time. */
export interface PromSample {
  labels?: ReadonlyArray<readonly [string, string]>;
  value: number;
  /** Milliseconds since the epoch; absent: the scraper stamps its own time. */
  timestampMs?: number;
}

/** A metric family: one name, its HELP and TYPE, and its samples. */
export interface MetricFamily {
  /** `[a-zA-Z_:][a-zA-Z0-9_:]*`; counters end in `_total`. */
  name: string;
  help: string;
  type: PromType;
  samples: PromSample[];
}

/** Read on every scrape: the families some part of the collector exposes now. */
export type FamilyProvider = () => MetricFamily[];

/** The providers behind `/metrics`. */
export class PromRegistry {
  #providers: FamilyProvider[] = [];

  /** Add a provider; returns a function that removes it. */
  register(provider: FamilyProvider): () => void {
    this.#providers.push(provider);
    return () => {
      this.#providers = this.#providers.filter((p) => p !== provider);
    };
  }

  /** Every provider's families, in registration order. */
  collect(): MetricFamily[] {
    return this.#providers.flatMap((p) => p());
  }

  /** The exposition of everything registered. */
  render(): string {
    return renderFamilies(this.collect());
  }
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * Families in the text format. A family whose name is not a valid metric name, or that
 * repeats an earlier family's name, is left out (one family per name is the format's rule);
 * so is a sample that repeats an earlier sample's labels in its family.
 */
export function renderFamilies(families: Iterable<MetricFamily>): string {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const f of families) {
    if (!familyHeader(f, seen, out)) continue;
    sampleLines(f, new Set<string>(), 0, f.samples.length, out);
  }
  return out.length === 0 ? "" : out.join("\n") + "\n";
}

/**
 * A family's `# HELP` and `# TYPE` lines, pushed to `out`; false (nothing pushed) for an
 * invalid name or one in `seen` (the format allows one group per name), which it adds to.
 */
export function familyHeader(f: MetricFamily, seen: Set<string>, out: string[]): boolean {
  if (!NAME_RE.test(f.name) || seen.has(f.name)) return false;
  seen.add(f.name);
  out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
  return true;
}

/**
 * The lines of samples `[from, to)` of a family, pushed to `out`; a label set already in
 * `series` (the family's, shared by the calls for its parts) is left out.
 */
export function sampleLines(
  f: MetricFamily,
  series: Set<string>,
  from: number,
  to: number,
  out: string[],
): void {
  for (let i = from; i < to; i++) {
    const s = f.samples[i];
    const labels = s.labels && s.labels.length > 0
      ? `{${s.labels.map(([k, v]) => `${k}="${escape(v)}"`).join(",")}}`
      : "";
    if (series.has(labels)) continue;
    series.add(labels);
    const ts = s.timestampMs === undefined ? "" : ` ${Math.round(s.timestampMs)}`;
    out.push(`${f.name}${labels} ${formatValue(s.value)}${ts}`);
  }
}

/** A sample value as the format spells it (`NaN`, `+Inf`, `-Inf`, else a Go-parsable float). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

const NEEDS_ESCAPE = /[\\"\n]/;

/** Most values need no escaping: test once rather than replace three times (`/federate`). */
function escape(value: string): string {
  return NEEDS_ESCAPE.test(value) ? escapeLabelValue(value) : value;
}

/** HELP text escapes backslash and newline only. */
function escapeHelp(help: string): string {
  return help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}
