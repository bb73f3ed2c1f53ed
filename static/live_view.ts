/// <reference lib="dom" />
/**
 * The live view's controller: the three strip charts (CPU, memory against container limits,
 * the picked custom metric), their legends and the instance table, kept in step with the
 * page's store and state. It draws; it never fetches or parses frames (app.ts and
 * frames.ts do), except the picked metric's backfill from `/api/series`.
 *
 * @module
 */
import { METRICS } from "../lib/protocol.ts";
import { isRetired } from "../lib/model/instance.ts";
import type { ClockSync } from "./clock.ts";
import type { Entry, Store } from "./store.ts";
import { LiveChart } from "./charts.ts";
import type { Theme } from "./theme.ts";
import { InstanceTable, limitShare, MEM_LIMIT } from "./table.ts";
import { Legend } from "./legend.ts";
import { byId, setText } from "./dom.ts";
import { endedText, otlpSetting, startCommand } from "./first_run.ts";
import { formatCpu, formatMiB, formatValue, MIB } from "./format.ts";
import { WINDOWS } from "./window_picker.ts";
import { unitOf } from "./units.ts";
import type { HiddenIds, PageState } from "./page_state.ts";
import type { TrendLine } from "./alerts_model.ts";

/** What the live view needs from the page. */
export interface LiveViewDeps {
  store: Store;
  state: PageState;
  clock: ClockSync;
  theme: Theme;
  /** The user clicked an instance's row to hide or show it. */
  toggle(id: string): void;
}

/** The kind of chart a series key gets: its unit, scale and floor. */
export function customKind(key: string | null) {
  const u = unitOf(key ?? "");
  return { metric: key ?? "", scale: u.scale, unit: u.unit, floor: u.floor, sparse: true };
}

/** The container memory limit an instance reports, bytes, or null. */
export function memLimitOf(e: Entry): number | null {
  const v = e.view.latest[MEM_LIMIT];
  return typeof v === "number" && v > 0 ? v : null;
}

/** Charts, legends and the table of the live view. */
export class LiveView {
  readonly cpu: LiveChart;
  readonly mem: LiveChart;
  readonly custom: LiveChart;
  readonly charts: LiveChart[];
  readonly table: InstanceTable;
  readonly legends: Legend[];
  /** Left out of the charts: hidden by the user, or outside the focused service. */
  readonly #hidden: HiddenIds;

  constructor(private readonly deps: LiveViewDeps) {
    const { state, theme, store } = deps;
    const hidden = this.#hidden = {
      has: (id: string) => state.isHidden(id, store.entries.get(id)?.view.service),
    };
    this.cpu = new LiveChart(
      byId<HTMLCanvasElement>("cpu-chart"),
      { metric: METRICS.cpuPercent, scale: (v) => v, unit: "%", floor: 5, marks: [100] },
      state.windowMs,
      theme,
    );
    this.mem = new LiveChart(
      byId<HTMLCanvasElement>("mem-chart"),
      { metric: METRICS.rssBytes, scale: (v) => v / MIB, unit: "MiB", floor: 1 },
      state.windowMs,
      theme,
    );
    this.custom = new LiveChart(
      byId<HTMLCanvasElement>("custom-chart"),
      customKind(state.metric),
      state.windowMs,
      theme,
    );
    this.charts = [this.cpu, this.mem, this.custom];
    this.table = new InstanceTable(
      byId<HTMLTableSectionElement>("instances"),
      byId("empty"),
      {
        isHidden: (id) => hidden.has(id),
        toggle: (id) => deps.toggle(id),
        focus: () => state.focus,
      },
    );
    const custom = this.custom;
    this.legends = [
      new Legend(byId("cpu-legend"), (e: Entry) => formatCpu(e.view.latest[METRICS.cpuPercent])),
      new Legend(byId("mem-legend"), (e: Entry) => {
        const share = limitShare(e.view.latest);
        const mib = formatMiB(e.view.latest[METRICS.rssBytes]);
        return share === null ? mib : `${mib} · ${share} % of limit`;
      }),
      new Legend(
        byId("custom-legend"),
        (e: Entry) => {
          if (state.metric === null) return "–";
          const v = e.view.latest[state.metric];
          return formatValue(
            typeof v === "number" ? custom.kind.scale(v) : undefined,
            custom.kind.unit,
          );
        },
        (e: Entry) => state.metric !== null && state.metric in e.view.latest,
      ),
    ];
    this.applyHidden();
  }

  /**
   * The first-run hint, for where the collector listens (the hello's `agents` and `otlp`): a
   * collector on another port needs the app's `--collector`; an SDK needs the OTLP endpoint.
   */
  setEndpoints(agents: string | null, otlp: string | null): void {
    setText(byId("empty-command"), startCommand(agents));
    const setting = otlpSetting(otlp);
    byId("empty-otlp").hidden = setting === null;
    setText(byId("empty-otlp-setting"), setting ?? "");
  }

  /** A new `hello`: forget every line and row, then draw what the store holds. */
  rebuild(): void {
    const { store } = this.deps;
    this.table.clear();
    for (const l of this.legends) l.clear();
    for (const c of this.charts) c.rebuild(store);
    for (const [id, entry] of store.entries) this.show(id, entry);
  }

  /**
   * An instance appeared or changed: its lines, limit, row and legend entries. A retired one
   * (it ended over 15 minutes ago) has none: the history view still lists it.
   */
  show(id: string, entry: Entry): void {
    const now = this.deps.clock.now();
    if (isRetired(entry.view, now)) return this.#retire(id);
    const metric = this.deps.state.metric;
    for (const c of [this.cpu, this.mem]) c.ensure(id, entry.color);
    if (metric !== null && metric in entry.view.latest) this.custom.ensure(id, entry.color);
    this.mem.setLimit(id, memLimitOf(entry));
    this.table.upsert(id, entry, now);
    for (const l of this.legends) l.upsert(id, entry, now);
  }

  /** New points for one instance, by series key. */
  append(id: string, entry: Entry, added: Map<string, Array<[number, number]>>): void {
    const metric = this.deps.state.metric;
    if (metric !== null && added.has(metric)) this.custom.ensure(id, entry.color);
    for (const c of this.charts) c.append(id, added.get(c.kind.metric) ?? []);
  }

  /** The picked metric changed (state.metric is already the new one). */
  metricChanged(): void {
    const { store, state, clock } = this.deps;
    this.custom.setKind(customKind(state.metric), store);
    this.paintCustom();
    const now = clock.now();
    this.legends[2].clear();
    for (const [id, e] of store.entries) this.legends[2].upsert(id, e, now);
    if (state.metric !== null) void this.backfill(state.metric);
  }

  /** Show the custom chart's unit, or the picker's hint when nothing is picked. */
  paintCustom(): void {
    const metric = this.deps.state.metric;
    const unit = metric === null ? "" : unitOf(metric).unit;
    for (const id of ["custom-unit", "hist-custom-unit"]) {
      const u = byId(id);
      setText(u, unit);
      u.hidden = unit === "";
    }
    byId("custom-plot").hidden = metric === null;
    byId("custom-legend").hidden = metric === null;
    byId("hist-custom-wrap").hidden = metric === null;
    byId("custom-hint").hidden = metric !== null;
  }

  /** Hidden instances or the focused service changed. */
  applyHidden(): void {
    for (const c of this.charts) c.setHidden(this.#hidden);
    for (const l of this.legends) l.setHidden(this.#hidden, this.deps.state.focus);
    this.table.paintHidden();
  }

  /** The time window of the strip charts changed. */
  setWindow(ms: number): void {
    for (const c of this.charts) c.setWindow(ms, this.deps.store);
  }

  /** The leak trend lines drawn on the memory chart. */
  setTrends(trends: Map<string, TrendLine>): void {
    this.mem.setTrends(trends);
  }

  /** Drop the row and chips of a retired instance. */
  #retire(id: string): void {
    this.table.remove(id);
    for (const l of this.legends) l.remove(id);
  }

  /**
   * Time passed: instances retire, ages in the table and legends, limits, lines for the
   * picked metric.
   */
  refresh(): void {
    const { store, state, clock } = this.deps;
    const now = clock.now();
    const shown = new Map<string, Entry>();
    for (const [id, e] of store.entries) {
      if (isRetired(e.view, now)) this.#retire(id);
      else shown.set(id, e);
    }
    this.table.refresh(shown, now);
    for (const l of this.legends) l.refresh(shown, now);
    // Every instance retired: say where they went rather than "none reported yet".
    const allRetired = shown.size === 0 && store.entries.size > 0;
    byId("empty-new").hidden = allRetired;
    byId("empty-ended").hidden = !allRetired;
    if (allRetired) {
      setText(byId("empty-ended"), endedText([...store.entries.values()].map((e) => e.view)));
    }
    for (const [id, e] of store.entries) {
      this.mem.setLimit(id, shown.has(id) ? memLimitOf(e) : null);
    }
    const metric = state.metric;
    if (metric === null) return;
    for (const [id, e] of shown) {
      if (metric in e.view.latest) this.custom.ensure(id, e.color);
    }
  }

  /**
   * The live `/ws` sends only CPU and memory in its hello; a metric picked later fills from
   * `samples` frames, and its last minutes come from the history API at once.
   */
  async backfill(key: string): Promise<void> {
    const { store, state, clock } = this.deps;
    // Every instance, not only those whose `latest` names the key: the hello cuts `latest` to
    // a few names, so an app with many series looked as if it had none. The API answers an
    // instance without the series with no points.
    const ids = [...store.entries.keys()];
    if (ids.length === 0) return;
    const to = Math.round(clock.now());
    const from = to - Math.max(...WINDOWS);
    for (let i = 0; i < ids.length; i += 100) {
      const q = new URLSearchParams();
      for (const id of ids.slice(i, i + 100)) q.append("instance", id);
      q.append("metric", key);
      q.set("from", String(from));
      q.set("to", String(to));
      q.set("points", "900");
      try {
        const res = await fetch(`/api/series?${q}`, { headers: { accept: "application/json" } });
        const body = await res.json() as { series?: Array<{ instance: string; points: unknown }> };
        if (state.metric !== key || !res.ok || !Array.isArray(body.series)) return;
        for (const s of body.series) {
          const entry = store.entries.get(s.instance);
          if (!entry || !Array.isArray(s.points)) continue;
          const have = entry.points.get(key) ?? [];
          const first = have.length ? have[0][0] : Infinity;
          const pts: Array<[number, number]> = [];
          for (const p of s.points as unknown[]) {
            if (
              Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[2]) && p[0] < first
            ) {
              pts.push([p[0], p[2]]);
            }
          }
          if (pts.length) store.append(s.instance, { [key]: pts });
        }
      } catch {
        return; // the live samples still fill the chart
      }
    }
    if (state.metric === key) this.custom.rebuild(store);
  }
}
