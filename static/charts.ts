/// <reference lib="dom" />
/**
 * The live strip charts (Smoothie). One chart per metric, one line per instance id, drawn
 * in the instance's colour. The y axis starts at 0 and grows with the data: there is no
 * upper clamp, so CPU above 100 % (several cores) and memory above 100 MiB are shown.
 *
 * Smoothie normally draws at the browser's `Date.now()`; here each frame is rendered at the
 * collector's clock (`clock.now()`), so points stamped with collector times sit in place even
 * when the browser's clock is off. The time window (1/5/15 min) sets `millisPerPixel` from the
 * canvas width, re-read on every frame so resizing just works.
 *
 * The lines end a gutter's width before the right edge, so the y-axis labels Smoothie draws
 * there never sit on the newest data; time labels that would be cut by the left edge, or that
 * would name a time in the gutter, are left out. The y axis follows the points in the window
 * only: a line whose points have all scrolled out (a stopped or restarted instance) is
 * emptied, and a rebuild loads only the window, so neither an old peak nor a gone instance's
 * last value keeps the axis up (Smoothie keeps one point before the left edge, and counts it).
 *
 * A chart may also carry per-instance limits (the memory chart: each container's memory
 * limit), drawn as a dashed line in the instance's colour and kept inside the y axis, and
 * per-instance trend lines (the memory chart: a leak's fitted line, extended to now), drawn
 * dashed in the instance's colour over a dark casing, so the trend stays readable where it
 * runs along the line it was fitted to.
 *
 * @module
 */
import { SmoothieChart, TimeSeries } from "smoothie";
import type { Point, Store } from "./store.ts";
import type { ClockSync } from "./clock.ts";
import { formatAxis, niceCeil } from "./format.ts";
import type { Theme } from "./theme.ts";
import type { HiddenIds } from "./page_state.ts";

/** What differs between the CPU and the memory chart. */
export interface ChartKind {
  /** The series key drawn (`cpu.percent`, or a picked custom metric). */
  metric: string;
  /** Wire value -> plotted value (bytes -> MiB). */
  scale: (v: number) => number;
  /** Unit appended to axis labels. */
  unit: string;
  /** Smallest top of the y axis, so an idle line is not magnified into noise. */
  floor: number;
  /** Reference lines, e.g. 100 % = one core. */
  marks?: number[];
  /** Lines only for instances that report the metric (a custom metric), not for all. */
  sparse?: boolean;
}

/** What the debug object reports per line. */
export interface LineInfo {
  id: string;
  color: string;
  points: number;
  oldest: number | null;
  newest: number | null;
  max: number | null;
  /** Hidden from the chart (toggled off in the table). */
  hidden: boolean;
}

/** A trend drawn on the canvas, in CSS pixels, for the debug object. */
export interface TrendInfo {
  id: string;
  color: string;
  /** The line in wire units: `[[t0, v0], [t1, v1]]`. */
  from: [number, number];
  to: [number, number];
  /** Where it was drawn, CSS pixels of the canvas. */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Lines are drawn this long after their newest point arrives, so they reach the edge. */
const DELAY_MS = 1000;

interface Line {
  series: TimeSeries;
  color: string;
  /** Time of the newest point appended (-Infinity: none). */
  newest: number;
  /** Whether the series holds points (it is emptied once they all scroll out). */
  held: boolean;
  /**
   * Times of the points the series holds, oldest first, trimmed as Smoothie trims its own
   * (one point before the window stays, where the line enters): for the debug object.
   */
  times: number[];
}

/** How much of the way to its target the y axis moves per frame (Smoothie's default feel). */
const SCALE_SMOOTHING = 0.2;

/** Space between the y-axis labels and the gutter's left side, CSS px. */
const GUTTER_PAD_PX = 8;

/** A frame as the debug object reports it: {@link Frame} and the gutter's width, CSS px. */
export type ChartFrame = Frame & { gutter: number };

/** Where the last frame was drawn: for the time labels and for loading only the window. */
export interface Frame {
  /** Collector time at the right edge of the canvas (in the gutter, ahead of the data). */
  right: number;
  /** Collector time of the data's right end (the newest drawable point). */
  dataRight: number;
  /** Collector time at the left edge. */
  left: number;
  width: number;
  millisPerPixel: number;
}

/** One live chart bound to a canvas. */
export class LiveChart {
  readonly chart: SmoothieChart;
  readonly #lines = new Map<string, Line>();
  #hidden: HiddenIds = new Set<string>();
  #windowMs: number;
  /** Instance id -> limit in wire units (e.g. bytes), drawn dashed. */
  #limits = new Map<string, number>();
  /** Instance id -> trend line in wire units, drawn dashed over a casing. */
  #trends = new Map<string, [[number, number], [number, number]]>();
  #drawnTrends: TrendInfo[] = [];
  /** The last frame's geometry (null before the first). */
  #frame: Frame | null = null;
  /** Widest y-axis label so far for this kind, CSS px: the gutter is this wide, plus a pad. */
  #labelPx = 0;
  /** The y range the chart is heading for (what the axis labels settle on). */
  #range: { min: number; max: number } | null = null;
  /**
   * The y range of the last frame drawn, as it eases toward {@link #range}: this chart does
   * the easing itself (Smoothie's own is off), so overlays use the range the lines used.
   */
  #shown: { min: number; max: number } | null = null;
  /** Frames Smoothie actually drew (it skips frames with nothing new): counted in yRangeFunction. */
  #drawn = 0;
  /** Collector time at the canvas's right edge in the last frame drawn, whole pixels. */
  #drawnAt = 0;
  kind: ChartKind;

  constructor(
    readonly canvas: HTMLCanvasElement,
    kind: ChartKind,
    windowMs: number,
    readonly theme: Theme,
  ) {
    this.kind = kind;
    this.#windowMs = windowMs;
    this.chart = new SmoothieChart({
      responsive: true,
      interpolation: "linear",
      millisPerPixel: 100,
      minValue: 0,
      maxValueScale: 1.08,
      scaleSmoothing: 1, // the easing is done below, so its state is ours to read
      // Called once per frame Smoothie draws, and only then.
      yRangeFunction: (r) => {
        const max = niceCeil(Math.max(r.max, this.#topLimit()), this.kind.floor);
        this.#range = Number.isFinite(max) ? { min: 0, max } : null;
        this.#drawn++;
        if (!Number.isFinite(max)) return { min: 0, max };
        const from = this.#shown?.max ?? max;
        // Snap once the next step would be too small for Smoothie to count as animating
        // (0.1), or it would stop drawing frames short of the target and the labels with it.
        const near = Math.abs(max - from) * SCALE_SMOOTHING <= 0.1;
        const eased = near ? max : from + SCALE_SMOOTHING * (max - from);
        this.#shown = { min: 0, max: eased };
        return { min: 0, max: eased };
      },
      grid: {
        fillStyle: theme.background,
        strokeStyle: theme.grid,
        lineWidth: 1,
        verticalSections: 4,
        millisPerLine: gridStep(windowMs),
        borderVisible: false,
      },
      labels: {
        fillStyle: theme.text,
        fontSize: 11,
        fontFamily: theme.font,
        showIntermediateLabels: true,
        precision: 1,
      },
      yMaxFormatter: (v) => this.#yLabel(`${formatAxis(v)} ${this.kind.unit}`.trim()),
      yMinFormatter: (v) => this.#yLabel(`${formatAxis(v)}`),
      yIntermediateFormatter: (v) => this.#yLabel(`${formatAxis(v)}`),
      timestampFormatter: (d) => this.#timeLabel(d),
      horizontalLines: (kind.marks ?? []).map((value) => ({
        value,
        color: theme.mark,
        lineWidth: 1,
      })),
    });
    // streamTo binds the canvas; we then drive frames ourselves at the collector's clock.
    this.chart.streamTo(canvas, DELAY_MS);
    this.chart.stop();
  }

  /** The visible window in ms. */
  get windowMs(): number {
    return this.#windowMs;
  }

  /** Change the visible window and redraw the lines from the store (Smoothie drops data it no longer shows). */
  setWindow(ms: number, store: Store): void {
    this.#windowMs = ms;
    this.chart.options.grid!.millisPerLine = gridStep(ms);
    this.rebuild(store);
  }

  /** Draw another metric (the custom chart's picker): every line is rebuilt from the store. */
  setKind(kind: ChartKind, store: Store): void {
    this.kind = kind;
    this.#labelPx = 0; // other units, other label widths
    this.rebuild(store);
  }

  /** Set or clear (null) the limit line of `id`, in wire units. */
  setLimit(id: string, value: number | null): void {
    if (value !== null && Number.isFinite(value) && value > 0) this.#limits.set(id, value);
    else this.#limits.delete(id);
  }

  /** Replace the trend lines (instance id -> `[[t0, v0], [t1, v1]]`, wire units). */
  setTrends(trends: ReadonlyMap<string, [[number, number], [number, number]]>): void {
    this.#trends = new Map(trends);
    if (this.#trends.size === 0) this.#drawnTrends = [];
  }

  /**
   * Replace every line with what the store holds in the window (and the point before it,
   * where a line enters from the left): the store keeps the longest window, and points the
   * chart does not show would still count for its y axis until they are dropped.
   */
  rebuild(store: Store): void {
    for (const line of this.#lines.values()) this.chart.removeTimeSeries(line.series);
    this.#lines.clear();
    let newest = -Infinity;
    for (const entry of store.entries.values()) {
      const points = entry.points.get(this.kind.metric);
      if (points?.length) newest = Math.max(newest, points[points.length - 1][0]);
    }
    // Before the first frame, the newest point stands for now.
    const since = (this.#frame ? this.#frame.dataRight : newest) - this.#windowMs;
    for (const [id, entry] of store.entries) {
      const points = entry.points.get(this.kind.metric) ?? [];
      if (this.kind.sparse && points.length === 0 && !(this.kind.metric in entry.view.latest)) {
        continue;
      }
      this.ensure(id, entry.color);
      let from = points.length;
      while (from > 0 && points[from - 1][0] >= since) from--;
      this.append(id, points.slice(Math.max(0, from - 1)));
    }
  }

  /** Hide the lines of these ids (and show every other); asked again for every new line. */
  setHidden(ids: HiddenIds): void {
    this.#hidden = ids;
    for (const [id, line] of this.#lines) line.series.disabled = ids.has(id);
  }

  /** Make sure a line exists for `id` and is drawn in `color`. */
  ensure(id: string, color: string): void {
    const line = this.#lines.get(id);
    if (line) {
      if (line.color !== color) {
        const opts = this.chart.getTimeSeriesOptions(line.series);
        opts.strokeStyle = color;
        line.color = color;
      }
      return;
    }
    const series = new TimeSeries({ resetBounds: true, resetBoundsInterval: 2000 });
    series.disabled = this.#hidden.has(id);
    this.chart.addTimeSeries(series, {
      strokeStyle: color,
      lineWidth: 2,
    });
    this.#lines.set(id, { series, color, newest: -Infinity, held: false, times: [] });
  }

  /** Add points (collector time, wire value) to the line of `id`. */
  append(id: string, points: readonly Point[]): void {
    const line = this.#lines.get(id);
    if (!line || points.length === 0) return;
    for (const [t, v] of points) {
      line.series.append(t, this.kind.scale(v));
      if (t > line.newest) line.newest = t;
      insertSorted(line.times, t);
    }
    line.held = true;
  }

  /** Draw one frame at collector time `now`. */
  render(now: number): void {
    const width = this.canvas.clientWidth;
    if (width === 0) return; // not shown (the history view is open)
    // The window fills the canvas less the gutter; the frame's right edge is the gutter's
    // width of time ahead of the data.
    const gutter = this.#labelPx > 0 ? Math.ceil(this.#labelPx) + GUTTER_PAD_PX : 0;
    const mpp = this.#windowMs / Math.max(1, width - gutter);
    this.chart.options.millisPerPixel = mpp;
    const dataRight = now - DELAY_MS;
    this.#frame = {
      right: dataRight + gutter * mpp,
      dataRight,
      left: dataRight - this.#windowMs,
      width,
      millisPerPixel: mpp,
    };
    // A line whose newest point has left the window is emptied: Smoothie would keep its
    // last point, off screen, in the y range (a stopped app's peak held the axis up).
    for (const line of this.#lines.values()) {
      if (line.held && line.newest < this.#frame.left) {
        line.series.clear();
        line.held = false;
        line.times = [];
      } else {
        trimBefore(line.times, this.#frame.left);
      }
    }
    const before = this.#drawn;
    const at = now + gutter * mpp;
    this.chart.render(this.canvas, at);
    // Only over a freshly drawn frame (Smoothie skips frames with nothing new).
    if (this.#drawn === before) return;
    // Where Smoothie put the right edge: the time given, less its delay, in whole pixels.
    const edge = at - DELAY_MS;
    this.#drawnAt = edge - (edge % mpp);
    if (this.#limits.size > 0) this.#drawLimits();
    if (this.#trends.size > 0) this.#drawTrends();
  }

  /** The highest limit of a shown line with points in the window, plotted units (0: none). */
  #topLimit(): number {
    let top = 0;
    for (const [id, v] of this.#limits) {
      if (this.#lines.get(id)?.held && !this.#hidden.has(id)) {
        top = Math.max(top, this.kind.scale(v));
      }
    }
    return top;
  }

  /** A y-axis label, whose width sets the gutter (measured in the label font Smoothie set). */
  #yLabel(text: string): string {
    const w = this.canvas.getContext("2d")?.measureText(text).width ?? 0;
    if (w > this.#labelPx) this.#labelPx = w;
    return text;
  }

  /**
   * A time label, or none where it would be cut by the left edge (Smoothie right-aligns it
   * on its grid line) or where its grid line is in the gutter, ahead of the data.
   */
  #timeLabel(d: Date): string {
    const text = timeLabelText(d, this.chart.options.grid?.millisPerLine ?? 0);
    const f = this.#frame;
    if (!f) return text;
    const t = d.getTime();
    if (t > f.dataRight) return "";
    const x = f.width - (f.right - t) / f.millisPerPixel;
    const w = this.canvas.getContext("2d")?.measureText(text).width ?? 0;
    // 2 px: Smoothie rounds its frame time down to a whole pixel.
    return x - w < 2 ? "" : text;
  }

  /** Dashed lines at each shown instance's limit, in its colour, over the drawn frame. */
  #drawLimits(): void {
    const shown = this.#shown;
    const range = shown ? shown.max - shown.min : NaN;
    if (!shown || !Number.isFinite(range) || range <= 0) return;
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    const f = this.#frame;
    // To the data's right end, not under the axis labels in the gutter.
    const w = f ? f.width - (f.right - f.dataRight) / f.millisPerPixel : this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    ctx.save();
    ctx.setTransform(devicePixelRatio, 0, 0, devicePixelRatio, 0, 0);
    ctx.lineWidth = 1.5;
    ctx.setLineDash([6, 4]);
    for (const [id, v] of this.#limits) {
      const line = this.#lines.get(id);
      if (!line || this.#hidden.has(id)) continue;
      const y = Math.round(h * (1 - (this.kind.scale(v) - shown.min) / range)) + 0.5;
      if (y < 0 || y > h) continue;
      ctx.strokeStyle = line.color;
      ctx.beginPath();
      ctx.moveTo(0, y);
      ctx.lineTo(w, y);
      ctx.stroke();
    }
    ctx.restore();
  }

  /**
   * Each shown instance's trend: a dark casing, then a dashed line in its colour, placed the
   * way Smoothie places points (x from the frame's time, y from the current value range).
   */
  #drawTrends(): void {
    const shown = this.#shown;
    const range = shown ? shown.max - shown.min : NaN;
    const mpp = this.chart.options.millisPerPixel ?? 0;
    const drawn: TrendInfo[] = [];
    this.#drawnTrends = drawn;
    if (!shown || !Number.isFinite(range) || range <= 0 || !(mpp > 0)) return;
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    const x = (t: number) => w - (this.#drawnAt - t) / mpp;
    const y = (v: number) => h * (1 - (this.kind.scale(v) - shown.min) / range);
    ctx.save();
    ctx.setTransform(devicePixelRatio, 0, 0, devicePixelRatio, 0, 0);
    ctx.beginPath();
    ctx.rect(0, 0, w, h);
    ctx.clip();
    ctx.lineCap = "butt";
    for (const [id, [[t0, v0], [t1, v1]]] of this.#trends) {
      const line = this.#lines.get(id);
      if (!line || this.#hidden.has(id)) continue;
      const info = {
        id,
        color: line.color,
        from: [t0, v0] as [number, number],
        to: [t1, v1] as [number, number],
        x0: x(t0),
        y0: y(v0),
        x1: x(t1),
        y1: y(v1),
      };
      if (![info.x0, info.y0, info.x1, info.y1].every(Number.isFinite)) continue;
      drawn.push(info);
      ctx.setLineDash([]);
      ctx.strokeStyle = this.theme.background;
      ctx.globalAlpha = 0.75;
      ctx.lineWidth = 5;
      ctx.beginPath();
      ctx.moveTo(info.x0, info.y0);
      ctx.lineTo(info.x1, info.y1);
      ctx.stroke();
      ctx.globalAlpha = 1;
      ctx.strokeStyle = line.color;
      ctx.lineWidth = 2;
      ctx.setLineDash([7, 5]);
      ctx.stroke();
    }
    ctx.restore();
  }

  /** The trends drawn on the last frame, for the debug object. */
  trends(): TrendInfo[] {
    return this.#drawnTrends.map((t) => ({ ...t }));
  }

  /** The limits drawn, for the debug object: id -> wire value. */
  limits(): Record<string, number> {
    return Object.fromEntries(this.#limits);
  }

  /** Lines as the debug object reports them. */
  lines(): LineInfo[] {
    const out: LineInfo[] = [];
    for (const [id, line] of this.#lines) {
      const times = line.times;
      out.push({
        id,
        color: line.color,
        points: times.length,
        oldest: times.length ? times[0] : null,
        newest: times.length ? times[times.length - 1] : null,
        max: Number.isFinite(line.series.maxValue) ? line.series.maxValue : null,
        hidden: line.series.disabled,
      });
    }
    return out;
  }

  /** The y range the chart is heading for (its axis labels show it). */
  valueRange(): { min: number; max: number } | null {
    return this.#range && { ...this.#range };
  }

  /** The last frame's geometry and gutter, for the debug object (CSS px, collector ms). */
  frame(): ChartFrame | null {
    const f = this.#frame;
    return f && { ...f, gutter: (f.right - f.dataRight) / f.millisPerPixel };
  }
}

/** A vertical grid line every 10 s, 1 min or 3 min, by window. */
function gridStep(windowMs: number): number {
  if (windowMs <= 60_000) return 10_000;
  if (windowMs <= 5 * 60_000) return 60_000;
  return 3 * 60_000;
}

/**
 * A time label for a grid line every `stepMs`: `09:48` when the lines fall on whole minutes
 * (their seconds are always :00), else `09:48:20`. At 390 px the 5 and 15 min windows' labels
 * ran together ("09:48:00 09:49:00 09:50:00" read as one string).
 */
export function timeLabelText(d: Date, stepMs: number): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const hm = `${p(d.getHours())}:${p(d.getMinutes())}`;
  return stepMs > 0 && stepMs % 60_000 === 0 ? hm : `${hm}:${p(d.getSeconds())}`;
}

/** Render every chart each animation frame at the collector's clock. */
export function startRenderLoop(charts: readonly LiveChart[], clock: ClockSync): void {
  const frame = () => {
    const now = clock.now();
    for (const c of charts) c.render(now);
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

/** Insert `t` in ascending order (points nearly always come in order: one comparison). */
function insertSorted(times: number[], t: number): void {
  let i = times.length;
  while (i > 0 && times[i - 1] > t) i--;
  if (times[i - 1] === t) return; // Smoothie replaces a point at the same time
  times.splice(i, 0, t);
}

/** Drop times before `left`, but keep the one just before it (the line enters from there). */
function trimBefore(times: number[], left: number): void {
  let n = 0;
  while (n + 1 < times.length && times[n + 1] < left) n++;
  if (n > 0) times.splice(0, n);
}
