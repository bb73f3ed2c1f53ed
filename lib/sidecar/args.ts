/**
 * Command line of `deno task watch`: flags before `--`, the command after it (or `--pid`).
 *
 * @module
 */
import { colorFlag, intervalFlag, parseFlags, UsageError } from "../cli.ts";

/** Usage text, printed for `--help` and with every usage error. */
export const USAGE = `usage: deno task watch --service NAME [options] -- CMD [ARGS...]
       deno task watch --service NAME [options] --pid PID

Runs CMD (or watches the running process PID) and reports its CPU, memory, threads, open
files and container limits to a zeroapm collector. Exits with CMD's status.

options:
  --service NAME       service name (required)
  --collector ENDPOINT collector ZMQ endpoint (env ZEROAPM_COLLECTOR, default
                       tcp://127.0.0.1:5555)
  --instance ID        instance id (default host:PID of the watched process)
  --color C            line colour on the dashboard, a CSS name or #hex
  --interval MS        sampling interval in ms, 10 to 86400000 (default 1000)
  --tree               sum over the process and all its descendants; signals passed
                       on (SIGTERM...) reach them all
  --pid PID            watch a running process instead of starting one
  -h, --help           show this help (a --help after -- goes to CMD)`;

/** Parsed command line. */
export interface WatchArgs {
  service: string;
  collector?: string;
  instance?: string;
  color?: string;
  intervalMs: number;
  tree: boolean;
  /** Either a command to run ... */
  command?: string[];
  /** ... or a running process to watch. */
  pid?: number;
}

/**
 * Parse; `null` means `--help`. A mistake is a UsageError (lib/cli.ts) to print with
 * {@link USAGE} before exiting 2.
 */
export function parseWatchArgs(argv: string[]): WatchArgs | null {
  const dash = argv.indexOf("--");
  const flags = dash < 0 ? argv : argv.slice(0, dash);
  const command = dash < 0 ? [] : argv.slice(dash + 1);
  const v = parseFlags(flags, {
    service: { type: "string" },
    collector: { type: "string" },
    instance: { type: "string" },
    color: { type: "string" },
    interval: { type: "string" },
    tree: { type: "boolean" },
    pid: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (v.help) return null;
  if (!v.service) throw new UsageError("--service is required");
  const intervalMs = intervalFlag(v.interval);
  const out: WatchArgs = { service: v.service, intervalMs, tree: v.tree ?? false };
  if (v.collector !== undefined) out.collector = v.collector;
  if (v.instance !== undefined) out.instance = v.instance;
  if (v.color !== undefined) out.color = colorFlag(v.color);
  if (v.pid !== undefined) {
    if (!/^\d+$/.test(v.pid) || Number(v.pid) <= 0) {
      throw new UsageError("--pid must be a process id");
    }
    if (command.length > 0) {
      throw new UsageError("give either --pid or a command after --, not both");
    }
    out.pid = Number(v.pid);
  } else if (command.length === 0) {
    throw new UsageError("nothing to watch: give a command after -- (or --pid PID)");
  } else {
    out.command = command;
  }
  return out;
}
