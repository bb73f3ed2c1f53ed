/// <reference lib="dom" />
/**
 * The history view built from the page's elements: three uPlot charts (CPU, memory, the
 * picked metric) whose drag-to-zoom and reset go to the view, and the range controls; and
 * the instances it asks history for, from the page's store.
 *
 * @module
 */
import { HistoryChart, type HistoryKind } from "./history_chart.ts";
import { type HistoryInstance, HistoryView } from "./history.ts";
import type { RangeKey } from "./range.ts";
import type { PageState } from "./page_state.ts";
import type { Theme } from "./theme.ts";
import { byId } from "./dom.ts";
import { instanceName } from "./instance_label.ts";
import { MIB } from "./format.ts";
import { unitOf } from "./units.ts";
import type { Store } from "./store.ts";
import type { TrendLine } from "./alerts_model.ts";
import { memLimitOf } from "./live_view.ts";

/** What the history view needs from the page. */
export interface HistorySetup {
  theme: Theme;
  state: PageState;
  now(): number;
  instances(): HistoryInstance[];
  onRange(): void;
  range: RangeKey;
  abs: { from: number; to: number } | null;
}

/** Build the history view on the page's `#hist-*` elements. */
export function createHistoryView(setup: HistorySetup): HistoryView {
  const chart = (id: string, kind: HistoryKind) =>
    new HistoryChart(
      byId(id),
      byId(`${id}-legend`),
      kind,
      setup.theme,
      (a, b) => view.zoom(a, b),
      () => view.reset(),
    );
  const view: HistoryView = new HistoryView(
    {
      cpu: chart("hist-cpu", {
        scale: (v) => v,
        unit: "%",
        floor: 5,
        marks: [100],
        canvasId: "hist-cpu-canvas",
      }),
      mem: chart("hist-mem", {
        scale: (v) => v / MIB,
        unit: "MiB",
        floor: 1,
        canvasId: "hist-mem-canvas",
      }),
      custom: chart("hist-custom", {
        ...unitOf(setup.state.metric ?? ""),
        canvasId: "hist-custom-canvas",
      }),
      metric: () => setup.state.metric,
      els: {
        presets: byId("range"),
        reset: byId<HTMLButtonElement>("history-reset"),
        range: byId("history-range"),
        tier: byId("history-tier"),
        loading: byId("history-loading"),
        error: byId("history-error"),
        section: byId("history-view"),
      },
      now: setup.now,
      instances: setup.instances,
      onRange: setup.onRange,
    },
    setup.range,
    setup.abs,
  );
  return view;
}

/**
 * Every known instance of the focused service (of all services without a focus) in table
 * order, with its hidden state, for the history view: it asks history for these only.
 */
export function historyInstances(
  store: Store,
  state: PageState,
  trendOf: (id: string) => TrendLine | null,
): HistoryInstance[] {
  const out: Array<HistoryInstance & { key: string }> = [];
  for (const [id, e] of store.entries) {
    if (state.focus !== null && e.view.service !== state.focus) continue;
    out.push({
      key: `${e.view.service}\u0000${e.view.instance}\u0000${id}`,
      id,
      name: instanceName(e.view.service, e.view.instance),
      color: e.color,
      intervalMs: e.view.intervalMs,
      hidden: state.isHidden(id, e.view.service),
      memLimit: memLimitOf(e),
      memTrend: trendOf(id),
    });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}
