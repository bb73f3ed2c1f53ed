/// <reference lib="dom" />
/**
 * The service panels: one card per service from the collector's `services` frames, with its
 * live/total instances and, when it reports request metrics, its request rate, p50/p95/p99
 * latency (merged over all instances by the collector, never averaged here) and 5xx share,
 * each with a sparkline of the last few minutes kept in the page ({@link ServiceHistory}).
 * Every card also shows the CPU and memory of the service's live instances, summed. Its live
 * count is the collector's, but never counts an instance the page itself sees as stale (the
 * header's and the table's rule): while the page is cut off from the collector, no frame comes
 * to say so, and the cards would go on saying "live" beside a header that says "stale". Cards
 * are built once with `textContent` and refreshed in place, the time-dependent parts (count,
 * usage) also between frames ({@link ServicePanels.refresh}). With more than one service,
 * clicking a card (or its name, a button) asks the page to show only that service; the
 * focused card is marked and the others dimmed.
 *
 * @module
 */
import type { ServiceView } from "../lib/live/messages.ts";
import { METRICS } from "../lib/protocol.ts";
import { el, setText } from "./dom.ts";
import { formatCpu, formatLatency, formatMiB, formatRate, formatShare } from "./format.ts";
import { statusOf } from "./status.ts";
import type { Entry } from "./store.ts";
import { type ServiceHistory, type ServicePoint, SPARK_MS } from "./service_history.ts";

/** Colours the sparklines use. */
export interface SparkTheme {
  rps: string;
  latency: string;
  latencyFaint: string;
  errors: string;
  grid: string;
}

interface Stat {
  box: HTMLElement;
  value: HTMLSpanElement;
  sub: HTMLSpanElement;
  spark: HTMLCanvasElement;
}

interface Card {
  card: HTMLElement;
  pick: HTMLButtonElement;
  head: HTMLElement;
  count: HTMLSpanElement;
  usage: HTMLSpanElement;
  restarts: HTMLSpanElement;
  stats: HTMLElement;
  none: HTMLElement;
  rps: Stat;
  latency: Stat;
  errors: Stat;
}

/** What the debug object reports per panel: exactly the text shown. */
export interface PanelInfo {
  service: string;
  count: string;
  http: boolean;
  rps: string;
  p50: string;
  p95: string;
  p99: string;
  errors: string;
  /** Points in the sparklines. */
  points: number;
  /** Whether the page is narrowed to this service. */
  focused: boolean;
  /** The CPU and memory summed over its live instances, as shown ("" when none is live). */
  usage: string;
}

/** CPU and memory summed over a service's live instances (null: none of them reports it). */
export interface ServiceUsage {
  /** % of one core (above 100 when the instances use more than one core together). */
  cpuPercent: number | null;
  rssBytes: number | null;
}

/** What the panels ask of the page. */
export interface PanelDeps {
  /** A card was clicked: the page narrows to its service, or widens if it was focused. */
  onPick(service: string): void;
  /** The service's usage now (collector time), or null when no instance of it is live. */
  usage(service: string, now: number): ServiceUsage | null;
  /** How many of the service's instances the page sees live now (collector time). */
  live(service: string, now: number): number;
}

/** How many of `service`'s instances are live at `now` by the page's own check (status.ts). */
export function serviceLive(entries: Iterable<Entry>, service: string, now: number): number {
  let live = 0;
  for (const e of entries) {
    if (e.view.service === service && statusOf(e.view, now) === "live") live++;
  }
  return live;
}

/** {@link ServiceUsage} of `service` from the page's instances; null when none is live. */
export function serviceUsage(
  entries: Iterable<Entry>,
  service: string,
  now: number,
): ServiceUsage | null {
  let live = 0;
  let cpuPercent: number | null = null;
  let rssBytes: number | null = null;
  const add = (sum: number | null, v: number | undefined) =>
    typeof v === "number" && Number.isFinite(v) ? (sum ?? 0) + v : sum;
  for (const e of entries) {
    if (e.view.service !== service || statusOf(e.view, now) !== "live") continue;
    live++;
    cpuPercent = add(cpuPercent, e.view.latest[METRICS.cpuPercent]);
    rssBytes = add(rssBytes, e.view.latest[METRICS.rssBytes]);
  }
  return live > 0 ? { cpuPercent, rssBytes } : null;
}

/** The panels, keyed by service name (a Map: any name is just a key). */
export class ServicePanels {
  readonly #cards = new Map<string, Card>();
  #focus: string | null = null;

  constructor(
    readonly host: HTMLElement,
    readonly history: ServiceHistory,
    readonly theme: SparkTheme,
    readonly deps: PanelDeps = { onPick: () => {}, usage: () => null, live: () => Infinity },
  ) {}

  /** Mark the focused service's card (null: none) and dim the others. */
  setFocus(service: string | null): void {
    this.#focus = service;
    this.#paintFocus();
  }

  #paintFocus(): void {
    const pickable = this.#cards.size > 1 || this.#focus !== null;
    for (const [name, c] of this.#cards) {
      const on = name === this.#focus;
      c.card.classList.toggle("is-focus", on);
      c.card.classList.toggle("is-dim", this.#focus !== null && !on);
      c.card.classList.toggle("is-pickable", pickable);
      c.pick.disabled = !pickable;
      c.pick.setAttribute("aria-pressed", String(on));
      c.pick.title = !pickable ? name : on ? "Show every service" : `Show only ${name}`;
    }
  }

  /** Redraw from the history's newest frame; `now` is the collector's clock. */
  render(now: number): void {
    const services = this.history.latest();
    const names = new Set(services.map((s) => s.service));
    for (const [name, c] of this.#cards) {
      if (!names.has(name)) {
        c.card.remove();
        this.#cards.delete(name);
      }
    }
    services.forEach((s, i) => {
      let c = this.#cards.get(s.service);
      if (!c) this.#cards.set(s.service, c = buildCard(s.service, this.deps.onPick));
      if (this.host.children[i] !== c.card) {
        this.host.insertBefore(c.card, this.host.children[i] ?? null);
      }
      this.#fill(c, s, now);
    });
    this.host.hidden = services.length === 0;
    this.#paintFocus();
  }

  /**
   * Refresh what changes with time alone (live counts, usage) from the newest frame; between
   * frames, and while none come because the connection is down. `now` is the collector's clock.
   */
  refresh(now: number): void {
    for (const s of this.history.latest()) {
      const c = this.#cards.get(s.service);
      if (c) this.#fillCounts(c, s, now);
    }
  }

  /** Panels as the debug object reports them. */
  info(): PanelInfo[] {
    return [...this.#cards.entries()].map(([service, c]) => ({
      service,
      count: c.count.textContent ?? "",
      http: !c.stats.hidden,
      rps: c.rps.value.textContent ?? "",
      p50: c.latency.sub.dataset.p50 ?? "",
      p95: c.latency.value.textContent ?? "",
      p99: c.latency.sub.dataset.p99 ?? "",
      errors: c.errors.value.textContent ?? "",
      points: this.history.points(service).length,
      focused: service === this.#focus,
      usage: c.usage.textContent ?? "",
    }));
  }

  /** The live count and the usage line: they change with time, not only with frames. */
  #fillCounts(c: Card, s: ServiceView, now: number): void {
    // Out of those expected up: an instance that said goodbye is not missing.
    const expected = s.instances - (Number.isFinite(s.stopped) ? s.stopped : 0);
    const live = Math.min(s.live, this.deps.live(s.service, now));
    setText(c.count, `${live} / ${expected} live`);
    c.count.dataset.all = String(live >= expected);
    // With none live the request figures are the last ones heard, not what is happening.
    c.stats.dataset.old = String(live === 0);
    c.stats.title = live === 0
      ? "No live instance: the last figures heard"
      : "Over the last 10 s, summed over the live instances";
    setText(c.usage, usageLine(this.deps.usage(s.service, now), s.http !== null));
  }

  #fill(c: Card, s: ServiceView, now: number): void {
    this.#fillCounts(c, s, now);
    setText(
      c.restarts,
      s.restarts > 0 ? `${s.restarts} restart${s.restarts === 1 ? "" : "s"}` : "",
    );
    const pts = this.history.points(s.service);
    const h = s.http;
    c.stats.hidden = h === null;
    c.none.hidden = h !== null;
    const t = this.theme;
    // Without request metrics a service is its counts and usage: a compact card, the usage
    // on the line under the name. A full card has it in the head.
    c.card.classList.toggle("is-compact", h === null);
    if (h === null && c.usage.parentElement !== c.none) c.none.append(c.usage);
    if (h !== null && c.usage.parentElement !== c.head) c.head.insertBefore(c.usage, c.restarts);
    if (h === null) return;
    setText(c.rps.value, formatRate(h.requestsPerS));
    setText(c.latency.value, formatLatency(h.p95));
    const p50 = formatLatency(h.p50);
    const p99 = formatLatency(h.p99);
    c.latency.sub.dataset.p50 = p50;
    c.latency.sub.dataset.p99 = p99;
    setText(c.latency.sub, `p50 ${p50} · p99 ${p99}`);
    setText(c.errors.value, formatShare(h.errorRatio));
    setText(c.errors.sub, `${formatRate(h.errorsPerS)} 5xx/s`);
    c.errors.box.dataset.level = h.errorRatio >= 0.05
      ? "bad"
      : h.errorRatio >= 0.01
      ? "warn"
      : "ok";
    spark(c.rps.spark, pts, now, [{ pick: (p) => p.rps, color: t.rps }], t.grid);
    spark(c.latency.spark, pts, now, [
      { pick: (p) => p.p99, color: t.latencyFaint, dash: true },
      { pick: (p) => p.p50, color: t.latencyFaint },
      { pick: (p) => p.p95, color: t.latency },
    ], t.grid);
    spark(c.errors.spark, pts, now, [{
      pick: (p) => (p.errors === null ? null : p.errors * 100),
      color: t.errors,
    }], t.grid);
  }
}

/**
 * A card's usage text: `CPU 12.5 % · 144.0 MiB`, leaving out what no instance reports (OTLP
 * apps report neither). Without figures, a compact card (no request metrics: `http` false)
 * says why; a full card shows nothing.
 */
export function usageLine(u: ServiceUsage | null, http: boolean): string {
  const figures = u
    ? [
      u.cpuPercent === null ? "" : `CPU ${formatCpu(u.cpuPercent)}`,
      u.rssBytes === null ? "" : formatMiB(u.rssBytes),
    ].filter(Boolean).join(" · ")
    : "";
  if (figures || http) return figures;
  return u ? "no CPU or memory reported" : "no live instance";
}

function buildCard(service: string, onPick: (service: string) => void): Card {
  const card = el("article", "card svc");
  card.dataset.service = service;
  const head = el("header", "svc-head");
  const name = el("h2", "svc-name");
  const pick = el("button", "svc-pick", service);
  pick.type = "button";
  pick.disabled = true;
  name.append(pick);
  // The whole card is the target; the button gives keyboards and screen readers one.
  card.addEventListener("click", () => {
    if (!pick.disabled) onPick(service);
  });
  const count = el("span", "svc-count num");
  const usage = el("span", "svc-usage num");
  usage.title = "CPU and resident memory, summed over the live instances";
  const restarts = el("span", "svc-restarts");
  head.append(name, count, restarts);
  const stats = el("div", "svc-stats");
  const rps = stat("rps", "Requests", "req/s");
  const latency = stat("latency", "Latency p95", "");
  const errors = stat("errors", "Errors", "5xx");
  stats.append(rps.box, latency.box, errors.box);
  // Without request metrics: the usage alone (why the card is small is its title).
  const none = el("p", "svc-note");
  none.title = "No request metrics reported (see instrument() in the README)";
  card.append(head, stats, none);
  return { card, pick, head, count, usage, restarts, stats, none, rps, latency, errors };
}

function stat(kind: string, label: string, unit: string): Stat {
  const box = el("div", `stat stat-${kind}`);
  const top = el("div", "stat-label", label);
  const line = el("div", "stat-line");
  const value = el("span", "stat-value num");
  line.append(value);
  if (unit) line.append(el("span", "stat-unit", unit));
  const sub = el("span", "stat-sub");
  line.append(sub);
  const spark = el("canvas", "spark");
  spark.setAttribute("aria-hidden", "true");
  box.append(top, line, spark);
  return { box, value, sub, spark };
}

interface SparkLine {
  pick: (p: ServicePoint) => number | null;
  color: string;
  dash?: boolean;
}

/**
 * A small line chart of the points over the last few minutes (at least 30 s, so a young page
 * does not stretch seconds across the width); y from 0 to the largest value (or `top`).
 */
function spark(
  canvas: HTMLCanvasElement,
  pts: readonly ServicePoint[],
  now: number,
  lines: SparkLine[],
  grid: string,
  top = 0,
): void {
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (w === 0 || h === 0) return;
  const dpr = devicePixelRatio || 1;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const oldest = pts.length ? pts[0].t : now;
  const span = Math.min(SPARK_MS, Math.max(30_000, now - oldest));
  const from = now - span;
  let max = top;
  for (const l of lines) for (const p of pts) max = Math.max(max, l.pick(p) ?? 0);
  max = max > 0 ? max * 1.15 : 1;
  const pad = 2;
  const x = (t: number) => ((t - from) / span) * w;
  const y = (v: number) => h - pad - (v / max) * (h - 2 * pad);
  ctx.strokeStyle = grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(0, h - 0.5);
  ctx.lineTo(w, h - 0.5);
  ctx.stroke();
  lines.forEach((l, li) => {
    const last = li === lines.length - 1;
    ctx.beginPath();
    let open = false;
    let firstX = 0;
    let lastX = 0;
    for (const p of pts) {
      if (p.t < from) continue;
      const v = l.pick(p);
      if (v === null) {
        open = false;
        continue;
      }
      const px = x(p.t);
      if (!open) {
        ctx.moveTo(px, y(v));
        firstX = px;
        open = true;
      } else ctx.lineTo(px, y(v));
      lastX = px;
    }
    ctx.setLineDash(l.dash ? [3, 3] : []);
    ctx.strokeStyle = l.color;
    ctx.lineWidth = last ? 1.75 : 1.25;
    ctx.lineJoin = "round";
    ctx.stroke();
    if (last && open && lastX > firstX) {
      // A faint area under the main line.
      ctx.lineTo(lastX, h);
      ctx.lineTo(firstX, h);
      ctx.closePath();
      ctx.globalAlpha = 0.1;
      ctx.fillStyle = l.color;
      ctx.fill();
      ctx.globalAlpha = 1;
    }
  });
  ctx.setLineDash([]);
}
