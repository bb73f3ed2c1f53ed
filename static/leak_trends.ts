/// <reference lib="dom" />
/**
 * Leak estimates from `alerts` frames turned into what the page draws: a badge per instance
 * in the table, and the trend line of each pending or firing leak on both memory charts.
 *
 * @module
 */
import type { AlertsFrame } from "../lib/live/messages.ts";
import type { ClockSync } from "./clock.ts";
import type { PageState } from "./page_state.ts";
import { leakBadges, type TrendLine, trendLine } from "./alerts_model.ts";
import type { Alert } from "../lib/live/messages.ts";

/** What the trends are drawn on. */
export interface LeakTrendsDeps {
  state: PageState;
  clock: ClockSync;
  /** The live memory chart's trend lines. */
  setTrends(trends: Map<string, TrendLine>): void;
  /** The set of instances with a trend changed: the history charts redraw. */
  onSetChanged(): void;
}

/** The leak side of the page: badges and trend lines. */
export class LeakTrends {
  /** Ids whose trend line is drawn, as one string (to see when the set changes). */
  #drawn = "";

  constructor(private readonly deps: LeakTrendsDeps) {}

  /** A new `alerts` frame: its active alerts and leak estimates replace the previous ones. */
  update(f: AlertsFrame, active: readonly Alert[]): void {
    const { state } = this.deps;
    state.leaks = new Map();
    if (f.leaks && typeof f.leaks === "object") {
      for (const [id, e] of Object.entries(f.leaks)) {
        if (e && typeof e === "object") state.leaks.set(id, e);
      }
    }
    state.badges = leakBadges(active, Object.fromEntries(state.leaks));
    this.apply();
  }

  /** The trend line of an alerting leak, extended to now; null when the instance has none. */
  trendOf(id: string): TrendLine | null {
    const { state, clock } = this.deps;
    const b = state.badges.get(id);
    const e = state.leaks.get(id);
    if (!e || !b || b.level === "trend") return null;
    return trendLine(e, clock.now());
  }

  /** Hand the current trend lines to the live memory chart (and history, when their set changed). */
  apply(): void {
    const trends = new Map<string, TrendLine>();
    for (const id of this.deps.state.badges.keys()) {
      const t = this.trendOf(id);
      if (t) trends.set(id, t);
    }
    this.deps.setTrends(trends);
    const drawn = [...trends.keys()].sort().join("\n");
    if (drawn !== this.#drawn) {
      this.#drawn = drawn;
      this.deps.onSetChanged();
    }
  }
}
