/// <reference lib="dom" />
/**
 * The zeroapm dashboard: wires the WebSocket, the collector clock, the page's store,
 * the two live charts, their legends, the instance table and the history view. `hello`
 * rebuilds everything (a late page draws the last minutes at once), `samples` appends,
 * `instance` adds or updates. The view (live or history), the history range and the
 * instances hidden from the charts live in the URL's hash, so a link opens the same page.
 *
 * @module
 */
import type {
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
import { type LineInfo, LiveChart, startRenderLoop } from "./charts.ts";
import { InstanceTable } from "./table.ts";
import { Legend } from "./legend.ts";
import { type ConnectionState, connectLive, liveUrl } from "./socket.ts";
import { byId, setText } from "./dom.ts";
import { formatCpu, formatMiB, formatSkew, MIB } from "./format.ts";
import { statusOf } from "./status.ts";
import { readWindow, setupWindowPicker, WINDOWS } from "./window_picker.ts";
import { defaultState, formatHash, parseHash, type UrlState, type View } from "./url_state.ts";
import { HistoryChart } from "./history_chart.ts";
import { type HistoryInfo, type HistoryInstance, HistoryView } from "./history.ts";

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

const initial = parseHash(location.hash);
let view: View = initial.view;
/** Instance ids hidden from every chart; kept across reconnects (and in the URL). */
let hidden = new Set<string>(initial.hidden);

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
const charts = [cpuChart, memChart];

const table = new InstanceTable(
  byId<HTMLTableSectionElement>("instances"),
  byId("empty"),
  { isHidden: (id) => hidden.has(id), toggle: (id) => toggleHidden(id) },
);
const legends = [
  new Legend(byId("cpu-legend"), (e: Entry) => formatCpu(e.view.latest[METRICS.cpuPercent])),
  new Legend(byId("mem-legend"), (e: Entry) => formatMiB(e.view.latest[METRICS.rssBytes])),
];

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
    });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
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
  return { view, range: h.range, abs: h.abs, hidden: [...hidden] };
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

let connState: ConnectionState = "connecting";
let dropped = 0;
let frames = 0;

function showInstance(id: string, entry: Entry): void {
  const now = clock.now();
  for (const c of charts) c.ensure(id, entry.color);
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
    for (const c of charts) c.append(f.id, added.get(c.kind.metric) ?? []);
  },
  services(f: ServicesFrame) {
    // Service summaries (request rate, errors, latency): kept for the service panels.
    if (Array.isArray(f.services)) latestServices = f.services;
  },
  instance(f: InstanceFrame) {
    if (!f.instance || typeof f.instance.id !== "string") return;
    const { entry, created, recolored } = store.upsert(f.instance);
    showInstance(entry.view.id, entry);
    if (created || recolored) instancesChanged();
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
  for (const e of store.entries.values()) if (statusOf(e.view, now) === "live") live++;
  const total = store.entries.size;
  setText(byId("summary-count"), `${total} instance${total === 1 ? "" : "s"}`);
  setText(byId("summary-live"), `${live} live`);
  const staleEl = byId("summary-stale");
  setText(staleEl, `${total - live} stale`);
  staleEl.hidden = total - live === 0;
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
  refreshHeader();
}, 500);
setInterval(() => store.trim(clock.now()), 10_000);

for (const c of charts) c.setHidden(hidden);
setView(view);
startRenderLoop(charts, clock);
connectLive({ url: liveUrl(location, CHARTED), onFrame, onState });
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
      "cpu" | "mem",
      { lines: LineInfo[]; range: { min: number; max: number } | null }
    >;
    collectorNow: number;
    view: View;
    hidden: string[];
  };
  /** The history view: range, tier, last request, and what each chart drew. */
  history(): HistoryInfo;
  /** The newest service summaries received. */
  services(): ServicesFrame["services"];
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
    },
    collectorNow: clock.now(),
    view,
    hidden: [...hidden],
  }),
  history: () => historyView.info(),
  services: () => latestServices,
};
(globalThis as unknown as { __zeroapm: Debug }).__zeroapm = debug;
