/// <reference lib="dom" />
/**
 * The zeroapm dashboard, wired: the WebSocket and the collector clock feed the page's store
 * (store.ts) and state (page_state.ts) through the frame handlers (frames.ts); controllers
 * draw them: the live view (live_view.ts: charts, legends, table), the service panels, the
 * history view, the alerts panel and leak trends, the header. The view, the history range,
 * the focused service, the hidden instances and the picked metric live in the URL's hash, so
 * a link opens the same page. This file only connects the parts.
 *
 * @module
 */
import { ClockSync } from "./clock.ts";
import { CHARTED, Store } from "./store.ts";
import { startRenderLoop } from "./charts.ts";
import { connectLive, liveUrl } from "./socket.ts";
import { byId } from "./dom.ts";
import { readWindow, setupWindowPicker, WINDOWS } from "./window_picker.ts";
import { parseHash, type View } from "./url_state.ts";
import { createHistoryView, historyInstances } from "./history_setup.ts";
import { ServiceHistory } from "./service_history.ts";
import { serviceLive, ServicePanels, serviceUsage } from "./services.ts";
import { MetricPicker } from "./metric_picker.ts";
import { unitOf } from "./units.ts";
import { AlertsPanel } from "./alerts.ts";
import { instanceName } from "./instance_label.ts";
import { watchRemotes } from "./remote_status.ts";
import { cssVar, readTheme } from "./theme.ts";
import { PageState, writeHash } from "./page_state.ts";
import { LiveView } from "./live_view.ts";
import { LeakTrends } from "./leak_trends.ts";
import { frameHandler } from "./frames.ts";
import { renderConnection, renderFocus, renderQueueDelay, renderSummary } from "./header.ts";
import { exposeDebug } from "./debug.ts";
import { AllHiddenNote } from "./all_hidden.ts";

const clock = new ClockSync();
const store = new Store(Math.max(...WINDOWS));
const theme = readTheme();
const initial = parseHash(location.hash);
const state = new PageState(initial, readWindow());
store.track(state.metric);

const live = new LiveView({ store, state, clock, theme, toggle: toggleHidden });
const serviceHistory = new ServiceHistory();
const panels = new ServicePanels(
  byId("services"),
  serviceHistory,
  {
    rps: cssVar("--accent", "#5eb1ff"),
    latency: cssVar("--violet", "#c39bff"),
    latencyFaint: "rgba(195, 155, 255, 0.45)",
    errors: cssVar("--bad", "#ff6b6b"),
    grid: theme.grid,
  },
  {
    onPick: (service) => setFocus(state.focus === service ? null : service),
    usage: (service, now) => serviceUsage(store.entries.values(), service, now),
    live: (service, now) => serviceLive(store.entries.values(), service, now),
  },
);

const historyView = createHistoryView({
  theme,
  state,
  now: () => clock.now(),
  instances: () => historyInstances(store, state, (id) => trends.trendOf(id)),
  onRange: () => writeUrl(),
  range: initial.range,
  abs: initial.abs,
});

const picker = new MetricPicker(
  [byId<HTMLSelectElement>("metric-picker"), byId<HTMLSelectElement>("hist-metric-picker")],
  (key) => setMetric(key),
);
picker.set(state.metric);

/** Draw `key` in the custom charts (null: none). */
function setMetric(key: string | null, fromUrl = false): void {
  if (key === state.metric) return;
  state.metric = key;
  picker.set(key);
  store.track(key);
  historyView.deps.custom.setKind({ ...unitOf(key ?? ""), canvasId: "hist-custom-canvas" });
  live.metricChanged();
  historyView.metricChanged();
  if (!fromUrl) writeUrl();
}

/** Show only `service`'s instances in the charts and the table (null: every service). */
function setFocus(service: string | null, fromUrl = false): void {
  state.focus = service;
  panels.setFocus(service);
  alertsPanel.setFocus(service);
  picker.update(store.keys(service));
  renderFocus(service);
  applyHidden();
  historyView.instancesChanged(); // a wider focus asks history for the instances it lacks
  if (!fromUrl) writeUrl();
}
byId("focus-clear").addEventListener("click", () => setFocus(null));

/** Hide or show an instance in the live and history charts. */
function toggleHidden(id: string): void {
  state.toggleHidden(id);
  applyHidden();
  writeUrl();
}

function applyHidden(): void {
  live.applyHidden();
  historyView.redraw();
  allHidden.paint();
}
const allHidden = new AllHiddenNote(store, state, () => clock.now(), () => {
  applyHidden();
  writeUrl();
});

function writeUrl(): void {
  const h = historyView.info();
  writeHash(state.toUrl(h.range, h.abs));
}

const tabs = [byId<HTMLButtonElement>("tab-live"), byId<HTMLButtonElement>("tab-history")];
function setView(v: View): void {
  state.view = v;
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
  state.hidden = new Set(next.hidden);
  setFocus(next.service ?? null, true);
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
    return e ? instanceName(e.view.service, e.view.instance) : null;
  },
});
byId("alerts-badge").addEventListener("click", () => {
  byId("alerts").scrollIntoView({ behavior: "smooth", block: "start" });
});
const trends = new LeakTrends({
  state,
  clock,
  setTrends: (t) => live.setTrends(t),
  onSetChanged: () => historyView.redraw(),
});

const header = () => renderSummary(store, clock, state.dropped, state.omitted);
const onFrame = frameHandler({
  store,
  state,
  clock,
  live,
  onHello() {
    historyView.setReady();
    historyView.instancesChanged();
    header();
  },
  onInstancesChanged: instancesChanged,
  onServices(now, services) {
    serviceHistory.add(now, services);
    panels.render(clock.now());
  },
  onAlerts(f) {
    alertsPanel.setActive(f.active);
    trends.update(f, alertsPanel.active());
    live.table.setLeaks(state.badges);
    live.table.refresh(store.entries, clock.now());
  },
  onCounters: header,
  onIngest: (f) => renderQueueDelay(f.queueDelayMs),
});

setupWindowPicker(byId("window"), state.windowMs, (ms) => {
  state.windowMs = ms;
  live.setWindow(ms);
});

// Ages ("3 s ago"), staleness and the picker's list change with time alone, not with frames.
setInterval(() => {
  live.refresh();
  panels.refresh(clock.now());
  allHidden.paint(); // instances come and retire
  picker.update(store.keys(state.focus));
  alertsPanel.render();
  if (state.leaks.size > 0) trends.apply();
  header();
}, 500);
setInterval(() => store.trim(clock.now()), 10_000);

live.paintCustom();
setFocus(state.focus, true);
setView(state.view);
startRenderLoop(live.charts, clock);
connectLive({
  url: liveUrl(location, CHARTED),
  onFrame,
  onState(conn, detail) {
    state.conn = conn;
    renderConnection(conn, detail);
  },
});
alertsPanel.start();
header();
// Remote write (if any): behind, retrying or dropping, from /api/stats.
watchRemotes(byId("remote-status"));

exposeDebug({
  snapshot: () => ({
    state: state.conn,
    frames: state.frames,
    dropped: state.dropped,
    offsetMs: clock.offsetMs,
    windowMs: state.windowMs,
    instances: [...store.entries.keys()],
    charts: {
      cpu: { lines: live.cpu.lines(), range: live.cpu.valueRange(), frame: live.cpu.frame() },
      mem: { lines: live.mem.lines(), range: live.mem.valueRange(), frame: live.mem.frame() },
      custom: {
        lines: live.custom.lines(),
        range: live.custom.valueRange(),
        frame: live.custom.frame(),
      },
    },
    memLimits: live.mem.limits(),
    memTrends: live.mem.trends(),
    metric: state.metric,
    collectorNow: clock.now(),
    view: state.view,
    focus: state.focus,
    hidden: [...state.hidden],
  }),
  history: () => historyView.info(),
  services: () => state.services,
  panels: () => panels.info(),
  picker: () => picker.options(),
  groups: () => live.table.groups(),
  alerts: () => ({
    ...alertsPanel.info(),
    badges: Object.fromEntries(state.badges),
    leaks: Object.fromEntries(state.leaks),
  }),
});
