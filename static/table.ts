/// <reference lib="dom" />
/**
 * The instance table: one row per instance id (two apps with the same colour are two rows),
 * with its colour swatch, service, instance, pid, latest CPU and memory, last seen, status
 * and notes (requested colour when it was not usable, lost samples, clock skew). Rows are
 * built once with `textContent` and refreshed in place. Clicking a row (or its checkbox)
 * hides or shows that instance in the charts; the page keeps that state, the table only
 * reflects it.
 *
 * @module
 */
import { METRICS } from "../lib/protocol.ts";
import { safeColor } from "../lib/colors.ts";
import type { Entry } from "./store.ts";
import { el, setText } from "./dom.ts";
import { formatAge, formatCpu, formatMiB, formatSkew } from "./format.ts";
import { statusOf } from "./status.ts";

interface Row {
  tr: HTMLTableRowElement;
  show: HTMLInputElement;
  swatch: HTMLSpanElement;
  service: HTMLTableCellElement;
  instance: HTMLSpanElement;
  host: HTMLSpanElement;
  pid: HTMLTableCellElement;
  cpu: HTMLTableCellElement;
  mem: HTMLTableCellElement;
  seen: HTMLTableCellElement;
  status: HTMLSpanElement;
  notes: HTMLTableCellElement;
  key: string;
}

/** The table body and its rows, keyed by instance id. */
export class InstanceTable {
  readonly #rows = new Map<string, Row>();

  constructor(
    readonly body: HTMLTableSectionElement,
    readonly empty: HTMLElement,
    readonly visibility: Visibility = { isHidden: () => false, toggle: () => {} },
  ) {}

  /** Remove every row. */
  clear(): void {
    for (const r of this.#rows.values()) r.tr.remove();
    this.#rows.clear();
    this.#toggleEmpty();
  }

  /** Add or update the row of an entry. */
  upsert(id: string, entry: Entry, now: number): void {
    let row = this.#rows.get(id);
    const key = sortKey(entry);
    if (!row) {
      row = buildRow(id, this.visibility);
      this.#rows.set(id, row);
      this.#place(row, key);
    } else if (row.key !== key) {
      this.#place(row, key);
    }
    fill(row, entry, now);
    this.#toggleEmpty();
  }

  /** Refresh ages, values and statuses of every row. */
  refresh(entries: ReadonlyMap<string, Entry>, now: number): void {
    for (const [id, row] of this.#rows) {
      const entry = entries.get(id);
      if (entry) fill(row, entry, now);
    }
  }

  #place(row: Row, key: string): void {
    row.key = key;
    let before: HTMLTableRowElement | null = null;
    for (const tr of Array.from(this.body.rows)) {
      if (tr === row.tr) continue;
      const other = this.#rows.get(tr.dataset.id ?? "");
      if (other && other.key.localeCompare(key) > 0) {
        before = tr;
        break;
      }
    }
    this.body.insertBefore(row.tr, before);
  }

  /** Re-read every row's hidden state (after a toggle or a new link). */
  paintHidden(): void {
    for (const [id, row] of this.#rows) paintHidden(row, this.visibility.isHidden(id));
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
  const mem = el("td", "c-mem num");
  const seen = el("td", "c-seen num");
  const statusCell = el("td", "c-status");
  const status = el("span", "badge");
  statusCell.append(status);
  const notes = el("td", "c-notes");
  tr.append(showCell, swatchCell, service, instanceCell, pid, cpu, mem, seen, statusCell, notes);
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
    seen,
    status,
    notes,
    key: "",
  };
  paintHidden(row, visibility.isHidden(id));
  return row;
}

function paintHidden(row: Row, hidden: boolean): void {
  row.show.checked = !hidden;
  row.tr.classList.toggle("is-hidden", hidden);
}

function fill(row: Row, entry: Entry, now: number): void {
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
  setText(row.mem, formatMiB(v.latest[METRICS.rssBytes]));
  setText(row.seen, v.lastSeen > 0 ? formatAge(now - v.lastSeen) : "–");
  const st = statusOf(v, now);
  if (row.status.dataset.status !== st) {
    row.status.dataset.status = st;
    row.status.className = `badge badge-${st}`;
    row.tr.classList.toggle("is-stale", st === "stale");
  }
  setText(row.status, st);
  renderNotes(row.notes, notesOf(entry));
}

/** Short notes for an instance, each a plain string. */
export function notesOf(entry: Entry): Array<{ kind: string; text: string; title: string }> {
  const v = entry.view;
  const out: Array<{ kind: string; text: string; title: string }> = [];
  if (typeof v.requestedColor === "string" && safeColor(v.requestedColor) !== entry.color) {
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
