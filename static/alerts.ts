/// <reference lib="dom" />
/**
 * The alerts panel and the header's alert count. Active alerts come from the collector's
 * `alerts` frame (once a second): firing first, then pending, each with its state, rule,
 * instance (`service · instance`), message and since/fired time. Resolved alerts come from
 * `GET /api/alerts` (`recent`), asked for on load, every 10 s, and soon after the active set
 * changes (an alert that leaves it has just resolved). With the page narrowed to one service,
 * both lists show that service's alerts only and the panel's count says how many the other
 * services have; the header's count stays the page's total. Rows are keyed by alert id in
 * Maps, built once with `textContent` and refreshed in place.
 *
 * @module
 */
import type { Alert } from "../lib/live/messages.ts";
import { el, setText } from "./dom.ts";
import {
  countBadge,
  formatSpanShort,
  growsText,
  listedSites,
  parseAlerts,
  parseSites,
  siteLine,
  sortActive,
  startOf,
} from "./alerts_model.ts";
import { instanceLabel } from "./instance_label.ts";

/** Most resolved alerts listed. */
const RECENT_SHOWN = 6;
/** How often the resolved list is asked for, ms. */
const RECENT_EVERY_MS = 10_000;

/** The page elements the panel writes to. */
export interface AlertElements {
  active: HTMLElement;
  empty: HTMLElement;
  recent: HTMLElement;
  recentEmpty: HTMLElement;
  badge: HTMLElement;
  summary: HTMLElement;
}

/** What the panel reads from the page. */
export interface AlertDeps {
  els: AlertElements;
  /** The collector's clock now. */
  now(): number;
  /** `service · instance` of an instance id, when the page knows it. */
  name(id: string): string | null;
  fetch?: typeof fetch;
}

interface Item {
  li: HTMLLIElement;
  state: HTMLSpanElement;
  rule: HTMLSpanElement;
  inst: HTMLSpanElement;
  message: HTMLSpanElement;
  /** Where a leak grows: one line, then the sites with their share (heap profile). */
  grows: HTMLSpanElement;
  sites: HTMLOListElement;
  time: HTMLSpanElement;
  ago: HTMLSpanElement;
}

/** What the debug object reports: exactly the text shown. */
export interface AlertsInfo {
  badge: { text: string; level: string; hidden: boolean };
  active: Array<{ id: string; rule: string; instance: string; state: string; text: string }>;
  recent: Array<{ id: string; rule: string; instance: string; state: string; text: string }>;
  empty: boolean;
  fetches: number;
}

/** The panel's controller. */
export class AlertsPanel {
  #active: Alert[] = [];
  #recent: Alert[] = [];
  #sig = "";
  readonly #activeItems = new Map<string, Item>();
  readonly #recentItems = new Map<string, Item>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  #inflight = false;
  #fetches = 0;
  #focus: string | null = null;

  constructor(readonly deps: AlertDeps) {
    this.#paintBadge([]);
  }

  /** List only `service`'s alerts (null: every service's), as the charts show only its lines. */
  setFocus(service: string | null): void {
    this.#focus = service;
    this.render();
  }

  #inFocus(list: readonly Alert[]): Alert[] {
    const focus = this.#focus;
    return focus === null ? [...list] : list.filter((a) => a.service === focus);
  }

  /** Start asking for resolved alerts (now, then every 10 s). */
  start(): void {
    void this.refreshRecent();
  }

  /** A new active set from an `alerts` frame. */
  setActive(list: unknown): void {
    this.#active = sortActive(parseAlerts(list));
    const sig = this.#active.map((a) => `${a.id}:${a.state}`).join("\n");
    const changed = sig !== this.#sig;
    this.#sig = sig;
    this.render();
    if (changed) this.#soon(400);
  }

  /** The active alerts, sorted as shown. */
  active(): readonly Alert[] {
    return this.#active;
  }

  /** Ask `/api/alerts` for the resolved list now. */
  async refreshRecent(): Promise<void> {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#inflight) return this.#soon(500);
    this.#inflight = true;
    try {
      const res = await (this.deps.fetch ?? fetch)("/api/alerts", {
        headers: { accept: "application/json" },
      });
      if (res.ok) {
        const body = await res.json() as { recent?: unknown };
        this.#recent = parseAlerts(body?.recent).filter((a) => a.state === "resolved");
        this.#fetches++;
        this.render();
      }
    } catch {
      // the next refresh tries again; the active list comes from the live frames anyway
    } finally {
      this.#inflight = false;
      this.#soon(RECENT_EVERY_MS);
    }
  }

  #soon(ms: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.refreshRecent(), ms);
  }

  /** Redraw both lists and the header badge (times move on). */
  render(): void {
    const now = this.deps.now();
    const els = this.deps.els;
    const active = this.#inFocus(this.#active);
    sync(els.active, this.#activeItems, active, (a, item) => this.#fillActive(a, item, now));
    els.empty.hidden = active.length > 0;
    els.active.hidden = active.length === 0;
    const recent = this.#inFocus(this.#recent).slice(0, RECENT_SHOWN);
    sync(els.recent, this.#recentItems, recent, (a, item) => this.#fillRecent(a, item, now));
    els.recentEmpty.hidden = recent.length > 0;
    els.recent.hidden = recent.length === 0;
    const of = this.#focus === null ? "" : ` for ${this.#focus}`;
    setText(els.empty, `No alerts${of}`);
    setText(els.recentEmpty, `Nothing resolved${of} yet`);
    this.#paintBadge(active);
  }

  /** The header's count of every active alert; the panel's of those listed (`shown`). */
  #paintBadge(shown: readonly Alert[]): void {
    const b = countBadge(this.#active);
    const { badge, summary } = this.deps.els;
    badge.hidden = b.level === "none";
    badge.dataset.level = b.level;
    setText(badge, b.text);
    badge.title = [
      b.firing ? `${b.firing} firing` : "",
      b.pending ? `${b.pending} pending` : "",
    ].filter(Boolean).join(", ");
    const p = countBadge(shown);
    const elsewhere = this.#active.length - shown.length;
    summary.dataset.level = p.level;
    setText(
      summary,
      [
        p.level === "none" ? "none active" : "",
        p.firing ? `${p.firing} firing` : "",
        p.pending ? `${p.pending} pending` : "",
        elsewhere > 0 ? `${elsewhere} in other services` : "",
      ].filter(Boolean).join(" · "),
    );
  }

  #label(a: Alert): string {
    return this.deps.name(a.instance) ?? instanceLabel(a.instance);
  }

  #fillActive(a: Alert, item: Item, now: number): void {
    paintState(item, a.state);
    setText(item.rule, a.rule);
    setText(item.inst, this.#label(a));
    setText(item.message, a.message);
    paintSites(item, a);
    const at = startOf(a);
    setText(item.time, `${a.state === "firing" ? "firing since" : "pending since"} ${clock(at)}`);
    setText(item.ago, formatSpanShort(now - at));
    item.li.title = a.state === "firing"
      ? `condition since ${clock(a.since)}, firing since ${clock(at)}`
      : `condition holds since ${clock(a.since)}; fires once it has held for the rule's "for"`;
  }

  #fillRecent(a: Alert, item: Item, now: number): void {
    paintState(item, "resolved");
    setText(item.rule, a.rule);
    setText(item.inst, this.#label(a));
    setText(item.message, a.message);
    paintSites(item, a);
    const end = typeof a.resolvedAt === "number" ? a.resolvedAt : a.since;
    setText(item.time, `resolved ${clock(end)}`);
    setText(item.ago, `lasted ${formatSpanShort(end - a.since)}`);
    item.li.title = `${a.firedAt ? `fired ${clock(a.firedAt)}, ` : ""}resolved ${
      formatSpanShort(now - end)
    } ago`;
  }

  /** The panel as the debug object reports it. */
  info(): AlertsInfo {
    const rows = (items: Map<string, Item>, list: readonly Alert[]) =>
      list.filter((a) => items.has(a.id)).map((a) => ({
        id: a.id,
        rule: a.rule,
        instance: a.instance,
        state: items.get(a.id)!.li.dataset.state ?? "",
        text: items.get(a.id)!.li.textContent ?? "",
      }));
    const badge = this.deps.els.badge;
    return {
      badge: {
        text: badge.textContent ?? "",
        level: badge.dataset.level ?? "",
        hidden: badge.hidden === true,
      },
      active: rows(this.#activeItems, this.#active),
      recent: rows(this.#recentItems, this.#recent.slice(0, RECENT_SHOWN)),
      empty: this.deps.els.empty.hidden !== true,
      fetches: this.#fetches,
    };
  }
}

/** Make `host`'s children exactly one item per alert, in order, reusing items by id. */
function sync(
  host: HTMLElement,
  items: Map<string, Item>,
  list: readonly Alert[],
  fill: (a: Alert, item: Item) => void,
): void {
  const keep = new Set(list.map((a) => a.id));
  for (const [id, item] of items) {
    if (!keep.has(id)) {
      item.li.remove();
      items.delete(id);
    }
  }
  list.forEach((a, i) => {
    let item = items.get(a.id);
    if (!item) items.set(a.id, item = buildItem(a));
    fill(a, item);
    if (host.children[i] !== item.li) host.insertBefore(item.li, host.children[i] ?? null);
  });
}

function buildItem(a: Alert): Item {
  const li = el("li", "alert");
  li.dataset.id = a.id;
  li.dataset.instance = a.instance;
  li.dataset.rule = a.rule;
  const state = el("span", "alert-state");
  const main = el("div", "alert-main");
  const head = el("div", "alert-head");
  const rule = el("span", "alert-rule mono");
  const inst = el("span", "alert-instance");
  head.append(rule, inst);
  const message = el("span", "alert-message");
  const grows = el("span", "alert-grows");
  const sites = el("ol", "alert-sites");
  grows.hidden = true;
  sites.hidden = true;
  main.append(head, message, grows, sites);
  const when = el("div", "alert-when");
  const time = el("span", "alert-time num");
  const ago = el("span", "alert-ago num");
  when.append(time, ago);
  li.append(state, main, when);
  return { li, state, rule, inst, message, grows, sites, time, ago };
}

/**
 * A leak alert's sites: the top one as a sentence, then all of them with their share, unless
 * the one site holds all the growth (the list would repeat the sentence); text only.
 */
function paintSites(item: Item, a: Alert): void {
  const sites = a.kind === "leak" ? parseSites(a.leak?.sites) : [];
  const listed = listedSites(sites);
  item.grows.hidden = sites.length === 0;
  item.sites.hidden = listed.length === 0;
  setText(item.grows, sites.length > 0 ? growsText(sites[0]) : "");
  const lines = listed.map(siteLine);
  if (item.sites.dataset.sig === lines.join("\n")) return;
  item.sites.dataset.sig = lines.join("\n");
  item.sites.replaceChildren(
    ...listed.map((s, i) => {
      const li = el("li", "alert-site mono", lines[i]);
      li.title = `${s.url}:${s.line}:${s.col}`;
      return li;
    }),
  );
}

function paintState(item: Item, state: string): void {
  if (item.li.dataset.state === state) return;
  item.li.dataset.state = state;
  setText(item.state, state);
}

function clock(t: number): string {
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
