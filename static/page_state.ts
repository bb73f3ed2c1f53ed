/// <reference lib="dom" />
/**
 * The page's state in one place: which view is shown, the service the page is narrowed to,
 * which instances are hidden, the picked metric, the live window, the connection and frame
 * counters, and the newest leak estimates and badges. Controllers read it and app.ts changes it; the URL's hash is written from it,
 * so a link opens the same page.
 *
 * @module
 */
import type { LeakEstimate, ServicesFrame } from "../lib/live/messages.ts";
import type { ConnectionState } from "./socket.ts";
import type { LeakBadge } from "./alerts_model.ts";
import { defaultState, formatHash, type UrlState, type View } from "./url_state.ts";
import type { RangeKey } from "./range.ts";

/** Instance ids left out of the charts, as charts, legends and the table ask. */
export interface HiddenIds {
  has(id: string): boolean;
}

/** Everything the page shows that is not in the store of instances and points. */
export class PageState {
  view: View;
  /**
   * The one service whose instances the charts and the table show (its card was clicked), or
   * null for all. Apart from `hidden`: narrowing and widening again keeps what was hidden.
   */
  focus: string | null;
  /** Instance ids hidden from every chart; kept across reconnects (and in the URL). */
  hidden: Set<string>;
  /** The custom metric drawn in the third chart (a series key), or null. */
  metric: string | null;
  /** The live charts' time window, ms. */
  windowMs: number;
  conn: ConnectionState = "connecting";
  /** Frames received, and updates the collector skipped because this tab was slow. */
  frames = 0;
  dropped = 0;
  /** Instances the collector left out of its last hello to bound it (their frames still come). */
  omitted = 0;
  /** Instance id -> leak estimate, from the newest `alerts` frame. */
  leaks = new Map<string, LeakEstimate>();
  /** Instance id -> its leak badge in the table. */
  badges = new Map<string, LeakBadge>();
  /** The newest service summaries from the collector (see lib/collector/services.ts). */
  services: ServicesFrame["services"] = [];

  constructor(initial: UrlState, windowMs: number) {
    this.view = initial.view;
    this.focus = initial.service ?? null;
    this.hidden = new Set(initial.hidden);
    this.metric = initial.metric ?? null;
    this.windowMs = windowMs;
  }

  /** Hide a shown instance, or show a hidden one. */
  toggleHidden(id: string): void {
    if (this.hidden.has(id)) this.hidden.delete(id);
    else this.hidden.add(id);
  }

  /**
   * Whether the charts leave out instance `id` of `service` (undefined: not known yet): hidden
   * by the user, or outside the focused service.
   */
  isHidden(id: string, service: string | undefined): boolean {
    return this.hidden.has(id) || (this.focus !== null && service !== this.focus);
  }

  /** The state as the URL's hash holds it, with the history view's range. */
  toUrl(range: RangeKey, abs: { from: number; to: number } | null): UrlState {
    const state: UrlState = { view: this.view, range, abs, hidden: [...this.hidden] };
    if (this.focus !== null) state.service = this.focus;
    if (this.metric !== null) state.metric = this.metric;
    return state;
  }
}

/** Write `state` to the location's hash without a history entry; a plain page stays plain. */
export function writeHash(state: UrlState): void {
  const hash = formatHash(state);
  if (hash === formatHash(defaultState()) && location.hash === "") return;
  if (hash !== location.hash) {
    history.replaceState(history.state, "", `${location.pathname}${location.search}${hash}`);
  }
}
