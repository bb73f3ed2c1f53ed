/// <reference lib="dom" />
/**
 * The legend under a chart: one chip per instance line with its colour, name and latest
 * value, so a line can be told from another without looking at the table. A hidden line's chip
 * is dimmed; the chips of other services than the focused one are left out.
 *
 * @module
 */
import type { Entry } from "./store.ts";
import { el, setText } from "./dom.ts";
import { statusOf } from "./status.ts";
import { CHIP_CHARS, instanceName, middleEllipsis } from "./instance_label.ts";
import type { HiddenIds } from "./page_state.ts";

interface Chip {
  li: HTMLLIElement;
  swatch: HTMLSpanElement;
  name: HTMLSpanElement;
  value: HTMLSpanElement;
  service: string;
}

/** A chart's legend, keyed by instance id. */
export class Legend {
  readonly #chips = new Map<string, Chip>();
  #hidden: HiddenIds = new Set<string>();
  #focus: string | null = null;

  constructor(
    readonly list: HTMLElement,
    readonly value: (entry: Entry) => string,
    /** Which instances get a chip (the custom chart: those reporting its metric). */
    readonly include: (entry: Entry) => boolean = () => true,
  ) {}

  /** Remove every chip. */
  clear(): void {
    this.list.replaceChildren();
    this.#chips.clear();
  }

  /** Add or update the chip of an entry. */
  upsert(id: string, entry: Entry, now: number): void {
    let chip = this.#chips.get(id);
    if (!this.include(entry)) {
      chip?.li.remove();
      this.#chips.delete(id);
      return;
    }
    if (!chip) {
      const li = el("li", "chip");
      li.dataset.id = id;
      const swatch = el("span", "swatch");
      const name = el("span", "chip-name");
      const value = el("span", "chip-value num");
      li.append(swatch, name, value);
      chip = { li, swatch, name, value, service: entry.view.service };
      this.#chips.set(id, chip);
      this.list.append(li);
    }
    chip.service = entry.view.service;
    fill(chip, entry, this.value(entry), now);
    this.#paint(id, chip);
  }

  /** Remove the chip of `id`, if there is one. */
  remove(id: string): void {
    this.#chips.get(id)?.li.remove();
    this.#chips.delete(id);
  }

  /** Dim the chips of these ids (hidden from the chart); show only `focus`'s (null: all). */
  setHidden(ids: HiddenIds, focus: string | null = null): void {
    this.#hidden = ids;
    this.#focus = focus;
    for (const [id, chip] of this.#chips) this.#paint(id, chip);
  }

  #paint(id: string, chip: Chip): void {
    chip.li.classList.toggle("is-hidden", this.#hidden.has(id));
    chip.li.classList.toggle("is-out", this.#focus !== null && chip.service !== this.#focus);
  }

  /** Refresh values of every chip. */
  refresh(entries: ReadonlyMap<string, Entry>, now: number): void {
    for (const [id, e] of entries) {
      if (this.#chips.has(id) || this.include(e)) this.upsert(id, e, now);
    }
  }
}

function fill(chip: Chip, e: Entry, value: string, now: number): void {
  if (chip.swatch.dataset.color !== e.color) {
    chip.swatch.dataset.color = e.color;
    chip.swatch.style.backgroundColor = e.color;
  }
  const name = instanceName(e.view.service, e.view.instance);
  setText(chip.name, middleEllipsis(name, CHIP_CHARS));
  chip.name.title = `${e.view.service} · ${e.view.instance}`;
  setText(chip.value, value);
  chip.li.classList.toggle("is-stale", statusOf(e.view, now) !== "live");
}
