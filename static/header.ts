/// <reference lib="dom" />
/**
 * The page header: the connection state ("Live", "Reconnecting in 4 s…"), the instance
 * counts by status, updates skipped for a slow tab, the browser's clock skew, how long
 * samples waited to be ingested (the collector's queueing delay, last minute), and the one
 * service shown when the page is narrowed to it.
 *
 * @module
 */
import type { ClockSync } from "./clock.ts";
import type { Store } from "./store.ts";
import type { IngestFrame } from "../lib/live/messages.ts";
import type { ConnectionState } from "./socket.ts";
import { byId, setText } from "./dom.ts";
import { formatSkew } from "./format.ts";
import { statusOf } from "./status.ts";
import { isRetired } from "../lib/model/instance.ts";

/** Show the connection state. */
export function renderConnection(
  state: ConnectionState,
  detail: { attempt: number; retryInMs: number | null },
): void {
  const connEl = byId("conn");
  connEl.dataset.state = state;
  const retry = detail.retryInMs !== null
    ? ` in ${Math.max(1, Math.round(detail.retryInMs / 1000))} s`
    : "";
  const text = state === "live"
    ? "Live"
    : state === "connecting"
    ? "Connecting…"
    : `Reconnecting${retry}…`;
  setText(byId("conn-text"), text);
  connEl.title = state === "reconnecting"
    ? `Connection to the collector lost; attempt ${detail.attempt}`
    : "Connection to the collector";
  // The delay is the collector's word about the last minute: without it, nothing is known.
  if (state !== "live") byId("queue-delay").hidden = true;
}

/** Show the instance counts, the skipped updates and the browser's clock skew. */
export function renderSummary(
  store: Store,
  clock: ClockSync,
  dropped: number,
  omitted = 0,
): void {
  const now = clock.now();
  let live = 0;
  let gone = 0;
  let stopped = 0;
  let retired = 0;
  for (const e of store.entries.values()) {
    if (isRetired(e.view, now)) {
      retired++;
      continue;
    }
    const st = statusOf(e.view, now);
    if (st === "live") live++;
    else if (st === "gone") gone++;
    else if (st === "stopped") stopped++;
  }
  const total = store.entries.size - retired;
  // The collector's hello holds at most 1 000 instances (lib/live/hello.ts): say how many more.
  setText(
    byId("summary-count"),
    `${total} instance${total === 1 ? "" : "s"}${
      omitted > 0 ? ` (${omitted} more, least recently seen, not listed)` : ""
    }`,
  );
  setText(byId("summary-live"), `${live} live`);
  const staleEl = byId("summary-stale");
  const stale = total - live - gone - stopped;
  setText(
    staleEl,
    [
      stale ? `${stale} stale` : "",
      stopped ? `${stopped} stopped` : "",
      gone ? `${gone} gone` : "",
    ].filter(Boolean).join(" · "),
  );
  staleEl.hidden = stale + gone + stopped === 0;
  const dropEl = byId("dropped");
  dropEl.hidden = dropped === 0;
  setText(dropEl, `${dropped} update${dropped === 1 ? "" : "s"} skipped (slow tab)`);
  const skewEl = byId("browser-skew");
  const off = clock.offsetMs;
  skewEl.hidden = !clock.synced || Math.abs(off) <= 2000;
  setText(skewEl, `browser clock ${formatSkew(-off)} vs collector`);
}

/** Say which service the page is narrowed to (null: every service; the note is hidden). */
export function renderFocus(service: string | null): void {
  byId("focus").hidden = service === null;
  setText(byId("focus-name"), service ?? "");
}

/** Above this p99 the queueing delay is shown as a warning (live data is visibly late). */
const QUEUE_WARN_MS = 100;

/**
 * Show the collector's queueing delay at arrival (p99 and max over the last minute): how late
 * live data is because the collector was busy, which the charts cannot show (samples are
 * placed at their send time).
 */
export function renderQueueDelay(d: IngestFrame["queueDelayMs"]): void {
  const el = byId("queue-delay");
  const p99 = typeof d.p99 === "number" && Number.isFinite(d.p99) ? d.p99 : null;
  const max = typeof d.max === "number" && Number.isFinite(d.max) ? d.max : null;
  el.hidden = p99 === null;
  if (p99 === null) return;
  setText(el, `ingest delay p99 ${formatMs(p99)}`);
  el.title = `Wait between an agent's send and ingest, last minute: p99 ${formatMs(p99)}` +
    (max !== null ? `, max ${formatMs(max)}` : "") + ` over ${d.count} frames`;
  el.className = p99 > QUEUE_WARN_MS ? "warn" : "ok";
}

function formatMs(ms: number): string {
  return ms < 10
    ? `${ms.toFixed(0)} ms`
    : ms < 1000
    ? `${Math.round(ms)} ms`
    : `${(ms / 1000).toFixed(1)} s`;
}
