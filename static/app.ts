/// <reference lib="dom" />
/**
 * The zeroapm live dashboard: wires the WebSocket, the collector clock, the page's store,
 * the two charts, their legends and the instance table. `hello` rebuilds everything (a late
 * page draws the last minutes at once), `samples` appends, `instance` adds or updates.
 *
 * @module
 */
import type {
  DroppedFrame,
  HelloFrame,
  InstanceFrame,
  LiveFrame,
  SamplesFrame,
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
);
const legends = [
  new Legend(byId("cpu-legend"), (e: Entry) => formatCpu(e.view.latest[METRICS.cpuPercent])),
  new Legend(byId("mem-legend"), (e: Entry) => formatMiB(e.view.latest[METRICS.rssBytes])),
];

let connState: ConnectionState = "connecting";
let dropped = 0;
let frames = 0;

function showInstance(id: string, entry: Entry): void {
  const now = clock.now();
  for (const c of charts) c.ensure(id, entry.color);
  table.upsert(id, entry, now);
  for (const l of legends) l.upsert(id, entry, now);
}

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
  },
  samples(f: SamplesFrame) {
    if (typeof f.id !== "string") return;
    const { entry, created, added } = store.append(f.id, f.points);
    if (created) showInstance(f.id, entry);
    for (const c of charts) c.append(f.id, added.get(c.kind.metric) ?? []);
  },
  instance(f: InstanceFrame) {
    if (!f.instance || typeof f.instance.id !== "string") return;
    const { entry } = store.upsert(f.instance);
    showInstance(entry.view.id, entry);
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
    },
    collectorNow: clock.now(),
  }),
};
(globalThis as unknown as { __zeroapm: Debug }).__zeroapm = debug;
