/**
 * Webhook notifications: a JSON POST when an alert fires and when it resolves, to each
 * configured target, in zeroapm's own shape or a Slack-compatible `{ text, blocks }`.
 * Deliveries wait in a bounded queue (the oldest is dropped, and counted, when full), are
 * sent a few at a time and retried with exponential back-off and jitter (about 1 s, 2 s, 4 s,
 * 8 s: 5 tries) after a network error, a 5xx, 408 or 429, waiting as long as a `Retry-After`
 * header asks (up to 5 minutes). Any other 4xx is the request's fault: it is not retried.
 * `notify` only enqueues: it never blocks or throws into ingest or the sweep.
 *
 * @module
 */
import type { Alert } from "./types.ts";
import type { WebhookTarget } from "./rules.ts";
import { createBackoff, retryAfterMs } from "../backoff.ts";
import { errorMessage } from "../errors.ts";
import { growsText, listedSites, siteLine } from "./leak_text.ts";

/** Counters for `/api/stats`. */
export interface NotifyStats {
  /** Deliveries a target accepted (2xx). */
  sent: number;
  /** Deliveries given up after the last try. */
  failed: number;
  /** Tries after the first. */
  retried: number;
  /** Deliveries dropped because the queue was full. */
  dropped: number;
  /** Deliveries waiting or being tried now. */
  queued: number;
}

/** The JSON a `json` webhook receives (documented in docs/alerts.md). */
export interface WebhookPayload {
  version: 1;
  source: "zeroapm";
  /** `firing` or `resolved`. */
  status: "firing" | "resolved";
  alert: Alert;
  /** Collector time the event happened. */
  at: number;
}

/** Options for {@link createNotifier}. */
export interface NotifierOptions {
  targets: WebhookTarget[];
  /** Injected for tests; default the global fetch. */
  fetch?: typeof fetch;
  /** Most deliveries waiting (default 1000). */
  queueSize?: number;
  /** Tries per delivery (default 5). */
  tries?: number;
  /** First back-off, doubled each retry (default 1000 ms), spread 75-125 %. */
  backoffMs?: number;
  /** Random source for the jitter (tests inject one). */
  random?: () => number;
  /** Deliveries in flight at once (default 4). */
  concurrency?: number;
  /** Timeout of one try (default 10 s). */
  timeoutMs?: number;
  log?: (line: string) => void;
  now?: () => number;
}

/** Sends alert events to webhooks in the background. */
export interface Notifier {
  /** Queue the event for every target; returns at once. */
  notify(status: "firing" | "resolved", alert: Alert): void;
  stats(): NotifyStats;
  /** Resolves when nothing is queued or in flight (tests, graceful stop). */
  idle(): Promise<void>;
  /** Stop: waiting deliveries are dropped, back-offs cut short, requests in flight aborted. */
  close(): void;
}

interface Delivery {
  target: WebhookTarget;
  body: string;
}

/** Create a notifier. With no targets, `notify` does nothing. */
export function createNotifier(opts: NotifierOptions): Notifier {
  const doFetch = opts.fetch ?? fetch;
  const queueSize = Math.max(1, opts.queueSize ?? 1000);
  const tries = Math.max(1, opts.tries ?? 5);
  const backoffMs = opts.backoffMs ?? 1000;
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const log = opts.log ?? (() => {});
  const now = opts.now ?? Date.now;
  const counters = { sent: 0, failed: 0, retried: 0, dropped: 0 };
  const queue: Delivery[] = [];
  let inFlight = 0;
  let closed = false;
  /** Aborts the requests in flight on close: a stop is not held by a target that hangs. */
  const closing = new AbortController();
  const timers = new Set<{ id: ReturnType<typeof setTimeout>; wake: () => void }>();
  let idleWaiters: Array<() => void> = [];
  let lastLog = -Infinity;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const entry = {
        id: setTimeout(() => {
          timers.delete(entry);
          resolve();
        }, ms),
        wake: resolve,
      };
      timers.add(entry);
    });

  const logLimited = (line: string) => {
    const t = now();
    if (t - lastLog >= 60_000) {
      lastLog = t;
      log(line);
    }
  };

  async function deliver(d: Delivery): Promise<void> {
    const backoff = createBackoff({
      minMs: backoffMs,
      maxMs: backoffMs * 2 ** Math.max(0, tries - 2),
      jitter: 0.5,
      random: opts.random,
    });
    let wait = 0;
    for (let attempt = 1; attempt <= tries && !closed; attempt++) {
      if (attempt > 1) {
        counters.retried++;
        await sleep(wait);
        if (closed) break;
      }
      let problem: string;
      try {
        const res = await doFetch(d.target.url, {
          method: "POST",
          headers: { "content-type": "application/json", ...d.target.headers },
          body: d.body,
          signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), closing.signal]),
        });
        await res.body?.cancel();
        if (res.ok) {
          counters.sent++;
          return;
        }
        problem = `HTTP ${res.status}`;
        if (res.status < 500 && res.status !== 408 && res.status !== 429) {
          logLimited(`alerts: webhook ${redact(d.target.url)} refused: ${problem} (not retried)`);
          break;
        }
        wait = retryAfterMs(res.headers.get("retry-after"), now()) ?? backoff.next();
      } catch (e) {
        problem = errorMessage(e);
        wait = backoff.next();
      }
      if (attempt === tries) {
        logLimited(
          `alerts: webhook ${redact(d.target.url)} failed after ${tries} tries: ${problem}`,
        );
      }
    }
    counters.failed++;
  }

  function pump(): void {
    while (!closed && inFlight < concurrency && queue.length > 0) {
      const d = queue.shift()!;
      inFlight++;
      deliver(d).finally(() => {
        inFlight--;
        pump();
      });
    }
    if (queue.length === 0 && inFlight === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  return {
    notify(status, alert) {
      if (closed || opts.targets.length === 0) return;
      for (const target of opts.targets) {
        const body = JSON.stringify(
          target.format === "slack"
            ? slackPayload(status, alert)
            : jsonPayload(status, alert, now()),
        );
        if (queue.length >= queueSize) {
          queue.shift();
          counters.dropped++;
          logLimited(`alerts: webhook queue full (${queueSize}); dropping the oldest`);
        }
        queue.push({ target, body });
      }
      pump();
    },
    stats() {
      return { ...counters, queued: queue.length + inFlight };
    },
    idle() {
      if (queue.length === 0 && inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    close() {
      if (closed) return;
      closed = true;
      counters.dropped += queue.length;
      queue.length = 0;
      closing.abort();
      for (const t of timers) {
        clearTimeout(t.id);
        t.wake();
      }
      timers.clear();
      pump();
    },
  };
}

/** The `json` webhook body. */
export function jsonPayload(
  status: "firing" | "resolved",
  alert: Alert,
  at: number,
): WebhookPayload {
  return { version: 1, source: "zeroapm", status, alert, at };
}

/**
 * The `slack` webhook body: `{ text, blocks }`, with Slack's mrkdwn escaped. A leak alert with
 * allocation sites (its instance's heap profile) says where the memory grows, as the page
 * does: the top site in the message, each site with its share below it (unless the one site
 * holds all the growth).
 */
export function slackPayload(
  status: "firing" | "resolved",
  alert: Alert,
): { text: string; blocks: unknown[] } {
  const head = status === "firing" ? ":rotating_light: FIRING" : ":white_check_mark: RESOLVED";
  const what = `${alert.rule} on ${alert.instance}`;
  const sites = alert.kind === "leak" ? (alert.leak?.sites ?? []).slice(0, 3) : [];
  const grows = sites.length > 0 ? `; ${growsText(sites[0])}` : "";
  const text = `${status === "firing" ? "FIRING" : "RESOLVED"}: ${what}: ${alert.message}${grows}`;
  const blocks: unknown[] = [{
    type: "section",
    text: {
      type: "mrkdwn",
      text: `*${head}* \`${escapeSlack(what)}\`\n${escapeSlack(alert.message)}` +
        (sites.length > 0 ? `\n${escapeSlack(growsText(sites[0]))}` : ""),
    },
  }];
  const listed = listedSites(sites);
  if (listed.length > 0) {
    blocks.push({
      type: "context",
      elements: listed.map((s) => ({ type: "mrkdwn", text: `\`${escapeSlack(siteLine(s))}\`` })),
    });
  }
  return { text, blocks };
}

/** Slack's control characters in mrkdwn: `&`, `<`, `>` (wire strings must not make links). */
function escapeSlack(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/`/g, "'");
}

/** A URL for a log line without its secret parts (Slack puts the token in the path). */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return "(invalid url)";
  }
}
