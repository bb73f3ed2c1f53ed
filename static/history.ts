/// <reference lib="dom" />
/**
 * The history view: asks `/api/series` for CPU and memory of every known instance over the
 * chosen range (a preset such as "the last 6 h", or an absolute range after a drag-to-zoom)
 * with about one point per pixel, and draws the answer in two {@link HistoryChart}s. The
 * collector picks the tier (raw, 1 min or 1 h buckets) that fits the range; zooming in asks
 * again, so finer detail appears. Hidden instances are queried too, so showing one again
 * needs no new request. A picked custom metric is asked for in the same requests and drawn in
 * a third chart; memory is drawn against each instance's container limit, when it has one. Only the newest request's answer is drawn; a failed one is shown
 * as text.
 *
 * @module
 */
import { METRICS } from "../lib/protocol.ts";
import { type Bucket, gapFor, parseAnswer } from "./history_data.ts";
import type { DrawLine, HistoryChart, HistoryChartInfo } from "./history_chart.ts";
import {
  formatBucket,
  formatRange,
  formatSpan,
  pointsFor,
  presetOf,
  PRESETS,
  type RangeKey,
  refreshEvery,
  resolveRange,
  zoomTo,
} from "./range.ts";
import { el, setText } from "./dom.ts";
import { errorMessage } from "../lib/errors.ts";

/** An instance as the history view needs it. */
export interface HistoryInstance {
  id: string;
  name: string;
  color: string;
  intervalMs: number;
  hidden: boolean;
  /** The container's memory limit in bytes, when the instance reports one. */
  memLimit: number | null;
  /** A leak's trend line on the memory chart (bytes), when the instance is alerting. */
  memTrend?: [[number, number], [number, number]] | null;
}

/** The page elements the view writes to. */
export interface HistoryElements {
  presets: HTMLElement;
  reset: HTMLButtonElement;
  range: HTMLElement;
  tier: HTMLElement;
  loading: HTMLElement;
  error: HTMLElement;
  section: HTMLElement;
}

/** What the view depends on. */
export interface HistoryDeps {
  cpu: HistoryChart;
  mem: HistoryChart;
  /** The picked custom metric's chart. */
  custom: HistoryChart;
  /** The picked custom metric (a series key), or null. */
  metric(): string | null;
  els: HistoryElements;
  /** The collector's clock now. */
  now(): number;
  /** Every known instance, in display order. */
  instances(): HistoryInstance[];
  /** Called when the range changes (the page writes it to the URL). */
  onRange(range: RangeKey, abs: { from: number; to: number } | null): void;
  fetch?: typeof fetch;
}

/** What the debug object reports. */
export interface HistoryInfo {
  active: boolean;
  range: RangeKey;
  abs: { from: number; to: number } | null;
  from: number | null;
  to: number | null;
  tier: string | null;
  bucketMs: number | null;
  loading: boolean;
  error: string | null;
  lastUrl: string | null;
  queries: number;
  answers: number;
  cpu: HistoryChartInfo;
  mem: HistoryChartInfo;
  custom: HistoryChartInfo;
  /** The custom metric of the last request. */
  metric: string | null;
}

/** Most series per request (the API's limit). */
const MAX_SERIES = 100;

/** The history view's controller. */
export class HistoryView {
  #range: RangeKey;
  #abs: { from: number; to: number } | null;
  #active = false;
  #ready = false;
  #shown: { from: number; to: number } | null = null;
  /** id -> metric -> buckets of the last answer. */
  #data = new Map<string, Map<string, Bucket[]>>();
  #queried = new Set<string>();
  #metric: string | null = null;
  #tier: string | null = null;
  #bucketMs: number | null = null;
  #loading = false;
  #error: string | null = null;
  #lastUrl: string | null = null;
  #queries = 0;
  #answers = 0;
  #abort: AbortController | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #buttons: HTMLButtonElement[] = [];

  constructor(
    readonly deps: HistoryDeps,
    range: RangeKey,
    abs: { from: number; to: number } | null,
  ) {
    this.#range = range;
    this.#abs = abs;
    this.#buttons = PRESETS.map((p) => {
      const b = el("button", "seg", p.label);
      b.type = "button";
      b.dataset.range = p.key;
      b.addEventListener("click", () => this.setRange(p.key, null));
      return b;
    });
    deps.els.presets.replaceChildren(...this.#buttons);
    deps.els.reset.addEventListener("click", () => this.setRange(this.#range, null));
    this.#paintControls();
  }

  /** Show or hide the view; showing it loads the range. */
  setActive(active: boolean): void {
    if (this.#active === active) return;
    this.#active = active;
    if (active) this.load();
    else this.#stop();
  }

  /** The collector's clock and instance list are known (first `hello`): loading may start. */
  setReady(): void {
    if (this.#ready) return;
    this.#ready = true;
    this.load();
  }

  /** Choose a preset (`abs` null) or an absolute range, and load it. */
  setRange(range: RangeKey, abs: { from: number; to: number } | null): void {
    this.#range = range;
    this.#abs = abs;
    this.#paintControls();
    this.deps.onRange(range, abs);
    this.load();
  }

  /** A drag selected `[a, b]` on a chart: show it at once, then ask for its detail. */
  zoom(a: number, b: number): void {
    const r = zoomTo(a, b, this.deps.now());
    for (const c of [this.deps.cpu, this.deps.mem, this.deps.custom]) c.setRange(r.from, r.to);
    this.setRange(this.#range, r);
  }

  /** Back from a zoom to the chosen preset. */
  reset(): void {
    if (this.#abs) this.setRange(this.#range, null);
  }

  /** Instances appeared or went: ask again if one is new to the last request. */
  instancesChanged(): void {
    if (!this.#active || !this.#ready) return;
    const ids = this.deps.instances().map((i) => i.id);
    if (ids.some((id) => !this.#queried.has(id))) this.load();
    else this.redraw();
  }

  /** The custom metric changed: ask again (the old answer lacks it). */
  metricChanged(): void {
    if (this.deps.metric() !== this.#metric) this.load();
  }

  /** Draw the last answer again (an instance was hidden or shown, or recoloured). */
  redraw(): void {
    if (!this.#shown) return;
    const lines = (metric: string, limit = false): DrawLine[] =>
      this.deps.instances().filter((i) => !i.hidden && this.#data.get(i.id)?.has(metric)).map((
        i,
      ) => ({
        id: i.id,
        name: i.name,
        color: i.color,
        buckets: this.#data.get(i.id)?.get(metric) ?? [],
        gapMs: gapFor(this.#bucketMs ?? 0, i.intervalMs),
        limit: limit ? i.memLimit : null,
        trend: limit ? i.memTrend ?? null : null,
      }));
    const { from, to } = this.#shown;
    this.deps.cpu.draw(lines(METRICS.cpuPercent), from, to);
    this.deps.mem.draw(lines(METRICS.rssBytes, true), from, to);
    // Only instances that reported the metric in the range get a line.
    if (this.#metric) {
      this.deps.custom.draw(
        lines(this.#metric).filter((l) => l.buckets.length > 0),
        from,
        to,
      );
    }
  }

  /** Ask for the current range now (when active and ready). */
  load(): void {
    if (!this.#active || !this.#ready) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#abort?.abort();
    const abort = this.#abort = new AbortController();
    const { from, to } = resolveRange(this.#range, this.#abs, this.deps.now());
    const points = pointsFor(this.deps.cpu.plotWidth() || this.deps.els.section.clientWidth / 2);
    const ids = this.deps.instances().map((i) => i.id);
    const metric = this.deps.metric();
    const metrics: string[] = [METRICS.cpuPercent, METRICS.rssBytes];
    if (metric !== null && !metrics.includes(metric)) metrics.push(metric);
    const perRequest = Math.floor(MAX_SERIES / metrics.length);
    if (!this.#shown || metric !== this.#metric) {
      // Nothing drawn yet: show the axes of the range being fetched, not an empty epoch.
      this.deps.cpu.setRange(from, to);
      this.deps.mem.setRange(from, to);
      this.deps.custom.setRange(from, to);
    }
    this.#setLoading(true);
    this.#queries++;
    const urls: string[] = [];
    for (let i = 0; i < ids.length; i += perRequest) {
      const q = new URLSearchParams();
      for (const id of ids.slice(i, i + perRequest)) q.append("instance", id);
      for (const m of metrics) q.append("metric", m); // URLSearchParams encodes `{`, `"`, `=`
      q.set("from", String(from));
      q.set("to", String(to));
      q.set("points", String(points));
      urls.push(`/api/series?${q}`);
    }
    if (urls.length > 0) this.#lastUrl = urls[0];
    void this.#fetchAll(urls, abort.signal).then((result) => {
      if (abort.signal.aborted) return;
      this.#abort = null;
      this.#setLoading(false);
      if (typeof result === "string") {
        this.#error = result;
        setText(this.deps.els.error, `History unavailable: ${result}`);
        this.deps.els.error.hidden = false;
      } else {
        this.#error = null;
        this.deps.els.error.hidden = true;
        this.#answers++;
        this.#data = result.data;
        this.#queried = new Set(ids);
        this.#metric = metric;
        this.#tier = result.tier;
        this.#bucketMs = result.bucketMs;
        this.#shown = { from, to };
        this.redraw();
      }
      this.#paintControls();
      if (!this.#abs && this.#active) {
        this.#timer = setTimeout(() => this.load(), refreshEvery(to - from));
      }
    });
  }

  async #fetchAll(
    urls: string[],
    signal: AbortSignal,
  ): Promise<
    | { data: Map<string, Map<string, Bucket[]>>; tier: string | null; bucketMs: number | null }
    | string
  > {
    const data = new Map<string, Map<string, Bucket[]>>();
    let tier: string | null = null;
    let bucketMs: number | null = null;
    const doFetch = this.deps.fetch ?? fetch;
    try {
      const answers = await Promise.all(urls.map(async (url) => {
        const res = await doFetch(url, { signal, headers: { accept: "application/json" } });
        let body: unknown = null;
        try {
          body = await res.json();
        } catch {
          return `HTTP ${res.status} ${res.statusText}`.trim();
        }
        const a = parseAnswer(body);
        return typeof a === "string" || res.ok ? a : `HTTP ${res.status}`;
      }));
      for (const a of answers) {
        if (typeof a === "string") return a;
        tier = a.tier;
        bucketMs = a.bucketMs;
        for (const s of a.series) {
          let byMetric = data.get(s.instance);
          if (!byMetric) data.set(s.instance, byMetric = new Map());
          byMetric.set(s.metric, s.points);
        }
      }
      return { data, tier, bucketMs };
    } catch (e) {
      if (signal.aborted) return "aborted";
      return errorMessage(e);
    }
  }

  #stop(): void {
    this.#abort?.abort();
    this.#abort = null;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#setLoading(false);
  }

  #setLoading(on: boolean): void {
    this.#loading = on;
    this.deps.els.loading.hidden = !on;
    this.deps.els.section.classList.toggle("is-loading", on);
  }

  #paintControls(): void {
    for (const b of this.#buttons) {
      b.setAttribute("aria-pressed", String(!this.#abs && b.dataset.range === this.#range));
    }
    const els = this.deps.els;
    els.reset.hidden = !this.#abs;
    const r = this.#shown ?? this.#abs;
    const label = this.#abs
      ? `Zoomed · ${formatRange(this.#abs.from, this.#abs.to)} (${
        formatSpan(this.#abs.to - this.#abs.from)
      })`
      : `Last ${presetOf(this.#range).label}${r ? ` · ${formatRange(r.from, r.to)}` : ""}`;
    setText(els.range, label);
    els.tier.hidden = this.#tier === null;
    setText(
      els.tier,
      this.#tier === null
        ? ""
        : `tier ${this.#tier} · ${formatBucket(this.#bucketMs ?? 0)} buckets`,
    );
    els.tier.dataset.tier = this.#tier ?? "";
  }

  /** The view as the debug object reports it. */
  info(): HistoryInfo {
    return {
      active: this.#active,
      range: this.#range,
      abs: this.#abs ? { ...this.#abs } : null,
      from: this.#shown?.from ?? null,
      to: this.#shown?.to ?? null,
      tier: this.#tier,
      bucketMs: this.#bucketMs,
      loading: this.#loading,
      error: this.#error,
      lastUrl: this.#lastUrl,
      queries: this.#queries,
      answers: this.#answers,
      cpu: this.deps.cpu.info(),
      mem: this.deps.mem.info(),
      custom: this.deps.custom.info(),
      metric: this.#metric,
    };
  }
}
