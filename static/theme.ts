/// <reference lib="dom" />
/**
 * The charts' theme, read once from the page's CSS variables: the live strip charts
 * (smoothie) and the history charts (uPlot) draw with the same grid, text, background,
 * reference-mark colours and font.
 *
 * @module
 */

/** Colours and font of the page's theme. */
export interface Theme {
  grid: string;
  text: string;
  background: string;
  mark: string;
  font: string;
}

/** Read a CSS custom property of the document, or `fallback` when it is not set. */
export function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** The chart theme from the page's CSS (style.css), with the dark theme's values as fallback. */
export function readTheme(): Theme {
  return {
    grid: cssVar("--chart-grid", "#232a35"),
    text: cssVar("--muted", "#8b96a5"),
    background: cssVar("--card", "#141922"),
    mark: cssVar("--chart-mark", "#5b6676"),
    font: cssVar("--font-mono", "monospace"),
  };
}
