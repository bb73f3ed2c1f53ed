/**
 * `backend_app.ts`'s command line: its help text and flags, read the way every zeroapm
 * command line reads them (lib/cli.ts).
 *
 * @module
 */
import { COLLECTOR_ENV, collectorEndpoint, DEFAULT_COLLECTOR } from "../agent/mod.ts";
import { colorFlag, integerFlag, intervalFlag, parseFlags, UsageError } from "../cli.ts";

/** Command-line help. */
export const USAGE = `Usage: deno run -A backend_app.ts [options]

A demo service that burns CPU in random bursts and reports CPU, memory and event-loop lag
to a zeroapm collector; optionally it serves a small HTTP API and reports request metrics.

Options:
  --color NAME       line colour on the dashboard, a CSS name or #hex
                     (default: a stable colour picked by the collector)
  --leak N           leak N numbers per iteration (1 a second), 8 bytes each plus the arrays'
                     spare room: --leak 10000 grows the heap ~4.7 MiB/min and --leak 100000
                     ~52 MiB/min, as the page shows them (default 0: memory stays flat)
  --service NAME     service name (default "backend")
  --instance ID      instance id (default host:pid)
  --collector URL    collector ZMQ endpoint (env ${COLLECTOR_ENV}, default ${DEFAULT_COLLECTOR})
  --interval MS      reporting interval in ms, 10 to 86400000 (default 1000)
  --http PORT        serve a demo API on http://127.0.0.1:PORT (GET /users/:id,
                     POST /bookings, GET /health; some requests slow, ~2 % fail with 500),
                     counted as http.requests_total and http.request_duration_ms
                     (default 0: no HTTP)
  --load RPS         call that API about RPS times a second (needs --http; default 0)
  -h, --help         show this help
`;

/** Resolved command-line options. */
export interface AppOptions {
  color?: string;
  leak: number;
  service: string;
  instance?: string;
  collector: string;
  intervalMs: number;
  /** Port of the demo API on 127.0.0.1; 0: none. */
  http: number;
  /** Requests per second the app sends its own API; 0: none. */
  load: number;
}

/** Parse flags; `null` means --help. Throws a UsageError (lib/cli.ts) for bad flags. */
export function parseAppFlags(args: string[]): AppOptions | null {
  const values = parseFlags(args, {
    color: { type: "string" },
    leak: { type: "string", default: "0" },
    service: { type: "string", default: "backend" },
    instance: { type: "string" },
    collector: { type: "string" },
    interval: { type: "string" },
    http: { type: "string", default: "0" },
    load: { type: "string", default: "0" },
    help: { type: "boolean", short: "h", default: false },
  });
  if (values.help) return null;
  const http = integerFlag("--http", values.http, 0, 65_535);
  const load = integerFlag("--load", values.load, 0, 10_000);
  if (load > 0 && http === 0) throw new UsageError("--load needs --http PORT");
  return {
    color: colorFlag(values.color),
    leak: integerFlag("--leak", values.leak, 0, 10_000_000),
    service: values.service,
    instance: values.instance,
    collector: collectorEndpoint(values.collector),
    intervalMs: intervalFlag(values.interval),
    http,
    load,
  };
}
