/**
 * What the page's address remembers, so a link opens the same view: the view (live or
 * history), the history range (a preset such as `1h`, or an absolute `from`/`to` after a
 * zoom, collector ms), the service the page is narrowed to, the instances hidden from the
 * charts and the custom metric picked (a series key, labels and all). It lives in the hash, e.g.
 * `#view=history&range=1h&from=1700000000000&to=1700000600000&service=shop&hide=shop%2Fweb-1&metric=queue.depth`.
 *
 * Parsing never throws: anything unknown or malformed falls back to the default, so a
 * hand-edited or truncated link still opens the page. Pure functions, unit-tested.
 *
 * @module
 */
import { canonicalKey } from "../lib/metric_key.ts";
import { DEFAULT_RANGE, isRangeKey, MIN_SPAN_MS, type RangeKey } from "./range.ts";

/** The two views of the page. */
export type View = "live" | "history";

/** Everything the hash holds. */
export interface UrlState {
  view: View;
  /** The chosen preset (also what "reset zoom" returns to). */
  range: RangeKey;
  /** An absolute range after a zoom, or null for "the last `range`". */
  abs: { from: number; to: number } | null;
  /** The one service shown (a service card was clicked); absent: every service. */
  service?: string;
  /** Instance ids hidden from the charts, in the order they were hidden. */
  hidden: string[];
  /** The custom metric drawn (a canonical series key); absent when none. */
  metric?: string;
}

/** Most hidden ids a link carries; more are ignored (a link stays a sane length). */
export const MAX_HIDDEN = 200;
/** Longest instance id (or service name) accepted from a link. */
const MAX_ID = 600;
/** Times outside ±this are not timestamps (ms since the epoch, year ~5138). */
const MAX_TIME = 1e14;

/** The state of a page opened without a hash. */
export function defaultState(): UrlState {
  return { view: "live", range: DEFAULT_RANGE, abs: null, hidden: [] };
}

/** Read a hash (`#view=history&range=6h`, with or without the `#`). */
export function parseHash(hash: string): UrlState {
  const state = defaultState();
  const q = new URLSearchParams(hash.startsWith("#") ? hash.slice(1) : hash);
  const view = q.get("view");
  if (view === "live" || view === "history") state.view = view;
  const range = q.get("range");
  if (range !== null && isRangeKey(range)) state.range = range;
  const from = time(q.get("from"));
  const to = time(q.get("to"));
  if (from !== null && to !== null && to - from >= MIN_SPAN_MS) state.abs = { from, to };
  const service = q.get("service");
  if (service !== null && service !== "" && service.length <= MAX_ID) state.service = service;
  const seen = new Set<string>();
  for (const id of q.getAll("hide")) {
    if (id === "" || id.length > MAX_ID || seen.has(id)) continue;
    seen.add(id);
    state.hidden.push(id);
    if (state.hidden.length >= MAX_HIDDEN) break;
  }
  const metric = q.get("metric");
  const key = metric !== null && metric.length <= MAX_ID ? canonicalKey(metric) : null;
  if (key !== null) state.metric = key;
  return state;
}

/** Write a hash (with the `#`). Defaults are left out, so a fresh page has a short link. */
export function formatHash(state: UrlState): string {
  const q = new URLSearchParams();
  q.set("view", state.view);
  if (state.view === "history" || state.range !== DEFAULT_RANGE || state.abs) {
    q.set("range", state.range);
  }
  if (state.abs) {
    q.set("from", String(Math.round(state.abs.from)));
    q.set("to", String(Math.round(state.abs.to)));
  }
  if (state.service) q.set("service", state.service);
  for (const id of state.hidden.slice(0, MAX_HIDDEN)) q.append("hide", id);
  if (state.metric) q.set("metric", state.metric);
  return `#${q.toString()}`;
}

function time(raw: string | null): number | null {
  if (raw === null || !/^-?\d{1,15}$/.test(raw)) return null;
  const n = Number(raw);
  return Math.abs(n) < MAX_TIME ? n : null;
}
