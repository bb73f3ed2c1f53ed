/// <reference lib="dom" />
/**
 * One history chart (uPlot): per instance, its average as a line in the instance's colour
 * and its min..max as a translucent band of the same colour. The x axis is the collector's
 * clock over exactly the range asked for; the y axis starts at 0 and grows with the data
 * (no 0..100 clamp). Dragging across the plot selects a range and hands it to `onZoom`
 * (the page re-asks the API for it, so finer tiers appear); a double click hands back to
 * `onReset`. A legend under the chart shows each line's value under the cursor, or its
 * latest value. A line may carry a limit (the container's memory limit): it is drawn as a
 * dashed horizontal line in the line's colour, and the y axis reaches it. A line may also
 * carry a trend (a leak's fitted line, extended to now): drawn dashed in its colour over a
 * dark casing, under the lines, so the data stays in sight where it follows the trend.
 *
 * @module
 */
import uPlot from "uplot";
import type { Bucket } from "./history_data.ts";
import { align } from "./history_data.ts";
import { el, setText } from "./dom.ts";
import { formatAxis, formatBand, formatLegend, niceCeil } from "./format.ts";
import type { Theme } from "./theme.ts";
import { CHIP_CHARS, middleEllipsis } from "./instance_label.ts";

/** What differs between the CPU and the memory chart. */
export interface HistoryKind {
  /** Wire value -> plotted value (bytes -> MiB). */
  scale: (v: number) => number;
  /** Unit of plotted values, as shown in the legend. */
  unit: string;
  /** Smallest top of the y axis. */
  floor: number;
  /** Dashed reference lines, e.g. 100 % = one core. */
  marks?: number[];
  /** Id given to the chart's canvas (tests read its pixels). */
  canvasId: string;
}

/** A line to draw. */
export interface DrawLine {
  id: string;
  name: string;
  color: string;
  buckets: readonly Bucket[];
  /** Steps longer than this (ms) break the line. */
  gapMs: number;
  /** A limit in wire units (bytes), drawn dashed in the line's colour; null for none. */
  limit?: number | null;
  /** A trend `[[t0, v0], [t1, v1]]` in wire units, drawn dashed; null for none. */
  trend?: [[number, number], [number, number]] | null;
}

/** What the debug object reports per chart. */
export interface HistoryChartInfo {
  series: Array<{ id: string; color: string; points: number }>;
  xMin: number | null;
  xMax: number | null;
  yMax: number | null;
  canvasId: string;
  /** Limits drawn: id -> plotted value. */
  limits: Record<string, number>;
  /** Trends drawn on the last draw: plotted units, and canvas pixels (device pixels). */
  trends: Array<{
    id: string;
    color: string;
    from: [number, number];
    to: [number, number];
    x0: number;
    y0: number;
    x1: number;
    y1: number;
  }>;
  unit: string;
}

interface Chip {
  li: HTMLLIElement;
  value: HTMLSpanElement;
  range: HTMLSpanElement;
}

/** A history chart bound to a container element and a legend list. */
export class HistoryChart {
  #u: uPlot | null = null;
  #sig = "";
  #lines: DrawLine[] = [];
  #range = { from: 0, to: 1 };
  #drawnTrends: HistoryChartInfo["trends"] = [];
  readonly #chips = new Map<string, Chip>();
  readonly #time: HTMLLIElement;
  readonly #resize: ResizeObserver;

  constructor(
    readonly host: HTMLElement,
    readonly legend: HTMLElement,
    public kind: HistoryKind,
    readonly theme: Theme,
    readonly onZoom: (a: number, b: number) => void,
    readonly onReset: () => void,
  ) {
    this.#time = el("li", "chip chip-time mono");
    this.#resize = new ResizeObserver(() => this.#fit());
    this.#resize.observe(host);
  }

  /** Width of the plotting area in CSS pixels (about how many points are worth asking for). */
  plotWidth(): number {
    const w = this.#u ? this.#u.bbox.width / devicePixelRatio : this.host.clientWidth - 70;
    return Math.max(0, w);
  }

  /** Draw another metric (the custom chart): scale and unit change, the chart is rebuilt. */
  setKind(kind: HistoryKind): void {
    this.kind = kind;
    this.#sig = "";
  }

  /** Show `[from, to]` at once (e.g. right after a drag), before the new data arrives. */
  setRange(from: number, to: number): void {
    this.#range = { from, to };
    this.#u?.setScale("x", { min: from, max: to });
  }

  /** Draw these lines over `[from, to]`. */
  draw(lines: DrawLine[], from: number, to: number): void {
    this.#lines = lines;
    this.#range = { from, to };
    const data = this.#data();
    const sig = lines.map((l) => `${l.id}\u0000${l.color}\u0000${l.limit ?? ""}`).join("\u0001");
    if (this.#u && sig === this.#sig) {
      this.#u.setData(data, true);
    } else {
      this.#sig = sig;
      this.#create(data);
    }
    this.#legend(null);
  }

  /** The chart as the debug object reports it. */
  info(): HistoryChartInfo {
    const u = this.#u;
    const num = (v: number | null | undefined) =>
      typeof v === "number" && Number.isFinite(v) ? v : null;
    return {
      series: this.#lines.map((l, i) => ({
        id: l.id,
        color: l.color,
        points: u
          ? (u.data[1 + 3 * i] as Array<number | null | undefined>)
            .filter((v) => typeof v === "number").length
          : 0,
      })),
      xMin: num(u?.scales.x.min),
      xMax: num(u?.scales.x.max),
      yMax: num(u?.scales.y.max),
      canvasId: this.kind.canvasId,
      limits: Object.fromEntries(
        this.#lines.filter((l) => typeof l.limit === "number" && l.limit > 0).map((
          l,
        ) => [l.id, this.kind.scale(l.limit!)]),
      ),
      trends: this.#drawnTrends.map((t) => ({ ...t })),
      unit: this.kind.unit,
    };
  }

  #data(): uPlot.AlignedData {
    const { x, lines } = align(
      this.#lines.map((l) => l.buckets),
      this.#lines.map((l) => l.gapMs),
      this.kind.scale,
    );
    const cols: Array<Array<number | null | undefined>> = [x];
    for (const l of lines) cols.push(l.avg, l.min, l.max);
    return cols as uPlot.AlignedData;
  }

  #create(data: uPlot.AlignedData): void {
    this.#u?.destroy();
    this.#u = null;
    const width = this.host.clientWidth;
    const height = this.host.clientHeight;
    if (width === 0 || height === 0) {
      this.#sig = ""; // not visible yet: build on the next draw
      return;
    }
    const t = this.theme;
    const font = `11px ${t.font}`;
    const series: uPlot.Series[] = [{}];
    const bands: uPlot.Band[] = [];
    for (const l of this.#lines) {
      const base = series.length;
      series.push(
        { label: l.name, stroke: l.color, width: 1.5, points: { show: false } },
        { stroke: "rgba(0,0,0,0)", width: 1, points: { show: false } },
        { stroke: "rgba(0,0,0,0)", width: 1, points: { show: false } },
      );
      bands.push({ series: [base + 2, base + 1], fill: withAlpha(l.color, 0.2) });
    }
    const axis = (extra: Partial<uPlot.Axis>): uPlot.Axis => ({
      stroke: t.text,
      font,
      grid: { stroke: t.grid, width: 1 },
      ticks: { stroke: t.grid, width: 1, size: 4 },
      ...extra,
    });
    const isAvg = (si: number) => si > 0 && (si - 1) % 3 === 0;
    const opts: uPlot.Options = {
      width,
      height,
      ms: 1,
      pxAlign: 1,
      legend: { show: false },
      scales: {
        x: { time: true, range: () => [this.#range.from, this.#range.to] },
        y: {
          range: (_u, _min, max) => [
            0,
            niceCeil(
              Math.max(Number.isFinite(max) ? max * 1.04 : 0, this.#topLimit()),
              this.kind.floor,
            ),
          ],
        },
      },
      series,
      bands,
      axes: [
        axis({ space: 70, values: (_u, splits, _i, _s, incr) => timeLabels(splits, incr) }),
        axis({
          size: 52,
          space: 36,
          values: (_u, splits) => splits.map((v) => formatAxis(v)),
        }),
      ],
      cursor: {
        y: false,
        drag: { x: true, y: false, setScale: false },
        bind: { dblclick: () => null },
        points: {
          show: ((_u: uPlot, si: number) => isAvg(si) ? cursorDot() : undefined) as never,
          size: 8,
          width: 2,
          stroke: (_u, si) => this.#lines[(si - 1) / 3]?.color ?? t.text,
          fill: t.background,
        },
      },
      select: { show: true, left: 0, top: 0, width: 0, height: 0 },
      hooks: {
        setSelect: [(u) => {
          const { left, width } = u.select;
          if (width < 4) return;
          const a = u.posToVal(left, "x");
          const b = u.posToVal(left + width, "x");
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          this.onZoom(a, b);
        }],
        // An opaque background, as the live charts have (and pixels read back as drawn).
        drawClear: [(u) => {
          u.ctx.fillStyle = t.background;
          u.ctx.fillRect(0, 0, u.ctx.canvas.width, u.ctx.canvas.height);
        }],
        setCursor: [(u) => this.#legend(u.cursor.idx ?? null)],
        // Trends under the lines: a steady leak's line lies on its own trend, and the data,
        // not the fit, must stay in sight there. Limits and reference marks over them.
        drawAxes: [(u) => this.#trends(u)],
        draw: [(u) => this.#marks(u)],
      },
    };
    const u = new uPlot(opts, data, this.host);
    u.ctx.canvas.id = this.kind.canvasId;
    u.over.addEventListener("dblclick", () => this.onReset());
    this.#u = u;
    this.#buildLegend();
  }

  /** The highest limit of a drawn line, plotted units (0 without any). */
  #topLimit(): number {
    let top = 0;
    for (const l of this.#lines) {
      if (typeof l.limit === "number" && l.limit > 0) top = Math.max(top, this.kind.scale(l.limit));
    }
    return top;
  }

  /** Dashed reference lines (100 % = one core) when inside the y range, and each limit. */
  #marks(u: uPlot): void {
    this.#limits(u);
    const marks = this.kind.marks ?? [];
    const max = u.scales.y.max ?? 0;
    const ctx = u.ctx;
    for (const m of marks) {
      if (m > max) continue;
      const y = Math.round(u.valToPos(m, "y", true)) + 0.5;
      ctx.save();
      ctx.strokeStyle = this.theme.mark;
      ctx.lineWidth = devicePixelRatio;
      ctx.setLineDash([4 * devicePixelRatio, 4 * devicePixelRatio]);
      ctx.beginPath();
      ctx.moveTo(u.bbox.left, y);
      ctx.lineTo(u.bbox.left + u.bbox.width, y);
      ctx.stroke();
      ctx.restore();
    }
  }

  #limits(u: uPlot): void {
    const ctx = u.ctx;
    const max = u.scales.y.max ?? 0;
    for (const l of this.#lines) {
      if (!(typeof l.limit === "number" && l.limit > 0)) continue;
      const v = this.kind.scale(l.limit);
      if (v > max) continue;
      const y = Math.round(u.valToPos(v, "y", true)) + 0.5;
      ctx.save();
      ctx.strokeStyle = l.color;
      ctx.lineWidth = 1.5 * devicePixelRatio;
      ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
      ctx.beginPath();
      ctx.moveTo(u.bbox.left, y);
      ctx.lineTo(u.bbox.left + u.bbox.width, y);
      ctx.stroke();
      ctx.restore();
    }
  }

  /** Each line's trend: a dark casing, then a dashed line in its colour, inside the plot. */
  #trends(u: uPlot): void {
    const drawn: HistoryChartInfo["trends"] = [];
    this.#drawnTrends = drawn;
    const ctx = u.ctx;
    const dpr = devicePixelRatio;
    for (const l of this.#lines) {
      if (!l.trend) continue;
      const [[t0, w0], [t1, w1]] = l.trend;
      const v0 = this.kind.scale(w0);
      const v1 = this.kind.scale(w1);
      const info = {
        id: l.id,
        color: l.color,
        from: [t0, v0] as [number, number],
        to: [t1, v1] as [number, number],
        x0: u.valToPos(t0, "x", true),
        y0: u.valToPos(v0, "y", true),
        x1: u.valToPos(t1, "x", true),
        y1: u.valToPos(v1, "y", true),
      };
      if (![info.x0, info.y0, info.x1, info.y1].every(Number.isFinite)) continue;
      drawn.push(info);
      ctx.save();
      ctx.beginPath();
      ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
      ctx.clip();
      ctx.beginPath();
      ctx.moveTo(info.x0, info.y0);
      ctx.lineTo(info.x1, info.y1);
      ctx.strokeStyle = this.theme.background;
      ctx.globalAlpha = 0.75;
      ctx.lineWidth = 5 * dpr;
      ctx.stroke();
      ctx.globalAlpha = 1;
      ctx.strokeStyle = l.color;
      ctx.lineWidth = 2 * dpr;
      ctx.setLineDash([7 * dpr, 5 * dpr]);
      ctx.stroke();
      ctx.restore();
    }
  }

  #buildLegend(): void {
    this.#chips.clear();
    const items: HTMLLIElement[] = [this.#time];
    for (const l of this.#lines) {
      const li = el("li", "chip");
      li.dataset.id = l.id;
      const swatch = el("span", "swatch");
      swatch.style.backgroundColor = l.color; // CSSOM, safe colours only
      const name = el("span", "chip-name", middleEllipsis(l.name, CHIP_CHARS));
      name.title = l.name;
      const value = el("span", "chip-value num");
      const range = el("span", "chip-range num");
      li.append(swatch, name, value, range);
      this.#chips.set(l.id, { li, value, range });
      items.push(li);
    }
    this.legend.replaceChildren(...items);
  }

  /** Values at data index `idx` (the cursor), or each line's latest when `idx` is null. */
  #legend(idx: number | null): void {
    const u = this.#u;
    if (!u) return;
    const x = u.data[0] as number[];
    const long = this.#range.to - this.#range.from > 86_400_000;
    setText(
      this.#time,
      idx === null ? "latest" : `${long ? `${day(new Date(x[idx]))} ` : ""}${clockText(x[idx])}`,
    );
    this.#lines.forEach((l, i) => {
      const chip = this.#chips.get(l.id);
      if (!chip) return;
      const avg = u.data[1 + 3 * i] as Array<number | null | undefined>;
      let k = idx ?? avg.length - 1;
      if (idx === null) { while (k >= 0 && typeof avg[k] !== "number") k--; }
      const v = k >= 0 ? avg[k] : null;
      const lo = k >= 0 ? (u.data[2 + 3 * i] as Array<number | null>)[k] : null;
      const hi = k >= 0 ? (u.data[3 + 3 * i] as Array<number | null>)[k] : null;
      setText(chip.value, typeof v === "number" ? `${formatLegend(v)} ${this.kind.unit}` : "–");
      setText(chip.range, formatBand(lo, hi));
    });
  }

  #fit(): void {
    const u = this.#u;
    const width = this.host.clientWidth;
    const height = this.host.clientHeight;
    if (width === 0 || height === 0) return;
    if (!u) {
      if (this.#lines.length > 0 || this.#sig === "") this.#create(this.#data());
      return;
    }
    if (u.width !== width || u.height !== height) u.setSize({ width, height });
  }
}

function cursorDot(): HTMLElement {
  const d = document.createElement("div");
  d.style.width = d.style.height = "8px";
  d.style.marginLeft = d.style.marginTop = "-4px";
  d.style.borderWidth = "2px";
  return d;
}

/** Any safe CSS colour with alpha `a`, via the canvas's own colour parser. */
export function withAlpha(color: string, a: number): string {
  const ctx = document.createElement("canvas").getContext("2d");
  if (!ctx) return color;
  ctx.fillStyle = "#000";
  ctx.fillStyle = color;
  const v = String(ctx.fillStyle);
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(v);
  if (hex) {
    const [r, g, b] = hex.slice(1).map((h) => parseInt(h, 16));
    return `rgba(${r}, ${g}, ${b}, ${a})`;
  }
  const rgba = /^rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(v);
  return rgba ? `rgba(${rgba[1]}, ${rgba[2]}, ${rgba[3]}, ${a})` : color;
}

const pad = (n: number) => String(n).padStart(2, "0");
const day = (d: Date) => d.toLocaleDateString("en-US", { month: "short", day: "numeric" });

function clockText(t: number): string {
  const d = new Date(t);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * x-axis labels on a 24-hour clock, like the live charts: `14:05:30` below a minute apart,
 * `14:05` below a day, `Nov 26` from a day; a tick at midnight shows its date instead.
 */
function timeLabels(splits: number[], incr: number): string[] {
  return splits.map((t) => {
    const d = new Date(t);
    if (incr >= 86_400_000) return day(d);
    if (d.getHours() === 0 && d.getMinutes() === 0 && d.getSeconds() === 0) return day(d);
    const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
    return incr < 60_000 ? `${hm}:${pad(d.getSeconds())}` : hm;
  });
}
