/// <reference lib="dom" />
/**
 * The zeroapm dashboard: wires the WebSocket, the collector clock, the page's store, the
 * service panels, the live charts (CPU, memory against container limits, and one picked
 * custom metric), their legends, the instance table and the history view. `hello` rebuilds
 * everything (a late page draws the last minutes at once), `samples` appends, `instance`
 * adds or updates, `services` feeds the panels, `alerts` feeds the alerts panel, the table's
 * leak badges and the leak trend lines on both memory charts. The view (live or history), the history
 * range, the instances hidden from the charts and the picked metric live in the URL's hash,
 * so a link opens the same page.
 *
 * @module
 */
import type {
  AlertsFrame,
  DroppedFrame,
  HelloFrame,
  InstanceFrame,
  LiveFrame,
  SamplesFrame,
  ServicesFrame,
} from "../lib/live/messages.ts";
import { METRICS } from "../lib/protocol.ts";
import { ClockSync } from "./clock.ts";
import { CHARTED, type Entry, Store } from "./store.ts";
import { type LineInfo, LiveChart, startRenderLoop, type TrendInfo } from "./charts.ts";
import { InstanceTable } from "./table.ts";
import { Legend } from "./legend.ts";
import { type ConnectionState, connectLive, liveUrl } from "./socket.ts";
import { byId, setText } from "./dom.ts";
import { formatCpu, formatMiB, formatSkew, formatValue, MIB } from "./format.ts";
import { statusOf } from "./status.ts";
import { readWindow, setupWindowPicker, WINDOWS } from "./window_picker.ts";
import { defaultState, formatHash, parseHash, type UrlState, type View } from "./url_state.ts";
import { HistoryChart } from "./history_chart.ts";
import { type HistoryInfo, type HistoryInstance, HistoryView } from "./history.ts";
import { ServiceHistory } from "./service_history.ts";
import { type PanelInfo, ServicePanels } from "./services.ts";
import { MetricPicker } from "./metric_picker.ts";
import { unitOf } from "./units.ts";
import { limitShare, MEM_LIMIT } from "./table.ts";
import { type AlertsInfo, AlertsPanel } from "./alerts.ts";
import { watchRemotes } from "./remote_status.ts";
import { type LeakBadge, leakBadges, type TrendLine, trendLine } from "./alerts_model.ts";
import type { LeakEstimate } from "../lib/live/messages.ts";

const clock = new ClockSync();
const store = new Store(Math.max(...WINDOWS));
const css = getComputedStyle(document.documentElement);
const theme = {
  grid: css.getPropertyValue("--chart-grid").trim() || "#232a35",
  text: css.getPropertyValue("--muted").trim() || "#8b96a5",
  background: css.getPropertyValue("--card").trim() || "#141922",
  mark: css.getPropertyValue("--chart-mark").trim() || "#5b6676",
  font: css.getPropertyValue("--font-mono").trim() || "monospace",
};
const cssVar = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;

const initial = parseHash(location.hash);
let view: View = initial.view;
/** Instance ids hidden from every chart; kept across reconnects (and in the URL). */
let hidden = new Set<string>(initial.hidden);
/** The custom metric drawn in the third chart (a series key), or null. */
let metric: string | null = initial.metric ?? null;
store.track(metric);

let windowMs = readWindow();
const cpuChart = new LiveChart(
  byId<HTMLCanvasElement>("cpu-chart"),
  {
    metric: METRICS.cpuPercent,
    scale: (v) => v,
    unit: "%",
    floor: 5,
    marks: [100],
  },
  windowMs,
  theme,
);
const memChart = new LiveChart(
  byId<HTMLCanvasElement>("mem-chart"),
  {
    metric: METRICS.rssBytes,
    scale: (v) => v / MIB,
    unit: "MiB",
    floor: 1,
  },
  windowMs,
  theme,
);
/** The live chart of the picked custom metric. */
const customChart = new LiveChart(
  byId<HTMLCanvasElement>("custom-chart"),
  customKind(metric),
  windowMs,
  theme,
);
const charts = [cpuChart, memChart, customChart];

function customKind(key: string | null) {
  const u = unitOf(key ?? "");
  return { metric: key ?? "", scale: u.scale, unit: u.unit, floor: u.floor, sparse: true };
}

const table = new InstanceTable(
  byId<HTMLTableSectionElement>("instances"),
  byId("empty"),
  { isHidden: (id) => hidden.has(id), toggle: (id) => toggleHidden(id) },
);
const legends = [
  new Legend(byId("cpu-legend"), (e: Entry) => formatCpu(e.view.latest[METRICS.cpuPercent])),
  new Legend(byId("mem-legend"), (e: Entry) => {
    const share = limitShare(e.view.latest);
    const mib = formatMiB(e.view.latest[METRICS.rssBytes]);
    return share === null ? mib : `${mib} · ${share} % of limit`;
  }),
  new Legend(
    byId("custom-legend"),
    (e: Entry) => {
      if (metric === null) return "–";
      const v = e.view.latest[metric];
      return formatValue(
        typeof v === "number" ? customChart.kind.scale(v) : undefined,
        customChart.kind.unit,
      );
    },
    (e: Entry) => metric !== null && metric in e.view.latest,
  ),
];

const serviceHistory = new ServiceHistory();
const panels = new ServicePanels(byId("services"), serviceHistory, {
  rps: cssVar("--accent", "#5eb1ff"),
  latency: cssVar("--violet", "#c39bff"),
  latencyFaint: "rgba(195, 155, 255, 0.45)",
  errors: cssVar("--bad", "#ff6b6b"),
  grid: theme.grid,
});

const historyView = new HistoryView(
  {
    cpu: new HistoryChart(
      byId("hist-cpu"),
      byId("hist-cpu-legend"),
      { scale: (v) => v, unit: "%", floor: 5, marks: [100], canvasId: "hist-cpu-canvas" },
      theme,
      (a, b) => historyView.zoom(a, b),
      () => historyView.reset(),
    ),
    mem: new HistoryChart(
      byId("hist-mem"),
      byId("hist-mem-legend"),
      { scale: (v) => v / MIB, unit: "MiB", floor: 1, canvasId: "hist-mem-canvas" },
      theme,
      (a, b) => historyView.zoom(a, b),
      () => historyView.reset(),
    ),
    custom: new HistoryChart(
      byId("hist-custom"),
      byId("hist-custom-legend"),
      { ...unitOf(metric ?? ""), canvasId: "hist-custom-canvas" },
      theme,
      (a, b) => historyView.zoom(a, b),
      () => historyView.reset(),
    ),
    metric: () => metric,
    els: {
      presets: byId("range"),
      reset: byId<HTMLButtonElement>("history-reset"),
      range: byId("history-range"),
      tier: byId("history-tier"),
      loading: byId("history-loading"),
      error: byId("history-error"),
      section: byId("history-view"),
    },
    now: () => clock.now(),
    instances: historyInstances,
    onRange: () => writeUrl(),
  },
  initial.range,
  initial.abs,
);

/** Every known instance in table order, with its hidden state, for the history view. */
function historyInstances(): HistoryInstance[] {
  const out: Array<HistoryInstance & { key: string }> = [];
  for (const [id, e] of store.entries) {
    out.push({
      key: `${e.view.service}\u0000${e.view.instance}\u0000${id}`,
      id,
      name: `${e.view.service} · ${e.view.instance}`,
      color: e.color,
      intervalMs: e.view.intervalMs,
      hidden: hidden.has(id),
      memLimit: memLimitOf(e),
      memTrend: trendOf(id),
    });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

/** The container memory limit an instance reports, bytes, or null. */
function memLimitOf(e: Entry): number | null {
  const v = e.view.latest[MEM_LIMIT];
  return typeof v === "number" && v > 0 ? v : null;
}

const picker = new MetricPicker(
  [byId<HTMLSelectElement>("metric-picker"), byId<HTMLSelectElement>("hist-metric-picker")],
  (key) => setMetric(key),
);
picker.set(metric);

/** Draw `key` in the custom charts (null: none). */
function setMetric(key: string | null, fromUrl = false): void {
  if (key === metric) return;
  metric = key;
  picker.set(key);
  store.track(key);
  customChart.setKind(customKind(key), store);
  historyView.deps.custom.setKind({ ...unitOf(key ?? ""), canvasId: "hist-custom-canvas" });
  paintCustom();
  const now = clock.now();
  legends[2].clear();
  for (const [id, e] of store.entries) legends[2].upsert(id, e, now);
  historyView.metricChanged();
  if (!fromUrl) writeUrl();
  if (key !== null) void backfill(key);
}

/** Show the custom charts' unit, or the picker's hint when nothing is picked. */
function paintCustom(): void {
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

/**
 * The live `/ws` sends only CPU and memory in its hello; a metric picked later fills from
 * `samples` frames, and its last minutes come from the history API at once.
 */
async function backfill(key: string): Promise<void> {
  const ids = [...store.entries].filter(([, e]) => key in e.view.latest).map(([id]) => id);
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
      if (metric !== key || !res.ok || !Array.isArray(body.series)) return;
      for (const s of body.series) {
        const entry = store.entries.get(s.instance);
        if (!entry || !Array.isArray(s.points)) continue;
        const have = entry.points.get(key) ?? [];
        const first = have.length ? have[0][0] : Infinity;
        const pts: Array<[number, number]> = [];
        for (const p of s.points as unknown[]) {
          if (Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[2]) && p[0] < first) {
            pts.push([p[0], p[2]]);
          }
        }
        if (pts.length) store.append(s.instance, { [key]: pts });
      }
    } catch {
      return; // the live samples still fill the chart
    }
  }
  if (metric === key) customChart.rebuild(store);
}

/** Hide or show an instance in the live and history charts. */
function toggleHidden(id: string): void {
  if (hidden.has(id)) hidden.delete(id);
  else hidden.add(id);
  applyHidden();
  writeUrl();
}

function applyHidden(): void {
  for (const c of charts) c.setHidden(hidden);
  for (const l of legends) l.setHidden(hidden);
  table.paintHidden();
  historyView.redraw();
}

/** The page's state as the URL holds it. */
function urlState(): UrlState {
  const h = historyView.info();
  const state: UrlState = { view, range: h.range, abs: h.abs, hidden: [...hidden] };
  if (metric !== null) state.metric = metric;
  return state;
}

function writeUrl(): void {
  const hash = formatHash(urlState());
  if (hash === formatHash(defaultState()) && location.hash === "") return; // a plain page stays plain
  if (hash !== location.hash) {
    history.replaceState(history.state, "", `${location.pathname}${location.search}${hash}`);
  }
}

const tabs = [byId<HTMLButtonElement>("tab-live"), byId<HTMLButtonElement>("tab-history")];
function setView(v: View): void {
  view = v;
  for (const tab of tabs) tab.setAttribute("aria-selected", String(tab.dataset.view === v));
  byId("live-view").hidden = v !== "live";
  byId("history-view").hidden = v !== "history";
  byId("window").hidden = v !== "live";
  byId("range").hidden = v !== "history";
  byId("services").classList.toggle("is-off", v !== "live");
  document.title = `zeroapm · ${v}`;
  historyView.setActive(v === "history");
  writeUrl();
}
for (const tab of tabs) {
  tab.addEventListener("click", () => setView(tab.dataset.view === "history" ? "history" : "live"));
}
// A link pasted into this tab (or the hash edited by hand) applies without a reload.
addEventListener("hashchange", () => {
  const next = parseHash(location.hash);
  hidden = new Set(next.hidden);
  applyHidden();
  const h = historyView.info();
  if (
    next.range !== h.range || next.abs?.from !== h.abs?.from || next.abs?.to !== h.abs?.to
  ) historyView.setRange(next.range, next.abs);
  setMetric(next.metric ?? null, true);
  setView(next.view);
});

let instancesTimer: ReturnType<typeof setTimeout> | null = null;
/** New or recoloured instances reach the history view, a few at a time. */
function instancesChanged(): void {
  if (instancesTimer !== null) return;
  instancesTimer = setTimeout(() => {
    instancesTimer = null;
    historyView.instancesChanged();
  }, 300);
}

const alertsPanel = new AlertsPanel({
  els: {
    active: byId("alerts-active"),
    empty: byId("alerts-empty"),
    recent: byId("alerts-recent"),
    recentEmpty: byId("alerts-recent-empty"),
    badge: byId("alerts-badge"),
    summary: byId("alerts-summary"),
  },
  now: () => clock.now(),
  name: (id) => {
    const e = store.entries.get(id);
    return e ? `${e.view.service} · ${e.view.instance}` : null;
  },
});
byId("alerts-badge").addEventListener("click", () => {
  byId("alerts").scrollIntoView({ behavior: "smooth", block: "start" });
});

/** Instance id -> leak estimate, from the newest `alerts` frame. */
let leaks = new Map<string, LeakEstimate>();
/** Instance id -> its leak badge in the table. */
let badges = new Map<string, LeakBadge>();
/** Ids whose leak alert is pending or firing: their trend line is drawn. */
let trending = "";

/** The trend line of an alerting leak, extended to now; null when the instance has none. */
function trendOf(id: string): TrendLine | null {
  const b = badges.get(id);
  const e = leaks.get(id);
  if (!e || !b || b.level === "trend") return null;
  return trendLine(e, clock.now());
}

/** Hand the current trend lines to the live memory chart (and history, when their set changed). */
function applyTrends(): void {
  const trends = new Map<string, TrendLine>();
  for (const id of badges.keys()) {
    const t = trendOf(id);
    if (t) trends.set(id, t);
  }
  memChart.setTrends(trends);
  const sig = [...trends.keys()].sort().join("\n");
  if (sig !== trending) {
    trending = sig;
    historyView.redraw();
  }
}

let connState: ConnectionState = "connecting";
let dropped = 0;
let frames = 0;

function showInstance(id: string, entry: Entry): void {
  const now = clock.now();
  for (const c of [cpuChart, memChart]) c.ensure(id, entry.color);
  if (metric !== null && metric in entry.view.latest) customChart.ensure(id, entry.color);
  memChart.setLimit(id, memLimitOf(entry));
  table.upsert(id, entry, now);
  for (const l of legends) l.upsert(id, entry, now);
}

/** The newest service summaries from the collector (see lib/collector/services.ts). */
let latestServices: ServicesFrame["services"] = [];

const handlers: { [K in LiveFrame["type"]]: (f: Extract<LiveFrame, { type: K }>) => void } = {
  hello(f: HelloFrame) {
    store.clear();
    table.clear();
    for (const l of legends) l.clear();
    for (const view of Array.isArray(f.instances) ? f.instances : []) {
      if (view && typeof view.id === "string") store.upsert(view);
    }
    if (f.series && typeof f.series === "object") {
      for (const [id, points] of Object.entries(f.series)) store.append(id, points);
    }
    store.trim(clock.now());
    for (const c of charts) c.rebuild(store);
    for (const [id, entry] of store.entries) showInstance(id, entry);
    if (metric !== null) void backfill(metric);
    historyView.setReady();
    historyView.instancesChanged();
    refreshHeader();
  },
  samples(f: SamplesFrame) {
    if (typeof f.id !== "string") return;
    const { entry, created, added } = store.append(f.id, f.points);
    if (created) {
      showInstance(f.id, entry);
      instancesChanged();
    }
    if (metric !== null && added.has(metric)) customChart.ensure(f.id, entry.color);
    for (const c of charts) c.append(f.id, added.get(c.kind.metric) ?? []);
  },
  services(f: ServicesFrame) {
    if (!Array.isArray(f.services)) return;
    latestServices = f.services;
    serviceHistory.add(typeof f.now === "number" ? f.now : clock.now(), f.services);
    panels.render(clock.now());
  },
  instance(f: InstanceFrame) {
    if (!f.instance || typeof f.instance.id !== "string") return;
    const { entry, created, recolored } = store.upsert(f.instance);
    showInstance(entry.view.id, entry);
    if (created || recolored) instancesChanged();
  },
  alerts(f: AlertsFrame) {
    alertsPanel.setActive(f.active);
    leaks = new Map();
    if (f.leaks && typeof f.leaks === "object") {
      for (const [id, e] of Object.entries(f.leaks)) {
        if (e && typeof e === "object") leaks.set(id, e);
      }
    }
    badges = leakBadges(alertsPanel.active(), Object.fromEntries(leaks));
    table.setLeaks(badges);
    table.refresh(store.entries, clock.now());
    applyTrends();
  },
  dropped(f: DroppedFrame) {
    if (Number.isFinite(f.count)) dropped += f.count;
    refreshHeader();
  },
};

function onFrame(frame: LiveFrame): void {
  frames++;
  clock.observe(frame.now);
  (handlers[frame.type] as (f: LiveFrame) => void)(frame);
}

// Remote write (if any): behind, retrying or dropping, from /api/stats.
watchRemotes(byId("remote-status"));

const connEl = byId("conn");
const connText = byId("conn-text");
function onState(state: ConnectionState, detail: { attempt: number; retryInMs: number | null }) {
  connState = state;
  connEl.dataset.state = state;
  const text = state === "live"
    ? "Live"
    : state === "connecting"
    ? "Connecting…"
    : `Reconnecting${
      detail.retryInMs !== null ? ` in ${Math.max(1, Math.round(detail.retryInMs / 1000))} s` : ""
    }…`;
  setText(connText, text);
  connEl.title = state === "reconnecting"
    ? `Connection to the collector lost; attempt ${detail.attempt}`
    : "Connection to the collector";
}

function refreshHeader(): void {
  const now = clock.now();
  let live = 0;
  let gone = 0;
  for (const e of store.entries.values()) {
    const st = statusOf(e.view, now);
    if (st === "live") live++;
    else if (st === "gone") gone++;
  }
  const total = store.entries.size;
  setText(byId("summary-count"), `${total} instance${total === 1 ? "" : "s"}`);
  setText(byId("summary-live"), `${live} live`);
  const staleEl = byId("summary-stale");
  const stale = total - live - gone;
  setText(
    staleEl,
    [stale ? `${stale} stale` : "", gone ? `${gone} gone` : ""].filter(Boolean).join(" · "),
  );
  staleEl.hidden = stale + gone === 0;
  const dropEl = byId("dropped");
  dropEl.hidden = dropped === 0;
  setText(dropEl, `${dropped} update${dropped === 1 ? "" : "s"} skipped (slow tab)`);
  const skewEl = byId("browser-skew");
  const off = clock.offsetMs;
  skewEl.hidden = !clock.synced || Math.abs(off) <= 2000;
  setText(skewEl, `browser clock ${formatSkew(-off)} vs collector`);
}

setupWindowPicker(byId("window"), windowMs, (ms) => {
  windowMs = ms;
  for (const c of charts) c.setWindow(ms, store);
});

setInterval(() => {
  const now = clock.now();
  table.refresh(store.entries, now);
  for (const l of legends) l.refresh(store.entries, now);
  for (const [id, e] of store.entries) memChart.setLimit(id, memLimitOf(e));
  picker.update(store.keys());
  alertsPanel.render();
  if (leaks.size > 0) applyTrends();
  if (metric !== null) {
    for (const [id, e] of store.entries) {
      if (metric in e.view.latest) customChart.ensure(id, e.color);
    }
  }
  refreshHeader();
}, 500);
setInterval(() => store.trim(clock.now()), 10_000);

for (const c of charts) c.setHidden(hidden);
paintCustom();
setView(view);
startRenderLoop(charts, clock);
connectLive({ url: liveUrl(location, CHARTED), onFrame, onState });
alertsPanel.start();
refreshHeader();

/** What tests (and curious developers) can read: `window.__zeroapm.snapshot()`. */
interface Debug {
  snapshot(): {
    state: ConnectionState;
    frames: number;
    dropped: number;
    offsetMs: number;
    windowMs: number;
    instances: string[];
    charts: Record<
      "cpu" | "mem" | "custom",
      { lines: LineInfo[]; range: { min: number; max: number } | null }
    >;
    /** Instance id -> container memory limit (bytes) drawn on the live memory chart. */
    memLimits: Record<string, number>;
    /** Leak trend lines drawn on the live memory chart's last frame (CSS pixels). */
    memTrends: TrendInfo[];
    /** The picked custom metric. */
    metric: string | null;
    collectorNow: number;
    view: View;
    hidden: string[];
  };
  /** The history view: range, tier, last request, and what each chart drew. */
  history(): HistoryInfo;
  /** The newest service summaries received. */
  services(): ServicesFrame["services"];
  /** The service panels as shown. */
  panels(): PanelInfo[];
  /** The metric picker's options. */
  picker(): Array<{ key: string; group: string; text: string }>;
  /** The instance table's group headers. */
  groups(): Array<{ service: string; text: string }>;
  /** The alerts panel as shown, and each instance's leak badge and estimate. */
  alerts(): AlertsInfo & {
    badges: Record<string, LeakBadge>;
    leaks: Record<string, LeakEstimate>;
  };
}
const debug: Debug = {
  snapshot: () => ({
    state: connState,
    frames,
    dropped,
    offsetMs: clock.offsetMs,
    windowMs,
    instances: [...store.entries.keys()],
    charts: {
      cpu: { lines: cpuChart.lines(), range: cpuChart.valueRange() },
      mem: { lines: memChart.lines(), range: memChart.valueRange() },
      custom: { lines: customChart.lines(), range: customChart.valueRange() },
    },
    memLimits: memChart.limits(),
    memTrends: memChart.trends(),
    metric,
    collectorNow: clock.now(),
    view,
    hidden: [...hidden],
  }),
  history: () => historyView.info(),
  services: () => latestServices,
  panels: () => panels.info(),
  picker: () => picker.options(),
  groups: () => table.groups(),
  alerts: () => ({
    ...alertsPanel.info(),
    badges: Object.fromEntries(badges),
    leaks: Object.fromEntries(leaks),
  }),
};
(globalThis as unknown as { __zeroapm: Debug }).__zeroapm = debug;
