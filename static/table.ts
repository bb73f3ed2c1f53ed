/// <reference lib="dom" />
/**
 * The instance table: one row per instance id (two apps with the same colour are two rows),
 * grouped by service under a header with the service's live/total count, sorted by instance
 * within a group. A row shows the colour swatch, service, instance, pid, latest CPU and
 * memory (with the share of the container's memory limit when there is one), uptime, last
 * seen, status (live, stale, gone) and notes (a memory leak first, in red while its alert
 * fires and amber while pending; restarts, requested colour when it was not usable, lost
 * samples, clock skew). Rows are built once with `textContent` and refreshed in
 * place. Clicking a row (or its checkbox) hides or shows that instance in the charts; the
 * page keeps that state, the table only reflects it. With a focused service, only that
 * service's group is shown.
 *
 * The table is laid out as a CSS grid (`display: contents` rows), so a group header is a
 * full-width `role="row"` element that is not a `<tr>`: the rows of `#instances` stay exactly
 * the instances.
 *
 * @module
 */
import { METRICS } from "../lib/protocol.ts";
import { safeColor } from "../lib/colors.ts";
import type { Entry } from "./store.ts";
import { el, setText } from "./dom.ts";
import { formatAge, formatCpu, formatMiB, formatSkew, formatUptime } from "./format.ts";
import { statusOf } from "./status.ts";
import type { LeakBadge } from "./alerts_model.ts";

/**
 * The container memory limit's series key (`CONTAINER_METRICS.memLimitBytes` in
 * lib/proc/container.ts, which reads /proc and cannot be bundled into the page).
 */
export const MEM_LIMIT = "container.mem.limit_bytes";

interface Row {
  tr: HTMLTableRowElement;
  show: HTMLInputElement;
  swatch: HTMLSpanElement;
  service: HTMLTableCellElement;
  instance: HTMLSpanElement;
  host: HTMLSpanElement;
  pid: HTMLTableCellElement;
  cpu: HTMLTableCellElement;
  mem: HTMLSpanElement;
  memLimit: HTMLSpanElement;
  uptime: HTMLTableCellElement;
  seen: HTMLTableCellElement;
  status: HTMLSpanElement;
  notes: HTMLTableCellElement;
  key: string;
  service_: string;
}

interface Group {
  head: HTMLElement;
  name: HTMLSpanElement;
  count: HTMLSpanElement;
  extra: HTMLSpanElement;
}

/** The table body and its rows, keyed by instance id. */
export class InstanceTable {
  readonly #rows = new Map<string, Row>();
  readonly #groups = new Map<string, Group>();
  /** Instance id -> its leak badge (see alerts_model.ts leakBadges). */
  #leaks: ReadonlyMap<string, LeakBadge> = new Map();

  constructor(
    readonly body: HTMLTableSectionElement,
    readonly empty: HTMLElement,
    readonly visibility: Visibility = {
      isHidden: () => false,
      toggle: () => {},
      focus: () => null,
    },
  ) {}

  /** Remove every row. */
  clear(): void {
    this.body.replaceChildren();
    this.#rows.clear();
    this.#groups.clear();
    this.#toggleEmpty();
  }

  /** Replace the leak badges (instance id -> badge); rows show them on their next fill. */
  setLeaks(leaks: ReadonlyMap<string, LeakBadge>): void {
    this.#leaks = leaks;
  }

  /** Add or update the row of an entry. */
  upsert(id: string, entry: Entry, now: number): void {
    let row = this.#rows.get(id);
    const key = sortKey(entry);
    if (!row) {
      row = buildRow(id, this.visibility);
      this.#rows.set(id, row);
    }
    fill(row, entry, now, this.#leaks.get(id));
    if (row.key !== key) {
      row.key = key;
      row.service_ = entry.view.service;
      this.#layout();
    }
    this.#toggleEmpty();
  }

  /** Remove the row of `id` (retired: it ended over 15 minutes ago), if there is one. */
  remove(id: string): void {
    const row = this.#rows.get(id);
    if (!row) return;
    row.tr.remove();
    this.#rows.delete(id);
    this.#layout();
    this.#toggleEmpty();
  }

  /** Refresh ages, values and statuses of every row, and the group headers' counts. */
  refresh(entries: ReadonlyMap<string, Entry>, now: number): void {
    for (const [id, row] of this.#rows) {
      const entry = entries.get(id);
      if (entry) fill(row, entry, now, this.#leaks.get(id));
    }
    const counts = new Map<
      string,
      { live: number; total: number; gone: number; stale: number; stopped: number }
    >();
    for (const [id, entry] of entries) {
      if (!this.#rows.has(id)) continue;
      const c = counts.get(entry.view.service) ??
        { live: 0, total: 0, gone: 0, stale: 0, stopped: 0 };
      counts.set(entry.view.service, c);
      c.total++;
      const st = statusOf(entry.view, now);
      if (st === "live") c.live++;
      else if (st === "gone") c.gone++;
      else if (st === "stopped") c.stopped++;
      else c.stale++;
    }
    for (const [service, g] of this.#groups) {
      const c = counts.get(service);
      if (!c) continue;
      // Out of those expected up: an instance that said goodbye is not missing.
      setText(g.count, `${c.live} / ${c.total - c.stopped} live`);
      g.count.dataset.all = String(c.live === c.total - c.stopped);
      const extra = [
        c.stale ? `${c.stale} stale` : "",
        c.stopped ? `${c.stopped} stopped` : "",
        c.gone ? `${c.gone} gone` : "",
      ].filter(Boolean).join(" · ");
      setText(g.extra, extra);
      g.head.dataset.live = String(c.live);
      g.head.dataset.total = String(c.total);
    }
  }

  /** Put group headers and rows in order: services by name, instances by name within. */
  #layout(): void {
    const rows = [...this.#rows.values()].sort((a, b) => a.key.localeCompare(b.key));
    const nodes: HTMLElement[] = [];
    const services = new Set<string>();
    for (const row of rows) {
      if (!services.has(row.service_)) {
        services.add(row.service_);
        nodes.push(this.#group(row.service_).head);
      }
      nodes.push(row.tr);
    }
    for (const [service, g] of this.#groups) {
      if (!services.has(service)) {
        g.head.remove();
        this.#groups.delete(service);
      }
    }
    this.#paintFocus();
    const current = Array.from(this.body.children);
    if (current.length === nodes.length && current.every((n, i) => n === nodes[i])) return;
    this.body.replaceChildren(...nodes);
  }

  /** Leave out the rows and group headers of services other than the focused one. */
  #paintFocus(): void {
    const focus = this.visibility.focus();
    const out = (service: string) => focus !== null && service !== focus;
    for (const row of this.#rows.values()) row.tr.classList.toggle("is-out", out(row.service_));
    for (const [service, g] of this.#groups) g.head.classList.toggle("is-out", out(service));
  }

  #group(service: string): Group {
    let g = this.#groups.get(service);
    if (g) return g;
    // Not a <tr>: `#instances tr` is one row per instance. The grid lays it out as a row.
    const head = el("div", "group-head");
    head.setAttribute("role", "row");
    head.dataset.service = service;
    const cell = el("div", "group-cell");
    cell.setAttribute("role", "rowheader");
    const name = el("span", "group-name", service);
    const count = el("span", "group-count num");
    const extra = el("span", "group-extra");
    cell.append(name, count, extra);
    head.append(cell);
    g = { head, name, count, extra };
    this.#groups.set(service, g);
    return g;
  }

  /** Group headers as the debug object reports them. */
  groups(): Array<{ service: string; text: string }> {
    return [...this.body.querySelectorAll<HTMLElement>(".group-head")].map((h) => ({
      service: h.dataset.service ?? "",
      text: h.textContent ?? "",
    }));
  }

  /** Re-read every row's hidden state and the focus (after a toggle, a focus or a new link). */
  paintHidden(): void {
    for (const [id, row] of this.#rows) paintHidden(row, this.visibility.isHidden(id));
    this.#paintFocus();
  }

  #toggleEmpty(): void {
    this.empty.hidden = this.#rows.size > 0;
  }
}

function sortKey(e: Entry): string {
  return `${e.view.service}\u0000${e.view.instance}\u0000${e.view.id}`;
}

/** Whether an instance is hidden, and how to flip it. */
export interface Visibility {
  isHidden(id: string): boolean;
  toggle(id: string): void;
  /** The one service shown, or null for all. */
  focus(): string | null;
}

function buildRow(id: string, visibility: Visibility): Row {
  const tr = el("tr", "is-toggle");
  tr.dataset.id = id;
  const showCell = el("td", "c-show");
  const show = el("input", "show");
  show.type = "checkbox";
  show.title = "Show in the charts";
  show.addEventListener("click", (ev) => {
    ev.stopPropagation();
    visibility.toggle(id);
  });
  showCell.append(show);
  tr.addEventListener("click", (ev) => {
    // A click that ends a text selection is not a toggle.
    if (ev.target instanceof HTMLElement && ev.target.closest("a, button, input")) return;
    if (String(getSelection() ?? "").length > 0) return;
    visibility.toggle(id);
  });
  const swatchCell = el("td", "c-swatch");
  const swatch = el("span", "swatch");
  swatchCell.append(swatch);
  const service = el("td", "c-service");
  const instanceCell = el("td", "c-instance");
  const instance = el("span", "mono");
  const host = el("span", "sub");
  instanceCell.append(instance, host);
  const pid = el("td", "c-pid num");
  const cpu = el("td", "c-cpu num");
  const memCell = el("td", "c-mem num");
  const mem = el("span", "mem-value");
  const memLimit = el("span", "sub mem-limit");
  memCell.append(mem, memLimit);
  const uptime = el("td", "c-uptime num");
  const seen = el("td", "c-seen num");
  const statusCell = el("td", "c-status");
  const status = el("span", "badge");
  statusCell.append(status);
  const notes = el("td", "c-notes");
  tr.append(
    showCell,
    swatchCell,
    service,
    instanceCell,
    pid,
    cpu,
    memCell,
    uptime,
    seen,
    statusCell,
    notes,
  );
  const row = {
    tr,
    show,
    swatch,
    service,
    instance,
    host,
    pid,
    cpu,
    mem,
    memLimit,
    uptime,
    seen,
    status,
    notes,
    key: "",
    service_: "",
  };
  paintHidden(row, visibility.isHidden(id));
  return row;
}

function paintHidden(row: Row, hidden: boolean): void {
  row.show.checked = !hidden;
  row.tr.classList.toggle("is-hidden", hidden);
}

function fill(row: Row, entry: Entry, now: number, leak?: LeakBadge): void {
  const v = entry.view;
  if (row.swatch.dataset.color !== entry.color) {
    row.swatch.dataset.color = entry.color;
    row.swatch.style.backgroundColor = entry.color; // CSSOM, safe colours only
    row.show.style.accentColor = entry.color;
  }
  setText(row.service, v.service);
  row.show.setAttribute("aria-label", `Show ${v.service} · ${v.instance} in the charts`);
  setText(row.instance, v.instance);
  setText(row.host, v.host && !v.instance.includes(v.host) ? v.host : "");
  setText(row.pid, v.pid === null || v.pid === undefined ? "–" : String(v.pid));
  setText(row.cpu, formatCpu(v.latest[METRICS.cpuPercent]));
  const rss = v.latest[METRICS.rssBytes];
  setText(row.mem, formatMiB(rss));
  const share = limitShare(v.latest);
  setText(row.memLimit, share === null ? "" : `${share} % of limit`);
  row.memLimit.title = share === null
    ? ""
    : `resident memory is ${share} % of the container's memory limit of ${
      formatMiB(v.latest[MEM_LIMIT])
    }`;
  row.memLimit.classList.toggle("is-high", share !== null && share >= 85);
  const st = statusOf(v, now);
  setText(
    row.uptime,
    typeof v.startedAt === "number" && v.startedAt > 0 && st !== "gone" && st !== "stopped"
      ? formatUptime(now - v.startedAt)
      : "–",
  );
  setText(row.seen, v.lastSeen > 0 ? formatAge(now - v.lastSeen) : "–");
  if (row.status.dataset.status !== st) {
    row.status.dataset.status = st;
    row.status.className = `badge badge-${st}`;
    row.tr.classList.toggle("is-stale", st === "stale");
    // A stopped instance is drawn like a gone one: not reporting, and not expected back.
    row.tr.classList.toggle("is-gone", st === "gone" || st === "stopped");
  }
  setText(row.status, st);
  const notes = notesOf(entry);
  if (leak?.grows) {
    notes.unshift({
      kind: `grows is-${leak.level}`,
      text: leak.grows,
      title: "where the heap grows: the top allocation site of the app's heap profile",
    });
  }
  if (leak) notes.unshift({ kind: `leak is-${leak.level}`, text: leak.text, title: leak.title });
  row.tr.dataset.leak = leak?.level ?? "";
  renderNotes(row.notes, notes);
}

/**
 * Resident memory as a whole percentage of the container's memory limit, or null when the
 * instance reports no limit (or no memory).
 */
export function limitShare(latest: Record<string, number>): number | null {
  const limit = latest[MEM_LIMIT];
  const rss = latest[METRICS.rssBytes];
  if (!(typeof limit === "number" && limit > 0 && typeof rss === "number" && rss >= 0)) return null;
  const p = (rss / limit) * 100;
  return p >= 10 ? Math.round(p) : Math.round(p * 10) / 10;
}

/** Short notes for an instance, each a plain string. */
export function notesOf(entry: Entry): Array<{ kind: string; text: string; title: string }> {
  const v = entry.view;
  const out: Array<{ kind: string; text: string; title: string }> = [];
  if (v.restarts > 0) {
    const at = typeof v.lastRestartAt === "number" ? clockText(v.lastRestartAt) : null;
    out.push({
      kind: "restart",
      text: `restarted ${v.restarts}×${at ? ` · ${at}` : ""}`,
      title: `Came back with a new pid or start time ${v.restarts} time${
        v.restarts === 1 ? "" : "s"
      }${at ? `; last at ${new Date(v.lastRestartAt!).toLocaleString()}` : ""}`,
    });
  }
  if (typeof v.requestedColor === "string" && safeColor(v.requestedColor) === null) {
    out.push({
      kind: "color",
      text: `asked colour: ${v.requestedColor}`,
      title: "The colour the app asked for is not a CSS colour; a palette colour is used.",
    });
  }
  if (v.lost > 0) {
    out.push({
      kind: "lost",
      text: `${v.lost} lost`,
      title: `${v.lost} samples missing (sequence gaps) of ${v.received + v.lost}`,
    });
  }
  if (typeof v.seqResets === "number" && v.seqResets > 0) {
    out.push({
      kind: "lost",
      text: `${v.seqResets} out of sequence`,
      title:
        `${v.seqResets} samples carried a sequence number no real agent could have sent by then (a forged or corrupt frame); they were kept, and loss is still counted from the real sequence`,
    });
  }
  if (Math.abs(v.clockOffsetMs) > 1000) {
    out.push({
      kind: "skew",
      text: `clock ${formatSkew(Math.abs(v.clockOffsetMs)).slice(1)} ${
        v.clockOffsetMs > 0 ? "behind" : "ahead"
      }`,
      title:
        "The app's clock differs from the collector's by this much; its points are placed on the collector's clock.",
    });
  }
  return out;
}

function renderNotes(cell: HTMLElement, notes: ReturnType<typeof notesOf>): void {
  const sig = notes.map((n) => `${n.kind}:${n.text}`).join("\n");
  if (cell.dataset.sig === sig) return;
  cell.dataset.sig = sig;
  cell.replaceChildren(
    ...notes.map((n) => {
      const chip = el("span", `note note-${n.kind}`, n.text);
      chip.title = n.title;
      return chip;
    }),
  );
}

function clockText(t: number): string {
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
