/// <reference lib="dom" />
/**
 * The chart window selector (1 min / 5 min / 15 min), remembered in localStorage.
 *
 * @module
 */
import { el } from "./dom.ts";
import { formatWindow } from "./format.ts";

/** The windows offered, ms. */
export const WINDOWS: readonly number[] = [60_000, 5 * 60_000, 15 * 60_000];
/** The default window, ms. */
export const DEFAULT_WINDOW = 5 * 60_000;
const KEY = "zeroapm.windowMs";

/** The remembered window, or the default. */
export function readWindow(): number {
  try {
    const v = Number(localStorage.getItem(KEY));
    if (WINDOWS.includes(v)) return v;
  } catch {
    // storage disabled: use the default
  }
  return DEFAULT_WINDOW;
}

/** Fill `group` with one button per window; `onChange` gets the chosen window. */
export function setupWindowPicker(
  group: HTMLElement,
  current: number,
  onChange: (ms: number) => void,
): void {
  const buttons = WINDOWS.map((ms) => {
    const b = el("button", "seg", formatWindow(ms));
    b.type = "button";
    b.dataset.ms = String(ms);
    b.setAttribute("aria-pressed", String(ms === current));
    b.addEventListener("click", () => {
      for (const o of buttons) o.setAttribute("aria-pressed", String(o === b));
      try {
        localStorage.setItem(KEY, String(ms));
      } catch {
        // not remembered; fine
      }
      onChange(ms);
    });
    return b;
  });
  group.replaceChildren(...buttons);
}
