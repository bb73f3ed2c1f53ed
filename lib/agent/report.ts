/**
 * Rate-limited error reporting for the agent: an agent that cannot reach its collector
 * must not flood the host app's log, but the first failure and a periodic reminder are
 * worth one line each.
 *
 * @module
 */

/** Options for {@link rateLimitedReporter}. */
export interface ReporterOptions {
  /** Prefix of every line, e.g. the agent's identity. */
  prefix: string;
  /** At most one line per this many ms (default 60 000). */
  everyMs?: number;
  /** Clock in ms (default `Date.now`). */
  now?: () => number;
  /** Where lines go (default `console.error`). */
  log?: (line: string) => void;
}

/**
 * Not an error but news the user waits for, once per event: no collector yet, or connected
 * again after an outage. A reporter logs each at once, outside its budget, so the second
 * never hides behind the first's minute. An app's own `onError` gets them too.
 */
export class AgentNotice extends Error {
  override name = "AgentNotice";
}

/**
 * An error callback that logs at most one line per `everyMs`, counting the errors it
 * suppressed in between ({@link AgentNotice}s always, and outside that count). It never throws.
 */
export function rateLimitedReporter(opts: ReporterOptions): (error: unknown) => void {
  const every = opts.everyMs ?? 60_000;
  const now = opts.now ?? Date.now;
  const log = opts.log ?? ((line: string) => console.error(line));
  let lastLogged = -Infinity;
  let suppressed = 0;
  return (error) => {
    try {
      if (error instanceof AgentNotice) return log(`${opts.prefix}: ${error.message}`);
      const t = now();
      if (t - lastLogged < every) {
        suppressed++;
        return;
      }
      const more = suppressed > 0 ? ` (${suppressed} more since the last report)` : "";
      lastLogged = t;
      suppressed = 0;
      log(`${opts.prefix}: ${describe(error)}${more}`);
    } catch {
      // Logging must never break the host app.
    }
  };
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
