/// <reference lib="dom" />
/**
 * The metric picker: every series key the instances report (from their latest values),
 * grouped by base name in `<optgroup>`s with the labels of each series as the option's text,
 * and how many instances report it. Picking one draws it for every instance that has it in
 * the custom charts (live and history). Several `<select>`s (one per view) show the same
 * choice. A closed `<select>` shows only the picked option's text, not its group, so the picked
 * option also names its metric (`http.server.duration_ms.p95 · route=/cart · 2 instances`);
 * the others show their labels under their group. Options are rebuilt only when the set of keys
 * changes; all text via `textContent`.
 *
 * @module
 */
import { CHARTED } from "./store.ts";
import { el } from "./dom.ts";
import { splitKey } from "./units.ts";

/** One key on offer. */
interface Choice {
  key: string;
  name: string;
  labels: string;
  count: number;
}

/**
 * An option's text: its labels and how many instances report it; the picked one (what the
 * closed select shows) starts with the metric's name, which otherwise only its group shows.
 */
function optionText(o: Choice, picked: boolean): string {
  const what = o.labels ? (picked ? `${o.name} · ${o.labels}` : o.labels) : o.name;
  return `${what}${
    o.count === 0 ? " · not reported" : ` · ${o.count} instance${o.count === 1 ? "" : "s"}`
  }`;
}

/** A `<select>` per view, kept in step. */
export class MetricPicker {
  #sig = "";
  #value: string | null = null;
  #options: Choice[] = [];
  /** What each option was built from, by key. */
  #choices = new Map<string, Choice>();

  constructor(
    readonly selects: HTMLSelectElement[],
    readonly onPick: (key: string | null) => void,
  ) {
    for (const s of selects) {
      s.addEventListener("change", () => {
        const v = s.value === "" ? null : s.value;
        this.set(v);
        this.onPick(v);
      });
    }
    this.#build();
  }

  /** The picked key, or null. */
  get value(): string | null {
    return this.#value;
  }

  /** Show `key` as picked (from the URL or the other select); does not call `onPick`. */
  set(key: string | null): void {
    this.#value = key;
    if (key !== null && !this.#options.some((o) => o.key === key)) this.#build();
    for (const s of this.selects) {
      s.value = key ?? "";
      s.title = key ?? ""; // the whole key, where a narrow screen cuts the text
      for (const opt of s.options) {
        const c = this.#choices.get(opt.value);
        if (c) opt.textContent = optionText(c, opt.value === key);
      }
    }
  }

  /** The keys on offer, with how many instances report each. */
  update(keys: ReadonlyMap<string, number>): void {
    const list = [...keys.entries()]
      .filter(([k]) => !(CHARTED as readonly string[]).includes(k))
      .map(([key, count]) => ({ key, count, ...splitKey(key) }))
      .sort((a, b) => a.name.localeCompare(b.name) || a.labels.localeCompare(b.labels));
    const sig = list.map((o) => `${o.key}\u0000${o.count}`).join("\u0001");
    if (sig === this.#sig) return;
    this.#sig = sig;
    this.#options = list;
    this.#build();
  }

  /** The options as the debug object reports them. */
  options(): Array<{ key: string; group: string; text: string }> {
    const s = this.selects[0];
    return [...s.querySelectorAll("option")].filter((o) => o.value !== "").map((o) => ({
      key: o.value,
      group: (o.parentElement as HTMLOptGroupElement | null)?.label ?? "",
      text: o.textContent ?? "",
    }));
  }

  #build(): void {
    const list = [...this.#options];
    const v = this.#value;
    if (v !== null && !list.some((o) => o.key === v)) {
      list.push({ key: v, count: 0, ...splitKey(v) }); // from a link, not reported (yet)
    }
    this.#choices = new Map(list.map((o) => [o.key, o]));
    for (const s of this.selects) {
      const none = el("option", "", list.length ? "Choose a metric…" : "No custom metrics yet");
      none.value = "";
      const groups: HTMLElement[] = [none];
      let group: HTMLOptGroupElement | null = null;
      for (const o of list) {
        if (!group || group.label !== o.name) {
          group = el("optgroup");
          group.label = o.name;
          groups.push(group);
        }
        const opt = el("option", "", optionText(o, o.key === v));
        opt.value = o.key;
        opt.title = o.key;
        group.append(opt);
      }
      s.replaceChildren(...groups);
      s.value = v ?? "";
      s.title = v ?? "";
      s.disabled = list.length === 0;
    }
  }
}
