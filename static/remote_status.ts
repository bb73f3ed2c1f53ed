/// <reference lib="dom" />
/**
 * The remotes' line in the summary bar, from `/api/stats` polled every few seconds while the
 * tab is visible: per remote-write remote whether it keeps up, or how far behind it is, with
 * retries and drops; and whether the remote-read source answers (when it does not, history
 * from it is missing, and the charts alone cannot say why). Hidden, and no longer polled,
 * when the collector has no remote. Text only.
 *
 * @module
 */
import { setText } from "./dom.ts";
import type { RemoteStats } from "../lib/remote/writer.ts";
import type { RemoteReadStats } from "../lib/remote/reader.ts";

/** One remote as `/api/stats` gives it in `remoteWrite` (the writer's own figures). */
export type RemoteRow = Pick<
  RemoteStats,
  | "url"
  | "queue"
  | "sent"
  | "pending"
  | "oldestPendingAgeMs"
  | "retries"
  | "dropped"
  | "expired"
  | "lastError"
>;

/** Behind by more than this, a remote is shown as a warning. */
const BEHIND_MS = 10_000;

/** The summary text of every remote, and whether any needs attention; null with none. */
export function remoteStatus(rows: unknown): { text: string; warn: boolean } | null {
  if (!Array.isArray(rows) || rows.length === 0) return null;
  let warn = false;
  const parts = (rows as RemoteRow[]).map((r) => {
    let host = "remote";
    try {
      host = new URL(String(r.url)).host;
    } catch { /* keep "remote" */ }
    const age = Number(r.oldestPendingAgeMs ?? 0);
    const behind = age > BEHIND_MS;
    const lost = Number(r.dropped) + Number(r.expired);
    warn ||= behind || lost > 0;
    const bits = [behind ? `${Math.round(age / 1000)} s behind` : "ok"];
    if (r.queue === "memory") bits.push("queue in memory");
    if (Number(r.retries) > 0) bits.push(`${r.retries} retries`);
    if (lost > 0) bits.push(`${lost} dropped`);
    return `→ ${host}: ${bits.join(", ")}`;
  });
  return { text: parts.join(" · "), warn };
}

/** The remote-read source as `/api/stats` gives it in `remoteRead`. */
export type ReadRow = Pick<RemoteReadStats, "url" | "lastError">;

/** The remote-read source's text: ok, or failing (its history is not shown); null with none. */
export function remoteReadStatus(read: unknown): { text: string; warn: boolean } | null {
  if (typeof read !== "object" || read === null) return null;
  const r = read as ReadRow;
  let host = "remote";
  try {
    host = new URL(String(r.url)).host;
  } catch { /* keep "remote" */ }
  return r.lastError
    ? { text: `← ${host}: not answering, its history is not shown`, warn: true }
    : { text: `← ${host}: ok`, warn: false };
}

/** Both directions' text from a `/api/stats` answer, joined; null with no remote at all. */
export function remotesStatus(
  stats: { remoteWrite?: unknown; remoteRead?: unknown },
): { text: string; warn: boolean } | null {
  const parts = [remoteStatus(stats.remoteWrite), remoteReadStatus(stats.remoteRead)]
    .filter((p) => p !== null);
  if (parts.length === 0) return null;
  return { text: parts.map((p) => p.text).join(" · "), warn: parts.some((p) => p.warn) };
}

/** Poll `/api/stats` every `everyMs` and show the remotes' line in `node`. */
export function watchRemotes(node: HTMLElement, everyMs = 5000): () => void {
  let stopped = false;
  const poll = async () => {
    if (stopped) return;
    if (document.visibilityState === "visible") {
      try {
        const res = await fetch("/api/stats", { headers: { accept: "application/json" } });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const status = remotesStatus(await res.json());
        node.hidden = status === null;
        // Remotes are set at start-up: a collector without any needs no more polling.
        if (status === null) stopped = true;
        if (status) {
          setText(node, status.text);
          node.className = status.warn ? "warn" : "ok";
          node.title = status.text;
        }
      } catch { /* the connection indicator says when the collector is away */ }
    }
    if (!stopped) setTimeout(poll, everyMs);
  };
  poll();
  return () => stopped = true;
}
