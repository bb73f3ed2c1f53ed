/**
 * Test support: replay a recorded RSS trace (tests/fixtures/leak/*.json, written by
 * tests/fixtures/leak/record.ts) through a real alert engine with the default leak rule, one
 * evaluation per second of trace, as the collector's sweep does.
 *
 * @module
 */
import { createAlertEngine } from "../../lib/alerts/engine.ts";
import { DEFAULT_RULES } from "../../lib/alerts/rules.ts";
import type { Alert } from "../../lib/alerts/types.ts";
import { instanceView } from "./views.ts";

/** A recorded trace: which app, and `[seconds since its first sample, bytes]` points. */
export interface Trace {
  app: string;
  recorded?: string;
  points: Array<[number, number]>;
}

/** Read `tests/fixtures/leak/<name>.json`. */
export async function readTrace(name: string): Promise<Trace> {
  const url = new URL(`../fixtures/leak/${name}.json`, import.meta.url);
  return JSON.parse(await Deno.readTextFile(url));
}

/** What a replay saw: first pending, firing and resolved second (null: never), and the end. */
export interface Replay {
  pending: number | null;
  fired: number | null;
  resolved: number | null;
  /** Every state change, as the engine reported it. */
  changes: Array<{ s: number; alert: Alert }>;
  engine: ReturnType<typeof createAlertEngine>;
  view: ReturnType<typeof instanceView>;
}

const T0 = 1_700_000_000_000;

/** Replay `trace` for `seconds` of trace through the default `memory-leak` rule. */
export function replayTrace(trace: Trace, seconds: number): Replay {
  let now = T0;
  const changes: Replay["changes"] = [];
  let s = 0;
  const engine = createAlertEngine({
    rules: DEFAULT_RULES.filter((r) => r.kind === "leak"),
    now: () => now,
    onChange: (alert) => changes.push({ s, alert }),
  });
  const view = instanceView({ instance: "replay" }, T0);
  let i = 0;
  for (; s <= seconds; s++) {
    now = T0 + s * 1000;
    const batch: Array<[number, Record<string, number>]> = [];
    for (; i < trace.points.length && trace.points[i][0] <= s; i++) {
      batch.push([T0 + trace.points[i][0] * 1000, { "mem.rss_bytes": trace.points[i][1] }]);
    }
    if (batch.length > 0) {
      view.lastSeen = batch[batch.length - 1][0];
      engine.observe(view, batch);
    }
    engine.evaluate(now, [view]);
  }
  const first = (state: string) => changes.find((c) => c.alert.state === state)?.s ?? null;
  return {
    pending: first("pending"),
    fired: first("firing"),
    resolved: first("resolved"),
    changes,
    engine,
    view,
  };
}
