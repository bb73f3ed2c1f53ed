/**
 * The built-in alert rules (used when no `--rules` file is given; docs/alerts.md), in a
 * module of their own without the YAML parser: the page judges its "leaking" badge by the
 * default leak rule (static/alerts_model.ts), as the collector would.
 *
 * @module
 */
import type { LeakRule, Rule } from "./rules.ts";

/** The default warm-up allowance of a leak rule: 16 MiB. */
export const DEFAULT_WARMUP_BYTES = 16 * 2 ** 20;

/** The built-in `memory-leak` rule. */
export const DEFAULT_LEAK_RULE: Readonly<LeakRule> = Object.freeze({
  name: "memory-leak",
  kind: "leak",
  growthMbPerHour: 50,
  withinMs: 6 * 3_600_000,
  minConfidence: 0.95,
  warmupBytes: DEFAULT_WARMUP_BYTES,
  forMs: 10_000,
  keepFiringForMs: 2 * 60_000,
  origin: "default",
});

/** Built-in rules, used when no `--rules` file is given (see docs/alerts.md). */
export const DEFAULT_RULES: readonly Rule[] = Object.freeze(
  [
    DEFAULT_LEAK_RULE,
    {
      name: "instance-silent",
      kind: "absence",
      forMs: 30_000,
      keepFiringForMs: 0,
      origin: "default",
    },
    {
      name: "cpu-high",
      kind: "threshold",
      metric: "cpu.percent",
      op: ">",
      value: 90,
      forMs: 5 * 60_000,
      keepFiringForMs: 0,
      origin: "default",
    },
  ] satisfies readonly Rule[],
);
