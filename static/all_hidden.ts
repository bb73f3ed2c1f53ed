/// <reference lib="dom" />
/**
 * The note shown when every instance the charts would draw is hidden (each row clicked away):
 * the charts are then empty with nothing to say why. It says so above the charts, and in each
 * of them, says how to bring them back (a row in the Instances table, or its "Show all"
 * button) and is gone as soon as one line is drawn again. Instances outside the focused
 * service and retired ones do not count: the charts leave them out anyway.
 *
 * @module
 */
import { isRetired } from "../lib/model/instance.ts";
import type { Entry, Store } from "./store.ts";
import type { PageState } from "./page_state.ts";
import { byId, setText } from "./dom.ts";

/**
 * The ids the charts would draw at `now` (not retired; in the focused service, if any), when
 * every one of them is hidden; null when at least one is shown, or there is none.
 */
export function everyInstanceHidden(
  entries: Iterable<[string, Entry]>,
  hidden: ReadonlySet<string>,
  focus: string | null,
  now: number,
): string[] | null {
  const ids: string[] = [];
  for (const [id, e] of entries) {
    if (isRetired(e.view, now) || (focus !== null && e.view.service !== focus)) continue;
    if (!hidden.has(id)) return null;
    ids.push(id);
  }
  return ids.length > 0 ? ids : null;
}

/** The note's text for `count` hidden instances (of `focus`, when the page is narrowed). */
export function allHiddenText(count: number, focus: string | null): string {
  const of = focus === null ? "" : ` of ${focus}`;
  return count === 1
    ? `The one instance${of} is hidden from the charts: click its row in Instances to show it, or`
    : `All ${count} instances${of} are hidden from the charts: click a row in Instances to show` +
      " one, or";
}

/**
 * Show the note for these hidden ids (null: hide it); `page` gets `is-all-hidden`, which
 * writes a short line in each empty chart too (style.css).
 */
export function renderAllHidden(
  els: { page: HTMLElement; note: HTMLElement; text: HTMLElement },
  ids: string[] | null,
  focus: string | null,
): void {
  els.note.hidden = ids === null;
  els.page.classList.toggle("is-all-hidden", ids !== null);
  if (ids !== null) setText(els.text, allHiddenText(ids.length, focus));
}

/** The note on the page's `#all-hidden`, with its "Show all" button wired. */
export class AllHiddenNote {
  constructor(
    readonly store: Store,
    readonly state: PageState,
    readonly now: () => number,
    /** "Show all" was clicked: the ids are out of `state.hidden`; redraw and write the URL. */
    readonly onShow: () => void,
  ) {
    byId("show-all").addEventListener("click", () => {
      for (const id of this.#ids() ?? []) this.state.hidden.delete(id);
      this.onShow();
    });
  }

  #ids(): string[] | null {
    return everyInstanceHidden(this.store.entries, this.state.hidden, this.state.focus, this.now());
  }

  /** Show or hide the note (after a toggle, a focus, or time: instances come and retire). */
  paint(): void {
    const els = { page: document.body, note: byId("all-hidden"), text: byId("all-hidden-text") };
    renderAllHidden(els, this.#ids(), this.state.focus);
  }
}
