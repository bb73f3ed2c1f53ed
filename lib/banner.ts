/**
 * The collector's start-up lines that say where it listens, written by server.ts and read
 * back by the demo (lib/cmd/demo.ts), which starts the apps against the addresses the collector
 * actually bound (a port 0 or `*`, flags or environment), not the ones it guessed.
 *
 * @module
 */

/** The seed's line, `======== Running on http://127.0.0.1:8000 ========`. */
export function runningLine(httpUrl: string): string {
  return `======== Running on ${httpUrl} ========`;
}

/** Where agents push: `collecting on tcp://127.0.0.1:5555` (and the PUB it subscribes to). */
export function collectingLine(zmqEndpoint: string, sub: string | null): string {
  return `collecting on ${zmqEndpoint}${sub ? ` and from PUB ${sub}` : ""}`;
}

/**
 * Which alert rules run: the built-in ones, or a file's, counted, so a file that loaded no rule
 * (`rules: []`) says that nothing will alert.
 */
export function rulesLine(file: string | null, rules?: number, webhooks = 0): string {
  if (file === null) return "built-in alert rules (--rules FILE)";
  const hooks = webhooks === 1 ? "1 webhook" : `${webhooks} webhooks`;
  if (!rules) return `alert rules from ${file}: none, so nothing alerts (${hooks})`;
  return `alert rules from ${file}: ${rules === 1 ? "1 rule" : `${rules} rules`}, ${hooks}`;
}

/** The addresses read from a collector's output so far. */
export interface Banner {
  httpUrl?: string;
  zmqEndpoint?: string;
}

/** Take what a line of the collector's output says about its addresses into `banner`. */
export function readBannerLine(line: string, banner: Banner): void {
  const running = /^======== Running on (\S+) ========$/.exec(line);
  if (running) banner.httpUrl = running[1];
  const collecting = /^collecting on (\S+)(?: and from PUB \S+)?$/.exec(line);
  if (collecting) banner.zmqEndpoint = collecting[1];
}

/**
 * The endpoint an app on this machine connects to for a bound one: a wildcard host
 * (`*`, `0.0.0.0`, `::`) becomes loopback.
 */
export function connectEndpoint(bound: string): string {
  const m = /^tcp:\/\/(\*|0\.0\.0\.0|\[::\]|\[0:0:0:0:0:0:0:0\]):(\d+)$/.exec(bound);
  if (!m) return bound;
  return `tcp://${m[1].startsWith("[") ? "[::1]" : "127.0.0.1"}:${m[2]}`;
}
